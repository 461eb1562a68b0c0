"""The stack as editable rows for a table editor: one dict per layer, blanks mean Keras's defaults.

The keys are `EDITOR_FIELDS`; the page that shows them chooses the column labels. Wrong values
(a kernel of 2.5, padding 'banana') are kept, so that `compute_table` explains them on their row.
"""

from __future__ import annotations

import math
import numbers

from fer.i18n import _

from .layers import (
    LAYER_TYPES,
    AveragePooling2D,
    Conv2D,
    Dense,
    Dropout,
    Layer,
    LeakyReLU,
    MaxPooling2D,
    StackError,
    ZeroPadding2D,
)

# size: filters or units; window: kernel or pool size; rate: dropout rate or negative slope
EDITOR_FIELDS = ("layer", "size", "window", "stride", "padding", "dilation", "rate", "activation", "bias")


def stack_to_records(stack: list[Layer]) -> list[dict]:
    records = []
    for layer in stack:
        record = dict.fromkeys(EDITOR_FIELDS)
        record["layer"] = type(layer).__name__
        if isinstance(layer, Conv2D):
            record.update({
                "size": layer.filters, "window": layer.kernel_size, "stride": layer.strides,
                "padding": str(layer.padding), "dilation": layer.dilation_rate,
                "activation": layer.activation, "bias": layer.use_bias,
            })
        elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
            record.update({"window": layer.pool_size, "stride": layer.strides, "padding": layer.padding})
        elif isinstance(layer, ZeroPadding2D):
            record["padding"] = str(layer.padding)
        elif isinstance(layer, Dense):
            record.update({"size": layer.units, "activation": layer.activation, "bias": layer.use_bias})
        elif isinstance(layer, Dropout):
            record["rate"] = layer.rate
        elif isinstance(layer, LeakyReLU):
            record["rate"] = layer.negative_slope
        records.append(record)
    return records


def _blank(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _number(value, default, whole: bool):
    if _blank(value):
        return default
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return int(value) if whole and value.is_integer() else value
    return value


def _padding(value, default, allow_explicit: bool):
    if _blank(value):
        return default
    text = str(value).strip().lower()
    if text in ("valid", "same"):
        return text
    digits = text.removeprefix("-")
    if allow_explicit and digits.isascii() and digits.isdigit() and len(digits) < 12:
        return int(text)
    return text


def _activation(value) -> str | None:
    return None if _blank(value) or value == "none" else str(value)


def _bias(value) -> bool:
    return True if _blank(value) else bool(value)


def _layer_from_record(cls: type, record: dict) -> Layer:
    defaults = cls()

    def number(field: str, attribute: str, whole: bool = True):
        return _number(record.get(field), getattr(defaults, attribute), whole)

    def padding(allow_explicit: bool):
        return _padding(record.get("padding"), defaults.padding, allow_explicit)

    activation, bias = _activation(record.get("activation")), _bias(record.get("bias"))
    if cls is Conv2D:
        return Conv2D(number("size", "filters"), number("window", "kernel_size"), number("stride", "strides"),
                      padding(True), number("dilation", "dilation_rate"), bias, activation)
    if cls in (MaxPooling2D, AveragePooling2D):
        return cls(number("window", "pool_size"), number("stride", "strides"), padding(False))
    if cls is ZeroPadding2D:
        return ZeroPadding2D(padding(True))
    if cls is Dense:
        return Dense(number("size", "units"), activation, bias)
    if cls is Dropout:
        return Dropout(number("rate", "rate", whole=False))
    if cls is LeakyReLU:
        return LeakyReLU(number("rate", "negative_slope", whole=False))
    return cls()


def records_to_stack(records: list[dict]) -> list[Layer]:
    """Editor rows back to layer specs. Blank cells take the layer's default; wrong values are
    kept so that `compute_table` explains them on their row."""
    stack = []
    for position, record in enumerate(records, start=1):
        kind = record.get("layer")
        if _blank(kind):
            continue
        if kind not in LAYER_TYPES:
            raise StackError(_("Row {position}: {kind} is not a layer type; choose one of {types}.").format(
                position=position, kind=repr(kind), types=", ".join(LAYER_TYPES)
            ))
        stack.append(_layer_from_record(LAYER_TYPES[kind], record))
    return stack
