"""What a data set is, wherever it comes from: faces, labels, and its splits named as FER2013 names them.

`fer.synth` draws one and `fer.data` loads imported ones; both build on this module and
neither needs the other to do it.

The splits a data set may have (`SPLIT_NAMES`):
- `train`: FER2013's Training faces, less the validation faces;
- `val`: validation, a stratified 10 % carved out of Training (training picks its epoch on it);
- `PublicTest` and `PrivateTest`: FER2013's two test halves, as its Usage column names them (the
  Kaggle competition's public and private leaderboards);
- `test`: test faces whose half nobody can tell: Kaggle's image-folder release mixes PublicTest
  and PrivateTest in one test/ folder; the drawn faces have a plain test split.

`FaceDataset.test_split` is the one a run's "test accuracy" is measured on: PublicTest where the
data set has it (PrivateTest stays out of every training, as it stayed hidden on Kaggle), else
`test`. `split("test")` reads that split, so callers that ask for "the test faces" keep working.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from fer.i18n import N_, SOURCE_LANGUAGE, _, current_language, format_integer, format_percent
from fer.preprocessing import IMAGE_SIZE  # noqa: F401  (re-exported: the side of every face)

EMOTIONS = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
NUM_CLASSES = len(EMOTIONS)
SYNTHETIC = "synthetic"

TRAIN, VALIDATION, PUBLIC_TEST, PRIVATE_TEST, TEST = "train", "val", "PublicTest", "PrivateTest", "test"
SPLIT_NAMES = (TRAIN, VALIDATION, PUBLIC_TEST, PRIVATE_TEST, TEST)  # every split there is, in the order pages list them
SPLITS = (TRAIN, VALIDATION, TEST)  # the three roles every data set fills; "test" is its test_split

# What each split is called on pages and in the command line. These English labels are ids too (a run's
# config stores its test_label): `shown_split_label` gives them in the reader's language.
VALIDATION_LABEL = "validation (10 % of Training)"
MIXED_TEST_LABEL = "test (public and private mixed)"
HELD_OUT_TEST_LABEL = "test (held out by the import)"
VALIDATION_SHARE = 0.1
SPLIT_LABEL_MESSAGES = {  # the same messages as fer.evaluate.SPLIT_TITLES
    VALIDATION_LABEL: N_("validation ({share} of Training)"),
    MIXED_TEST_LABEL: N_("test (public and private mixed)"),
    HELD_OUT_TEST_LABEL: N_("test (held out by the import)"),
}

# Usage values: FER2013's own three, and ours for test faces FER2013's Usage does not name.
MIXED_TEST = "MixedTest"  # Kaggle's image-folder release: test/ holds PublicTest and PrivateTest together
HELD_OUT_TEST = "HeldOutTest"  # a source without test faces: the import held out a stratified tenth
USAGE_TO_SPLIT = {
    "Training": TRAIN,
    "PublicTest": PUBLIC_TEST,
    "PrivateTest": PRIVATE_TEST,
    MIXED_TEST: TEST,
    HELD_OUT_TEST: TEST,
}


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
    splits: np.ndarray  # (N,) str, one of SPLIT_NAMES
    synthetic: bool
    # Said in English, with {placeholders} from description_values; `describe()` says it in the reader's
    # language (a loaded data set is shared by every session, whatever language each reads).
    description: str
    test_label: str = TEST  # what the `test` split is called: MIXED_TEST_LABEL for the image-folder release
    description_values: Mapping[str, int | str] = field(default_factory=dict)

    def describe(self) -> str:
        """The description in the reader's language, its counts written as that language writes numbers."""
        if not self.description:
            return ""
        values = {
            key: format_integer(value) if isinstance(value, int) else value
            for key, value in self.description_values.items()
        }
        return _(self.description).format(**values)

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """Faces and labels of one split; "test" means `test_split` (PublicTest where there is one)."""
        mask = self.split_mask(which)
        return self.images[mask], self.labels[mask]

    def split_mask(self, which: str) -> np.ndarray:
        if which not in SPLIT_NAMES:
            raise ValueError(
                _("Unknown split {split}: use one of {splits}.").format(
                    split=repr(which), splits=", ".join(self.split_names)
                )
            )
        if which == TEST:
            which = self.test_split
        return self.splits == which

    @cached_property  # a frozen data set's splits never change; np.unique over FER2013 takes ~35 ms
    def split_names(self) -> tuple[str, ...]:
        """The splits this data set has faces in, in SPLIT_NAMES order."""
        present = set(np.unique(self.splits).tolist())
        return tuple(name for name in SPLIT_NAMES if name in present)

    @property
    def test_split(self) -> str:
        """The split a run's test accuracy is measured on: `test` if the data set has one, else PublicTest."""
        present = self.split_names
        return PUBLIC_TEST if TEST not in present and PUBLIC_TEST in present else TEST

    def split_label(self, which: str) -> str:
        """What pages call a split: "validation (10 % of Training)", "PublicTest", "test (public and private mixed)"."""
        return split_label(self.test_split if which == TEST else which, self.test_label)

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
            raise ValueError(_("per_class must be at least 1; got {value}.").format(value=per_class))
        images, labels = self.split(split)
        rng = np.random.default_rng(seed)
        samples = []
        for label, emotion in enumerate(EMOTIONS):
            candidates = np.flatnonzero(labels == label)
            chosen = rng.choice(candidates, size=min(per_class, len(candidates)), replace=False)
            samples.append(ClassSample(emotion, len(candidates), images[np.sort(chosen)]))
        return samples


