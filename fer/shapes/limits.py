"""The largest stack this calculator accepts, so that one link or one typed number cannot take a shared
server down. The arithmetic itself has no limits (Python integers do not overflow); these bound what a
URL, the editor or the Keras check may ask of the server.

The input sizes match the page's number boxes, so a link never opens a box with a value it refuses.
"""

from __future__ import annotations

import math

from .formulas import format_count
from .layers import AveragePooling2D, Conv2D, Dense, Dropout, Layer, LeakyReLU, MaxPooling2D, StackError, ZeroPadding2D

MAX_LAYERS = 64
MAX_INPUT_SIDE = 1024  # pixels of height or width
MAX_CHANNELS = 512
MAX_FILTERS = 4096
MAX_UNITS = 65_536
MAX_WINDOW = 256  # kernel and pool sizes, strides, dilations and padding, in pixels
MAX_KERAS_PARAMS = 50_000_000  # about 200 MB of float32 weights
MAX_STACK_TEXT = 4_000  # characters of a stack in a URL


class LimitError(StackError):
    """A stack or input beyond one of this module's limits; the message names the limit."""


def check_input_limits(input_shape: tuple[int, ...]) -> None:
    """LimitError naming the first size above its limit."""
    for size, what, limit in zip(input_shape, ("height", "width", "channels"),
                                 (MAX_INPUT_SIDE, MAX_INPUT_SIDE, MAX_CHANNELS)):
        if isinstance(size, int) and size > limit:
            unit = "" if what == "channels" else " pixels"
            raise LimitError(
                f"The input {what} {format_count(size)} is above this page's limit of {format_count(limit)}{unit}; "
                f"use an input of at most {MAX_INPUT_SIDE}x{MAX_INPUT_SIDE}x{MAX_CHANNELS}."
            )


def check_layer_count(count: int) -> None:
    if count > MAX_LAYERS:
        raise LimitError(
            f"The stack has {format_count(count)} layers; this page accepts at most {MAX_LAYERS}, so remove some."
        )


def _settings(layer: Layer) -> list[tuple[str, object, int]]:
    """(what, value, limit) for every whole-number setting of the layer that has a limit."""
    if isinstance(layer, Conv2D):
        return [
            ("number of filters", layer.filters, MAX_FILTERS), ("kernel size", layer.kernel_size, MAX_WINDOW),
            ("stride", layer.strides, MAX_WINDOW), ("dilation", layer.dilation_rate, MAX_WINDOW),
            ("padding", layer.padding, MAX_WINDOW),
        ]
    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        return [("pool size", layer.pool_size, MAX_WINDOW), ("stride", layer.strides, MAX_WINDOW)]
    if isinstance(layer, ZeroPadding2D):
        return [("padding", layer.padding, MAX_WINDOW)]
    if isinstance(layer, Dense):
        return [("number of units", layer.units, MAX_UNITS)]
    return []


def check_stack_limits(stack: list[Layer]) -> None:
    """LimitError naming the first layer and setting above its limit. Settings of the wrong kind
    (a kernel of 2.5) are left for the arithmetic to explain on their row."""
    check_layer_count(len(stack))
    for position, layer in enumerate(stack, start=1):
        for what, value, limit in _settings(layer):
            if isinstance(value, int) and not isinstance(value, bool) and value > limit:
                raise LimitError(
                    f"Layer {position} ({type(layer).__name__}) has a {what} of {format_count(value)}; "
                    f"this page accepts at most {format_count(limit)}."
                )
        number = layer.rate if isinstance(layer, Dropout) else getattr(layer, "negative_slope", None)
        if isinstance(layer, (Dropout, LeakyReLU)) and isinstance(number, float) and not math.isfinite(number):
            raise LimitError(f"Layer {position} ({type(layer).__name__}) has {number}, which is not a finite number.")


def check_keras_limits(params: int) -> None:
    """LimitError when a stack is too large to build in Keras on a shared server."""
    if params > MAX_KERAS_PARAMS:
        raise LimitError(
            f"This stack has {format_count(params)} parameters, and the Keras check builds at most "
            f"{format_count(MAX_KERAS_PARAMS)} (about {MAX_KERAS_PARAMS * 4 // 10**6} MB of weights) so that one "
            f"stack cannot fill the server's memory: shrink the Dense layers, or pool before Flatten."
        )
