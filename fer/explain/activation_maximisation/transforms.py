"""The random moves applied to the picture before every step: a pattern must survive being moved.

Without them the ascent finds high-frequency noise that excites the unit at one exact position
and means nothing to a person (Mordvintsev et al., "Inceptionism", 2015; Olah et al.,
"Feature Visualization", Distill 2017, https://distill.pub/2017/feature-visualization/).
"""

from __future__ import annotations

import numpy as np

from fer.explain.activation_maximisation.settings import AscentSettings


def random_transforms(settings: AscentSettings, steps: int, count: int, size: tuple[int, int]) -> np.ndarray:
    """(steps, count, 8) projective transforms: rotate and scale about the centre, then shift.

    All of them are drawn up front from `settings.seed + 1`, so a gallery is reproducible.
    """
    rng = np.random.default_rng(settings.seed + 1)
    height, width = size
    angles = np.deg2rad(rng.uniform(-settings.rotation_degrees, settings.rotation_degrees, (steps, count)))
    scales = rng.uniform(1 - settings.scale_range, 1 + settings.scale_range, (steps, count))
    shifts = rng.integers(-settings.jitter_pixels, settings.jitter_pixels + 1, (steps, count, 2))
    cos, sin = np.cos(angles) / scales, np.sin(angles) / scales
    centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
    # Output pixel (x, y) samples input pixel A (x - c) + c + shift, with A = rotation / scale.
    a0, a1 = cos, -sin
    b0, b1 = sin, cos
    a2 = centre_x - a0 * centre_x - a1 * centre_y + shifts[..., 0]
    b2 = centre_y - b0 * centre_x - b1 * centre_y + shifts[..., 1]
    zeros = np.zeros_like(a0)
    return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=-1).astype(np.float32)


def move(images, transforms, size: tuple[int, int]):
    """`images` (N, H, W, 1) moved by one transform each (N, 8), edges filled by reflection."""
    import tensorflow as tf

    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.constant(size, tf.int32),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )
