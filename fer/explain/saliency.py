"""Gradient saliency: how much the class score changes when one pixel changes.

Vanilla gradient (Simonyan et al. 2013): the absolute gradient of the class's logit with
respect to each input pixel. SmoothGrad (Smilkov et al. 2017): the same gradient averaged over
copies of the face with Gaussian noise added, which removes much of the speckle.
"""

from __future__ import annotations

import numpy as np

from fer.explain.base import ExplainError, SaliencyMethod, capped_steps, normalise_maps, scores_model


class Saliency(SaliencyMethod):
    """`smooth_samples=0` is the vanilla gradient; more samples give SmoothGrad."""

    name = "Vanilla gradient"
    description = "|d score / d pixel|: the pixels whose small change would move the class score most."

    def __init__(self, model, smooth_samples: int = 0, noise_level: float = 0.15, seed: int = 0):
        super().__init__(model)
        if smooth_samples < 0:
            raise ExplainError(f"smooth_samples must be 0 (vanilla) or more; got {smooth_samples}.")
        if noise_level < 0:
            raise ExplainError(f"noise_level must be 0 or more (a fraction of the pixel range); got {noise_level}.")
        self.smooth_samples = capped_steps(smooth_samples) if smooth_samples else 0
        self.noise_level = noise_level
        self.seed = seed
        self.scores = scores_model(model)
        if smooth_samples:
            self.name = "SmoothGrad"
            self.description = (
                f"The gradient averaged over {self.smooth_samples} noisy copies of the face "
                f"(noise {noise_level:.0%} of the pixel range): less speckle, same idea."
            )

    def gradients(self, batch: np.ndarray, class_indices: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        x = tf.convert_to_tensor(batch)
        mask = tf.one_hot(class_indices, self.num_classes)
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = self.scores(x, training=False)
            score = tf.reduce_sum(logits * mask)
        return tape.gradient(score, x).numpy()

    def explain(self, batch, class_indices):
        if not self.smooth_samples:
            gradients = self.gradients(batch, class_indices)
        else:
            rng = np.random.default_rng(self.seed)
            sigma = self.noise_level * float(batch.max() - batch.min() or 1.0)
            total = np.zeros_like(batch)
            for _ in range(self.smooth_samples):
                noisy = batch + rng.normal(0.0, sigma, batch.shape).astype(np.float32)
                total += self.gradients(noisy, class_indices)
            gradients = total / self.smooth_samples
        return normalise_maps(np.abs(gradients).max(axis=-1))


def vanilla_gradient(model, images, class_indices) -> np.ndarray:
    return Saliency(model)(images, class_indices)


def smoothgrad(model, images, class_indices, samples: int = 20, noise_level: float = 0.15, seed: int = 0) -> np.ndarray:
    return Saliency(model, smooth_samples=samples, noise_level=noise_level, seed=seed)(images, class_indices)
