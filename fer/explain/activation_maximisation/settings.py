"""The knobs of activation maximisation, checked once when they are set."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from fer.explain.base import ExplainError
from fer.i18n import _

REGULARISERS = ("blur", "total variation", "none")


@dataclass(frozen=True)
class AscentSettings:
    """How to climb: the step size, how each step moves the picture, and how the picture is kept smooth.

    Args:
        steps: ascent steps (capped by `$FER_EXPLAIN_MAX_STEPS` when that is set).
        learning_rate: Adam's step size on the picture's parameters.
        jitter_pixels: each step shifts the picture by up to this many pixels each way.
        rotation_degrees: ... and rotates it by up to this many degrees.
        scale_range: ... and rescales it by a factor in [1 - range, 1 + range].
        regulariser: "blur" (blur the picture every `blur_every` steps), "total variation"
            (penalise differences between neighbouring pixels) or "none".
        blur_sigma: the Gaussian blur's standard deviation, in pixels.
        blur_every: blur once every this many steps.
        total_variation_weight: how much the total-variation penalty counts against the activation.
        fourier: describe the picture by its Fourier coefficients instead of its pixels.
        fourier_decay: how strongly high frequencies are scaled down (1 / frequency ** decay).
        seed: every random number of the ascent (starting noise, moves) comes from it.
    """

    steps: int = 200
    learning_rate: float = 0.05
    jitter_pixels: int = 2
    rotation_degrees: float = 5.0
    scale_range: float = 0.05
    regulariser: str = "blur"
    blur_sigma: float = 0.6
    blur_every: int = 4
    total_variation_weight: float = 0.05
    fourier: bool = False
    fourier_decay: float = 1.0
    seed: int = 0

    def __post_init__(self):
        if self.steps < 1:
            raise ExplainError(_("steps must be at least 1; got {steps}.").format(steps=self.steps))
        if self.learning_rate <= 0:
            raise ExplainError(_(
                "learning_rate must be positive; got {learning_rate}."
            ).format(learning_rate=self.learning_rate))
        if self.regulariser not in REGULARISERS:
            raise ExplainError(_(
                "regulariser must be one of {choices}; got {regulariser}."
            ).format(choices=", ".join(REGULARISERS), regulariser=repr(self.regulariser)))
        if not 0 <= self.scale_range < 1:
            raise ExplainError(_(
                "scale_range must be in [0, 1); got {scale_range}."
            ).format(scale_range=self.scale_range))
        if self.jitter_pixels < 0:
            raise ExplainError(_(
                "jitter_pixels must be 0 or more; got {jitter_pixels}."
            ).format(jitter_pixels=self.jitter_pixels))
        if self.blur_every < 1:
            raise ExplainError(_(
                "blur_every must be at least 1; got {blur_every}."
            ).format(blur_every=self.blur_every))

    def to_dict(self) -> dict:
        return asdict(self)
