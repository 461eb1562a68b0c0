"""Data sets as the rest of the library sees them: faces, labels, and a train/val/test split.

Reading FER2013 from the forms users bring it in (Kaggle CSV, image folders) lives in
`fer.importers`; this module knows the in-memory type and the caches the app finds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer import REPO_ROOT
from fer.preprocessing import IMAGE_SIZE, to_model_input  # noqa: F401  (re-exported for callers)

EMOTIONS = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
NUM_CLASSES = len(EMOTIONS)
SPLITS = ("train", "val", "test")
SYNTHETIC = "synthetic"

# FER2013's own Usage column mapped onto our three splits.
USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}


class DataError(ValueError):
    """Input a person can fix; the message names the file, the row and what to do."""


@dataclass(frozen=True)
class FaceDataset:
    name: str
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) uint8, 0..6 in EMOTIONS order
    splits: np.ndarray  # (N,) str, one of SPLITS
    synthetic: bool
    description: str

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        if which not in SPLITS:
            raise ValueError(f"Unknown split {which!r}: use one of {', '.join(SPLITS)}.")
        mask = self.splits == which
        return self.images[mask], self.labels[mask]

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self, which: str | None = None) -> np.ndarray:
        labels = self.labels if which is None else self.split(which)[1]
        return np.bincount(labels, minlength=NUM_CLASSES)



def data_dir() -> Path:
    return Path(os.environ.get("FER_DATA_DIR", REPO_ROOT / "data"))


def available_datasets() -> list[str]:
    """The built-in synthetic set first, then every imported cache in `data_dir()`."""
    folder = data_dir()
    # Hidden files are half-written imports (see save_cache), not data sets.
    cached = sorted(path.stem for path in folder.glob("*.npz") if not path.name.startswith(".")) if folder.is_dir() else []
    return [SYNTHETIC, *cached]


def load_dataset(name: str) -> FaceDataset:
    if name == SYNTHETIC:
        from fer import synth

        return synth.default_dataset()
    path = data_dir() / f"{name}.npz"
    if not path.exists():
        raise DataError(
            f"No data set called {name!r} in {data_dir()}: import one with "
            "`python -m fer data import PATH` or on the Your data page."
        )
    return load_npz(path, name=name)


def load_npz(path: Path, name: str | None = None, validation_fraction: float = 0.1) -> FaceDataset:
    """Read our cache format (keys x, y, usage; the shared FER2013 copy has the same keys)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = {"x", "y"} - set(archive.files)
            if missing:
                raise DataError(
                    f"{path.name} has no {' or '.join(sorted(missing))} array: a FER data cache "
                    "holds x (N,48,48) uint8 faces, y labels 0-6 and usage; re-import the source."
                )
            images = archive["x"]
            labels = archive["y"]
            usage = archive["usage"] if "usage" in archive.files else None
            splits = archive["split"] if "split" in archive.files else None
    except (OSError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"{path} cannot be read as a .npz archive ({error}): re-import the source.")
    images, labels = _check_arrays(path, images, labels)
    if splits is None:
        splits = splits_from_usage(usage, labels, validation_fraction=validation_fraction)
    return FaceDataset(
        name=name or path.stem,
        images=images,
        labels=labels,
        splits=np.asarray(splits).astype(str),
        synthetic=False,
        description=f"FER2013 imported from {path.name}: {len(labels):,} faces.",
    )


def _check_arrays(path: Path, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"{path.name}: faces have shape {images.shape}, expected (N, 48, 48).")
    if len(images) != len(labels):
        raise DataError(f"{path.name}: {len(images)} faces but {len(labels)} labels.")
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(f"{path.name}: labels must be 0-6, found {labels.min()}..{labels.max()}.")
    return images.astype(np.uint8, copy=False), labels.astype(np.uint8, copy=False)


def splits_from_usage(
    usage: np.ndarray | None, labels: np.ndarray, validation_fraction: float = 0.1, seed: int = 0
) -> np.ndarray:
    """FER2013's Usage column -> train/val/test; validation is a stratified cut of Training.

    With no Usage column at all, 80/10/10 stratified.
    """
    rng = np.random.default_rng(seed)
    n = len(labels)
    if usage is None:
        splits = np.full(n, "train", dtype="<U5")
        for label in range(NUM_CLASSES):
            index = rng.permutation(np.flatnonzero(labels == label))
            tenth = int(round(len(index) * 0.1))
            splits[index[:tenth]] = "test"
            splits[index[tenth : 2 * tenth]] = "val"
        return splits
    usage = np.asarray(usage).astype(str)
    unknown = sorted(set(np.unique(usage)) - set(USAGE_TO_SPLIT))
    if unknown:
        raise DataError(
            f"Unknown Usage value(s) {', '.join(unknown)}: FER2013 uses Training, PublicTest "
            "and PrivateTest."
        )
    splits = np.array([USAGE_TO_SPLIT[value] for value in usage], dtype="<U5")
    for label in range(NUM_CLASSES):
        index = rng.permutation(np.flatnonzero((splits == "train") & (labels == label)))
        splits[index[: int(round(len(index) * validation_fraction))]] = "val"
    return splits


def save_cache(dataset_name: str, images: np.ndarray, labels: np.ndarray, usage: np.ndarray) -> Path:
    """Write an imported data set where `available_datasets` finds it, atomically."""
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{dataset_name}.npz"
    partial = folder / f".{dataset_name}.partial.npz"
    # Uncompressed: FER2013 faces shrink only ~4% with zlib, which costs ~5 s per write and slows loads.
    np.savez(partial, x=images, y=labels, usage=np.asarray(usage).astype(str))
    os.replace(partial, target)
    return target
