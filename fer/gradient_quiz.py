"""A quiz on the backward pass: one term hidden, the student computes it, then sees the working.

A question is drawn from its number alone, so a teacher can hand the whole class the same one
(`quiz=12` in a page's link). It carries what the student starts from (`givens`: the forward
pass and the backward terms the hidden one is built from, never the hidden one nor anything
computed after it) and keeps the answer and the working to itself: the only way to them is
`question.check(answer)`, so a page that shows a question cannot show its answer by accident.

Each question has its own small batch or logits, drawn apart from whatever the lesson page is
exploring, so the rest of the page never prints the hidden number either.

    question = batchnorm_question(12)
    verdict = question.check(-0.391)     # QuizAnswerError for a blank or NaN answer
    verdict.correct, verdict.sentence, verdict.working   # working: LaTeX lines, formula then numbers
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from fer import grads
from fer.data import EMOTIONS
from fer.i18n import _, expression

RELATIVE_TOLERANCE = 0.01  # three significant figures always pass
ABSOLUTE_TOLERANCE = 1e-3
# Answers nearer zero than this are redrawn: "within 1 %" of almost nothing asks for luck, not maths.
SMALLEST_ANSWER = 0.02
BATCHNORM_EPSILON = 1e-3

BATCHNORM_TERMS = {
    "grad_variance": r"\frac{\partial l}{\partial \sigma_B^2}",
    "grad_mean": r"\frac{\partial l}{\partial \mu_B}",
    "grad_x": r"\frac{\partial l}{\partial x_i}",
    "grad_gamma": r"\frac{\partial l}{\partial \gamma}",
    "grad_x_hat": r"\frac{\partial l}{\partial \hat x_i}",
    "grad_beta": r"\frac{\partial l}{\partial \beta}",
}
SOFTMAX_TERMS = {
    "grad_logit": r"\frac{\partial L}{\partial z_t}",
    "jacobian": r"J_{it} = \frac{\partial \hat y_i}{\partial s_t}",
    "grad_probability": r"\frac{\partial L}{\partial \hat y_i}",
}


class QuizAnswerError(ValueError):
    """An answer the quiz cannot check; the message says what to type."""


@dataclass(frozen=True)
class Given:
    """One thing the student starts from: a LaTeX symbol and its number, or one number per column."""

    symbol: str
    values: tuple[float, ...]
    columns: tuple[str, ...] = ()  # names of the entries of a vector ("i=1", ... or the emotions, translated)

    @property
    def is_vector(self) -> bool:
        return bool(self.columns)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    answer: float
    expected: float
    sentence: str
    working: tuple[str, ...]  # LaTeX lines: the formula, then the same formula with the numbers in


@dataclass(frozen=True)
class Question:
    number: int
    lesson: str  # "batchnorm" or "softmax"
    term: str  # a key of BATCHNORM_TERMS or SOFTMAX_TERMS
    asked: str  # LaTeX of the one entry asked for, e.g. \frac{\partial l}{\partial x_{3}}
    entry: tuple[int, ...]  # which entry of the term: (i,) for a vector, (i, t) for the Jacobian, () for a number
    givens: tuple[Given, ...]
    _expected: float = field(repr=False)
    _working: tuple[str, ...] = field(repr=False)

    def check(self, answer) -> Verdict:
        """Right when within RELATIVE_TOLERANCE of the answer (or ABSOLUTE_TOLERANCE near zero)."""
        try:
            answer = float(answer)
        except (TypeError, ValueError):
            answer = math.nan
        if not math.isfinite(answer):
            raise QuizAnswerError(_("Type a number first (for example -0.391), then check it."))
        expected = self._expected
        allowed = max(RELATIVE_TOLERANCE * abs(expected), ABSOLUTE_TOLERANCE)
        correct = abs(answer - expected) <= allowed
        if correct:
            sentence = _("Right: {answer} is within {tolerance} of {expected}.").format(
                answer=f"{answer:.5g}", tolerance=f"{RELATIVE_TOLERANCE:.0%}", expected=f"{expected:.5g}"
            )
        else:
            sentence = _(
                "Not quite: you entered {answer}, the answer is {expected}. "
                "The working below goes through it step by step."
            ).format(answer=f"{answer:.5g}", expected=f"{expected:.5g}")
        return Verdict(correct, answer, expected, sentence, self._working)


def _n(value: float, digits: int = 5) -> str:
    """A number for a LaTeX product: negatives in brackets."""
    text = f"{float(value):.{digits}g}"
    return f"({text})" if text.startswith("-") else text


def _sum_of_products(left, right) -> str:
    return " + ".join(rf"{_n(a)}\cdot{_n(b)}" for a, b in zip(left, right))


def _draw(number: int, lesson: str, build):
    """The first draw of `build(rng)` whose answer is not too near zero: deterministic in `number`."""
    if number < 0:
        raise QuizAnswerError(_("Quiz numbers start at 0; got {number}.").format(number=number))
    rng = np.random.default_rng([number, 0 if lesson == "batchnorm" else 1])
    for _attempt in range(200):
        question = build(rng)
        if abs(question._expected) >= SMALLEST_ANSWER:
            return question
    return question


# --------------------------------------------------------------------------------------------
# BatchNorm


def batchnorm_question(number: int) -> Question:
    """Question `number`: its term cycles through BATCHNORM_TERMS, its batch is drawn from the number."""
    term = list(BATCHNORM_TERMS)[number % len(BATCHNORM_TERMS)]
    return _draw(number, "batchnorm", lambda rng: _batchnorm_question(number, term, rng))


def _batchnorm_question(number: int, term: str, rng: np.random.Generator) -> Question:
    m = int(rng.integers(3, 5))
    while True:
        x = rng.integers(-20, 21, m) / 10
        if x.var() >= 0.25:
            break
    upstream = rng.integers(-10, 11, m) / 10
    gamma = float(rng.choice([0.5, 1.5, 2.0, -1.0]))
    forward = grads.batchnorm_forward(x, gamma, 0.0, BATCHNORM_EPSILON)
    backward = grads.batchnorm_backward(forward, upstream)
    i = int(rng.integers(m))
    columns = tuple(f"i={index + 1}" for index in range(m))

    def vector(symbol, values):
        return Given(symbol, tuple(float(v) for v in values), columns)

    def scalar(symbol, value):
        return Given(symbol, (float(value),))

    batch = [
        vector("x_i", x),
        vector(r"\frac{\partial l}{\partial y_i}", upstream),
        scalar(r"\gamma", gamma),
        scalar(r"\epsilon", BATCHNORM_EPSILON),
        scalar("m", m),
    ]
    statistics = [
        scalar(r"\mu_B", forward.batch_mean),
        scalar(r"\sigma_B^2", forward.batch_variance),
        vector(r"x_i-\mu_B", forward.centered),
        vector(r"\hat x_i", forward.x_hat),
    ]
    d_x_hat = vector(BATCHNORM_TERMS["grad_x_hat"], backward.grad_x_hat)
    d_variance = scalar(BATCHNORM_TERMS["grad_variance"], backward.grad_variance)
    d_mean = scalar(BATCHNORM_TERMS["grad_mean"], backward.grad_mean)
    inverse_std = float(forward.inverse_std)
    variance_plus_eps = rf"{_n(forward.batch_variance)} + {BATCHNORM_EPSILON:g}"

    if term == "grad_x_hat":
        expected = float(backward.grad_x_hat[i])
        asked = rf"\frac{{\partial l}}{{\partial \hat x_{{{i + 1}}}}}"
        givens = batch
        working = (
            r"\frac{\partial l}{\partial \hat x_i} = \frac{\partial l}{\partial y_i}\cdot\gamma",
            rf"{asked} = {_n(upstream[i])}\cdot{_n(gamma)} = {expected:.5g}",
        )
    elif term == "grad_variance":
        expected = float(backward.grad_variance)
        asked = BATCHNORM_TERMS["grad_variance"]
        givens = batch + statistics + [d_x_hat]
        total = float((backward.grad_x_hat * forward.centered).sum())
        power = inverse_std**3
        working = (
            asked + r" = \sum_i \frac{\partial l}{\partial \hat x_i}(x_i-\mu_B)\cdot"
            r"\left(-\tfrac12\right)(\sigma_B^2+\epsilon)^{-3/2}",
            rf"\sum_i \frac{{\partial l}}{{\partial \hat x_i}}(x_i-\mu_B) = "
            rf"{_sum_of_products(backward.grad_x_hat, forward.centered)} = {total:.5g}",
            rf"(\sigma_B^2+\epsilon)^{{-3/2}} = ({variance_plus_eps})^{{-3/2}} = {power:.5g}",
            rf"{asked} = {_n(total)}\cdot\left(-\tfrac12\right)\cdot{_n(power)} = {expected:.5g}",
        )
    elif term == "grad_mean":
        expected = float(backward.grad_mean)
        asked = BATCHNORM_TERMS["grad_mean"]
        givens = batch + statistics + [d_x_hat, d_variance]
        total = float(backward.grad_x_hat.sum())
        centered_sum = float((-2.0 * forward.centered).sum())
        working = (
            asked + r" = \sum_i \frac{\partial l}{\partial \hat x_i}\cdot\frac{-1}{\sqrt{\sigma_B^2+\epsilon}}"
            r" + \frac{\partial l}{\partial \sigma_B^2}\cdot\frac{\sum_i -2(x_i-\mu_B)}{m}",
            rf"\sum_i \frac{{\partial l}}{{\partial \hat x_i}} = {total:.5g}, \quad "
            rf"\frac{{-1}}{{\sqrt{{{variance_plus_eps}}}}} = {-inverse_std:.5g}",
            rf"\sum_i -2(x_i-\mu_B) = {centered_sum:.3g}"
            r"\ \text{" + _("(zero: ") + r"}\mu_B\text{" + _(" is the batch's own mean)") + "}",
            rf"{asked} = {_n(total)}\cdot{_n(-inverse_std)} + {_n(backward.grad_variance)}\cdot"
            rf"\frac{{{_n(centered_sum, 3)}}}{{{m}}} = {expected:.5g}",
        )
    elif term == "grad_x":
        expected = float(backward.grad_x[i])
        asked = rf"\frac{{\partial l}}{{\partial x_{{{i + 1}}}}}"
        givens = batch + statistics + [d_x_hat, d_variance, d_mean]
        direct = float(backward.grad_x_hat[i] * inverse_std)
        through_variance = float(backward.grad_variance * 2.0 * forward.centered[i] / m)
        through_mean = float(backward.grad_mean / m)
        working = (
            r"\frac{\partial l}{\partial x_i} = \frac{\partial l}{\partial \hat x_i}\cdot"
            r"\frac{1}{\sqrt{\sigma_B^2+\epsilon}} + \frac{\partial l}{\partial \sigma_B^2}\cdot"
            r"\frac{2(x_i-\mu_B)}{m} + \frac{\partial l}{\partial \mu_B}\cdot\frac{1}{m}",
            rf"{asked} = \frac{{{_n(backward.grad_x_hat[i])}}}{{\sqrt{{{variance_plus_eps}}}}} + "
            rf"{_n(backward.grad_variance)}\cdot\frac{{2\cdot{_n(forward.centered[i])}}}{{{m}}} + "
            rf"\frac{{{_n(backward.grad_mean)}}}{{{m}}}",
            rf"{asked} = {_n(direct)} + {_n(through_variance)} + {_n(through_mean)} = {expected:.5g}",
        )
    elif term == "grad_gamma":
        expected = float(backward.grad_gamma)
        asked = BATCHNORM_TERMS["grad_gamma"]
        givens = batch + statistics
        working = (
            asked + r" = \sum_i \frac{\partial l}{\partial y_i}\,\hat x_i",
            rf"{asked} = {_sum_of_products(upstream, forward.x_hat)} = {expected:.5g}",
        )
    elif term == "grad_beta":
        expected = float(backward.grad_beta)
        asked = BATCHNORM_TERMS["grad_beta"]
        givens = batch
        working = (
            asked + r" = \sum_i \frac{\partial l}{\partial y_i}",
            rf"{asked} = {' + '.join(_n(value) for value in upstream)} = {expected:.5g}",
        )
    else:
        raise QuizAnswerError(_("Unknown BatchNorm quiz term {term}: use one of {choices}.").format(
            term=repr(term), choices=", ".join(BATCHNORM_TERMS)
        ))
    entry = (i,) if term in ("grad_x_hat", "grad_x") else ()
    return Question(number, "batchnorm", term, asked, entry, tuple(givens), expected, working)


# --------------------------------------------------------------------------------------------
# Softmax + cross-entropy


def softmax_question(number: int) -> Question:
    """Question `number`: its term cycles through SOFTMAX_TERMS, its logits are drawn from the number."""
    term = list(SOFTMAX_TERMS)[number % len(SOFTMAX_TERMS)]
    return _draw(number, "softmax", lambda rng: _softmax_question(number, term, rng))


def _softmax_question(number: int, term: str, rng: np.random.Generator) -> Question:
    classes = len(EMOTIONS)
    logits = rng.integers(-30, 31, classes) / 10
    # T = 1 with unsmoothed labels would make dL/dz_t of a wrong class equal to yhat_t, a given.
    temperature = float(rng.choice([0.5, 2.0]))
    smoothing = float(rng.choice([0.0, 0.1]))
    true_class = int(rng.integers(classes))
    targets = grads.targets_for(true_class, classes, smoothing)
    probabilities = grads.softmax(logits, temperature)

    def vector(symbol, values):
        return Given(symbol, tuple(float(v) for v in values), tuple(expression(name) for name in EMOTIONS))

    givens = (
        vector("z", logits),
        Given("T", (temperature,)),
        Given(r"\alpha", (smoothing,)),
        vector(r"\hat y = \mathrm{softmax}(z/T)", probabilities),
        vector("y", targets),
    )
    if term == "grad_logit":
        t = int(rng.integers(classes))
        expected = float((probabilities[t] - targets[t]) / temperature)
        asked = rf"\frac{{\partial L}}{{\partial z_{{\text{{{expression(t)}}}}}}}"
        entry = (t,)
        working = (
            r"\frac{\partial L}{\partial z_t} = \frac{\hat y_t - y_t}{T}",
            rf"{asked} = \frac{{{probabilities[t]:.5g} - {targets[t]:.5g}}}{{{temperature:g}}} = {expected:.5g}",
        )
    elif term == "jacobian":
        i, t = (int(value) for value in rng.integers(classes, size=2))
        if rng.random() < 0.4:
            t = i
        delta = 1.0 if i == t else 0.0
        expected = float(probabilities[i] * (delta - probabilities[t]))
        asked = rf"J_{{\text{{{expression(i)}}},\,\text{{{expression(t)}}}}}"
        entry = (i, t)
        working = (
            r"J_{it} = \frac{\partial \hat y_i}{\partial s_t} = \hat y_i(\delta_{it} - \hat y_t),"
            r"\quad \delta_{it} = 1\text{" + _(" if ") + r"}i=t\text{" + _(" else ") + "}0",
            rf"{asked} = {probabilities[i]:.5g}\cdot({delta:g} - {probabilities[t]:.5g}) = {expected:.5g}",
        )
    elif term == "grad_probability":
        i = int(rng.choice(np.flatnonzero(targets > 0)))
        expected = float(-targets[i] / probabilities[i])
        asked = rf"\frac{{\partial L}}{{\partial \hat y_{{\text{{{expression(i)}}}}}}}"
        entry = (i,)
        working = (
            r"L = -\sum_i y_i \log \hat y_i \quad\Rightarrow\quad \frac{\partial L}{\partial \hat y_i} = "
            r"-\frac{y_i}{\hat y_i}",
            rf"{asked} = -\frac{{{targets[i]:.5g}}}{{{probabilities[i]:.5g}}} = {expected:.5g}",
        )
    else:
        raise QuizAnswerError(_("Unknown softmax quiz term {term}: use one of {choices}.").format(
            term=repr(term), choices=", ".join(SOFTMAX_TERMS)
        ))
    return Question(number, "softmax", term, asked, entry, givens, expected, working)
