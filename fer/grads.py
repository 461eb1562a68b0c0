"""Hand-derived gradients of BatchNorm and softmax + cross-entropy, in float64 numpy.

Every backward term is its own function, named after the symbol it computes, so a lesson page
can show each formula beside its numbers. `fer.gradcheck` compares these against TensorFlow's
autodiff and against finite differences.

Shapes: a BatchNorm batch `x` is `(m,)` (one feature) or `(m, features)`; statistics are taken
over the first axis, the m examples. Softmax logits are `(classes,)` or `(n, classes)`.

`BATCHNORM_MISTAKES` and `SOFTMAX_MISTAKES` hold wrong versions that students really write, so a
page can show how the three-way check exposes them (or, for one of them, why it cannot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fer.i18n import N_, _


class GradientInputError(ValueError):
    """Numbers a gradient lesson cannot use; the message says which and what to do."""


def _as_float64(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise GradientInputError(_("{name} contains a NaN or an infinity: use finite numbers.").format(name=name))
    return array


# --------------------------------------------------------------------------------------------
# BatchNorm, training mode: statistics of the current mini-batch.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchNormForward:
    """Every intermediate of y = gamma * (x - mu_B) / sqrt(sigma_B^2 + eps) + beta."""

    x: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    epsilon: float
    batch_mean: np.ndarray  # mu_B, one per feature
    batch_variance: np.ndarray  # sigma_B^2, biased (divides by m), one per feature
    centered: np.ndarray  # x - mu_B
    inverse_std: np.ndarray  # 1 / sqrt(sigma_B^2 + eps)
    x_hat: np.ndarray
    y: np.ndarray

    @property
    def batch_size(self) -> int:
        return self.x.shape[0]


@dataclass(frozen=True)
class BatchNormGradients:
    grad_x_hat: np.ndarray
    grad_variance: np.ndarray
    grad_mean: np.ndarray
    grad_x: np.ndarray
    grad_gamma: np.ndarray
    grad_beta: np.ndarray


def _check_batchnorm_inputs(x, gamma, beta, epsilon):
    x = _as_float64(x, _("The batch x"))
    if x.ndim not in (1, 2):
        raise GradientInputError(
            _("The batch x must be (m,) or (m, features); got shape {shape}.").format(shape=x.shape)
        )
    if x.shape[0] < 2:
        raise GradientInputError(
            _("BatchNorm needs at least 2 examples in the batch to have a variance: add a row.")
        )
    feature_shape = x.shape[1:]
    gamma = np.broadcast_to(_as_float64(gamma, "gamma"), feature_shape).copy()
    beta = np.broadcast_to(_as_float64(beta, "beta"), feature_shape).copy()
    epsilon = float(epsilon)
    if not epsilon > 0 or not np.isfinite(epsilon):
        raise GradientInputError(_("eps must be a positive number; got {value}.").format(value=epsilon))
    return x, gamma, beta, epsilon


def batchnorm_forward(x, gamma=1.0, beta=0.0, epsilon=1e-3) -> BatchNormForward:
    """Training-mode BatchNorm: normalise with the mean and variance of this very batch."""
    x, gamma, beta, epsilon = _check_batchnorm_inputs(x, gamma, beta, epsilon)
    batch_mean = x.mean(axis=0)
    centered = x - batch_mean
    batch_variance = (centered**2).mean(axis=0)
    inverse_std = 1.0 / np.sqrt(batch_variance + epsilon)
    x_hat = centered * inverse_std
    y = gamma * x_hat + beta
    return BatchNormForward(
        x=x,
        gamma=gamma,
        beta=beta,
        epsilon=epsilon,
        batch_mean=batch_mean,
        batch_variance=batch_variance,
        centered=centered,
        inverse_std=inverse_std,
        x_hat=x_hat,
        y=y,
    )


def grad_x_hat(upstream: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """dl/dx_hat_i = dl/dy_i * gamma"""
    return upstream * gamma


def grad_variance(grad_x_hat: np.ndarray, forward: BatchNormForward) -> np.ndarray:
    """dl/dsigma^2 = sum_i dl/dx_hat_i (x_i - mu_B) * (-1/2) (sigma_B^2 + eps)^(-3/2)"""
    return (grad_x_hat * forward.centered).sum(axis=0) * -0.5 * forward.inverse_std**3


def grad_mean(
    grad_x_hat: np.ndarray, grad_variance: np.ndarray, forward: BatchNormForward
) -> np.ndarray:
    """dl/dmu_B = sum_i dl/dx_hat_i * (-1/sqrt(sigma_B^2 + eps)) + dl/dsigma^2 * sum_i -2(x_i - mu_B) / m"""
    direct_path = (grad_x_hat * -forward.inverse_std).sum(axis=0)
    through_variance = grad_variance * (-2.0 * forward.centered).sum(axis=0) / forward.batch_size
    return direct_path + through_variance


def grad_x(
    grad_x_hat: np.ndarray,
    grad_variance: np.ndarray,
    grad_mean: np.ndarray,
    forward: BatchNormForward,
) -> np.ndarray:
    """dl/dx_i = dl/dx_hat_i / sqrt(sigma_B^2 + eps) + dl/dsigma^2 * 2(x_i - mu_B)/m + dl/dmu_B / m"""
    m = forward.batch_size
    return (
        grad_x_hat * forward.inverse_std
        + grad_variance * 2.0 * forward.centered / m
        + grad_mean / m
    )


def grad_gamma(upstream: np.ndarray, forward: BatchNormForward) -> np.ndarray:
    """dl/dgamma = sum_i dl/dy_i * x_hat_i"""
    return (upstream * forward.x_hat).sum(axis=0)


def grad_beta(upstream: np.ndarray) -> np.ndarray:
    """dl/dbeta = sum_i dl/dy_i"""
    return upstream.sum(axis=0)


def grad_x_compact(upstream: np.ndarray, forward: BatchNormForward) -> np.ndarray:
    """The one-line form: dl/dx = gamma / (m sqrt(sigma^2+eps)) * (m dl/dy - sum dl/dy - x_hat sum dl/dy x_hat)"""
    m = forward.batch_size
    return (
        forward.gamma
        * forward.inverse_std
        / m
        * (
            m * upstream
            - upstream.sum(axis=0)
            - forward.x_hat * (upstream * forward.x_hat).sum(axis=0)
        )
    )


def check_upstream(upstream, forward: BatchNormForward) -> np.ndarray:
    upstream = _as_float64(upstream, _("The upstream gradient dl/dy"))
    if upstream.shape != forward.x.shape:
        raise GradientInputError(
            _("The upstream gradient dl/dy must have the batch's shape {shape}; got {got}.").format(
                shape=forward.x.shape, got=upstream.shape
            )
        )
    return upstream


def batchnorm_backward(
    forward: BatchNormForward, upstream, mistake: str | None = None
) -> BatchNormGradients:
    """All six backward terms, in the order the chain rule visits them.

    `mistake` names an entry of BATCHNORM_MISTAKES to compute a wrong version on purpose.
    """
    upstream = check_upstream(upstream, forward)
    if mistake is not None and mistake not in BATCHNORM_MISTAKES:
        raise GradientInputError(
            _("Unknown BatchNorm mistake {mistake}: use one of {choices}.").format(
                mistake=repr(mistake), choices=", ".join(BATCHNORM_MISTAKES)
            )
        )
    m = forward.batch_size
    d_x_hat = grad_x_hat(upstream, forward.gamma)
    d_variance = grad_variance(d_x_hat, forward)
    if mistake == "variance_sign_flipped":
        d_variance = -d_variance
    d_mean = grad_mean(d_x_hat, d_variance, forward)
    if mistake == "mean_missing_direct_path":
        d_mean = d_variance * (-2.0 * forward.centered).sum(axis=0) / m
    elif mistake == "mean_missing_variance_path":
        d_mean = (d_x_hat * -forward.inverse_std).sum(axis=0)
    d_x = grad_x(d_x_hat, d_variance, d_mean, forward)
    if mistake == "statistics_treated_as_constants":
        d_x = d_x_hat * forward.inverse_std
    return BatchNormGradients(
        grad_x_hat=d_x_hat,
        grad_variance=d_variance,
        grad_mean=d_mean,
        grad_x=d_x,
        grad_gamma=grad_gamma(upstream, forward),
        grad_beta=grad_beta(upstream),
    )


def batchnorm_loss(forward: BatchNormForward, upstream) -> float:
    """The scalar loss whose gradient with respect to y is `upstream`: l = sum_i dl/dy_i * y_i."""
    return float((np.asarray(upstream, dtype=np.float64) * forward.y).sum())


def gradient_versus_epsilon(x, upstream, gamma=1.0, epsilons=None) -> pd.DataFrame:
    """dl/dx_i for one feature as eps sweeps from far below the batch variance to far above it.

    Long format, one row per (epsilon, example): columns epsilon, example, grad_x.
    """
    if epsilons is None:
        epsilons = np.logspace(-8, 2, 41)
    rows = []
    for epsilon in epsilons:
        forward = batchnorm_forward(x, gamma, 0.0, epsilon)
        gradients = batchnorm_backward(forward, upstream)
        for example, value in enumerate(np.ravel(gradients.grad_x)):
            rows.append({"epsilon": float(epsilon), "example": example + 1, "grad_x": value})
    return pd.DataFrame(rows)


def gradient_versus_batch_size(
    batch_sizes=(2, 3, 4, 6, 8, 12, 16, 32, 64), epsilon=1e-3, draws=200, seed=0
) -> pd.DataFrame:
    """How much of the naive gradient dl/dx_hat / sqrt(sigma^2 + eps) survives BatchNorm's backward.

    For standard-normal batches and upstream gradients, the mean over `draws` of
    ||dl/dx|| / ||dl/dx_hat / sqrt(sigma^2 + eps)||. Training mode removes the parts of the gradient
    along 1 and along x_hat, two directions out of m, so about sqrt((m - 2) / m) remains.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for batch_size in batch_sizes:
        kept = []
        for _draw in range(draws):
            x = rng.standard_normal(batch_size)
            upstream = rng.standard_normal(batch_size)
            forward = batchnorm_forward(x, 1.0, 0.0, epsilon)
            gradients = batchnorm_backward(forward, upstream)
            naive = gradients.grad_x_hat * forward.inverse_std
            kept.append(np.linalg.norm(gradients.grad_x) / np.linalg.norm(naive))
        rows.append(
            {
                "batch_size": int(batch_size),
                "kept_fraction": float(np.mean(kept)),
                "sqrt((m-2)/m)": float(np.sqrt((batch_size - 2) / batch_size)),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# BatchNorm, inference mode: fixed running statistics, so every example is on its own.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningStatistics:
    mean: np.ndarray
    variance: np.ndarray


def update_running_statistics(
    running: RunningStatistics, forward: BatchNormForward, momentum: float = 0.99
) -> RunningStatistics:
    """What a training step stores for later: running = momentum * running + (1 - momentum) * batch.

    Keras' BatchNormalization uses momentum 0.99 and the biased batch variance, as here.
    """
    if not 0.0 <= momentum <= 1.0:
        raise GradientInputError(_("momentum must lie between 0 and 1; got {value}.").format(value=momentum))
    return RunningStatistics(
        mean=momentum * running.mean + (1.0 - momentum) * forward.batch_mean,
        variance=momentum * running.variance + (1.0 - momentum) * forward.batch_variance,
    )


def batchnorm_inference_forward(
    x, running: RunningStatistics, gamma=1.0, beta=0.0, epsilon=1e-3
) -> np.ndarray:
    """y = gamma * (x - running_mean) / sqrt(running_variance + eps) + beta"""
    x, gamma, beta, epsilon = _check_batchnorm_inputs(x, gamma, beta, epsilon)
    if np.any(np.asarray(running.variance) < 0):
        raise GradientInputError(_("The running variance must not be negative."))
    return gamma * (x - running.mean) / np.sqrt(running.variance + epsilon) + beta


def batchnorm_inference_grad_x(upstream, running: RunningStatistics, gamma=1.0, epsilon=1e-3):
    """dl/dx_i = dl/dy_i * gamma / sqrt(running_variance + eps): no coupling between examples."""
    upstream = _as_float64(upstream, _("The upstream gradient dl/dy"))
    return upstream * np.asarray(gamma, dtype=np.float64) / np.sqrt(running.variance + epsilon)


# --------------------------------------------------------------------------------------------
# Softmax and cross-entropy.
# --------------------------------------------------------------------------------------------


def _check_logits(logits) -> np.ndarray:
    logits = _as_float64(logits, _("The logits"))
    if logits.ndim not in (1, 2) or logits.shape[-1] < 2:
        raise GradientInputError(
            _("Logits must be (classes,) or (n, classes) with at least 2 classes; got {shape}.").format(
                shape=logits.shape
            )
        )
    return logits


def _check_temperature(temperature: float) -> float:
    temperature = float(temperature)
    if not temperature > 0 or not np.isfinite(temperature):
        raise GradientInputError(_("The temperature must be a positive number; got {value}.").format(value=temperature))
    return temperature


def log_sum_exp(logits) -> np.ndarray:
    """log sum_i exp(z_i), computed as max(z) + log sum_i exp(z_i - max(z)) so nothing overflows."""
    logits = np.asarray(logits, dtype=np.float64)
    largest = logits.max(axis=-1, keepdims=True)
    return (largest + np.log(np.exp(logits - largest).sum(axis=-1, keepdims=True)))[..., 0]


def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """softmax(z / T)_t = exp(z_t / T) / sum_i exp(z_i / T), the stable way (shift by the max)."""
    scaled = _check_logits(logits) / _check_temperature(temperature)
    shifted = scaled - scaled.max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def log_softmax(logits, temperature: float = 1.0) -> np.ndarray:
    scaled = _check_logits(logits) / _check_temperature(temperature)
    return scaled - log_sum_exp(scaled)[..., None]


def softmax_naive(logits, temperature: float = 1.0) -> np.ndarray:
    """The textbook formula taken literally. exp(1000) is inf in float64, and inf / inf is NaN."""
    scaled = np.asarray(logits, dtype=np.float64) / float(temperature)
    with np.errstate(over="ignore", invalid="ignore"):
        exponentials = np.exp(scaled)
        return exponentials / exponentials.sum(axis=-1, keepdims=True)


def cross_entropy_naive(logits, targets, temperature: float = 1.0) -> np.ndarray:
    """-sum y log(softmax_naive(z)): NaN after overflow, inf after underflow (log 0)."""
    probabilities = softmax_naive(logits, temperature)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return -(np.asarray(targets, dtype=np.float64) * np.log(probabilities)).sum(axis=-1)


def targets_for(true_class, num_classes: int, smoothing: float = 0.0) -> np.ndarray:
    """One-hot targets, optionally label-smoothed: y = (1 - alpha) * onehot + alpha / classes."""
    if not 0.0 <= smoothing < 1.0:
        raise GradientInputError(_("Label smoothing must lie in [0, 1); got {value}.").format(value=smoothing))
    true_class = np.asarray(true_class)
    if np.any(true_class < 0) or np.any(true_class >= num_classes):
        raise GradientInputError(
            _("The true class must lie between 0 and {largest}; got {value}.").format(
                largest=num_classes - 1, value=true_class
            )
        )
    one_hot = np.eye(num_classes, dtype=np.float64)[true_class]
    return (1.0 - smoothing) * one_hot + smoothing / num_classes


def _check_targets(targets, logits: np.ndarray) -> np.ndarray:
    targets = _as_float64(targets, _("The targets"))
    if targets.shape != logits.shape:
        raise GradientInputError(
            _("The targets must have the logits' shape {shape}; got {got}.").format(
                shape=logits.shape, got=targets.shape
            )
        )
    if np.any(targets < 0) or not np.allclose(targets.sum(axis=-1), 1.0):
        raise GradientInputError(
            _("The targets must be a probability distribution (non-negative, summing to 1).")
        )
    return targets


def cross_entropy(logits, targets, temperature: float = 1.0) -> np.ndarray:
    """L = -sum_i y_i log yhat_i with log yhat from log-sum-exp, one loss per row."""
    logits = _check_logits(logits)
    targets = _check_targets(targets, logits)
    return -(targets * log_softmax(logits, temperature)).sum(axis=-1)


def softmax_jacobian(probabilities) -> np.ndarray:
    """J[i, t] = d yhat_i / d s_t = yhat_i (delta_it - yhat_t), for logits s = z / T.

    Every row sums to 0: the probabilities always sum to 1, whatever the logits do.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    identity = np.eye(probabilities.shape[-1])
    return probabilities[..., :, None] * (identity - probabilities[..., None, :])


def grad_probabilities(probabilities, targets) -> np.ndarray:
    """dL/dyhat_i = -y_i / yhat_i"""
    return -np.asarray(targets, dtype=np.float64) / np.asarray(probabilities, dtype=np.float64)


def grad_logits_through_jacobian(probabilities, targets, temperature: float = 1.0) -> np.ndarray:
    """The long way: dL/dz_t = (1/T) sum_i dL/dyhat_i * J[i, t]. It collapses to (yhat - y)/T."""
    jacobian = softmax_jacobian(probabilities)
    upstream = grad_probabilities(probabilities, targets)
    return np.einsum("...i,...it->...t", upstream, jacobian) / float(temperature)


def grad_logits(
    logits, targets, temperature: float = 1.0, mistake: str | None = None
) -> np.ndarray:
    """dL/dz = (yhat - y) / T, with yhat = softmax(z / T). At T = 1 it is just yhat - y.

    `mistake` names an entry of SOFTMAX_MISTAKES to compute a wrong version on purpose.
    """
    logits = _check_logits(logits)
    targets = _check_targets(targets, logits)
    temperature = _check_temperature(temperature)
    probabilities = softmax(logits, temperature)
    if mistake is None:
        return (probabilities - targets) / temperature
    if mistake == "sign_flipped":
        return (targets - probabilities) / temperature
    if mistake == "temperature_forgotten":
        return probabilities - targets
    if mistake == "jacobian_diagonal_only":
        # Treats softmax as if each yhat_i depended on z_i alone: dyhat_i/dz_i = yhat_i (1 - yhat_i).
        return -targets * (1.0 - probabilities) / temperature
    raise GradientInputError(
        _("Unknown softmax mistake {mistake}: use one of {choices}.").format(
            mistake=repr(mistake), choices=", ".join(SOFTMAX_MISTAKES)
        )
    )


# --------------------------------------------------------------------------------------------
# Mistakes students make.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    """`title` and `explanation` are English, marked for the catalogue: show them through _()."""

    title: str
    wrong_formula: str  # LaTeX
    explanation: str
    # False for a slip that happens to change nothing, so no check can (or needs to) catch it.
    exposed_by_check: bool = True


BATCHNORM_MISTAKES = {
    "mean_missing_direct_path": Mistake(
        title=N_("dl/dmu_B keeps only the path through the variance"),
        wrong_formula=r"\frac{\partial l}{\partial \mu_B} = \frac{\partial l}{\partial \sigma_B^2}"
        r"\cdot\frac{\sum_i -2(x_i-\mu_B)}{m}",
        explanation=N_("The mean reaches the loss directly through every x_hat_i, not only through "
        "the variance. Dropping that direct term loses the part of the gradient that removes "
        "the batch average of dl/dx_hat."),
    ),
    "variance_sign_flipped": Mistake(
        title=N_("Sign error in dl/dsigma^2 (+1/2 instead of -1/2)"),
        wrong_formula=r"\frac{\partial l}{\partial \sigma_B^2} = \sum_i \frac{\partial l}"
        r"{\partial \hat x_i}(x_i-\mu_B)\cdot\left(+\tfrac12\right)(\sigma_B^2+\epsilon)^{-3/2}",
        explanation=N_("The derivative of (v + eps)^(-1/2) is -1/2 (v + eps)^(-3/2); losing the "
        "minus sign pushes the variance the wrong way."),
    ),
    "statistics_treated_as_constants": Mistake(
        title=N_("Treating mu_B and sigma_B^2 as constants (the inference-mode gradient)"),
        wrong_formula=r"\frac{\partial l}{\partial x_i} = \frac{\partial l}{\partial \hat x_i}"
        r"\cdot\frac{1}{\sqrt{\sigma_B^2+\epsilon}}",
        explanation=N_("In training mode the batch statistics are computed from x itself, so every "
        "x_i also moves mu_B and sigma_B^2. This formula is right only in inference mode."),
    ),
    "mean_missing_variance_path": Mistake(
        title=N_("dl/dmu_B without the term through the variance (harmless!)"),
        wrong_formula=r"\frac{\partial l}{\partial \mu_B} = \sum_i \frac{\partial l}"
        r"{\partial \hat x_i}\cdot\frac{-1}{\sqrt{\sigma_B^2+\epsilon}}",
        explanation=N_("This term is multiplied by sum_i (x_i - mu_B), which is exactly 0 when mu_B "
        "is the batch's own mean. Dropping it changes nothing, so every check passes: not every "
        "dropped term is a bug."),
        exposed_by_check=False,
    ),
}

SOFTMAX_MISTAKES = {
    "sign_flipped": Mistake(
        title=N_("Sign error: y - yhat instead of yhat - y"),
        wrong_formula=r"\frac{\partial L}{\partial z} = y - \hat y",
        explanation=N_("Gradient descent then climbs the loss: the true class's logit is pushed down."),
    ),
    "jacobian_diagonal_only": Mistake(
        title=N_("Softmax treated as element-wise (only the Jacobian's diagonal)"),
        wrong_formula=r"\frac{\partial L}{\partial z_t} = -y_t\,(1-\hat y_t)",
        explanation=N_("Each probability depends on every logit through the shared denominator; "
        "the off-diagonal terms -yhat_i yhat_t are what turn this into yhat - y."),
    ),
    "temperature_forgotten": Mistake(
        title=N_("Forgetting the 1/T from the temperature"),
        wrong_formula=r"\frac{\partial L}{\partial z} = \hat y - y",
        explanation=N_("With yhat = softmax(z / T) the chain rule brings a factor 1/T. At T = 1 "
        "the slip is invisible, so move the temperature to see the check catch it."),
    ),
}
