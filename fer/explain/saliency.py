"""Gradient saliency: how much the class score changes when one pixel changes.

Vanilla gradient (Simonyan et al. 2013): the absolute gradient of the class's logit with
respect to each input pixel. SmoothGrad (Smilkov et al. 2017): the same gradient averaged over
copies of the face with Gaussian noise added, which removes much of the speckle.
"""

from __future__ import annotations

import numpy as np

from fer.explain.base import ExplainError, SaliencyMethod, capped_steps, normalise_maps, scores_model
from fer.i18n import N_, _


class Saliency(SaliencyMethod):
    """|d logit / d pixel|, the vanilla gradient; with `smooth_samples` > 0, SmoothGrad.

    Args:
        model: a Keras classifier of (N, H, W, 1) images.
        smooth_samples: 0 for the vanilla gradient; otherwise how many noisy copies SmoothGrad
            averages (capped by `$FER_EXPLAIN_MAX_STEPS`).
        noise_level: the noise's standard deviation, as a fraction of the batch's pixel range.
        seed: the noise's random seed; the same seed gives the same map.

    References:
        Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional Networks: Visualising Image
        Classification Models and Saliency Maps", 2013, https://arxiv.org/abs/1312.6034
        Smilkov et al., "SmoothGrad: removing noise by adding noise", 2017, https://arxiv.org/abs/1706.03825
    """

    method_id = "vanilla"
    name = N_("Vanilla gradient")
    description = N_("|d score / d pixel|: the pixels whose small change would move the class score most.")

    def __init__(self, model, smooth_samples: int = 0, noise_level: float = 0.15, seed: int = 0):
        super().__init__(model)
        if smooth_samples < 0:
            raise ExplainError(_(
                "smooth_samples must be 0 (vanilla) or more; got {smooth_samples}."
            ).format(smooth_samples=smooth_samples))
        if noise_level < 0:
            raise ExplainError(_(
                "noise_level must be 0 or more (a fraction of the pixel range); got {noise_level}."
            ).format(noise_level=noise_level))
        self.smooth_samples = capped_steps(smooth_samples) if smooth_samples else 0
        self.noise_level = noise_level
        self.seed = seed
        self.scores = scores_model(model)
        if smooth_samples:
            self.method_id = "smoothgrad"
            self.name = "SmoothGrad"
            self.description = _(
                "The gradient averaged over {samples} noisy copies of the face "
                "(noise {noise} of the pixel range): less speckle, same idea."
            ).format(samples=self.smooth_samples, noise=f"{noise_level:.0%}")

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
            for _copy in range(self.smooth_samples):
                noisy = batch + rng.normal(0.0, sigma, batch.shape).astype(np.float32)
                total += self.gradients(noisy, class_indices)
            gradients = total / self.smooth_samples
        return normalise_maps(np.abs(gradients).max(axis=-1))
