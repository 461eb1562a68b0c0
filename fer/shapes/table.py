"""The table a student checks by hand: one row per layer with its output shape, parameters and working.

`compute_table(input_shape, stack)` walks the stack with `arithmetic.apply_layer`, writes the
working with `formulas`, and stops at the first layer that cannot work, with its sentence.
`table_records` turns the rows into plain dicts keyed by the `Row` field names; the page that
shows them chooses the column labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from fer.i18n import _

from .arithmetic import LayerError, apply_layer
from .formulas import describe_layer, format_count, format_shape, params_working, shape_working
from .layers import Layer, layer_names

HIDDEN = "?"


@dataclass(frozen=True)
class Row:
    name: str
    layer_type: str
    settings: str
    output_shape: tuple[int, ...] | None
    params: int | None
    trainable_params: int | None
    shape_formula: str = ""
    params_formula: str = ""
    error: str | None = None


TABLE_FIELDS = ("name", "layer_type", "settings", "output_shape", "params", "shape_formula", "params_formula")


def compute_table(input_shape: tuple[int, ...], stack: list[Layer], exact_tiling: bool = False) -> list[Row]:
    """One row for the input, then one per layer; stops at the first layer that cannot work.

    `exact_tiling=True` also refuses windows that do not land exactly on the last pixel
    (when the stride does not divide the room left for the window).
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or not all(isinstance(s, int) and s >= 1 for s in input_shape):
        return [Row("input", "Input", "", None, None, None, error=_(
            "The input must be height, width and channels, each a whole number of at least 1; it is {value}."
        ).format(value=repr(input_shape)))]
    rows = [Row("input", "Input", _("height x width x channels"), input_shape, 0, 0, _("the image itself"), "0")]
    shape = input_shape
    for name, layer in zip(layer_names(stack), stack):
        layer_type = type(layer).__name__
        try:
            settings = describe_layer(layer)
        except (TypeError, ValueError):
            settings = ""
        try:
            output = apply_layer(layer, shape, exact_tiling)
        except LayerError as error:
            rows.append(Row(name, layer_type, settings, None, None, None, error=str(error)))
            break
        rows.append(Row(
            name, layer_type, settings, tuple(output.shape), output.params, output.trainable_params,
            shape_working(layer, shape, output.shape), params_working(layer, shape, output.params),
        ))
        shape = output.shape
    return rows


def first_error(rows: list[Row]) -> Row | None:
    return next((row for row in rows if row.error), None)


def total_params(rows: list[Row]) -> tuple[int, int]:
    """(all parameters, trainable parameters), as Keras's count_params() and trainable weights count them."""
    return (sum(row.params or 0 for row in rows), sum(row.trainable_params or 0 for row in rows))


def table_records(rows: list[Row], hidden: frozenset[tuple[int, str]] = frozenset()) -> list[dict]:
    """Rows as plain dicts for a table widget, keyed by `TABLE_FIELDS`; cells named in `hidden`
    as (row index, field) show '?'."""
    records = []
    for index, row in enumerate(rows):
        record = {
            "name": row.name,
            "layer_type": row.layer_type,
            "settings": row.settings,
            "output_shape": format_shape(row.output_shape) if not row.error else "—",
            "params": format_count(row.params) if row.params is not None else "—",
            "shape_formula": row.error or row.shape_formula,
            "params_formula": "" if row.error else row.params_formula,
        }
        for field in TABLE_FIELDS:
            if (index, field) in hidden:
                record[field] = HIDDEN
        records.append(record)
    return records
