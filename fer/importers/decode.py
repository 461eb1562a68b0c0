"""One image file's bytes -> a 48x48 grayscale uint8 face, whatever its format, depth or size."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fer.face_dataset import IMAGE_SIZE

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class DecodedFace:
    face: np.ndarray  # (48, 48) uint8
    was_colour: bool  # it had real colour, now converted to gray
    was_resized: bool  # it was not 48x48 (the aspect ratio is not kept)


def decode_face(content: bytes) -> DecodedFace | None:
    """The face in an image file's bytes, or None when they are not an image OpenCV can read."""
    buffer = np.frombuffer(content, dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED) if len(buffer) else None
    if image is None:
        return None
    image, was_colour = to_gray_uint8(image)
    was_resized = image.shape != (IMAGE_SIZE, IMAGE_SIZE)
    if was_resized:
        shrinking = image.shape[0] > IMAGE_SIZE or image.shape[1] > IMAGE_SIZE
        image = cv2.resize(
            image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        )
    return DecodedFace(image, was_colour, was_resized)


def to_gray_uint8(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """Any decoded image -> (48x48-or-not) grayscale uint8, and whether it had real colour."""
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 2:
        return image, False
    if image.shape[2] == 1:
        return image[:, :, 0], False
    colour = image[:, :, :3]
    was_colour = not (
        np.array_equal(colour[:, :, 0], colour[:, :, 1]) and np.array_equal(colour[:, :, 1], colour[:, :, 2])
    )
    return cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY), was_colour
