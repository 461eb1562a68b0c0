"""How a competition scores a model: which faces are public, which private, and the accuracy on each.

Two ways to cut a test set in two:
- FER2013's own Usage: PublicTest is the public half, PrivateTest the private one, as on Kaggle;
- a seeded random halving of one split (a test set the teacher imported, or PublicTest for a
  practice round): the same seed always gives the same halves.

Scores are `fer.evaluate`'s accuracy, computed the way `python -m fer evaluate` computes it:
the registry model or ensemble loaded with its test-time augmentation, its probabilities
predicted a batch at a time, the share of faces whose most probable expression is the label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer.face_dataset import FaceDataset

BATCH_SIZE = 256  # python -m fer evaluate's default


@dataclass(frozen=True)
class Halves:
    """Where the public and private faces are: two splits, or two halves of one split."""

    public_split: str
    private_split: str
    halving_seed: int | None = None  # None: two splits; else halves of public_split (== private_split)

    @property
    def halved(self) -> bool:
        return self.halving_seed is not None


@dataclass(frozen=True)
class Scores:
    public: float
    private: float


def halving(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(public, private) positions of a seeded random halving of `count` faces; private gets the odd one."""
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[: count // 2]), np.sort(order[count // 2 :])


def scoring_faces(dataset: FaceDataset, halves: Halves) -> tuple[tuple, tuple]:
    """((public images, labels), (private images, labels))."""
    if not halves.halved:
        return dataset.split(halves.public_split), dataset.split(halves.private_split)
    images, labels = dataset.split(halves.public_split)
    public, private = halving(len(labels), halves.halving_seed)
    return (images[public], labels[public]), (images[private], labels[private])


def fingerprint(dataset: FaceDataset, halves: Halves) -> str:
    """Changes when any scoring face or label changes (a re-import under the same name)."""
    from fer.evaluate import images_fingerprint

    (public_images, public_labels), (private_images, private_labels) = scoring_faces(dataset, halves)
    return images_fingerprint(public_images, public_labels) + images_fingerprint(private_images, private_labels)


def score(model_name: str, dataset: FaceDataset, halves: Halves, tta: str) -> Scores:
    """Public and private accuracy of a registry model or ensemble, as `python -m fer evaluate` gives them.

    It waits for one of the server's prediction slots (`fer.evaluate.PREDICTION_SLOTS`): a whole class
    submitting at once loads one model per slot, not one per student.
    """
    from fer import evaluate

    with evaluate.PREDICTION_SLOTS:
        return _score(model_name, dataset, halves, tta)


def _score(model_name: str, dataset: FaceDataset, halves: Halves, tta: str) -> Scores:
    from fer import evaluate

    predictor = evaluate.load_predictor(model_name, tta=tta, batch_size=BATCH_SIZE)

    def accuracy(images: np.ndarray, labels: np.ndarray) -> float:
        probabilities = evaluate.predict_faces(predictor, images, batch_size=BATCH_SIZE)
        return evaluate.evaluate_probabilities(probabilities, labels).accuracy

    if not halves.halved:
        return Scores(accuracy(*dataset.split(halves.public_split)), accuracy(*dataset.split(halves.private_split)))
    # One prediction of the whole split (what `evaluate --split` sees), then each half's share of it.
    images, labels = dataset.split(halves.public_split)
    probabilities = evaluate.predict_faces(predictor, images, batch_size=BATCH_SIZE)
    public, private = halving(len(labels), halves.halving_seed)
    return Scores(
        evaluate.evaluate_probabilities(probabilities[public], labels[public]).accuracy,
        evaluate.evaluate_probabilities(probabilities[private], labels[private]).accuracy,
    )
