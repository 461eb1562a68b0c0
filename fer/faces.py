"""From a photo to a 48x48 face: the one detection-and-crop recipe used everywhere.

Uploads, camera snapshots and the TF.js webcam page all go through the same steps, with the
same numbers, so a face looks the same to the model wherever it came from:

0. Decoding a photo file turns it upright by its EXIF orientation, as browsers do.
1. Grayscale: `gray = round(0.299 R + 0.587 G + 0.114 B)` (ITU-R BT.601 luma, what
   OpenCV's `COLOR_RGB2GRAY` computes), clipped to 0..255.
2. Detection: OpenCV's Haar cascade `haarcascade_frontalface_default.xml` on the grayscale
   image, after shrinking it (area averaging) so its longer side is at most
   `max_detection_side` pixels; windows grow by `scale_factor` per step, a face needs
   `min_neighbors` overlapping hits, and the smallest face searched is `min_face_fraction` of
   the shorter side (never below `min_face_pixels`). The largest face found wins.
3. Crop: a square centred on the face box, its side `(1 + 2 * margin)` times the box's longer
   side, shrunk to fit the image if it is larger, then slid inside the image.
4. Resize the square to 48x48 with area averaging (`cv2.INTER_AREA`).

`FaceCropSpec.to_dict()` writes these numbers into the TF.js export's `metadata.json`, so the
browser can reproduce the crop. A grayscale image that is already 48x48 is used as it is.
Detection is safe from several threads at once (every Streamlit session runs in its own).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from fer.data import IMAGE_SIZE
from fer.i18n import _, ngettext

GRAYSCALE_WEIGHTS = (0.299, 0.587, 0.114)
_INTERPOLATIONS = {"area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST}


class FaceImageError(ValueError):
    """An image that cannot be read at all (as opposed to one with no face in it)."""


@dataclass(frozen=True)
class FaceCropSpec:
    """Every number the face crop depends on; the browser export reproduces exactly these."""

    cascade_file: str = "haarcascade_frontalface_default.xml"
    scale_factor: float = 1.1
    min_neighbors: int = 5
    min_face_fraction: float = 0.15
    min_face_pixels: int = 24
    max_detection_side: int = 640
    margin: float = 0.15
    output_size: int = IMAGE_SIZE
    grayscale_weights: tuple[float, float, float] = GRAYSCALE_WEIGHTS
    resize_interpolation: str = "area"

    def __post_init__(self):
        if self.scale_factor <= 1.0:
            raise ValueError(_(
                "scale_factor must be above 1 (the window grows each step); got {scale_factor}."
            ).format(scale_factor=self.scale_factor))
        if self.min_neighbors < 0:
            raise ValueError(_(
                "min_neighbors must be 0 or more; got {min_neighbors}."
            ).format(min_neighbors=self.min_neighbors))
        if not 0.0 < self.min_face_fraction <= 1.0:
            raise ValueError(_(
                "min_face_fraction must be in (0, 1]; got {min_face_fraction}."
            ).format(min_face_fraction=self.min_face_fraction))
        if self.margin < 0:
            raise ValueError(_(
                "margin must be 0 or more (a fraction of the face box); got {margin}."
            ).format(margin=self.margin))
        if self.resize_interpolation not in _INTERPOLATIONS:
            raise ValueError(
                _(
                    "resize_interpolation must be one of {choices}; got {resize_interpolation}."
                ).format(choices=", ".join(_INTERPOLATIONS), resize_interpolation=repr(self.resize_interpolation))
            )

    def to_dict(self) -> dict:
        """JSON-ready numbers plus the formulas in words, for metadata.json."""
        spec = asdict(self)
        spec["grayscale_weights"] = list(self.grayscale_weights)
        spec["grayscale_formula"] = "gray = round(0.299 R + 0.587 G + 0.114 B)"
        spec["crop_rule"] = (
            "square centred on the largest face box, side = (1 + 2 * margin) * max(box width, box height), "
            "shrunk to the image's shorter side if larger, then shifted to lie inside the image"
        )
        spec["detection_downscale"] = "shrink (area) so the longer side is at most max_detection_side before detecting"
        spec["min_face_rule"] = (
            "min face side = max(min_face_pixels, min_face_fraction * shorter side of the detection image)"
        )
        return spec


DEFAULT_SPEC = FaceCropSpec()


@dataclass(frozen=True)
class FaceCrop:
    """What `crop_face` found. `face` is None exactly when `found` is False."""

    found: bool
    face: np.ndarray | None  # (48, 48) uint8
    box: tuple[int, int, int, int] | None  # the detected face (x, y, width, height) in the photo
    crop_box: tuple[int, int, int, int] | None  # the square actually cut out (x, y, side, side)
    message: str
    annotated: np.ndarray  # RGB uint8: the photo with what was found or tried drawn on it
    all_boxes: tuple[tuple[int, int, int, int], ...] = field(default_factory=tuple)
    source: str = "detected"  # "detected", "already 48x48" or "none"


# Any colour layout and bit depth, turned upright by the photo's EXIF orientation as a browser's
# createImageBitmap does (IMREAD_UNCHANGED would ignore the tag: a phone's portrait photo would
# reach the detector on its side, and the webcam page would crop another face than Python).
_DECODE_FLAGS = cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH


def decode_image(data: bytes) -> np.ndarray:
    """Image file bytes (PNG, JPEG, ...) -> RGB uint8 (H, W, 3) upright, or FaceImageError with a sentence."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    decoded = cv2.imdecode(buffer, _DECODE_FLAGS) if buffer.size else None
    if decoded is None:
        raise FaceImageError(_("The file is not an image OpenCV can read: upload a PNG or JPEG photo."))
    if decoded.dtype != np.uint8:
        decoded = cv2.convertScaleAbs(decoded, alpha=255.0 / max(1, int(decoded.max())))
    if decoded.ndim == 2:
        return decoded
    if decoded.shape[2] == 4:
        return cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)


