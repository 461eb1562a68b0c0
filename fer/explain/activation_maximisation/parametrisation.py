"""What the ascent changes: the pixels themselves, or the picture's Fourier coefficients.

Either way a sigmoid maps the parameters to pixels in (0, 1). In Fourier space high
frequencies are scaled down, so smooth pictures are the easy ones to reach (Olah et al.,
"Feature Visualization", Distill 2017, https://distill.pub/2017/feature-visualization/).
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def fourier_scale(size: tuple[int, int], decay: float) -> np.ndarray:
    """1 / frequency ** decay for every coefficient of a real 2-D FFT of `size`."""
    height, width = size
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    frequencies = np.sqrt(fx**2 + fy**2)
    return (1.0 / np.maximum(frequencies, 1.0 / max(height, width)) ** decay).astype(np.float32)


def starting_parameters(
    count: int, size: tuple[int, int], fourier: bool, fourier_decay: float, rng: np.random.Generator
) -> tuple[object, Callable]:
    """(a tf.Variable of `count` pictures' parameters, started near gray, and the map to pixels (N, H, W, 1))."""
    import tensorflow as tf

    if not fourier:
        parameters = tf.Variable(rng.normal(0.0, 0.1, (count, *size, 1)).astype(np.float32))
        return parameters, tf.sigmoid

    scale = tf.constant(fourier_scale(size, fourier_decay))
    parameters = tf.Variable(rng.normal(0.0, 0.01, (count, size[0], size[1] // 2 + 1, 2)).astype(np.float32))
    pixel_count = float(size[0] * size[1])

    def to_image(values):
        spectrum = tf.complex(values[..., 0] * scale, values[..., 1] * scale)
        spatial = tf.signal.irfft2d(spectrum, fft_length=size) * np.sqrt(pixel_count) / 4.0
        return tf.sigmoid(spatial)[..., None]

    return parameters, to_image
