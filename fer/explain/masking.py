"""Pictures of an explanation: report B's masked face, heat-map overlays, image grids.

Report B showed a saliency map next to the face with every pixel of low saliency
blacked out: if the model looks at the eyes and mouth, that is what is left.
"""

from __future__ import annotations

import cv2
import numpy as np

from fer.explain.base import ExplainError
from fer.i18n import _


def _check_pair(image: np.ndarray, saliency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    saliency = np.asarray(saliency, dtype=np.float32)
    if image.shape[:2] != saliency.shape[:2] or image.ndim != 2:
        raise ExplainError(
            _(
                "The face {face} and its saliency map {saliency} must both be (H, W) of the same size."
            ).format(face=image.shape, saliency=saliency.shape)
        )
    return image, saliency


def keep_salient_pixels(image: np.ndarray, saliency: np.ndarray, threshold: float) -> tuple[np.ndarray, float]:
    """The face with every pixel whose saliency is below `threshold` (0..1) set to black.

    Returns the masked face and the fraction of pixels kept.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ExplainError(_(
            "The threshold is a saliency level between 0 and 1; got {threshold}."
        ).format(threshold=threshold))
    image, saliency = _check_pair(image, saliency)
    keep = saliency >= threshold
    return np.where(keep, image, 0).astype(image.dtype), float(keep.mean())


def heatmap_rgb(saliency: np.ndarray, colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """A [0, 1] map -> RGB uint8 colours (blue = low, red = high)."""
    levels = np.clip(np.rint(np.asarray(saliency, dtype=np.float32) * 255), 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(levels, colormap), cv2.COLOR_BGR2RGB)


def overlay(image: np.ndarray, saliency: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """The grayscale face under a coloured heat map; `opacity` 0 shows the face, 1 the map alone."""
    if not 0.0 <= opacity <= 1.0:
        raise ExplainError(_("Opacity is between 0 and 1; got {opacity}.").format(opacity=opacity))
    image, saliency = _check_pair(image, saliency)
    face = np.repeat(image[..., None].astype(np.float32), 3, axis=2)
    blended = (1.0 - opacity) * face + opacity * heatmap_rgb(saliency).astype(np.float32)
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def enlarge(image: np.ndarray, factor: int = 4) -> np.ndarray:
    """Nearest-neighbour enlargement, so 48x48 pixels stay crisp squares on screen."""
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def stretch_contrast(images: np.ndarray) -> np.ndarray:
    """Each image (N, H, W) scaled to use 0..255 on its own: patterns of a weak filter stay visible."""
    images = np.asarray(images, dtype=np.float32)
    low = images.min(axis=(1, 2), keepdims=True)
    high = images.max(axis=(1, 2), keepdims=True)
    scaled = (images - low) / np.where(high > low, high - low, 1.0)
    return np.clip(np.rint(scaled * 255), 0, 255).astype(np.uint8)


def tile_grid(images: np.ndarray, columns: int | None = None, gap: int = 1, background: int = 255) -> np.ndarray:
    """(N, H, W) or (N, H, W, 3) uint8 -> one image with the N tiles in rows of `columns`."""
    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ExplainError(_(
            "tile_grid needs a non-empty stack (N, H, W[, 3]); got shape {shape}."
        ).format(shape=images.shape))
    count, height, width = images.shape[:3]
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    shape = (rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, *images.shape[3:])
    grid = np.full(shape, background, dtype=images.dtype)
    for index, tile in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        grid[top : top + height, left : left + width] = tile
    return grid