def to_grayscale(image: np.ndarray, spec: FaceCropSpec = DEFAULT_SPEC) -> np.ndarray:
    """RGB or RGBA (alpha ignored) or grayscale uint8 -> grayscale uint8 with the spec's luma weights."""
    image = np.asarray(image)
    if image.ndim == 2:
        return image.astype(np.uint8)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise FaceImageError(
            _(
                "Expected a grayscale (H, W) or colour (H, W, 3 or 4) image; got shape {shape}."
            ).format(shape=image.shape)
        )
    weights = np.asarray(spec.grayscale_weights, dtype=np.float64)
    gray = image[..., :3].astype(np.float64) @ weights
    return np.clip(np.rint(gray), 0, 255).astype(np.uint8)


def _to_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2).astype(np.uint8)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


def detect_faces(gray: np.ndarray, spec: FaceCropSpec = DEFAULT_SPEC) -> tuple[list[tuple[int, int, int, int]], int]:
    """Every face box (x, y, w, h) in `gray`'s own pixels, largest first, and the smallest side searched."""
    height, width = gray.shape
    shrink = min(1.0, spec.max_detection_side / max(height, width))
    small = gray
    if shrink < 1.0:
        size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    min_side = max(spec.min_face_pixels, round(spec.min_face_fraction * min(small.shape)))
    with _borrowed_cascade(spec.cascade_file) as cascade:
        found = cascade.detectMultiScale(
            small, scaleFactor=spec.scale_factor, minNeighbors=spec.min_neighbors, minSize=(min_side, min_side)
        )
    boxes = [tuple(int(round(value / shrink)) for value in box) for box in np.asarray(found).reshape(-1, 4)]
    boxes.sort(key=lambda box: box[2] * box[3], reverse=True)
    return boxes, int(round(min_side / shrink))


# A CascadeClassifier keeps the image it is searching inside itself, so two threads sharing one
# (two students' sessions detecting at once) overwrite each other's search and get wrong boxes.
# Each detection borrows a classifier no other thread is using; idle ones wait here for reuse,
# so there are never more than the most detections that ran at the same time.
_IDLE_CASCADES: dict[str, list[cv2.CascadeClassifier]] = {}
_IDLE_LOCK = threading.Lock()


def _load_cascade(file_name: str) -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + file_name
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise FaceImageError(
            _(
                "OpenCV could not load the face detector {path}: install opencv-python-headless<5, "
                "which ships the Haar cascades."
            ).format(path=path)
        )
    return cascade


@contextlib.contextmanager
def _borrowed_cascade(file_name: str) -> Iterator[cv2.CascadeClassifier]:
    with _IDLE_LOCK:
        idle = _IDLE_CASCADES.setdefault(file_name, [])
        cascade = idle.pop() if idle else None
    if cascade is None:
        cascade = _load_cascade(file_name)
    try:
        yield cascade
    finally:
        with _IDLE_LOCK:
            _IDLE_CASCADES[file_name].append(cascade)


