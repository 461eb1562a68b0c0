"""The learning rate at every step: linear warm-up, then constant, step, cosine or reduce-on-plateau.

Everything is a pure function of the configuration, the position in training (in epochs, a
float: 3.5 is the middle of the fourth epoch) and, for reduce-on-plateau, a small state that is
saved with each checkpoint, so a resumed run continues on exactly the same curve.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from fer.i18n import N_

# Shown through _() (format_func on the Train page).
SCHEDULES = {
    "constant": N_("Constant"),
    "step": N_("Step decay (multiply every few epochs)"),
    "plateau": N_("Reduce on plateau of validation loss"),
    "cosine": N_("Cosine decay to zero"),
}


@dataclass
class PlateauState:
    """Reduce-on-plateau's memory: the best validation loss, epochs since, the current factor."""

    best: float = math.inf
    waited: int = 0
    scale: float = 1.0

    def update(self, val_loss: float, patience: int, factor: float, min_delta: float = 1e-4) -> bool:
        """Feed one epoch's validation loss; True when the rate was just reduced."""
        if not math.isfinite(val_loss):
            return False
        if val_loss < self.best - min_delta:
            self.best, self.waited = val_loss, 0
            return False
        self.waited += 1
        if self.waited >= patience:
            self.scale *= factor
            self.waited = 0
            return True
        return False

    def to_dict(self) -> dict:
        return asdict(self)


def learning_rate_at(config, position: float, plateau: PlateauState | None = None) -> float:
    """The rate at `position` epochs into training (0 = the first step) for `config`.

    Warm-up climbs linearly from almost 0 to the base rate over `config.warmup_epochs`; the
    chosen schedule then runs over the remaining epochs (cosine reaches zero at the end).
    """
    base = config.learning_rate
    warmup = getattr(config, "warmup_epochs", 0)
    if warmup and position < warmup:
        return base * max(position, 1e-3) / warmup
    after = position - warmup
    span = max(config.epochs - warmup, 1e-9)
    if config.schedule == "step":
        return base * config.decay_factor ** int(after // config.step_every_epochs)
    if config.schedule == "cosine":
        return base * 0.5 * (1 + math.cos(math.pi * min(after / span, 1.0)))
    if config.schedule == "plateau" and plateau is not None:
        return base * plateau.scale
    return base


def learning_rate_for_epoch(config, epoch: int) -> float:
    """The rate at the start of epoch `epoch` (counting from 0)."""
    return learning_rate_at(config, float(epoch))
