"""The stack in a link, so that a teacher can share a table: a short readable text, decoded with limits.

    ?input=48x48x1&stack=conv64-k5_pad2_maxpool5-s2_flatten_dense7-softmax&exact=1

One token per layer, joined by '_': a layer word with its main number (`conv64`, `dense7`,
`drop0.2`), then settings joined by '-' (`k5` kernel, `s2` stride, `p2`/`psame` padding,
`d2` dilation, `nobias`, an activation). `decode_query` never raises: whatever the query
string holds, it returns a stack (or None) and sentences naming what it could not use,
including any limit of `limits.py` that the link goes beyond.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from fer.i18n import _
from fer.urlstate import Field, UrlState

from .layers import (
    ACTIVATIONS,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Layer,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    StackError,
    ZeroPadding2D,
)
from .limits import MAX_STACK_TEXT, LimitError, check_input_limits, check_layer_count, check_stack_limits

DEFAULT_INPUT = "48x48x1"
EXACT_STATE = UrlState(Field.flag("exact"))
_MAX_INPUT_TEXT = 40


def _plain(number: float) -> str:
    """0.2 as '0.2' and 1e-05 as '0.00001': the stack text has no room for an exponent's '-'."""
    text = format(Decimal(repr(float(number))), "f")
    return text[:-2] if text.endswith(".0") else text


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
        return f"drop{_plain(layer.rate)}"
    if isinstance(layer, LeakyReLU):
        return f"leaky{_plain(layer.negative_slope)}"
    return {Flatten: "flatten", GlobalAveragePooling2D: "gap", BatchNormalization: "bn", ReLU: "relu"}[type(layer)]


def encode_stack(stack: list[Layer]) -> str:
    return "_".join(_encode_layer(layer) for layer in stack)


# ASCII digits only: str.isdigit() also accepts '²', which int() refuses.
_HEAD = re.compile(r"(conv|maxpool|avgpool|pad|dense|drop|leaky|flatten|gap|bn|relu)([0-9]*\.?[0-9]*)")
_WHOLE = re.compile(r"[0-9]{1,12}")


def _decode_layer(token: str, position: int) -> Layer:
    head, *options = token.split("-")
    match = _HEAD.fullmatch(head)
    shown = repr(token[:40])
    if not match:
        raise StackError(
            _("Layer {position} of the stack text, {token}, does not start with a known layer word.").format(
                position=position, token=shown
            )
        )
    kind, number = match.groups()
    one_number = _("Layer {position} of the stack text, {token}, takes one number and no settings.").format(
        position=position, token=shown
    )

    def whole(text: str) -> int:
        if not _WHOLE.fullmatch(text):
            raise StackError(
                _("Layer {position} of the stack text, {token}, needs a whole number where it has {text}.").format(
                    position=position, token=shown, text=repr(text[:20])
                )
            )
        return int(text)

    if kind in ("flatten", "gap", "bn", "relu"):
        if number or options:
            raise StackError(
                _("Layer {position} of the stack text, {token}, takes no settings.").format(
                    position=position, token=shown
                )
            )
        return {"flatten": Flatten(), "gap": GlobalAveragePooling2D(), "bn": BatchNormalization(), "relu": ReLU()}[kind]
    if kind in ("drop", "leaky"):
        try:
            value = float(number)
        except ValueError:
            raise StackError(
                _("Layer {position} of the stack text, {token}, needs a number, like drop0.2.").format(
                    position=position, token=shown
                )
            ) from None
        if options:
            raise StackError(one_number)
        return Dropout(value) if kind == "drop" else LeakyReLU(value)
    if kind == "pad":
        if options:
            raise StackError(one_number)
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
            raise StackError(
                _("Layer {position} of the stack text, {token}, has an unknown setting {setting}.").format(
                    position=position, token=shown, setting=repr(option[:20])
                )
            )
    if kind == "conv":
        return Conv2D(filters=whole(number), **settings)
    if kind == "dense":
        return Dense(units=whole(number), **settings)
    pool = MaxPooling2D if kind == "maxpool" else AveragePooling2D
    return pool(pool_size=whole(number), **settings)


def decode_stack(text: str) -> list[Layer]:
    """The inverse of `encode_stack`; a StackError names the piece it cannot read, a LimitError the limit."""
    if len(text) > MAX_STACK_TEXT:
        raise LimitError(
            _("The stack text is {length} characters long; this page reads at most {limit}.").format(
                length=f"{len(text):,}", limit=f"{MAX_STACK_TEXT:,}"
            )
        )
    text = text.strip()
    if not text:
        return []
    tokens = text.split("_")
    check_layer_count(len(tokens))
    stack = [_decode_layer(token, position) for position, token in enumerate(tokens, start=1)]
    check_stack_limits(stack)
    return stack


def encode_input_shape(shape: tuple[int, int, int]) -> str:
    return "x".join(str(size) for size in shape)


def decode_input_shape(text: str) -> tuple[int, int, int]:
    parts = text.strip().lower().split("x") if len(text) <= _MAX_INPUT_TEXT else []
    if len(parts) != 3 or not all(_WHOLE.fullmatch(part) and int(part) >= 1 for part in parts):
        raise StackError(
            _("The input shape {text} should look like 48x48x1 (height x width x channels).").format(
                text=repr(text[:_MAX_INPUT_TEXT])
            )
        )
    shape = tuple(int(part) for part in parts)
    check_input_limits(shape)
    return shape  # type: ignore[return-value]


@dataclass(frozen=True)
class SharedStack:
    """What a link shares: the input, the stack and whether exact tiling is asked for."""

    input_shape: tuple[int, int, int]
    stack: tuple
    exact_tiling: bool = False


def _last(value: Any) -> str | None:
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return None if value is None else str(value)


def decode_query(query: Mapping[str, Any]) -> tuple[SharedStack | None, list[str]]:
    """The stack a query string shares (None when it has none or cannot be read) and the problems, as sentences.

    Never raises: parameters other than input, stack and exact are ignored."""
    stack_text, input_text = _last(query.get("stack")), _last(query.get("input"))
    flags, problems = EXACT_STATE.decode({"exact": _last(query.get("exact"))} if "exact" in query else {})
    if stack_text is None:
        return None, problems
    try:
        stack = decode_stack(stack_text)
        input_shape = decode_input_shape(input_text if input_text is not None else DEFAULT_INPUT)
    except StackError as error:
        return None, problems + [str(error)]
    return SharedStack(input_shape, tuple(stack), flags["exact"]), problems


def encode_query(shared: SharedStack) -> dict[str, str]:
    """Query parameters for the shared stack; `decode_query` reads them back."""
    query = {"input": encode_input_shape(shared.input_shape), "stack": encode_stack(list(shared.stack))}
    query.update(EXACT_STATE.encode({"exact": shared.exact_tiling}))
    return query
