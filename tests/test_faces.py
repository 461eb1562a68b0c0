"""The face crop: a known face box is found, the crop is a 48x48 uint8 face, blanks say so.

`tests/assets/explain/drawn_face_400x300.png` is one of our own procedurally drawn faces
(`fer.synth.draw_faces([3], seed=3)`, a smile) enlarged to 160x160 with cubic interpolation,
tinted, and pasted at x=180, y=70 on a 400x300 colour gradient. It is stored as a file so that
the test does not change when the drawing code does; nothing in it comes from FER2013.
"""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer import faces

ASSET = Path(__file__).parent / "assets" / "explain" / "drawn_face_400x300.png"
PASTED_BOX = (180, 70, 160, 160)  # x, y, width, height of the drawn face in the asset


def _read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _assert_box_near(found, expected, tolerance: float = 0.15):
    x, y, w, h = found
    ex, ey, ew, eh = expected
    centre_error = np.hypot((x + w / 2) - (ex + ew / 2), (y + h / 2) - (ey + eh / 2))
    assert centre_error <= tolerance * ew, (found, expected)
    assert 0.6 * ew <= w <= 1.2 * ew, (found, expected)


def test_the_drawn_face_is_found_where_it_was_pasted_and_cropped_to_48x48():
    result = faces.crop_face(ASSET.read_bytes())
    assert result.found and result.source == "detected"
    _assert_box_near(result.box, PASTED_BOX)
    assert result.face.shape == (48, 48) and result.face.dtype == np.uint8
    left, top, side, side_again = result.crop_box
    assert side == side_again and left >= 0 and top >= 0
    assert left + side <= 400 and top + side <= 300
    assert "Face found" in result.message
    assert result.annotated.shape == (300, 400, 3)


def test_the_box_follows_the_face_when_it_moves_and_in_a_large_photo():
    image = _read_rgb(ASSET)
    moved = np.roll(image, shift=(-40, 30), axis=(0, 1))
    result = faces.crop_face(moved)
    _assert_box_near(result.box, (PASTED_BOX[0] + 30, PASTED_BOX[1] - 40, 160, 160))

    large = cv2.resize(image, (1200, 900), interpolation=cv2.INTER_CUBIC)  # detected after shrinking to 640
    result = faces.crop_face(large)
    _assert_box_near(result.box, tuple(3 * value for value in PASTED_BOX))


def test_the_crop_is_the_documented_recipe():
    image = _read_rgb(ASSET)
    result = faces.crop_face(image)
    spec = faces.DEFAULT_SPEC
    gray = np.clip(np.rint(image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])), 0, 255).astype(np.uint8)
    left, top, side, _ = result.crop_box
    expected = cv2.resize(gray[top : top + side, left : left + side], (48, 48), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(result.face, expected)
    np.testing.assert_array_equal(faces.crop_from_box(image, result.box), expected)
    assert side == round(max(result.box[2:]) * (1 + 2 * spec.margin))


def test_a_blank_image_says_no_face_and_shows_what_was_tried():
    blank = np.full((240, 320, 3), 128, np.uint8)
    result = faces.crop_face(blank)
    assert not result.found and result.face is None and result.box is None
    assert "No face found" in result.message
    assert result.annotated.shape == (240, 320, 3)
    assert not np.all(result.annotated == 128)  # the smallest searched window is drawn on it


def test_a_48x48_face_is_used_directly():
    face = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    result = faces.crop_face(face)
    assert result.found and result.source == "already 48x48"
    np.testing.assert_array_equal(result.face, face)


def test_bad_input_raises_a_sentence():
    with pytest.raises(faces.FaceImageError, match="PNG or JPEG"):
        faces.crop_face(b"not an image at all")
    with pytest.raises(ValueError, match="scale_factor"):
        faces.FaceCropSpec(scale_factor=1.0)


def test_the_spec_serialises_for_the_export():
    spec = faces.FaceCropSpec().to_dict()
    encoded = json.loads(json.dumps(spec))
    assert encoded["grayscale_weights"] == [0.299, 0.587, 0.114]
    for key in ("scale_factor", "min_neighbors", "margin", "output_size", "resize_interpolation", "cascade_file"):
        assert key in encoded
