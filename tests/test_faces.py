"""The face crop: a known face box is found, the crop is a 48x48 uint8 face, blanks say so.

`tests/assets/explain/drawn_face_400x300.png` is one of our own procedurally drawn faces
(`fer.synth.draw_faces([3], seed=3)`, a smile) enlarged to 160x160 with cubic interpolation,
tinted, and pasted at x=180, y=70 on a 400x300 colour gradient. It is stored as a file so that
the test does not change when the drawing code does; nothing in it comes from FER2013.
`tests/assets/faces/drawn_face_exif6.jpg` is another drawn face, stored on its side in a JPEG with
EXIF Orientation=6 (see make_exif_face.py beside it). Expected boxes and crops are worked out
by hand from where the faces were put, never with the code under test.
"""

import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer import faces
from tests.assets.faces import make_exif_face
from tests.assets.webcam.fake_camera import face_frame

ASSET = Path(__file__).parent / "assets" / "explain" / "drawn_face_400x300.png"
EXIF_ASSET = make_exif_face.ASSET
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


def test_the_crop_square_holds_the_pasted_face():
    result = faces.crop_face(ASSET.read_bytes())
    left, top, side, _ = result.crop_box
    x, y, w, h = PASTED_BOX
    overlap = max(0, min(left + side, x + w) - max(left, x)) * max(0, min(top + side, y + h) - max(top, y))
    assert overlap >= 0.9 * w * h, (result.crop_box, PASTED_BOX)


# (box, image height and width, margin) -> the square, worked out by hand:
# side = round(max(w, h) * (1 + 2 * margin)), at most the image's shorter side; centred on the
# box, then slid inside the image.
SQUARES = [
    # side round(80 * 1.3) = 104, centre (140, 80): left 140 - 52 = 88, top 80 - 52 = 28
    ((100, 50, 80, 60), (300, 400), 0.15, (88, 28, 104, 104)),
    # side 40 * 1.5 = 60, centre (20, 20): left and top -10, slid to 0
    ((0, 0, 40, 40), (100, 100), 0.25, (0, 0, 60, 60)),
    # side 30 * 2 = 60, centre (90, 85): left 60 fits (120 - 60), top 55 slides up to 100 - 60 = 40
    ((80, 70, 20, 30), (100, 120), 0.5, (60, 40, 60, 60)),
    # side round(90 * 1.3) = 117, shrunk to the width 80; centre (55, 55): left 15 slides to 0, top 15
    ((10, 10, 90, 90), (100, 80), 0.15, (0, 15, 80, 80)),
    # no margin: the box's longer side, centre (30.5, 20) rounds half to even: left round(20.5) = 20
    ((25, 10, 11, 20), (50, 60), 0.0, (20, 10, 20, 20)),
]


@pytest.mark.parametrize(("box", "shape", "margin", "expected"), SQUARES)
def test_the_square_around_a_box_by_hand(box, shape, margin, expected):
    assert faces.square_crop_box(box, shape, margin) == expected


# Pure colours, by hand: round(0.299 * 255) = round(76.245), round(0.587 * 255) = round(149.685),
# round(0.114 * 255) = round(29.07); (10, 20, 30): 2.99 + 11.74 + 3.42 = 18.15.
@pytest.mark.parametrize(
    ("rgb", "gray"), [((255, 0, 0), 76), ((0, 255, 0), 150), ((0, 0, 255), 29), ((10, 20, 30), 18), ((255,) * 3, 255)]
)
def test_grayscale_by_hand(rgb, gray):
    image = np.array([[rgb]], np.uint8)
    assert faces.to_grayscale(image)[0, 0] == gray


def test_a_face_at_a_known_place_is_cut_out_and_shrunk_exactly():
    """A 48x48 pattern drawn in 2x2 blocks where the square lands: area averaging gives it back exactly."""
    pattern = np.random.default_rng(5).integers(0, 256, (48, 48), dtype=np.uint8)
    photo = np.random.default_rng(6).integers(0, 256, (300, 400, 3), dtype=np.uint8)  # noise all around
    # Box (111, 51, 74, 74): side round(74 * 1.3) = 96, centre (148, 88): the square is (100, 40, 96, 96).
    photo[40:136, 100:196] = np.kron(pattern, np.ones((2, 2), np.uint8))[..., None]
    np.testing.assert_array_equal(faces.crop_from_box(photo, (111, 51, 74, 74)), pattern)
    # One pixel to the right and the blocks straddle: the result is no longer the pattern.
    assert not np.array_equal(faces.crop_from_box(photo, (112, 51, 74, 74)), pattern)


def test_a_sideways_photo_with_an_exif_orientation_is_turned_upright():
    """A camera stores a portrait photo on its side and says so in EXIF; the face is found upright."""
    data = EXIF_ASSET.read_bytes()
    stored = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)  # ignores the tag
    assert stored.shape == (make_exif_face.UPRIGHT_WIDTH, make_exif_face.UPRIGHT_HEIGHT, 3)
    assert not faces.crop_face(stored[..., ::-1].copy()).found  # on its side, no frontal face

    result = faces.crop_face(data)
    assert result.found
    assert result.annotated.shape == (make_exif_face.UPRIGHT_HEIGHT, make_exif_face.UPRIGHT_WIDTH, 3)
    left, top, side = make_exif_face.FACE_LEFT, make_exif_face.FACE_TOP, make_exif_face.FACE_SIDE
    _assert_box_near(result.box, (left, top, side, side))


def test_detection_from_many_threads_at_once_gives_every_thread_its_own_faces():
    """Streamlit runs every session in its own thread: simultaneous detections must not mix."""
    photos = [face_frame(640, 480, side) for side in (160, 200, 240, 300)] + [np.full((480, 640, 3), 128, np.uint8)]
    grays = [faces.to_grayscale(photo) for photo in photos]
    expected = [faces.detect_faces(gray)[0] for gray in grays]
    assert len({tuple(boxes) for boxes in expected}) == len(photos)  # every photo has its own answer
    threads, rounds = 8, 12
    start = threading.Barrier(threads)
    wrong = []

    def detect_many(offset: int) -> None:
        start.wait()
        for step in range(rounds):
            index = (offset + step) % len(grays)
            boxes = faces.detect_faces(grays[index])[0]
            if boxes != expected[index]:
                wrong.append((index, boxes, expected[index]))

    workers = [threading.Thread(target=detect_many, args=(offset,)) for offset in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert wrong == [], f"{len(wrong)} of {threads * rounds} detections were wrong, e.g. {wrong[:2]}"


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
