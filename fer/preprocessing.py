"""How a face becomes what a network eats: one definition for every place that feeds a model.

A face is a 48x48 `uint8` array, 0 = black. A network's input is `float32` of shape
(N, 48, 48, 1): each pixel divided by `PIXEL_SCALE`, so 0.0 is black and 1.0 is white. Networks
never rescale inside themselves. Training (`fer.train`), evaluation, the explanation methods,
the face crop of uploads and the TF.js export all go through this module, and the export
writes `metadata()` into `metadata.json`, from which the webcam page reads its divisor.
"""

from __future__ import annotations

import numpy as np

IMAGE_SIZE = 48
PIXEL_SCALE = 255.0


def scale_pixels(pixels):
    """uint8 or float pixels (NumPy array or TensorFlow tensor, already float) -> [0, 1]."""
    return pixels / PIXEL_SCALE


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 faces (N, 48, 48) or one (48, 48) -> float32 (N, 48, 48, 1) in [0, 1]."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.shape[-2:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"Faces must be {IMAGE_SIZE}x{IMAGE_SIZE}; got shape {images.shape}.")
    return scale_pixels(images.astype(np.float32))[..., None]


def metadata() -> dict:
    """What a program outside Python (the webcam page) needs to prepare a face the same way."""
    return {
        "pixel_scale": f"pixel / {PIXEL_SCALE:g}",
        "divide_by": PIXEL_SCALE,
        "layout": "NHWC, one grayscale channel, 0.0 = black",
    }
