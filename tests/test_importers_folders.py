"""Kaggle's image folders (train/<emotion>/*.png, test/...) on disk or zipped: every face keeps its folder's label."""

import io
import struct
import zipfile
import zlib

import cv2
import numpy as np
import pytest

from fer import data, importers
from fer.data import DataError

# Mixed case on purpose: class folders are matched without regard to case. Not in label order either.
FOLDER_NAMES = {0: "Angry", 1: "disgust", 2: "FEAR", 3: "happy", 4: "sad", 5: "surprise", 6: "neutral"}
# Every class a different number of faces, so a face given another class's label changes the counts.
TRAIN_COUNTS = (3, 1, 4, 2, 5, 7, 6)
TEST_COUNTS = (2, 3, 1, 4, 6, 5, 7)


def face_for(split: str, label: int, index: int) -> np.ndarray:
    """A face that says where it came from: its brightness is its class, a corner its split, a bar its number."""
    face = np.full((48, 48), 20 + 30 * label, dtype=np.uint8)
    face[:6, :6] = 0 if split == "train" else 255
    face[47, : index + 1] = 3
    return face


def label_drawn_in(face: np.ndarray) -> int:
    return (int(face[24, 24]) - 20) // 30


def write_folders(root, counts=(("train", TRAIN_COUNTS), ("test", TEST_COUNTS))) -> dict:
    written = {}
    for split, per_class in counts:
        for label, name in FOLDER_NAMES.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for index in range(per_class[label]):
                face = face_for(split, label, index)
                cv2.imwrite(str(folder / f"{index}.png"), face)
                written[(split, label, index)] = face
    return written


def assert_every_face_has_its_folders_label(loaded: data.FaceDataset, written: dict) -> None:
    assert len(loaded) == len(written)
    for face, label, split in zip(loaded.images, loaded.labels, loaded.splits):
        assert label == label_drawn_in(face), f"a face from the {FOLDER_NAMES[label_drawn_in(face)]} folder got {label}"
        assert (split == "test") == (face[0, 0] == 255), "a face from test/ landed in another split or back"
    found = {face.tobytes() for face in loaded.images}
    assert found == {face.tobytes() for face in written.values()}  # every face once, none invented
    train_counts = loaded.class_counts("train") + loaded.class_counts("val")
    assert tuple(train_counts) == TRAIN_COUNTS
    assert tuple(loaded.class_counts("test")) == TEST_COUNTS


def test_image_folders_give_every_face_its_folders_label(tmp_path):
    written = write_folders(tmp_path / "archive")
    report = importers.import_path(tmp_path / "archive")
    assert report.format == "image folders" and report.rows_imported == len(written) == 56
    # The release's test/ folder mixes PublicTest and PrivateTest: its faces are named for that.
    assert report.usage_counts == {"Training": sum(TRAIN_COUNTS), "MixedTest": sum(TEST_COUNTS)}
    assert_every_face_has_its_folders_label(data.load_dataset("archive"), written)


def zip_of(root, folder) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((root / folder).rglob("*.png")):
            archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def test_a_zip_of_image_folders_gives_every_face_its_folders_label(tmp_path):
    written = write_folders(tmp_path / "archive")
    report = importers.import_bytes(zip_of(tmp_path, "archive"), "archive.zip", name="folders")
    assert report.rows_imported == len(written)
    assert_every_face_has_its_folders_label(data.load_dataset("folders"), written)


def test_without_a_test_folder_a_stratified_tenth_is_held_out(tmp_path):
    write_folders(tmp_path / "archive", counts=(("train", (10, 20, 30, 10, 20, 30, 10)),))
    report = importers.import_path(tmp_path / "archive")
    assert report.usage_counts == {"Training": 117, "HeldOutTest": 13}
    assert any("no test/ folder" in note for note in report.notes)
    loaded = data.load_dataset("archive")
    assert list(loaded.class_counts("test")) == [1, 2, 3, 1, 2, 3, 1]


