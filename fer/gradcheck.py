"""Checking a hand-derived gradient three ways: formula, TensorFlow autodiff, finite differences.

The autodiff side differentiates TensorFlow's own ops (`tf.nn.moments` +
`tf.nn.batch_normalization`, `tf.nn.softmax_cross_entropy_with_logits`) in float64 with
`tf.GradientTape`, so it shares no code with `fer.grads`. Finite differences treat the loss as a
black box: (l(p + h) - l(p - h)) / 2h for one number p at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fer import grads

AUTODIFF_TOLERANCE = 1e-9
FINITE_DIFFERENCE_TOLERANCE = 1e-6

# Where a gradient cancels to (nearly) zero, its rounding noise is measured against this fraction
# of the size of the terms that were summed, not against the noise itself. Finite differences
# carry noise of about eps_machine * |l| / h, which 1e-4 would not cover when l is large.
SCALE_FLOOR = 1e-3


def relative_error(analytic, reference, floor: float = 0.0) -> np.ndarray:
    """CS231n's |a - b| / max(|a|, |b|), entry by entry, where |a| and |b| are the largest entries.

    Dividing each entry's difference by the size of the whole gradient (not by the entry itself)
    keeps an entry that is nearly zero, where only rounding noise is left, from crying wolf.
    The denominator is at least `floor`; two exact zeros agree perfectly (error 0).
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    denominator = max(float(np.max(np.abs(analytic))), float(np.max(np.abs(reference))), floor)
    difference = np.abs(analytic - reference)
    if denominator == 0.0:
        return np.zeros_like(difference)
    return difference / denominator


def central_difference(function, point, step) -> np.ndarray:
    """d function / d point by (f(p + h e_k) - f(p - h e_k)) / 2h for every entry k.

    `step` is a number or an array broadcastable to `point` (a step per entry).
    """
    point = np.asarray(point, dtype=np.float64)
    steps = np.broadcast_to(np.asarray(step, dtype=np.float64), point.shape)
    gradient = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        plus = point.copy()
        minus = point.copy()
        plus[index] += steps[index]
        minus[index] -= steps[index]
        gradient[index] = (function(plus) - function(minus)) / (2.0 * steps[index])
    return gradient


@dataclass(frozen=True)
class GradientComparison:
    """One gradient (say dl/dx) computed three ways, with entry-wise relative errors."""

    name: str
    analytic: np.ndarray
    autodiff: np.ndarray
    finite_difference: np.ndarray
    floor: float

    @property
    def autodiff_error(self) -> np.ndarray:
        return relative_error(self.analytic, self.autodiff, self.floor)

    @property
    def finite_difference_error(self) -> np.ndarray:
        return relative_error(self.analytic, self.finite_difference, self.floor)

    @property
    def max_autodiff_error(self) -> float:
        return float(np.max(self.autodiff_error))

    @property
    def max_finite_difference_error(self) -> float:
        return float(np.max(self.finite_difference_error))

    @property
    def passed(self) -> bool:
        return (
            self.max_autodiff_error < AUTODIFF_TOLERANCE
            and self.max_finite_difference_error < FINITE_DIFFERENCE_TOLERANCE
        )


def all_passed(comparisons: list[GradientComparison]) -> bool:
    return all(comparison.passed for comparison in comparisons)


def comparison_table(comparisons: list[GradientComparison]) -> pd.DataFrame:
    """One row per gradient entry: the three values, both relative errors and a verdict."""
    rows = []
    for comparison in comparisons:
        analytic = np.atleast_1d(comparison.analytic)
        many = analytic.size > 1
        for position, index in enumerate(np.ndindex(analytic.shape)):
            rows.append(
                {
                    "gradient": f"{comparison.name}[{position + 1}]" if many else comparison.name,
                    "analytic": analytic[index],
                    "autodiff (tf.GradientTape)": np.atleast_1d(comparison.autodiff)[index],
                    "finite differences": np.atleast_1d(comparison.finite_difference)[index],
                    "rel. error vs autodiff": np.atleast_1d(comparison.autodiff_error)[index],
                    "rel. error vs finite diff.": np.atleast_1d(
                        comparison.finite_difference_error
                    )[index],
                }
            )
    table = pd.DataFrame(rows)
    table["verdict"] = np.where(
        (table["rel. error vs autodiff"] < AUTODIFF_TOLERANCE)
        & (table["rel. error vs finite diff."] < FINITE_DIFFERENCE_TOLERANCE),
        "pass",
        "FAIL",
    )
    return table


