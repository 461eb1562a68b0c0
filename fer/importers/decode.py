"""One image file's bytes -> a 48x48 grayscale uint8 face, whatever its format, depth or size.

An image file can be small and decode into gigabytes (a PNG of 50,000 x 50,000 black pixels
packs into a few MB), so the size its header announces is checked before it is decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from fer.face_dataset import IMAGE_SIZE
from fer.i18n import _, format_integer

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MAX_IMAGE_BYTES = 16 << 20  # a face photo is a few kB to a few MB
MAX_IMAGE_PIXELS = 4096 * 4096  # shrunk to 48x48 anyway


class ImageTooLarge(ValueError):
    """The file, or the image its header announces, is far larger than any face needs."""


@dataclass(frozen=True)
class DecodedFace:
    face: np.ndarray  # (48, 48) uint8
    was_colour: bool  # it had real colour, now converted to gray
    was_resized: bool  # it was not 48x48 (the aspect ratio is not kept)


def decode_face(content: bytes) -> DecodedFace | None:
    """The face in an image file's bytes, or None when they are not an image OpenCV can read.

    Raises `ImageTooLarge` (with the reason) for a file or an announced image beyond the limits above.
    """
    if len(content) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(
            _("the file is {megabytes} MB, more than a face image needs (16 MB)").format(
                megabytes=format_integer(round(len(content) / 1e6))
            )
        )
    width, height = _announced_size(content)
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLarge(
            _("it is {width} x {height} pixels, more than a face image needs (4,096 x 4,096)").format(
                width=format_integer(width), height=format_integer(height)
            )
        )
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


def _announced_size(content: bytes) -> tuple[int, int]:
    """Width and height from the file's header alone (Pillow reads no pixels for this); (0, 0) if unknown."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we judge the size ourselves
            with Image.open(io.BytesIO(content)) as image:
                return image.size
    except Image.DecompressionBombError:  # beyond even Pillow's own limit, which is far above ours
        millions = 2 * Image.MAX_IMAGE_PIXELS // 1_000_000
        raise ImageTooLarge(
            _("it announces over {millions} million pixels, more than a face image needs (4,096 x 4,096)").format(
                millions=format_integer(millions)
            )
        ) from None
    except Exception:  # noqa: BLE001  (a format Pillow does not know: OpenCV decides)
        return (0, 0)


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
