"""A quiz on the table: hide one output shape or parameter count, check the student's answer, show the working.

While a question is open, nothing the student can see may hold its answer: `Quiz.hidden_cells`
names the cells to hide and `question_rows` keeps only the rows up to the question (the next
row's working starts from the hidden shape). The page hides every other view of the table
until the student answers or asks for the answer.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from fer.i18n import _

from .formulas import format_count, format_shape
from .layers import StackError
from .table import Row

_MAX_ANSWER = 200  # characters of an answer read; longer text is cut before parsing
_NUMBER = re.compile(r"[0-9]{1,30}")  # ASCII digits only; longer runs of digits are read in pieces


@dataclass(frozen=True)
class Quiz:
    row_index: int
    field: str  # "output_shape" or "params", as in `table.TABLE_FIELDS`
    question: str
    answer: str
    working: str

    @property
    def hidden_cells(self) -> frozenset[tuple[int, str]]:
        """(row index, field) of the answer and of the working that would give it away."""
        working = "shape_formula" if self.field == "output_shape" else "params_formula"
        return frozenset({(self.row_index, self.field), (self.row_index, working)})


def question_rows(rows: list[Row], quiz: Quiz) -> list[Row]:
    """The rows up to the question's row: the rows after it start from its answer."""
    return rows[: quiz.row_index + 1]


def make_quiz(rows: list[Row], rng: random.Random) -> Quiz:
    """Pick a layer and a field to hide; parameter questions only where there are parameters."""
    candidates = []
    for index, row in enumerate(rows):
        if index == 0 or row.error:
            continue
        if row.shape_formula and row.layer_type not in ("Dropout", "ReLU", "LeakyReLU", "BatchNormalization"):
            candidates.append((index, "output_shape"))
        if row.params:
            candidates.append((index, "params"))
    if not candidates:
        raise StackError(_("This stack has no layer worth a question: add a convolution, pooling or dense layer."))
    index, field_name = rng.choice(candidates)
    row, previous = rows[index], rows[index - 1]
    layer = f"{row.name} ({row.layer_type}: {row.settings})" if row.settings else f"{row.name} ({row.layer_type})"
    given = format_shape(previous.output_shape)
    if field_name == "output_shape":
        question = _("What is the output shape of {layer}? Its input is {shape}.").format(layer=layer, shape=given)
        return Quiz(index, field_name, question, format_shape(row.output_shape), row.shape_formula)
    question = _("How many parameters does {layer} have? Its input is {shape}.").format(layer=layer, shape=given)
    return Quiz(index, field_name, question, format_count(row.params), row.params_formula)


@dataclass(frozen=True)
class QuizResult:
    correct: bool
    message: str


def check_answer(quiz: Quiz, text: str) -> QuizResult:
    """Shapes: any separators ('22x22x64', '(22, 22, 64)'); counts: thousands separators allowed."""
    text = text[:_MAX_ANSWER]
    if quiz.field == "output_shape":
        given = tuple(int(part) for part in _NUMBER.findall(text)) or None
        expected = tuple(int(part) for part in _NUMBER.findall(quiz.answer))
        shown = format_shape(given) if given else repr(text)
    else:
        digits = re.sub(r"[\s,_'.]", "", text)
        given = int(digits) if _NUMBER.fullmatch(digits) else None
        expected = int(quiz.answer.replace(",", ""))
        shown = format_count(given) if given is not None else repr(text)
    if given is None:
        if quiz.field == "output_shape":
            return QuizResult(False, _("Type a shape like 22x22x64 first."))
        return QuizResult(False, _("Type a whole number first."))
    if given == expected:
        right = _("Right: {answer}. Working: {working}")
        return QuizResult(True, right.format(answer=quiz.answer, working=quiz.working))
    return QuizResult(False, _("Not quite: you said {given}, the answer is {answer}. Working: {working}").format(
        given=shown, answer=quiz.answer, working=quiz.working
    ))


def reveal(quiz: Quiz) -> QuizResult:
    """The answer for a student who asks for it."""
    return QuizResult(False, _("The answer is {answer}. Working: {working}").format(
        answer=quiz.answer, working=quiz.working
    ))