def test_colour_and_odd_sized_images_are_converted_and_reported(tmp_path):
    ones = (("train", (1,) * 7), ("test", (1,) * 7))
    write_folders(tmp_path / "archive", counts=ones)
    colour = np.zeros((64, 64, 3), dtype=np.uint8)
    colour[..., 2] = 200  # red
    cv2.imwrite(str(tmp_path / "archive" / "train" / "happy" / "big.jpg"), colour)
    report = importers.import_path(tmp_path / "archive")
    assert report.rows_imported == 15
    assert "1 colour images were converted to grayscale." in report.notes
    assert any(note.startswith("1 images were not 48x48") for note in report.notes)
    happy = data.load_dataset("archive").labels == 3
    assert happy.sum() == 3  # the converted one kept its folder's label


def test_an_unreadable_image_can_be_skipped(tmp_path):
    write_folders(tmp_path / "archive")
    (tmp_path / "archive" / "test" / "sad" / "broken.png").write_bytes(b"not a png")
    report = importers.import_path(tmp_path / "archive", skip_bad_rows=True)
    assert report.rows_skipped == 1 and report.rows_imported == 56
    assert report.skipped_examples == ["test/sad/broken.png: the file cannot be read as an image"]


# --- what is refused, and the sentence that says so -----------------------------------------


def _empty_a_class(root):
    for image in (root / "train" / "disgust").iterdir():
        image.unlink()


def _drop_a_class(root):
    _empty_a_class(root)
    (root / "train" / "disgust").rmdir()


def _add_a_foreign_class(root):
    (root / "test" / "contempt").mkdir()


def _break_an_image(root):
    (root / "test" / "sad" / "broken.png").write_bytes(b"not a png")


def _png_announcing(side: int) -> bytes:
    """A PNG of a few dozen bytes whose header announces side x side pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def _plant_a_pixel_bomb(root):
    (root / "train" / "happy" / "bomb.png").write_bytes(_png_announcing(10_000))  # 100 MB decoded


def _plant_a_bigger_pixel_bomb(root):
    (root / "train" / "happy" / "bomb.png").write_bytes(_png_announcing(50_000))  # 2.5 GB decoded


def _plant_a_huge_file(root):
    (root / "train" / "happy" / "huge.png").write_bytes(bytes(17 << 20))


def _scatter_the_splits(root):
    for split, parent in (("train", "2013"), ("test", "2014")):
        (root / parent).mkdir()
        (root / split).rename(root / parent / split)


@pytest.mark.parametrize(
    "spoil, message",
    [
        (_empty_a_class, "archive/train/disgust is empty: put that class's face images"),
        (_drop_a_class, "archive/train lacks the class folder(s) disgust: FER2013 has all seven"),
        (_add_a_foreign_class, "archive/test has folder(s) contempt that name no FER2013 class"),
        (_break_an_image, "archive, test/sad/broken.png: the file cannot be read as an image. Delete or replace"),
        (_plant_a_pixel_bomb, "archive, train/happy/bomb.png: it is 10,000 x 10,000 pixels, more than a face image"),
        (_plant_a_bigger_pixel_bomb, "archive, train/happy/bomb.png: it announces over 178 million pixels, more than"),
        (_plant_a_huge_file, "archive, train/happy/huge.png: the file is 18 MB, more than a face image needs"),
        (_scatter_the_splits, "archive has train/test folders in several places (2013/train, 2014/test)"),
    ],
    ids=[
        "empty-class", "missing-class", "foreign-class", "unreadable-image",
        "pixel-bomb", "bigger-pixel-bomb", "huge-file", "scattered",
    ],  # fmt: skip
)
def test_a_spoilt_layout_is_one_sentence_naming_the_folder(tmp_path, spoil, message):
    write_folders(tmp_path / "archive")
    spoil(tmp_path / "archive")
    with pytest.raises(DataError) as error:
        importers.import_path(tmp_path / "archive")
    assert message in str(error.value)
    assert data.available_datasets() == [data.SYNTHETIC]


def test_a_folder_without_the_layout_is_refused(tmp_path):
    (tmp_path / "holiday").mkdir()
    (tmp_path / "holiday" / "beach.jpg").write_bytes(b"x")
    with pytest.raises(DataError, match="holiday has no fer2013.csv, no .npz and no train/ or test/ folder"):
        importers.import_path(tmp_path / "holiday")
