"""Shape and parameter arithmetic for a stack of layers, without TensorFlow.

A stack is a list of small layer specs (`Conv2D(64, 5)`, `MaxPooling2D(2)`, `Flatten()`,
...), named after the Keras layers they stand for. `compute_table(input_shape, stack)`
walks it and, per layer, gives the output shape, the parameter count and the working,
with the student's numbers in the formula:

    out = floor((W + 2p - k) / s) + 1        a convolution or pooling with padding p
    out = floor((W + 2p - d(k-1) - 1) / s) + 1   the same with dilation d
    out = ceil(W / s)                        padding="same"

A stack that cannot work stops at the row where it breaks, with a sentence saying why.
Only `keras_table` and `build_keras_model` touch Keras, and they import it inside, so the
arithmetic can be checked against the real thing.
"""

from __future__ import annotations

import math
import numbers
import random
import re
from dataclasses import dataclass
from typing import Union

ACTIVATIONS = ("relu", "softmax", "sigmoid", "tanh", "elu")
EXPLICIT_PADDING_SUFFIX = "_explicit_padding"


class StackError(ValueError):
    """A stack that cannot be read or built; the message says which layer and what to change."""


# ---------------------------------------------------------------------------------------
# Layer specs: one frozen dataclass per Keras layer, with Keras's argument names.


@dataclass(frozen=True)
class Conv2D:
    filters: int = 32
    kernel_size: int = 3
    strides: int = 1
    padding: Union[str, int] = "valid"  # "valid", "same", or an explicit number of pixels
    dilation_rate: int = 1
    use_bias: bool = True
    activation: str | None = None


@dataclass(frozen=True)
class MaxPooling2D:
    pool_size: int = 2
    strides: int | None = None  # None: the pool size, as in Keras
    padding: str = "valid"


@dataclass(frozen=True)
class AveragePooling2D:
    pool_size: int = 2
    strides: int | None = None
    padding: str = "valid"


@dataclass(frozen=True)
class ZeroPadding2D:
    padding: int = 1


@dataclass(frozen=True)
class Flatten:
    pass


@dataclass(frozen=True)
class GlobalAveragePooling2D:
    pass


@dataclass(frozen=True)
class Dense:
    units: int = 64
    activation: str | None = None
    use_bias: bool = True


@dataclass(frozen=True)
class Dropout:
    rate: float = 0.5


@dataclass(frozen=True)
class BatchNormalization:
    pass


@dataclass(frozen=True)
class ReLU:
    pass


@dataclass(frozen=True)
class LeakyReLU:
    negative_slope: float = 0.3


Layer = Union[
    Conv2D, MaxPooling2D, AveragePooling2D, ZeroPadding2D, Flatten, GlobalAveragePooling2D,
    Dense, Dropout, BatchNormalization, ReLU, LeakyReLU,
]
LAYER_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Conv2D, MaxPooling2D, AveragePooling2D, ZeroPadding2D, Flatten, GlobalAveragePooling2D,
        Dense, Dropout, BatchNormalization, ReLU, LeakyReLU,
    )
}
_NAME_PREFIX = {
    "Conv2D": "conv", "MaxPooling2D": "maxpool", "AveragePooling2D": "avgpool",
    "ZeroPadding2D": "pad", "Flatten": "flatten", "GlobalAveragePooling2D": "global_pool",
    "Dense": "dense", "Dropout": "dropout", "BatchNormalization": "batchnorm",
    "ReLU": "relu", "LeakyReLU": "leaky_relu",
}


def layer_names(stack: list[Layer]) -> list[str]:
    """Readable, unique names: conv1, conv2, maxpool1, flatten1, ..."""
    counts: dict[str, int] = {}
    names = []
    for layer in stack:
        prefix = _NAME_PREFIX[type(layer).__name__]
        counts[prefix] = counts.get(prefix, 0) + 1
        names.append(f"{prefix}{counts[prefix]}")
    return names


