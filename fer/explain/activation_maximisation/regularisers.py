"""Keeping the picture smooth: a Gaussian blur every few steps, or a total-variation penalty.

Both push the ascent away from pixel-level noise towards patterns a person can see
(Mahendran & Vedaldi, "Understanding Deep Image Representations by Inverting Them", 2015,
https://arxiv.org/abs/1412.0035, for total variation; Yosinski et al., "Understanding Neural
Networks Through Deep Visualization", 2015, https://arxiv.org/abs/1506.06579, for the blur).
"""

from __future__ import annotations

import numpy as np


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised 2-D Gaussian, shaped (k, k, 1, 1) for a depthwise convolution."""
    radius = max(1, int(np.ceil(2 * sigma)))
    offsets = np.arange(-radius, radius + 1, dtype=np.float32)
    weights = np.exp(-0.5 * (offsets / max(sigma, 1e-6)) ** 2)
    weights /= weights.sum()
    return np.outer(weights, weights).astype(np.float32)[..., None, None]


def blur(values, kernel):
    """`values` (N, H, W, 1) convolved with `kernel`, same size."""
    import tensorflow as tf

    return tf.nn.depthwise_conv2d(values, kernel, strides=[1, 1, 1, 1], padding="SAME")


def total_variation_penalty(images, size: tuple[int, int]):
    """The summed total variation of `images`, per pixel, times 100 (so weights near 0.05 matter)."""
    import tensorflow as tf

    return tf.reduce_sum(tf.image.total_variation(images)) / float(size[0] * size[1]) * 100.0
