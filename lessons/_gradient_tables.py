"""What both gradient lessons show the same way: vectors for st.latex, the mistakes toggle, the check table."""

import numpy as np
import pandas as pd
import streamlit as st

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
        if not st.toggle("Show a mistake students make", key=f"{key_prefix}_mistake_on"):
            return None
        mistake = st.selectbox(
            "Which mistake",
            list(mistakes),
            format_func=lambda name: mistakes[name].title,
            key=f"{key_prefix}_mistake",
        )
        st.latex(mistakes[mistake].wrong_formula)
        st.caption(f"{mistakes[mistake].explanation} {uses_it}")
    return mistake


def styled(table: pd.DataFrame):
    """The check table with its verdicts green (pass) or red (fail)."""

    def colour(verdict):
        return "background-color: #c8e6c9" if verdict == "pass" else "background-color: #ffcdd2"

    return (
        table.style.format("{:.6g}", subset=table.columns[1:4])
        .format("{:.1e}", subset=ERROR_COLUMNS)
        .map(colour, subset=["verdict"])
    )