def describe_layer(layer: Layer) -> str:
    """The settings that matter, in words: '64 filters 5x5, stride 1, padding valid'."""
    if isinstance(layer, Conv2D):
        text = f"{layer.filters} filters {layer.kernel_size}x{layer.kernel_size}, stride {layer.strides}, padding {layer.padding}"
        if layer.dilation_rate != 1:
            text += f", dilation {layer.dilation_rate}"
        if not layer.use_bias:
            text += ", no bias"
        return text + (f", {layer.activation}" if layer.activation else "")
    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        stride = layer.strides if layer.strides is not None else layer.pool_size
        return f"{layer.pool_size}x{layer.pool_size}, stride {stride}, padding {layer.padding}"
    if isinstance(layer, ZeroPadding2D):
        return f"{layer.padding} pixel(s) each side"
    if isinstance(layer, Dense):
        text = f"{layer.units} units" + ("" if layer.use_bias else ", no bias")
        return text + (f", {layer.activation}" if layer.activation else "")
    if isinstance(layer, Dropout):
        return f"rate {layer.rate:g}"
    if isinstance(layer, LeakyReLU):
        return f"slope {layer.negative_slope:g}"
    return ""


# ---------------------------------------------------------------------------------------
# The table.


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


class _RowError(Exception):
    pass


def format_shape(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return ""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(size) for size in shape) + ")"


def _n(number: int) -> str:
    return f"{number:,}"


def _require_image(shape: tuple[int, ...], layer_type: str) -> None:
    if len(shape) != 3:
        raise _RowError(
            f"{layer_type} needs an image (height, width, channels) but receives a flat vector of "
            f"{_n(shape[0])} numbers: move the Flatten after this layer, or remove this layer."
        )


