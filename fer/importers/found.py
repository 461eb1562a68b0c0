"""What every reader hands back, and the bad rows it met on the way.

A reader (CSV, npz, image folders) returns `FoundFaces`; `BadRows` either stops the import at
the first bad row with a sentence, or, with skip bad rows on, collects them for the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fer.face_dataset import HELD_OUT_TEST, NUM_CLASSES, USAGE_TO_SPLIT, DataError
from fer.i18n import N_, _

# Training, PublicTest, PrivateTest (FER2013's own), MixedTest and HeldOutTest (see fer.face_dataset).
USAGES = tuple(USAGE_TO_SPLIT)
SKIP_HINT = N_("or import again with skip bad rows on (`--skip-bad-rows`) to leave such rows out")

# Called now and then with the fraction done (0-1) and a sentence saying what is happening.
Progress = Callable[[float, str], None]


@dataclass
class FoundFaces:
    """What a reader found, before it is cached."""

    format: str  # "csv", "image folders" or "npz"
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) uint8
    usage: np.ndarray  # (N,) one of USAGES: FER2013's Training, PublicTest, PrivateTest, or our MixedTest, HeldOutTest
    rows_read: int
    problems: list[str] = field(default_factory=list)  # in file order, "line 7: ..."
    notes: list[str] = field(default_factory=list)


class BadRowError(DataError):
    """One bad row stopped the import: importing again with skip bad rows on would leave it out."""


class BadRows:
    """Collects bad rows in skip mode; otherwise the first one stops the import."""

    def __init__(self, source: str, skip: bool):
        self.source, self.skip, self.found = source, skip, []

    def add(self, where: str, what: str, fix: str, order: int = 0) -> None:
        """Each piece already in the reader's language: `where` names the row ("line 7"), `what` says what
        is wrong with it, `fix` what to do. `order` (the line number) keeps the list in file order when
        problems are found out of order."""
        if not self.skip:
            raise BadRowError(_("{source}, {where}: {what}. {fix}, {hint}.").format(
                source=self.source, where=where, what=what, fix=fix, hint=_(SKIP_HINT)
            ))
        self.found.append((order, _("{where}: {what}").format(where=where, what=what)))

    def in_order(self) -> list[str]:
        return [text for _, text in sorted(self.found, key=lambda found: found[0])]


def normalise_usage(text: str) -> str:
    by_lower = {usage.lower(): usage for usage in USAGES}
    return by_lower.get(text.strip().lower(), text.strip())


def hold_out_test_split(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """No Usage given: hold out a stratified tenth as test faces (HeldOutTest, not FER2013's PublicTest)."""
    usage = np.full(len(labels), "Training", dtype="<U11")
    rng = np.random.default_rng(seed)
    for label in range(NUM_CLASSES):
        index = rng.permutation(np.flatnonzero(labels == label))
        usage[index[: int(round(len(index) * 0.1))]] = HELD_OUT_TEST
    return usage