# --------------------------------------------------------------------------------------------
# BatchNorm
# --------------------------------------------------------------------------------------------


def autodiff_batchnorm(forward: grads.BatchNormForward, upstream) -> dict[str, np.ndarray]:
    """dl/dx, dl/dgamma, dl/dbeta of l = sum(upstream * y) through TensorFlow's own BatchNorm ops."""
    import tensorflow as tf

    x = tf.constant(forward.x, dtype=tf.float64)
    gamma = tf.constant(forward.gamma, dtype=tf.float64)
    beta = tf.constant(forward.beta, dtype=tf.float64)
    upstream = tf.constant(np.asarray(upstream, dtype=np.float64))
    with tf.GradientTape() as tape:
        tape.watch([x, gamma, beta])
        mean, variance = tf.nn.moments(x, axes=[0])
        y = tf.nn.batch_normalization(x, mean, variance, beta, gamma, forward.epsilon)
        loss = tf.reduce_sum(upstream * y)
    d_x, d_gamma, d_beta = tape.gradient(loss, [x, gamma, beta])
    return {"x": d_x.numpy(), "gamma": d_gamma.numpy(), "beta": d_beta.numpy()}


def finite_difference_batchnorm(forward: grads.BatchNormForward, upstream) -> dict[str, np.ndarray]:
    """The same three gradients by central differences of l = sum(upstream * y).

    x moves on the scale sqrt(sigma^2 + eps) of the normalisation, so its step is a small
    fraction of that; l is linear in gamma and beta, so any modest step is exact up to rounding.
    """
    upstream = np.asarray(upstream, dtype=np.float64)

    def loss_of_x(x):
        return grads.batchnorm_loss(
            grads.batchnorm_forward(x, forward.gamma, forward.beta, forward.epsilon), upstream
        )

    def loss_of_gamma(gamma):
        return grads.batchnorm_loss(
            grads.batchnorm_forward(forward.x, gamma, forward.beta, forward.epsilon), upstream
        )

    def loss_of_beta(beta):
        return grads.batchnorm_loss(
            grads.batchnorm_forward(forward.x, forward.gamma, beta, forward.epsilon), upstream
        )

    x_step = 1e-5 * np.broadcast_to(1.0 / forward.inverse_std, forward.x.shape)
    return {
        "x": central_difference(loss_of_x, forward.x, x_step),
        "gamma": central_difference(loss_of_gamma, forward.gamma, 1e-3),
        "beta": central_difference(loss_of_beta, forward.beta, 1e-3),
    }


def check_batchnorm(
    x, gamma=1.0, beta=0.0, epsilon=1e-3, upstream=None, mistake: str | None = None
) -> list[GradientComparison]:
    """dl/dx, dl/dgamma, dl/dbeta: the hand formulas (or a named mistake) against both references."""
    forward = grads.batchnorm_forward(x, gamma, beta, epsilon)
    if upstream is None:
        upstream = np.ones_like(forward.x)
    upstream = grads.check_upstream(upstream, forward)
    analytic = grads.batchnorm_backward(forward, upstream, mistake=mistake)
    autodiff = autodiff_batchnorm(forward, upstream)
    finite = finite_difference_batchnorm(forward, upstream)
    scales = {
        "x": np.max(np.abs(analytic.grad_x_hat)) * np.max(forward.inverse_std),
        # x_hat is about 1 in size by construction, even where this batch has it all zero.
        "gamma": np.max(np.abs(upstream).sum(axis=0)),
        "beta": np.max(np.abs(upstream).sum(axis=0)),
    }
    values = {"x": analytic.grad_x, "gamma": analytic.grad_gamma, "beta": analytic.grad_beta}
    return [
        GradientComparison(
            name=f"dl/d{name}",
            analytic=values[name],
            autodiff=autodiff[name],
            finite_difference=finite[name],
            floor=SCALE_FLOOR * scales[name],
        )
        for name in ("x", "gamma", "beta")
    ]