def _require_positive_int(value, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _RowError(f"The {what} must be a whole number of at least 1; it is {value!r}.")


def _sliding_size(size: int, kernel: int, stride: int, pad: int, dilation: int, axis: str, exact: bool) -> tuple[int, str]:
    """One spatial axis of a convolution or pooling window without 'same' padding."""
    letter = "H" if axis == "height" else "W"
    reach = dilation * (kernel - 1) + 1
    room = size + 2 * pad - reach
    if dilation == 1:
        letters = f"floor(({letter} + 2p - k) / s) + 1"
        numbers = f"({size} + 2·{pad} - {kernel})"
    else:
        letters = f"floor(({letter} + 2p - d(k-1) - 1) / s) + 1"
        numbers = f"({size} + 2·{pad} - {dilation}·({kernel}-1) - 1)"
    if room < 0:
        padded = f"{size} + 2·{pad} = {size + 2 * pad}" if pad else f"{size}"
        window = f"{reach} (a {kernel}-wide kernel with dilation {dilation})" if dilation > 1 else f"{kernel}"
        raise _RowError(
            f"The window ({window} pixels) is larger than the {axis} it slides over ({padded} pixels): "
            f"there is no place to put it, and the formula gives {room // stride + 1}. Use a smaller kernel, "
            f"padding 'same', or fewer pooling layers before this one."
        )
    if exact and room % stride:
        raise _RowError(
            f"Exact tiling fails on the {axis}: {numbers} = {room} is not a multiple of the stride {stride}, "
            f"so the last {room % stride} pixel(s) are never covered by the window. "
            f"Change the stride, the kernel or the padding so that the window lands on the last pixel."
        )
    out = room // stride + 1
    return out, f"{letters} = floor({numbers} / {stride}) + 1 = floor({room / stride:g}) + 1 = {out}"


def _same_size(size: int, stride: int, axis: str, exact: bool) -> tuple[int, str]:
    if exact and size % stride:
        raise _RowError(
            f"Exact tiling fails on the {axis}: {size} pixels is not a multiple of the stride {stride}, "
            f"so 'same' padding has to add {stride - size % stride} uneven pixel(s). "
            f"Change the stride or the input size."
        )
    out = math.ceil(size / stride)
    letter = "H" if axis == "height" else "W"
    return out, f"ceil({letter} / s) = ceil({size} / {stride}) = {out}"


def _spatial(shape, kernel, stride, padding, dilation, exact) -> tuple[int, int, str]:
    """Output height and width, with the working for both (once when they agree)."""
    height, width = shape[0], shape[1]
    if padding == "same":
        out_h, text_h = _same_size(height, stride, "height", exact)
        out_w, text_w = _same_size(width, stride, "width", exact)
    else:
        pad = 0 if padding == "valid" else padding
        out_h, text_h = _sliding_size(height, kernel, stride, pad, dilation, "height", exact)
        out_w, text_w = _sliding_size(width, kernel, stride, pad, dilation, "width", exact)
    if height == width:
        return out_h, out_w, f"H = W: {text_w}"
    return out_h, out_w, f"{text_h}; {text_w}"


def _check_padding(padding, allow_explicit: bool) -> None:
    if padding in ("valid", "same"):
        return
    if allow_explicit and isinstance(padding, int) and not isinstance(padding, bool) and padding >= 0:
        return
    choices = "'valid', 'same' or a number of pixels (0 or more)" if allow_explicit else "'valid' or 'same'"
    raise _RowError(f"Padding must be {choices}; it is {padding!r}.")


def _apply(layer: Layer, shape: tuple[int, ...], exact: bool):
    """(output shape, params, trainable params, shape working, params working) or _RowError."""
    if isinstance(layer, Conv2D):
        _require_image(shape, "Conv2D")
        _require_positive_int(layer.filters, "number of filters")
        _require_positive_int(layer.kernel_size, "kernel size")
        _require_positive_int(layer.strides, "stride")
        _require_positive_int(layer.dilation_rate, "dilation")
        _check_padding(layer.padding, allow_explicit=True)
        if layer.strides > 1 and layer.dilation_rate > 1:
            raise _RowError(
                "Keras does not combine a stride above 1 with a dilation above 1 in one Conv2D: "
                "set one of them to 1."
            )
        out_h, out_w, working = _spatial(shape, layer.kernel_size, layer.strides, layer.padding, layer.dilation_rate, exact)
        k, c_in, filters = layer.kernel_size, shape[2], layer.filters
        if layer.use_bias:
            params = (k * k * c_in + 1) * filters
            params_text = f"(k·k·C_in + 1)·F = ({k}·{k}·{c_in} + 1)·{filters} = {_n(params)}"
        else:
            params = k * k * c_in * filters
            params_text = f"k·k·C_in·F = {k}·{k}·{c_in}·{filters} = {_n(params)} (no bias)"
        return (out_h, out_w, filters), params, params, working, params_text

    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        kind = type(layer).__name__
        _require_image(shape, kind)
        _require_positive_int(layer.pool_size, "pool size")
        stride = layer.pool_size if layer.strides is None else layer.strides
        _require_positive_int(stride, "stride")
        _check_padding(layer.padding, allow_explicit=False)
        out_h, out_w, working = _spatial(shape, layer.pool_size, stride, layer.padding, 1, exact)
        taken = "maximum" if isinstance(layer, MaxPooling2D) else "average"
        return (out_h, out_w, shape[2]), 0, 0, working, f"0: a pooling layer takes the {taken} of each window, nothing to learn"

    if isinstance(layer, ZeroPadding2D):
        _require_image(shape, "ZeroPadding2D")
        pad = layer.padding
        if not isinstance(pad, int) or isinstance(pad, bool) or pad < 0:
            raise _RowError(f"Zero padding must be a whole number of pixels, 0 or more; it is {pad!r}.")
        height, width = shape[0] + 2 * pad, shape[1] + 2 * pad
        if shape[0] == shape[1]:
            working = f"H = W: W + 2p = {shape[1]} + 2·{pad} = {width}"
        else:
            working = f"H + 2p = {shape[0]} + 2·{pad} = {height}; W + 2p = {shape[1]} + 2·{pad} = {width}"
        return (height, width, shape[2]), 0, 0, working, "0"

    if isinstance(layer, Flatten):
        size = math.prod(shape)
        working = "H·W·C = " + "·".join(str(s) for s in shape) + f" = {_n(size)}" if len(shape) > 1 else "already flat"
        return (size,), 0, 0, working, "0"

    if isinstance(layer, GlobalAveragePooling2D):
        _require_image(shape, "GlobalAveragePooling2D")
        return (shape[2],), 0, 0, f"one average per channel over {shape[0]}x{shape[1]}: C = {shape[2]}", "0"

    if isinstance(layer, Dense):
        _require_positive_int(layer.units, "number of units")
        n_in, units = shape[-1], layer.units
        if layer.use_bias:
            params = (n_in + 1) * units
            params_text = f"(N_in + 1)·units = ({_n(n_in)} + 1)·{units} = {_n(params)}"
        else:
            params = n_in * units
            params_text = f"N_in·units = {_n(n_in)}·{units} = {_n(params)} (no bias)"
        if len(shape) == 1:
            working = f"units = {units}"
        else:
            working = (
                f"not flat: Dense acts on the last axis at each of the {'x'.join(map(str, shape[:-1]))} "
                f"positions, so only C changes to {units}"
            )
        return shape[:-1] + (units,), params, params, working, params_text

    if isinstance(layer, Dropout):
        if not isinstance(layer.rate, (int, float)) or not 0 <= layer.rate < 1:
            raise _RowError(f"The dropout rate is the fraction of values dropped: at least 0 and below 1; it is {layer.rate!r}.")
        return shape, 0, 0, f"same shape: zeroes {layer.rate:.0%} of the values while training", "0"

    if isinstance(layer, BatchNormalization):
        channels = shape[-1]
        params = 4 * channels
        params_text = (
            f"4·C = 4·{channels} = {_n(params)}: γ and β are learned (2·C = {_n(2 * channels)}), "
            f"the moving mean and variance are not"
        )
        return shape, params, 2 * channels, "same shape: normalises each channel", params_text

    if isinstance(layer, (ReLU, LeakyReLU)):
        if isinstance(layer, LeakyReLU) and not isinstance(layer.negative_slope, (int, float)):
            raise _RowError(f"The negative slope must be a number; it is {layer.negative_slope!r}.")
        return shape, 0, 0, "same shape: applied to every value", "0"

    raise _RowError(f"{type(layer).__name__} is not a layer this calculator knows.")


def compute_table(input_shape: tuple[int, ...], stack: list[Layer], exact_tiling: bool = False) -> list[Row]:
    """One row for the input, then one per layer; stops at the first layer that cannot work.

    `exact_tiling=True` also refuses windows that do not land exactly on the last pixel
    (when the stride does not divide the room left for the window).
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or not all(isinstance(s, int) and s >= 1 for s in input_shape):
        return [Row("input", "Input", "", None, None, None, error=(
            f"The input must be height, width and channels, each a whole number of at least 1; it is {input_shape!r}."
        ))]
    rows = [Row("input", "Input", "height x width x channels", input_shape, 0, 0, "the image itself", "0")]
    shape = input_shape
    for name, layer in zip(layer_names(stack), stack):
        layer_type = type(layer).__name__
        try:
            settings = describe_layer(layer)
        except (TypeError, ValueError):
            settings = ""
        try:
            shape, params, trainable, working, params_text = _apply(layer, shape, exact_tiling)
        except _RowError as error:
            rows.append(Row(name, layer_type, settings, None, None, None, error=str(error)))
            break
        rows.append(Row(name, layer_type, settings, tuple(shape), params, trainable, working, params_text))
    return rows


def first_error(rows: list[Row]) -> Row | None:
    return next((row for row in rows if row.error), None)


def total_params(rows: list[Row]) -> tuple[int, int]:
    """(all parameters, trainable parameters), as Keras's count_params() and trainable weights count them."""
    return (sum(row.params or 0 for row in rows), sum(row.trainable_params or 0 for row in rows))


def table_records(rows: list[Row], quiz: "Quiz | None" = None) -> list[dict]:
    """Rows as plain dicts for a table widget; the quiz's hidden cell and its working show '?'."""
    records = []
    for index, row in enumerate(rows):
        record = {
            "layer": row.name,
            "type": row.layer_type,
            "settings": row.settings,
            "output shape": format_shape(row.output_shape) if not row.error else "—",
            "parameters": _n(row.params) if row.params is not None else "—",
            "shape working": row.error or row.shape_formula,
            "parameter working": "" if row.error else row.params_formula,
        }
        if quiz is not None and index == quiz.row_index:
            if quiz.field == "output_shape":
                record["output shape"] = "?"
                record["shape working"] = "?"
            else:
                record["parameters"] = "?"
                record["parameter working"] = "?"
        records.append(record)
    return records


# ---------------------------------------------------------------------------------------
# Presets: the two reports' networks, layer for layer.


def _report_a_cnn() -> list[Layer]:
    stack: list[Layer] = []
    for filters, kernel, pad in ((32, 5, 2), (128, 5, 2), (256, 3, 1), (256, 3, 1)):
        stack += [Conv2D(filters, kernel, padding=pad), LeakyReLU(0.05), BatchNormalization(), MaxPooling2D(2)]
    return stack + [Flatten(), Dense(256, activation="relu"), BatchNormalization(), Dense(7, activation="softmax")]


def _report_b_cnn() -> list[Layer]:
    return [
        Conv2D(64, 5, activation="relu"), ZeroPadding2D(2), MaxPooling2D(5, strides=2),
        ZeroPadding2D(1), Conv2D(64, 3, activation="relu"),
        ZeroPadding2D(1), Conv2D(64, 3, activation="relu"), AveragePooling2D(3, strides=2),
        ZeroPadding2D(1), Dropout(0.2), Conv2D(96, 3, activation="relu"),
        ZeroPadding2D(1), Conv2D(128, 3, activation="relu"),
        ZeroPadding2D(1), Dropout(0.2), Conv2D(128, 3, activation="relu"),
        ZeroPadding2D(1), AveragePooling2D(3, strides=2), Dropout(0.2),
        Flatten(), Dense(900, activation="relu"), Dense(900, activation="relu"), Dense(7, activation="softmax"),
    ]


def _report_b_dnn() -> list[Layer]:
    stack: list[Layer] = [Flatten()]
    for units in (1024, 1024, 768, 768, 512, 512):
        stack += [Dense(units, activation="relu"), Dropout(0.2)]
    return stack + [Dense(7, activation="softmax")]


def _small_cnn() -> list[Layer]:
    stack: list[Layer] = []
    for filters in (16, 32, 64):
        stack += [Conv2D(filters, 3, padding="same", use_bias=False), BatchNormalization(), ReLU(), MaxPooling2D(2)]
    return stack + [
        Flatten(), Dropout(0.25), Dense(32, use_bias=False), BatchNormalization(), ReLU(), Dense(7, activation="softmax"),
    ]


@dataclass(frozen=True)
class Preset:
    title: str
    description: str
    input_shape: tuple[int, int, int]
    stack: tuple


PRESETS: dict[str, Preset] = {
    "report_a_cnn": Preset(
        "Report A CNN", "Four conv blocks with explicit padding 2, 2, 1, 1; 1,582,343 trainable parameters.",
        (48, 48, 1), tuple(_report_a_cnn()),
    ),
    "report_b_cnn": Preset(
        "Report B CNN", "Zero padding, pooling with 5x5/2 and 3x3/2 windows; 4,087,323 parameters.",
        (48, 48, 1), tuple(_report_b_cnn()),
    ),
    "report_b_dnn": Preset(
        "Report B DNN", "No convolutions: 2304 -> 1024 -> 1024 -> 768 -> 768 -> 512 -> 512 -> 7.",
        (48, 48, 1), tuple(_report_b_dnn()),
    ),
    "small_cnn": Preset(
        "Our small demo CNN", "Three 'same'-padded conv blocks that halve the image each time.",
        (48, 48, 1), tuple(_small_cnn()),
    ),
}


# ---------------------------------------------------------------------------------------
# The stack as a short, readable text for the URL: conv64-k5_pad2_maxpool5-s2_flatten_dense7-softmax


def _encode_layer(layer: Layer) -> str:
    if isinstance(layer, Conv2D):
        parts = [f"conv{layer.filters}", f"k{layer.kernel_size}"]
        if layer.strides != 1:
            parts.append(f"s{layer.strides}")
        if layer.padding != "valid":
            parts.append(f"p{layer.padding}")
        if layer.dilation_rate != 1:
            parts.append(f"d{layer.dilation_rate}")
        if not layer.use_bias:
            parts.append("nobias")
        if layer.activation:
            parts.append(layer.activation)
        return "-".join(parts)
    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        parts = [("maxpool" if isinstance(layer, MaxPooling2D) else "avgpool") + str(layer.pool_size)]
        if layer.strides is not None:
            parts.append(f"s{layer.strides}")
        if layer.padding != "valid":
            parts.append(f"p{layer.padding}")
        return "-".join(parts)
    if isinstance(layer, ZeroPadding2D):
        return f"pad{layer.padding}"
    if isinstance(layer, Dense):
        parts = [f"dense{layer.units}"]
        if not layer.use_bias:
            parts.append("nobias")
        if layer.activation:
            parts.append(layer.activation)
        return "-".join(parts)
    if isinstance(layer, Dropout):
        return f"drop{layer.rate:g}"
    if isinstance(layer, LeakyReLU):
        return f"leaky{layer.negative_slope:g}"
    return {Flatten: "flatten", GlobalAveragePooling2D: "gap", BatchNormalization: "bn", ReLU: "relu"}[type(layer)]


def encode_stack(stack: list[Layer]) -> str:
    return "_".join(_encode_layer(layer) for layer in stack)


_HEAD = re.compile(r"^(conv|maxpool|avgpool|pad|dense|drop|leaky|flatten|gap|bn|relu)(\d*\.?\d*)$")


def _decode_layer(token: str, position: int) -> Layer:
    head, *options = token.split("-")
    match = _HEAD.match(head)
    if not match:
        raise StackError(f"Layer {position} of the stack text, {token!r}, does not start with a known layer word.")
    kind, number = match.groups()

    def whole(text: str) -> int:
        if not text.isdigit():
            raise StackError(f"Layer {position} of the stack text, {token!r}, needs a whole number where it has {text!r}.")
        return int(text)

    if kind in ("flatten", "gap", "bn", "relu"):
        if number or options:
            raise StackError(f"Layer {position} of the stack text, {token!r}, takes no settings.")
        return {"flatten": Flatten(), "gap": GlobalAveragePooling2D(), "bn": BatchNormalization(), "relu": ReLU()}[kind]
    if kind in ("drop", "leaky"):
        try:
            value = float(number)
        except ValueError:
            raise StackError(f"Layer {position} of the stack text, {token!r}, needs a number, like drop0.2.") from None
        return Dropout(value) if kind == "drop" else LeakyReLU(value)
    if kind == "pad":
        return ZeroPadding2D(whole(number))
    settings: dict = {}
    for option in options:
        if option in ACTIVATIONS and kind in ("conv", "dense"):
            settings["activation"] = option
        elif option == "nobias" and kind in ("conv", "dense"):
            settings["use_bias"] = False
        elif option[:1] == "k" and kind == "conv":
            settings["kernel_size"] = whole(option[1:])
        elif option[:1] == "s" and kind != "dense":
            settings["strides"] = whole(option[1:])
        elif option[:1] == "d" and kind == "conv":
            settings["dilation_rate"] = whole(option[1:])
        elif option in ("pvalid", "psame"):
            settings["padding"] = option[1:]
        elif option[:1] == "p" and kind == "conv":
            settings["padding"] = whole(option[1:])
        else:
            raise StackError(f"Layer {position} of the stack text, {token!r}, has an unknown setting {option!r}.")
    if kind == "conv":
        return Conv2D(filters=whole(number), **settings)
    if kind == "dense":
        return Dense(units=whole(number), **settings)
    pool = MaxPooling2D if kind == "maxpool" else AveragePooling2D
    return pool(pool_size=whole(number), **settings)


def decode_stack(text: str) -> list[Layer]:
    """The inverse of `encode_stack`; a StackError names the piece it cannot read."""
    text = text.strip()
    if not text:
        return []
    return [_decode_layer(token, position) for position, token in enumerate(text.split("_"), start=1)]


def encode_input_shape(shape: tuple[int, int, int]) -> str:
    return "x".join(str(size) for size in shape)


def decode_input_shape(text: str) -> tuple[int, int, int]:
    parts = text.strip().lower().split("x")
    if len(parts) != 3 or not all(part.isdigit() and int(part) >= 1 for part in parts):
        raise StackError(f"The input shape {text!r} should look like 48x48x1 (height x width x channels).")
    return tuple(int(part) for part in parts)  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------
# The stack as editable rows (for a table editor): one dict per layer, blanks mean defaults.

EDITOR_COLUMNS = ("layer", "filters / units", "kernel / pool", "stride", "padding", "dilation", "rate / slope", "activation", "bias")


def stack_to_records(stack: list[Layer]) -> list[dict]:
    records = []
    for layer in stack:
        record = dict.fromkeys(EDITOR_COLUMNS)
        record["layer"] = type(layer).__name__
        if isinstance(layer, Conv2D):
            record.update({
                "filters / units": layer.filters, "kernel / pool": layer.kernel_size, "stride": layer.strides,
                "padding": str(layer.padding), "dilation": layer.dilation_rate,
                "activation": layer.activation, "bias": layer.use_bias,
            })
        elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
            record.update({"kernel / pool": layer.pool_size, "stride": layer.strides, "padding": layer.padding})
        elif isinstance(layer, ZeroPadding2D):
            record["padding"] = str(layer.padding)
        elif isinstance(layer, Dense):
            record.update({"filters / units": layer.units, "activation": layer.activation, "bias": layer.use_bias})
        elif isinstance(layer, Dropout):
            record["rate / slope"] = layer.rate
        elif isinstance(layer, LeakyReLU):
            record["rate / slope"] = layer.negative_slope
        records.append(record)
    return records


def _blank(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def records_to_stack(records: list[dict]) -> list[Layer]:
    """Editor rows back to layer specs. Blank cells take the layer's default; wrong values are
    kept so that `compute_table` explains them on their row."""
    stack = []
    for position, record in enumerate(records, start=1):
        kind = record.get("layer")
        if _blank(kind):
            continue
        if kind not in LAYER_TYPES:
            raise StackError(f"Row {position}: {kind!r} is not a layer type; choose one of {', '.join(LAYER_TYPES)}.")
        cls = LAYER_TYPES[kind]
        defaults = cls()

        def number(column: str, field_name: str, whole: bool = True):
            value = record.get(column)
            if _blank(value):
                return getattr(defaults, field_name)
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                return int(value)
            if isinstance(value, numbers.Real):
                value = float(value)
                return int(value) if whole and value.is_integer() else value
            return value

        def padding(allow_explicit: bool):
            value = record.get("padding")
            if _blank(value):
                return getattr(defaults, "padding")
            text = str(value).strip().lower()
            if text in ("valid", "same"):
                return text
            if text.lstrip("-").isdigit() and allow_explicit:
                return int(text)
            return text

        def activation():
            value = record.get("activation")
            return None if _blank(value) or value == "none" else str(value)

        def bias():
            value = record.get("bias")
            return True if _blank(value) else bool(value)

        if cls is Conv2D:
            layer = Conv2D(number("filters / units", "filters"), number("kernel / pool", "kernel_size"),
                           number("stride", "strides"), padding(True), number("dilation", "dilation_rate"),
                           bias(), activation())
        elif cls in (MaxPooling2D, AveragePooling2D):
            layer = cls(number("kernel / pool", "pool_size"), number("stride", "strides"), padding(False))
        elif cls is ZeroPadding2D:
            layer = ZeroPadding2D(padding(True))
        elif cls is Dense:
            layer = Dense(number("filters / units", "units"), activation(), bias())
        elif cls is Dropout:
            layer = Dropout(number("rate / slope", "rate", whole=False))
        elif cls is LeakyReLU:
            layer = LeakyReLU(number("rate / slope", "negative_slope", whole=False))
        else:
            layer = cls()
        stack.append(layer)
    return stack


# ---------------------------------------------------------------------------------------
# Quiz: hide one output shape or parameter count, check the student's answer, show the working.


@dataclass(frozen=True)
class Quiz:
    row_index: int
    field: str  # "output_shape" or "params"
    question: str
    answer: str
    working: str


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
        raise StackError("This stack has no layer worth a question: add a convolution, pooling or dense layer.")
    index, field_name = rng.choice(candidates)
    row, previous = rows[index], rows[index - 1]
    layer = f"{row.name} ({row.layer_type}: {row.settings})" if row.settings else f"{row.name} ({row.layer_type})"
    if field_name == "output_shape":
        question = f"What is the output shape of {layer}? Its input is {format_shape(previous.output_shape)}."
        return Quiz(index, field_name, question, format_shape(row.output_shape), row.shape_formula)
    question = f"How many parameters does {layer} have? Its input is {format_shape(previous.output_shape)}."
    return Quiz(index, field_name, question, _n(row.params), row.params_formula)


@dataclass(frozen=True)
class QuizResult:
    correct: bool
    message: str


def check_answer(quiz: Quiz, text: str) -> QuizResult:
    """Shapes: any separators ('22x22x64', '(22, 22, 64)'); counts: thousands separators allowed."""
    if quiz.field == "output_shape":
        given = tuple(int(part) for part in re.findall(r"\d+", text))
        expected = tuple(int(part) for part in re.findall(r"\d+", quiz.answer))
        shown = format_shape(given) if given else repr(text)
    else:
        digits = re.sub(r"[\s,_'.]", "", text)
        given = int(digits) if digits.isdigit() else None
        expected = int(quiz.answer.replace(",", ""))
        shown = _n(given) if given is not None else repr(text)
    if not given:
        return QuizResult(False, f"Type a {'shape like 22x22x64' if quiz.field == 'output_shape' else 'whole number'} first.")
    if given == expected:
        return QuizResult(True, f"Right: {quiz.answer}. Working: {quiz.working}")
    return QuizResult(False, f"Not quite: you said {shown}, the answer is {quiz.answer}. Working: {quiz.working}")


# ---------------------------------------------------------------------------------------
# Keras, for checking: build the stack for real, and read any Keras model into rows.


def build_keras_model(input_shape: tuple[int, int, int], stack: list[Layer]):
    """The stack as a real `keras.Sequential`, layer names matching `compute_table`'s.

    Keras's Conv2D has no explicit padding, so `Conv2D(padding=2)` becomes a ZeroPadding2D
    (named '<conv>_explicit_padding') followed by a 'valid' Conv2D; `keras_table` folds the
    pair back into one row.
    """
    broken = first_error(compute_table(input_shape, stack))
    if broken is not None:
        raise StackError(f"Fix layer {broken.name} first: {broken.error}")
    import keras
    from keras import layers

    model_layers = [keras.Input(shape=tuple(input_shape), name="input")]
    for name, layer in zip(layer_names(stack), stack):
        if isinstance(layer, Conv2D):
            padding = layer.padding
            if isinstance(padding, int):
                if padding:
                    model_layers.append(layers.ZeroPadding2D(padding, name=name + EXPLICIT_PADDING_SUFFIX))
                padding = "valid"
            model_layers.append(layers.Conv2D(
                layer.filters, layer.kernel_size, strides=layer.strides, padding=padding,
                dilation_rate=layer.dilation_rate, use_bias=layer.use_bias, activation=layer.activation, name=name,
            ))
        elif isinstance(layer, MaxPooling2D):
            model_layers.append(layers.MaxPooling2D(layer.pool_size, strides=layer.strides, padding=layer.padding, name=name))
        elif isinstance(layer, AveragePooling2D):
            model_layers.append(layers.AveragePooling2D(layer.pool_size, strides=layer.strides, padding=layer.padding, name=name))
        elif isinstance(layer, ZeroPadding2D):
            model_layers.append(layers.ZeroPadding2D(layer.padding, name=name))
        elif isinstance(layer, Dense):
            model_layers.append(layers.Dense(layer.units, activation=layer.activation, use_bias=layer.use_bias, name=name))
        elif isinstance(layer, Dropout):
            model_layers.append(layers.Dropout(layer.rate, name=name))
        elif isinstance(layer, LeakyReLU):
            model_layers.append(layers.LeakyReLU(negative_slope=layer.negative_slope, name=name))
        else:
            model_layers.append(getattr(layers, type(layer).__name__)(name=name))
    return keras.Sequential(model_layers, name="stack")


def keras_table(model) -> list[Row]:
    """Rows read from a real Keras model: its own output shapes and parameter counts, no arithmetic."""
    input_shape = tuple(int(size) for size in model.inputs[0].shape[1:])
    rows = [Row("input", "Input", "from Keras", input_shape, 0, 0)]
    model_layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for index, layer in enumerate(model_layers):
        following = model_layers[index + 1] if index + 1 < len(model_layers) else None
        if following is not None and layer.name == following.name + EXPLICIT_PADDING_SUFFIX:
            continue
        trainable = sum(math.prod(weight.shape) for weight in layer.trainable_weights)
        shape = tuple(int(size) for size in layer.output.shape[1:])
        rows.append(Row(layer.name, type(layer).__name__, "from Keras", shape, int(layer.count_params()), int(trainable)))
    return rows


def compare_tables(ours: list[Row], theirs: list[Row]) -> list[str]:
    """Sentences for every difference in layer type, output shape or parameter counts; [] when equal."""
    differences = []
    if len(ours) != len(theirs):
        differences.append(f"The tables have {len(ours)} and {len(theirs)} rows.")
    for index, (mine, keras_row) in enumerate(zip(ours, theirs)):
        for label, a, b in (
            ("type", mine.layer_type, keras_row.layer_type),
            ("output shape", format_shape(mine.output_shape), format_shape(keras_row.output_shape)),
            ("parameters", mine.params, keras_row.params),
            ("trainable parameters", mine.trainable_params, keras_row.trainable_params),
        ):
            if a != b:
                differences.append(f"Row {index} ({mine.name} / {keras_row.name}): {label} {a} here, {b} in Keras.")
    return differences

