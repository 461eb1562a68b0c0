"""Which epoch's weights to keep: the checkpoint rules of the two homework reports.

A history is a list of rows, one per epoch, as in `history.csv`:
`{"epoch": 1, "loss": ..., "accuracy": ..., "val_loss": ..., "val_accuracy": ...}` (epochs count
from 1). Each rule looks at the history so far and names the epoch it would keep, so the
engine can snapshot the weights the moment an epoch becomes the choice.

- `best_val_accuracy`: the epoch with the highest validation accuracy.
- `lowest_val_loss_above_train_accuracy` (report A): among the epochs whose training
  accuracy is at least a threshold, the one with the lowest validation loss. It skips the
  early epochs where validation loss is low only because the network has not learnt anything.
- `early_stopping` (report B): watch validation loss; stop once it has not improved for
  `patience` epochs and keep the best epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from fer.events import english, sentence
from fer.i18n import N_, _

# Shown through _() (format_func on the Train page).
RULES = {
    "early_stopping": N_("Early stopping on validation loss (report B)"),
    "lowest_val_loss_above_train_accuracy": N_(
        "Lowest validation loss once training accuracy passes a threshold (report A)"),
    "best_val_accuracy": N_("Best validation accuracy"),
}


@dataclass(frozen=True)
class Choice:
    epoch: int | None
    why: dict  # a kept sentence (fer.events.sentence): metrics.json and the events hold it, pages translate it

    @property
    def reason(self) -> str:
        """Why this epoch, in English (as metrics.json's chosen_reason has always said it)."""
        return english(self.why)


@dataclass(frozen=True)
class CheckpointRule:
    kind: str = "best_val_accuracy"
    patience: int = 5
    train_accuracy_threshold: float = 0.6

    def __post_init__(self) -> None:
        if self.kind not in RULES:
            raise ValueError(_("Unknown checkpoint rule {rule}: use one of {rules}.").format(
                rule=repr(self.kind), rules=", ".join(RULES)))
        if self.patience < 1:
            raise ValueError(_("Early-stopping patience must be at least 1 epoch, not {patience}.").format(
                patience=self.patience))
        if not 0.0 <= self.train_accuracy_threshold <= 1.0:
            raise ValueError(_("The training-accuracy threshold is a fraction between 0 and 1, not {value}.").format(
                value=self.train_accuracy_threshold))

    def choose(self, history: Sequence[dict]) -> Choice:
        rows = [row for row in history if _finite(row.get("val_loss")) and _finite(row.get("val_accuracy"))]
        if not rows:
            if history:
                return Choice(int(history[-1]["epoch"]),
                              sentence(N_("no validation metrics, so the last epoch is kept")))
            return Choice(None, sentence(N_("no epoch finished yet")))
        if self.kind == "best_val_accuracy":
            best = max(rows, key=lambda row: row["val_accuracy"])  # max keeps the earliest of ties
            return Choice(int(best["epoch"]), sentence(N_("highest validation accuracy ({value:.4f})"),
                                                       value=float(best["val_accuracy"])))
        if self.kind == "early_stopping":
            best = min(rows, key=lambda row: row["val_loss"])
            return Choice(int(best["epoch"]), sentence(N_("lowest validation loss ({value:.4f})"),
                                                       value=float(best["val_loss"])))
        threshold = self.train_accuracy_threshold
        qualified = [row for row in rows if _finite(row.get("accuracy")) and row["accuracy"] >= threshold]
        if not qualified:
            best = min(rows, key=lambda row: row["val_loss"])
            return Choice(int(best["epoch"]), sentence(
                N_("training accuracy never reached {threshold:.2f}, so the lowest validation loss of all epochs "
                   "({value:.4f})"), threshold=float(threshold), value=float(best["val_loss"])))
        best = min(qualified, key=lambda row: row["val_loss"])
        return Choice(int(best["epoch"]), sentence(
            N_("lowest validation loss ({value:.4f}) among epochs with training accuracy >= {threshold:.2f}"),
            value=float(best["val_loss"]), threshold=float(threshold)))

    def should_stop(self, history: Sequence[dict]) -> bool:
        """Only early stopping ends training early: `patience` epochs without a new best."""
        if self.kind != "early_stopping" or not history:
            return False
        chosen = self.choose(history).epoch
        return chosen is not None and int(history[-1]["epoch"]) - chosen >= self.patience


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