def check_batchnorm_inference(
    x, running: grads.RunningStatistics, gamma=1.0, beta=0.0, epsilon=1e-3, upstream=None
) -> GradientComparison:
    """dl/dx in inference mode, where the running statistics are constants."""
    import tensorflow as tf

    x = np.asarray(x, dtype=np.float64)
    upstream = np.ones_like(x) if upstream is None else np.asarray(upstream, dtype=np.float64)
    analytic = grads.batchnorm_inference_grad_x(upstream, running, gamma, epsilon)

    x_tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tensor)
        y = tf.nn.batch_normalization(
            x_tensor,
            tf.constant(running.mean, dtype=tf.float64),
            tf.constant(running.variance, dtype=tf.float64),
            tf.constant(beta, dtype=tf.float64),
            tf.constant(gamma, dtype=tf.float64),
            epsilon,
        )
        loss = tf.reduce_sum(tf.constant(upstream) * y)
    autodiff = tape.gradient(loss, x_tensor).numpy()

    def loss_of_x(values):
        return float(
            (upstream * grads.batchnorm_inference_forward(values, running, gamma, beta, epsilon)).sum()
        )

    step = 1e-5 * np.sqrt(np.asarray(running.variance, dtype=np.float64) + epsilon)
    finite = central_difference(loss_of_x, x, np.broadcast_to(step, x.shape))
    scale = np.max(np.abs(upstream * np.asarray(gamma))) / np.sqrt(np.min(running.variance) + epsilon)
    return GradientComparison("dl/dx (inference)", analytic, autodiff, finite, SCALE_FLOOR * scale)


# --------------------------------------------------------------------------------------------
# Softmax + cross-entropy
# --------------------------------------------------------------------------------------------


def autodiff_softmax_cross_entropy(logits, targets, temperature=1.0) -> np.ndarray:
    """dL/dz through tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z / T)."""
    import tensorflow as tf

    z = tf.constant(np.asarray(logits, dtype=np.float64))
    labels = tf.constant(np.asarray(targets, dtype=np.float64))
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = tf.reduce_sum(
            tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=z / temperature)
        )
    return tape.gradient(loss, z).numpy()


def autodiff_softmax_jacobian(logits, temperature=1.0) -> np.ndarray:
    """d softmax(s)_i / d s_t for s = z / T, from tf.GradientTape.jacobian; (classes, classes)."""
    import tensorflow as tf

    scaled = tf.constant(np.asarray(logits, dtype=np.float64) / temperature)
    with tf.GradientTape() as tape:
        tape.watch(scaled)
        probabilities = tf.nn.softmax(scaled)
    return tape.jacobian(probabilities, scaled).numpy()


def check_softmax(
    logits, targets, temperature=1.0, mistake: str | None = None
) -> list[GradientComparison]:
    """dL/dz = (yhat - y) / T (or a named mistake) against autodiff and finite differences."""
    logits = np.asarray(logits, dtype=np.float64)
    analytic = grads.grad_logits(logits, targets, temperature, mistake=mistake)
    autodiff = autodiff_softmax_cross_entropy(logits, targets, temperature)

    def loss_of_logits(values):
        return float(grads.cross_entropy(values, targets, temperature).sum())

    finite = central_difference(loss_of_logits, logits, 1e-5 * temperature)
    probabilities = grads.softmax(logits, temperature)
    scale = np.max(probabilities + np.asarray(targets)) / temperature
    return [GradientComparison("dL/dz", analytic, autodiff, finite, SCALE_FLOOR * scale)]
