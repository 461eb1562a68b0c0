"""Integrated gradients (Sundararajan et al. 2017): credit shared out along a path from black.

The face is faded in from a black image in `steps` steps; the gradients along the way are
averaged and multiplied by (face - black). Unlike the plain gradient, the credits add up to
how much the class logit differs between the face and the black image, and a pixel the model
is already saturated on still gets credit.
"""

from __future__ import annotations

import numpy as np

from fer.explain.base import SaliencyMethod, capped_steps, normalise_maps, scores_model
from fer.i18n import N_, _


class IntegratedGradients(SaliencyMethod):
    """Gradients averaged along a fade from black to the face, times the face.

    Args:
        model: a Keras classifier of (N, H, W, 1) images.
        steps: points on the path from black to the face (midpoint rule; capped by
            `$FER_EXPLAIN_MAX_STEPS`). More steps, a closer sum to the score difference.

    References:
        Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep Networks", 2017,
        https://arxiv.org/abs/1703.01365
    """

    method_id = "integrated_gradients"
    name = N_("Integrated gradients")

    def __init__(self, model, steps: int = 32):
        super().__init__(model)
        self.steps = capped_steps(steps)
        self.scores = scores_model(model)
        self.description = _(
            "Gradients averaged over {steps} images fading from black to the face, "
            "times the face: credits that add up to the score's change."
        ).format(steps=self.steps)

    def attributions(self, batch: np.ndarray, class_indices: np.ndarray) -> np.ndarray:
        """Signed credits, same shape as `batch`; they sum to score(face) - score(black), nearly."""
        import tensorflow as tf

        alphas = (np.arange(self.steps, dtype=np.float32) + 0.5) / self.steps  # midpoint rule
        total = np.zeros_like(batch)
        mask = tf.one_hot(class_indices, self.num_classes)
        for alpha in alphas:
            x = tf.convert_to_tensor(alpha * batch)
            with tf.GradientTape() as tape:
                tape.watch(x)
                score = tf.reduce_sum(self.scores(x, training=False) * mask)
            total += tape.gradient(score, x).numpy()
        return batch * total / self.steps

    def explain(self, batch, class_indices):
        return normalise_maps(np.abs(self.attributions(batch, class_indices)).max(axis=-1))