def split_label(name: str, test_label: str = TEST) -> str:
    """The label of split `name` of a data set whose `test` split is called `test_label`."""
    if name == VALIDATION:
        return VALIDATION_LABEL
    return test_label if name == TEST else name


def shown_split_label(label: str) -> str:
    """A split's label (from `split_label` or `fer.data.test_accuracy_split`) in the reader's language.

    Names stay as FER2013 writes them (train, PublicTest, PrivateTest); the labels that are
    descriptions ("validation (10 % of Training)") are translated. English: `label` itself.
    """
    if label not in SPLIT_LABEL_MESSAGES or current_language() == SOURCE_LANGUAGE:
        return label
    return _(SPLIT_LABEL_MESSAGES[label]).format(share=format_percent(VALIDATION_SHARE))


def test_label_from_usage(usage: np.ndarray | None) -> str:
    """What a data set's `test` split is, from the Usage its faces came in with."""
    values = set() if usage is None else set(np.unique(np.asarray(usage).astype(str)).tolist())
    if MIXED_TEST in values:
        return MIXED_TEST_LABEL
    return HELD_OUT_TEST_LABEL if HELD_OUT_TEST in values else TEST


def splits_from_usage(
    usage: np.ndarray | None, labels: np.ndarray, validation_fraction: float = 0.1, seed: int = 0
) -> np.ndarray:
    """FER2013's Usage column -> train/val/PublicTest/PrivateTest/test; validation is a stratified cut of Training.

    With no Usage column at all, 80/10/10 stratified train/val/test. The validation faces are
    drawn exactly as they always were (same seed, same order of draws), so a run resumed after an
    upgrade validates on the same faces and trains on the same ones in the same order.
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
            _("Unknown Usage value(s) {values}: FER2013 uses Training, PublicTest and PrivateTest.").format(
                values=", ".join(unknown)
            )
        )
    splits = np.array([USAGE_TO_SPLIT[value] for value in usage], dtype="<U11")
    for label in range(NUM_CLASSES):
        index = rng.permutation(np.flatnonzero((splits == TRAIN) & (labels == label)))
        splits[index[: int(round(len(index) * validation_fraction))]] = VALIDATION
    return splits
