"""What both gradient lessons show the same way: vectors for st.latex, the mistakes toggle, the check table."""

import numpy as np
import pandas as pd
import streamlit as st

from fer.i18n import _
from lessons._language import page_language

ERROR_COLUMNS = ["rel. error vs autodiff", "rel. error vs finite diff."]


def numbers(values, digits: int = 4) -> str:
    """A vector or a number, written for st.latex."""
    values = np.atleast_1d(np.asarray(values, dtype=np.float64))
    written = ", ".join(f"{value:.{digits}g}" for value in values)
    return rf"\left[{written}\right]" if values.size > 1 else written


def mistake_picker(mistakes: dict, key_prefix: str, uses_it: str) -> str | None:
    """The "show a mistake students make" toggle: the chosen mistake's name (shown with its wrong
    formula and why), or None for the right formulas. `uses_it` ends the caption, e.g. "The
    gradient below now uses this wrong formula."."""
    with st.container(border=True):
        if not st.toggle(_("Show a mistake students make"), key=f"{key_prefix}_mistake_on"):
            return None
        titles = {name: _(mistake.title) for name, mistake in mistakes.items()}
        mistake = st.selectbox(
            _("Which mistake"),
            list(mistakes),
            format_func=titles.__getitem__,
            key=f"{key_prefix}_mistake",
        )
        st.latex(mistakes[mistake].wrong_formula)
        st.caption(f"{_(mistakes[mistake].explanation)} {uses_it}")
    return mistake


def column_labels() -> dict[str, str]:
    """fer.gradcheck.comparison_table's columns, as the reader reads them."""
    return {
        "gradient": _("gradient"), "analytic": _("analytic"),
        "autodiff (tf.GradientTape)": _("autodiff (tf.GradientTape)"),
        "finite differences": _("finite differences"), "rel. error vs autodiff": _("rel. error vs autodiff"),
        "rel. error vs finite diff.": _("rel. error vs finite diff."), "verdict": _("verdict"),
    }


def styled(table: pd.DataFrame):
    """The check table in the reader's language, its verdicts green (pass) or red (fail)."""
    passed = table["verdict"] == "pass"
    labels = column_labels()
    shown = table.assign(verdict=np.where(passed, _("pass"), _("FAIL"))).rename(columns=labels)
    verdict = labels["verdict"]

    def colour(column: pd.Series) -> list[str]:
        return ["background-color: #c8e6c9" if ok else "background-color: #ffcdd2" for ok in passed]

    return (
        shown.style.format("{:.6g}", subset=shown.columns[1:4])
        .format("{:.1e}", subset=[labels[name] for name in ERROR_COLUMNS])
        .apply(colour, subset=[verdict])
    )


def seed_widgets(values: dict) -> None:
    """Start each widget key at `values[key]` (what the page's link asks for) unless the session
    already holds one: the link sets the page up once, then the student's own moves win."""
    for key, value in values.items():
        if key not in st.session_state:
            st.session_state[key] = value


def givens_latex(givens) -> list[str]:
    """A question's givens as LaTeX: the scalars on one line, the vectors as one table."""
    lines = []
    scalars = [given for given in givens if not given.is_vector]
    if scalars:
        lines.append(r",\quad ".join(f"{given.symbol} = {given.values[0]:.5g}" for given in scalars))
    vectors = [given for given in givens if given.is_vector]
    if vectors:
        columns = vectors[0].columns
        header = " & ".join(rf"\text{{{column}}}" for column in columns)
        rows = [
            given.symbol + " & " + " & ".join(f"{value:.5g}" for value in given.values) + r" \\"
            for given in vectors
        ]
        lines.append(
            rf"\begin{{array}}{{r|{'c' * len(columns)}}} & {header} \\ \hline " + " ".join(rows) + r"\end{array}"
        )
    return lines


def quiz(question, key_prefix: str) -> None:
    """Show `question` (one backward term hidden), take the student's number, check it, then show
    the working. The answer reaches the page only through `question.check`, after they answer."""
    number_key, answer_key = f"{key_prefix}_quiz", f"{key_prefix}_quiz_answer"
    verdict_key = f"{key_prefix}_quiz_verdict"

    def check() -> None:
        page_language()  # callbacks run before the page: the verdict's sentence needs the language too
        try:
            st.session_state[verdict_key] = (question.number, question.check(st.session_state.get(answer_key)))
        except ValueError as error:  # QuizAnswerError: nothing typed yet
            st.session_state[verdict_key] = (question.number, str(error))

    def next_question() -> None:
        st.session_state[number_key] = question.number + 1
        st.session_state[answer_key] = None

    with st.container(border=True, key=f"{key_prefix}_quiz_box"):
        st.markdown(_("**Question {number}.** You are given:").format(number=question.number))
        for line in givens_latex(question.givens):
            st.latex(line)
        st.markdown(_("Work out this term of the backward pass, to three significant figures:"))
        st.latex(question.asked + " = \\ ?")
        answer_column, check_column, next_column = st.columns([2, 1, 1], vertical_alignment="bottom")
        answer_column.number_input(_("Your answer"), value=None, format="%.6f", step=0.001, key=answer_key)
        check_column.button(_("Check my answer"), on_click=check, key=f"{key_prefix}_quiz_check", type="primary")
        next_column.button(_("New question"), on_click=next_question, key=f"{key_prefix}_quiz_new")
        stored = st.session_state.get(verdict_key)
        if stored is None or stored[0] != question.number:
            return
        verdict = stored[1]
        if isinstance(verdict, str):
            st.warning(verdict)
            return
        (st.success if verdict.correct else st.error)(verdict.sentence)
        st.markdown("**" + _("The working") + "**")
        for line in verdict.working:
            st.latex(line)
