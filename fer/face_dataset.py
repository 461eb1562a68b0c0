"""What a data set is, wherever it comes from: faces, labels, and a train/val/test split.

`fer.synth` draws one and `fer.data` loads imported ones; both build on this module and
neither needs the other to do it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer.preprocessing import IMAGE_SIZE  # noqa: F401  (re-exported: the side of every face)

EMOTIONS = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
NUM_CLASSES = len(EMOTIONS)
SPLITS = ("train", "val", "test")
SYNTHETIC = "synthetic"

# FER2013's own Usage column mapped onto our three splits.
USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}


class DataError(ValueError):
    """Input a person can fix; the message names the file, the row and what to do."""


@dataclass(frozen=True)
class ClassSample:
    """A few faces of one expression, drawn at random for a page to show."""

    emotion: str
    available: int  # faces of this expression in the split
    images: np.ndarray  # (k, 48, 48) uint8, k = min(per_class, available)


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

    @property
    def nbytes(self) -> int:
        """Memory the arrays take, for caches that must stay within a budget."""
        return int(self.images.nbytes + self.labels.nbytes + self.splits.nbytes)

    def class_counts(self, which: str | None = None) -> np.ndarray:
        labels = self.labels if which is None else self.split(which)[1]
        return np.bincount(labels, minlength=NUM_CLASSES)

    def samples(self, per_class: int, seed: int = 0, split: str = "train") -> list[ClassSample]:
        """Up to `per_class` faces of each expression from `split`, the same ones for the same seed."""
        if per_class < 1:
            raise ValueError(f"per_class must be at least 1; got {per_class}.")
        images, labels = self.split(split)
        rng = np.random.default_rng(seed)
        samples = []
        for label, emotion in enumerate(EMOTIONS):
            candidates = np.flatnonzero(labels == label)
            chosen = rng.choice(candidates, size=min(per_class, len(candidates)), replace=False)
            samples.append(ClassSample(emotion, len(candidates), images[np.sort(chosen)]))
        return samples


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
