"""Random changes to training faces, in NumPy and OpenCV, the same on every Keras backend.

Every batch draws its randomness from its own generator, seeded by (seed, epoch, batch), so a
run resumed at epoch 7 sees exactly the faces an uninterrupted run would have seen, and the
same settings give the same batches on TensorFlow, JAX and PyTorch.

One affine warp per face does the geometry (edge pixels repeated at the borders):
- random crop: an integer shift of up to `crop_margin` pixels; the network's own centre crop
  (`fer.nets.image_input`) then cuts a random `48 - 2 * margin` window;
- shift (a fraction of the face), rotation (degrees) and zoom (a fraction), around the centre;
then a horizontal flip with probability one half, and random erasing (Zhong et al. 2017,
https://arxiv.org/abs/1708.04896): with probability `erasing`, a rectangle of 2-33 % of the
face with an aspect ratio between 0.3 and 3.3 is filled with random grey levels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fer.preprocessing import scale_pixels


@dataclass(frozen=True)
class Augmentation:
    flip: bool = False
    crop_margin: int = 0  # pixels
    shift: float = 0.0  # fraction of the face
    rotation: float = 0.0  # degrees
    zoom: float = 0.0  # fraction
    erasing: float = 0.0  # probability

    @property
    def active(self) -> bool:
        return bool(self.flip or self.crop_margin or self.shift or self.rotation or self.zoom or self.erasing)


def batch_generator(seed: int, epoch: int, batch: int) -> np.random.Generator:
    return np.random.default_rng([seed, epoch, batch])


def epoch_order(count: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which epoch `epoch` visits the training faces (the same after a resume)."""
    return np.random.default_rng([seed, epoch, 2**31 - 1]).permutation(count)


def augment(images: np.ndarray, settings: Augmentation, rng: np.random.Generator) -> np.ndarray:
    """uint8 faces (B, H, W) -> float32 model input (B, H, W, 1) in [0, 1], randomly changed."""
    faces = images.astype(np.float32)
    if settings.active:
        faces = np.stack([_augment_one(face, settings, rng) for face in faces])
    return scale_pixels(faces)[..., None]


def _augment_one(face: np.ndarray, settings: Augmentation, rng: np.random.Generator) -> np.ndarray:
    height, width = face.shape
    matrix = _affine_matrix(height, width, settings, rng)
    if matrix is not None:
        face = cv2.warpAffine(face, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if settings.flip and rng.random() < 0.5:
        face = face[:, ::-1]
    if settings.erasing and rng.random() < settings.erasing:
        face = _erase(face, rng)
    return np.ascontiguousarray(face)


def _affine_matrix(height: int, width: int, settings: Augmentation, rng: np.random.Generator) -> np.ndarray | None:
    dx = dy = 0.0
    if settings.crop_margin:
        dx, dy = (float(v) for v in rng.integers(-settings.crop_margin, settings.crop_margin + 1, size=2))
    if settings.shift:
        dx += rng.uniform(-settings.shift, settings.shift) * width
        dy += rng.uniform(-settings.shift, settings.shift) * height
    angle = rng.uniform(-settings.rotation, settings.rotation) if settings.rotation else 0.0
    scale = 1.0 + rng.uniform(-settings.zoom, settings.zoom) if settings.zoom else 1.0
    if dx == 0 and dy == 0 and angle == 0 and scale == 1.0:
        return None
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), angle, scale)
    matrix[:, 2] += (dx, dy)
    return matrix


def _erase(face: np.ndarray, rng: np.random.Generator, tries: int = 10) -> np.ndarray:
    height, width = face.shape
    for _ in range(tries):
        area = rng.uniform(0.02, 0.33) * height * width
        ratio = math.exp(rng.uniform(math.log(0.3), math.log(3.3)))
        h, w = int(round(math.sqrt(area * ratio))), int(round(math.sqrt(area / ratio)))
        if 0 < h < height and 0 < w < width:
            top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
            face = face.copy()
            face[top : top + h, left : left + w] = rng.uniform(0, 255, size=(h, w))
            return face
    return face


def shift_faces(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Faces moved by whole pixels (edges repeated): what a random crop does, for tests and TTA."""
    if dy == 0 and dx == 0:
        return images
    height, width = images.shape[1:3]
    pad = max(abs(dy), abs(dx))
    padded = np.pad(images, [(0, 0), (pad, pad), (pad, pad)] + [(0, 0)] * (images.ndim - 3), mode="edge")
    return padded[:, pad - dy : pad - dy + height, pad - dx : pad - dx + width]