def square_crop_box(
    box: tuple[int, int, int, int], image_shape: tuple[int, int], margin: float
) -> tuple[int, int, int, int]:
    """The square (x, y, side, side) around `box` with `margin` added, kept inside the image."""
    height, width = image_shape[:2]
    x, y, box_width, box_height = box
    side = round(max(box_width, box_height) * (1 + 2 * margin))
    side = max(1, min(side, height, width))
    centre_x, centre_y = x + box_width / 2, y + box_height / 2
    left = int(min(max(round(centre_x - side / 2), 0), width - side))
    top = int(min(max(round(centre_y - side / 2), 0), height - side))
    return left, top, side, side


def resize_face(gray: np.ndarray, spec: FaceCropSpec = DEFAULT_SPEC) -> np.ndarray:
    size = spec.output_size
    return cv2.resize(gray, (size, size), interpolation=_INTERPOLATIONS[spec.resize_interpolation])


def crop_from_box(image: np.ndarray, box: tuple[int, int, int, int], spec: FaceCropSpec = DEFAULT_SPEC) -> np.ndarray:
    """Steps 1, 3 and 4 for a face box found by any detector: the same 48x48 face `crop_face` makes."""
    gray = to_grayscale(np.asarray(image), spec)
    left, top, side, _side = square_crop_box(box, gray.shape, spec.margin)
    return resize_face(gray[top : top + side, left : left + side], spec)


def crop_face(image: np.ndarray | bytes, spec: FaceCropSpec = DEFAULT_SPEC) -> FaceCrop:
    """A photo (file bytes, RGB/RGBA or grayscale array) -> the largest face as 48x48 uint8.

    An image already 48x48 (grayscale, or colour made grayscale) is taken as the face itself. When no face is found the
    result says so, and `annotated` shows the grayscale image the detector searched with the
    smallest face size it tried drawn in the corner.
    """
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = decode_image(bytes(image))
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise FaceImageError(_("Expected a uint8 image (0..255); got {dtype}.").format(dtype=image.dtype))
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
        raise FaceImageError(_(
            "Expected an image of shape (H, W) or (H, W, 3/4); got {shape}."
        ).format(shape=image.shape))
    size = spec.output_size
    if image.shape[:2] == (size, size):
        face = to_grayscale(image, spec).copy()
        return FaceCrop(
            found=True,
            face=face,
            box=(0, 0, size, size),
            crop_box=(0, 0, size, size),
            message=_("Already a {size}x{size} face: used as it is (no detection needed).").format(size=size),
            annotated=_to_rgb(face),
            source=f"already {size}x{size}",
        )

    gray = to_grayscale(image, spec)
    boxes, min_side = detect_faces(gray, spec)
    height, width = gray.shape
    if not boxes:
        annotated = _to_rgb(gray)
        thickness = max(1, round(min(height, width) / 200))
        cv2.rectangle(annotated, (2, 2), (2 + min_side, 2 + min_side), (255, 160, 0), thickness)
        message = _(
            "No face found in this {width}x{height} photo. The detector looked for front-on faces at least "
            "{min_side} pixels wide (the orange square) in the grayscale image shown, growing its window by "
            "{factor}x per step and needing {hits} agreeing hits. Try a brighter, "
            "front-on photo in which the face fills more of the frame."
        ).format(width=width, height=height, min_side=min_side, factor=spec.scale_factor, hits=spec.min_neighbors)
        return FaceCrop(False, None, None, None, message, annotated, (), "none")

    box = boxes[0]
    left, top, side, _side = square_crop_box(box, gray.shape, spec.margin)
    face = crop_from_box(gray, box, spec)
    annotated = _to_rgb(image)
    thickness = max(1, round(min(height, width) / 200))
    for other in boxes[1:]:
        x, y, w, h = other
        cv2.rectangle(annotated, (x, y), (x + w, y + h), (160, 160, 160), thickness)
    cv2.rectangle(annotated, (left, top), (left + side, top + side), (0, 200, 255), thickness)
    x, y, w, h = box
    cv2.rectangle(annotated, (x, y), (x + w, y + h), (0, 220, 0), thickness)
    ignored = len(boxes) - 1
    others = ngettext(
        " ({count} smaller face ignored, in grey)", " ({count} smaller faces ignored, in grey)", ignored
    ).format(count=ignored) if ignored else ""
    message = _(
        "Face found at x={x}, y={y}, {w}x{h} pixels (green){others}; the square crop with a "
        "{margin} margin (blue) was shrunk to {size}x{size}."
    ).format(x=x, y=y, w=w, h=h, others=others, margin=f"{spec.margin:.0%}", size=size)
    return FaceCrop(True, face, box, (left, top, side, side), message, annotated, tuple(boxes), "detected")
