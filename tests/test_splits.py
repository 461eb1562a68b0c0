"""Splits named as FER2013 names them: train, validation, PublicTest, PrivateTest, or a mixed test.

The validation faces and the train split's order are pinned to what they were before the splits
got their names (digests taken from the code of that time): a training resumed across the change
must validate on the same faces and see the same training faces in the same order.
"""

import hashlib

import numpy as np
import pytest

from fer import data, importers
from fer.__main__ import main
from fer.commands.evaluate import SPLIT_CHOICES
from fer.face_dataset import SPLIT_NAMES, FaceDataset, splits_from_usage


def digest(mask: np.ndarray) -> str:
    return hashlib.sha256(np.flatnonzero(mask).astype("<i8").tobytes()).hexdigest()[:16]


def usage_mix(count: int = 2000, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, count).astype(np.uint8)
    usage = rng.choice(np.array(["Training", "PublicTest", "PrivateTest"]), count, p=[0.8, 0.1, 0.1])
    return labels, usage


def test_the_validation_carve_out_is_the_one_of_before_the_splits_had_names():
    labels, usage = usage_mix()
    splits = splits_from_usage(usage, labels)
    # Digests of the same call under the old code, where PublicTest and PrivateTest were both "test".
    assert digest(splits == "val") == "a952959b795fddf2"
    assert digest(splits == "train") == "924ede6f607a178e"
    assert set(splits[usage == "PublicTest"]) == {"PublicTest"}
    assert set(splits[usage == "PrivateTest"]) == {"PrivateTest"}
    no_usage = splits_from_usage(None, labels)
    assert digest(no_usage == "val") == "c80ba039930b5c83" and digest(no_usage == "test") == "ad59c2bd43c3b962"


def test_fer2013_keeps_its_validation_faces_and_training_order(fer2013_npz, tmp_path):
    dataset = data.load_npz(fer2013_npz, name="fer2013")
    assert digest(dataset.splits == "val") == "f9b3c8e46c7c09f2" and (dataset.splits == "val").sum() == 2_872
    assert digest(dataset.splits == "train") == "31acc98a7fcaa0c8" and (dataset.splits == "train").sum() == 25_837
    assert dataset.split_names == ("train", "val", "PublicTest") and dataset.test_split == "PublicTest"
    public_images, public_labels = dataset.split("PublicTest")
    test_images, test_labels = dataset.split("test")
    assert len(test_labels) == 3_589 and np.array_equal(test_images, public_images)


def write_old_cache(name: str, usage: list[str], seed: int = 0) -> np.ndarray:
    """A cache as imports wrote it before: x, y, usage (Training and PublicTest only)."""
    rng = np.random.default_rng(seed)
    labels = np.tile(np.arange(7, dtype=np.uint8), len(usage) // 7 + 1)[: len(usage)]
    images = rng.integers(0, 256, (len(usage), 48, 48), dtype=np.uint8)
    data.data_dir().mkdir(parents=True, exist_ok=True)
    np.savez(data.cache_path(name), x=images, y=labels, usage=np.array(usage))
    return labels


def test_an_old_cache_of_training_and_public_test_still_loads():
    write_old_cache("old", ["Training"] * 140 + ["PublicTest"] * 21)
    dataset = data.load_dataset("old")
    assert dataset.split_names == ("train", "val", "PublicTest")
    assert len(dataset.split("test")[1]) == 21 and dataset.split_label("test") == "PublicTest"
    assert dataset.split_label("val") == "validation (10 % of Training)"


def test_public_and_private_stay_apart_and_private_is_never_the_test_split():
    labels, usage = usage_mix(700)
    dataset = FaceDataset("fer", np.zeros((700, 48, 48), np.uint8), labels, splits_from_usage(usage, labels), False, "")
    assert dataset.split_names == SPLIT_NAMES[:4]
    assert dataset.test_split == "PublicTest"
    assert np.array_equal(dataset.split_mask("test"), usage == "PublicTest")
    assert len(dataset.split("PrivateTest")[1]) == (usage == "PrivateTest").sum() > 0
    with pytest.raises(ValueError, match="use one of train, val, PublicTest, PrivateTest"):
        dataset.split("public")


def image_folders(root, per_class: int = 2) -> None:
    from PIL import Image

    for split in ("train", "test"):
        for emotion in data.EMOTIONS:
            folder = root / split / emotion.lower()
            folder.mkdir(parents=True)
            for index in range(per_class * (3 if split == "train" else 1)):
                Image.fromarray(np.full((48, 48), index * 10, np.uint8)).save(folder / f"{index}.png")


def test_the_image_folder_release_says_its_test_split_mixes_public_and_private(tmp_path):
    image_folders(tmp_path / "release")
    report = importers.import_path(tmp_path / "release", name="folders")
    assert "test (public and private mixed) 14" in str(report)
    dataset = data.load_dataset("folders")
    assert dataset.split_names[-1] == "test" and "PublicTest" not in dataset.split_names
    assert dataset.split_label("test") == "test (public and private mixed)"


@pytest.mark.parametrize(
    "config, measured_on",
    [
        ({"dataset": "synthetic", "test_images": 350}, "test"),
        ({"dataset": "fer2013", "test_images": 3_589}, "PublicTest"),  # the shipped model, no cache here
        ({"dataset": "fer2013", "test_images": 7_178}, "PublicTest + PrivateTest"),  # a run before the names
        ({"dataset": "elsewhere", "test_images": 50}, "test"),
        ({"dataset": "x", "test_split": "PublicTest", "test_images": 9}, "PublicTest"),
    ],
)
def test_a_runs_test_accuracy_names_its_split_without_the_data_set(config, measured_on):
    assert data.test_accuracy_split(config) == measured_on


def test_a_runs_test_accuracy_names_its_split_from_its_data_sets_usage():
    write_old_cache("kaggle", ["Training"] * 70 + ["PublicTest"] * 14 + ["PrivateTest"] * 21)
    assert data.test_accuracy_split({"dataset": "kaggle", "test_images": 14}) == "PublicTest"
    assert data.test_accuracy_split({"dataset": "kaggle", "test_images": 35}) == "PublicTest + PrivateTest"
    write_old_cache("mixed", ["Training"] * 70 + ["MixedTest"] * 28)
    assert data.test_accuracy_split({"dataset": "mixed", "test_images": 28}) == "test (public and private mixed)"


def test_the_command_line_names_every_split(capsys):
    assert SPLIT_CHOICES == SPLIT_NAMES
    write_old_cache("kaggle", ["Training"] * 70 + ["PublicTest"] * 14 + ["PrivateTest"] * 21)
    assert main(["data", "info", "kaggle"]) == 0
    header = capsys.readouterr().out.splitlines()[1].split()
    assert header == ["train", "val", "PublicTest", "PrivateTest"]
    assert main(["evaluate", "--model", "none", "--data", "synthetic", "--split", "PrivateTest"]) == 2
    assert "'synthetic' has no PrivateTest faces: pick one of its splits (train, val, test)" in capsys.readouterr().err
