"""What both gradient lessons show the same way: vectors for st.latex and the three-way check table."""

import numpy as np
import pandas as pd

ERROR_COLUMNS = ["rel. error vs autodiff", "rel. error vs finite diff."]


def numbers(values, digits: int = 4) -> str:
    """A vector or a number, written for st.latex."""
    values = np.atleast_1d(np.asarray(values, dtype=np.float64))
    written = ", ".join(f"{value:.{digits}g}" for value in values)
    return rf"\left[{written}\right]" if values.size > 1 else written


def styled(table: pd.DataFrame):
    """The check table with its verdicts green (pass) or red (fail)."""

    def colour(verdict):
        return "background-color: #c8e6c9" if verdict == "pass" else "background-color: #ffcdd2"

    return (
        table.style.format("{:.6g}", subset=table.columns[1:4])
        .format("{:.1e}", subset=ERROR_COLUMNS)
        .map(colour, subset=["verdict"])
    )
