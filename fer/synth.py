"""The built-in data set: faces drawn procedurally, so every page works before FER2013 arrives.

Each face is a cartoon: an oval head, two eyes, two brows, a nose and a mouth. The seven
expressions differ where real ones do (the brows' angle and height, how open the eyes are,
the mouth's curve, opening and asymmetry), each drawn at a random intensity on top of a
random person (head shape, skin tone, feature spacing) and a random photograph (pose,
lighting gradient, contrast, noise). Weak expressions look alike, so the task is learnable
but not trivial. Everything is deterministic from the seed.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from fer.face_dataset import EMOTIONS, IMAGE_SIZE, NUM_CLASSES, SYNTHETIC, FaceDataset, splits_from_usage
from fer.i18n import N_, _

# Faces are drawn at twice the final size and shrunk with area averaging: smooth edges, no jaggies.
_CANVAS = 2 * IMAGE_SIZE

# How each expression moves the face away from neutral (all zeros / ones). Columns:
#   brow_tilt    + inner ends pulled down (frown), - inner ends raised (worry)
#   brow_raise   + brows higher, - lower
#   eye_open     1 normal, >1 wide, <1 narrowed
#   mouth_curve  + smile (corners up), - frown (corners down)
#   mouth_open   0 closed .. 1 a tall "O"
#   mouth_width  1 normal
#   mouth_skew   one corner raised, upper lip pulled up (disgust's sneer)
#   nose_wrinkle lines beside the nose
_FEATURES = (
    "brow_tilt",
    "brow_raise",
    "eye_open",
    "mouth_curve",
    "mouth_open",
    "mouth_width",
    "mouth_skew",
    "nose_wrinkle",
)
_EXPRESSIONS = np.array(
    [
        # tilt  raise  eye   curve  open  width  skew  wrinkle
        [1.0, -0.6, 0.65, -0.35, 0.00, 0.80, 0.0, 0.3],  # Angry
        [0.45, -0.45, 0.55, -0.45, 0.10, 0.90, 1.0, 1.0],  # Disgust
        [-0.8, 0.75, 1.45, -0.25, 0.55, 1.15, 0.0, 0.0],  # Fear
        [0.0, 0.15, 0.75, 1.00, 0.15, 1.20, 0.0, 0.0],  # Happy
        [-1.0, 0.15, 0.80, -0.85, 0.00, 0.85, 0.0, 0.0],  # Sad
        [-0.25, 1.00, 1.60, 0.00, 1.00, 0.62, 0.0, 0.0],  # Surprise
        [0.0, 0.00, 1.00, 0.00, 0.00, 1.00, 0.0, 0.0],  # Neutral
    ],
    dtype=np.float64,
)
_NEUTRAL = _EXPRESSIONS[EMOTIONS.index("Neutral")]


_MOUTH_XS = np.linspace(-1, 1, 21)


def draw_faces(labels, seed: int = 0) -> np.ndarray:
    """One drawn face per label: (N, 48, 48) uint8, the same faces for the same labels and seed."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(
            _("labels must be a 1-D sequence of class numbers; got shape {shape}.").format(shape=labels.shape)
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(
            _("labels must be 0-{high}; got {low_found}..{high_found}.").format(
                high=NUM_CLASSES - 1, low_found=labels.min(), high_found=labels.max()
            )
        )
    labels = labels.astype(np.int64)
    count = len(labels)
    rng = np.random.default_rng(seed)

    # The expression: neutral + intensity * (full expression - neutral) + individual jitter.
    intensity = rng.uniform(0.35, 1.0, size=(count, 1))
    jitter = rng.normal(0.0, 0.12, size=(count, len(_FEATURES)))
    expression = _NEUTRAL + intensity * (_EXPRESSIONS[labels] - _NEUTRAL) + jitter
    # The person.
    person = {
        "head_width": rng.uniform(0.30, 0.38, count),
        "head_height": rng.uniform(0.40, 0.47, count),
        "skin": rng.uniform(120, 215, count),
        "background": rng.uniform(20, 240, count),
        "hair": rng.uniform(10, 90, count),
        "hairline": rng.uniform(0.0, 0.12, count),
        "eye_spacing": rng.uniform(0.15, 0.19, count),
        "eye_height": rng.uniform(-0.08, -0.03, count),
        "eye_size": rng.uniform(0.055, 0.07, count),
        "mouth_height": rng.uniform(0.20, 0.26, count),
        "darkness": rng.uniform(0, 50, count),
    }
    # The photograph.
    angle = rng.normal(0.0, 7.0, count)
    scale = rng.uniform(0.85, 1.12, count)
    shift = rng.normal(0.0, 0.05, size=(count, 2)) * _CANVAS

    canvases = np.empty((count, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for index in range(count):
        canvas = _draw_one(expression[index].tolist(), {key: float(value[index]) for key, value in person.items()})
        centre = (_CANVAS / 2, _CANVAS / 2)
        matrix = cv2.getRotationMatrix2D(centre, float(angle[index]), float(scale[index]))
        matrix[:, 2] += shift[index]
        canvas = cv2.warpAffine(
            canvas, matrix, (_CANVAS, _CANVAS), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        canvases[index] = cv2.resize(canvas, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)

    return _photograph(canvases, rng)


def _draw_one(expression: np.ndarray, person: dict) -> np.ndarray:
    brow_tilt, brow_raise, eye_open, curve, mouth_open, mouth_width, skew, wrinkle = expression
    size = _CANVAS
    canvas = np.full((size, size), person["background"], dtype=np.uint8)

    def point(x: float, y: float) -> tuple[int, int]:
        """Face coordinates (0, 0 = centre, 1 = canvas width) -> pixel coordinates, 4 bits of sub-pixel."""
        return (int((0.5 + x) * size * 16 + 0.5), int((0.5 + y) * size * 16 + 0.5))

    def length(value: float) -> int:
        return max(1, int(value * size * 16 + 0.5))

    def points(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return np.rint(np.stack([0.5 + xs, 0.5 + ys], axis=1) * size * 16).astype(np.int32)

    aa, shift = cv2.LINE_AA, 4
    head_w, head_h = person["head_width"], person["head_height"]
    skin = int(person["skin"])
    # Hair: a darker oval behind the head, then the head, then a fringe across the forehead.
    hair = int(person["hair"])
    cv2.ellipse(canvas, point(0, -0.04), (length(head_w * 1.06), length(head_h * 0.98)),
                0, 0, 360, hair, -1, aa, shift)
    cv2.ellipse(canvas, point(0, 0.02), (length(head_w), length(head_h)), 0, 0, 360, skin, -1, aa, shift)
    cv2.ellipse(canvas, point(0, -0.25 - person["hairline"]), (length(head_w * 0.97), length(0.12)),
                0, 180, 360, hair, -1, aa, shift)

    feature = int(max(0, skin - 110 - person["darkness"]))
    eye_white = int(min(255, skin + 30))
    eye_y = person["eye_height"]
    eye_size = person["eye_size"]
    for side in (-1, 1):
        eye_x = side * person["eye_spacing"]
        half_height = eye_size * 0.55 * max(0.2, eye_open)
        cv2.ellipse(canvas, point(eye_x, eye_y), (length(eye_size), length(half_height)),
                    0, 0, 360, eye_white, -1, aa, shift)
        pupil = min(half_height, eye_size * 0.5)
        cv2.circle(canvas, point(eye_x, eye_y), length(pupil), feature, -1, aa, shift)
        cv2.ellipse(canvas, point(eye_x, eye_y), (length(eye_size), length(half_height)),
                    0, 0, 360, feature, 2, aa, shift)
        # Brow: a thick line whose inner end moves with the tilt, the whole brow with the raise.
        brow_y = eye_y - eye_size * 1.6 - 0.035 * brow_raise
        inner = (eye_x - side * eye_size * 1.2, brow_y + 0.035 * brow_tilt)
        outer = (eye_x + side * eye_size * 1.3, brow_y - 0.01 * brow_tilt)
        cv2.line(canvas, point(*inner), point(*outer), feature, 4, aa, shift)

    # Nose, and disgust's wrinkles beside it.
    cv2.line(canvas, point(0, eye_y + 0.03), point(0.02, 0.11), feature, 2, aa, shift)
    cv2.line(canvas, point(0.02, 0.11), point(-0.025, 0.12), feature, 2, aa, shift)
    if wrinkle > 0.3:
        for side in (-1, 1):
            cv2.line(canvas, point(side * 0.045, 0.05), point(side * 0.07, 0.09 + 0.02 * wrinkle),
                     feature, 2, aa, shift)

    # Mouth: a parabola for the midline, opened into a dark hole around it.
    mouth_y = person["mouth_height"]
    half_width = 0.11 * max(0.4, mouth_width)
    xs = _MOUTH_XS
    bend = 1 - xs**2
    midline = mouth_y - 0.05 * curve * (xs**2 - 0.5) + 0.03 * skew * xs**3 * 1.0
    opening = 0.07 * max(0.0, mouth_open) * np.sqrt(np.clip(bend, 0, 1))
    sneer = 0.02 * max(0.0, skew) * np.clip(xs, 0, 1)  # the raised side's upper lip
    upper = midline - opening - sneer
    lower = midline + opening
    x_positions = xs * half_width
    if mouth_open > 0.12 or skew > 0.5:
        outline = np.concatenate([points(x_positions, upper), points(x_positions[::-1], lower[::-1])])
        cv2.fillPoly(canvas, [outline], max(0, feature - 20), aa, shift)
    cv2.polylines(canvas, [points(x_positions, midline)], False, feature, 4, aa, shift)
    return canvas


def _photograph(faces: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lighting from a random side, contrast and brightness, then sensor noise; back to uint8."""
    count = len(faces)
    coordinates = np.linspace(-1, 1, IMAGE_SIZE, dtype=np.float32)
    direction = rng.uniform(0, 2 * np.pi, count).astype(np.float32)
    strength = rng.uniform(0.0, 0.6, count).astype(np.float32)
    # In place, in the order the formulas read: 3,500 faces are 8M numbers, and every copy costs.
    lighting = np.cos(direction)[:, None, None] * coordinates[None, None, :]
    lighting = lighting + np.sin(direction)[:, None, None] * coordinates[None, :, None]
    lighting *= strength[:, None, None]
    lighting += 1
    faces = faces * lighting
    contrast = rng.uniform(0.55, 1.25, count).astype(np.float32)[:, None, None]
    brightness = rng.normal(0, 18, count).astype(np.float32)[:, None, None]
    mean = faces.mean(axis=(1, 2), keepdims=True)
    faces -= mean
    faces *= contrast
    faces += mean
    faces += brightness
    noise_level = rng.uniform(2, 14, count).astype(np.float32)[:, None, None]
    noise = rng.standard_normal(faces.shape, dtype=np.float32)
    noise *= noise_level
    faces += noise
    np.rint(faces, out=faces)
    np.clip(faces, 0, 255, out=faces)
    return faces.astype(np.uint8)


def make_dataset(per_class: int = 500, seed: int = 0, name: str = SYNTHETIC) -> FaceDataset:
    """`per_class` drawn faces of each expression, shuffled, split 80/10/10 train/val/test per class."""
    if per_class < 1:
        raise ValueError(_("per_class must be at least 1; got {value}.").format(value=per_class))
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(NUM_CLASSES, dtype=np.uint8), per_class))
    images = draw_faces(labels, seed=seed + 1)
    splits = splits_from_usage(None, labels, seed=seed)
    return FaceDataset(
        name=name,
        images=images,
        labels=labels,
        splits=splits,
        synthetic=True,
        description=N_(
            "Synthetic faces: {faces} cartoon faces drawn by a program ({per_class} per "
            "expression), not photographs of people. Good for trying every lesson; import FER2013 "
            "on the Your data page for real faces."
        ),
        description_values={"faces": len(labels), "per_class": per_class},
    )


@functools.lru_cache(maxsize=1)
def default_dataset() -> FaceDataset:
    """The data set every page uses on a fresh machine: 3,500 drawn faces, fixed seed."""
    return make_dataset(per_class=500, seed=2013)
