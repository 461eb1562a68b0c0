"""The largest stack this calculator accepts, so that one link or one typed number cannot take a shared
server down. The arithmetic itself has no limits (Python integers do not overflow); these bound what a
URL, the editor or the Keras check may ask of the server.

The input sizes match the page's number boxes, so a link never opens a box with a value it refuses.
"""

from __future__ import annotations

import math

from fer.i18n import _

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
    sentences = (
        _("The input height {size} is above this page's limit of {limit} pixels; use an input of at most {largest}."),
        _("The input width {size} is above this page's limit of {limit} pixels; use an input of at most {largest}."),
        _("The input channels {size} is above this page's limit of {limit}; use an input of at most {largest}."),
    )
    for size, sentence, limit in zip(input_shape, sentences, (MAX_INPUT_SIDE, MAX_INPUT_SIDE, MAX_CHANNELS)):
        if isinstance(size, int) and size > limit:
            raise LimitError(sentence.format(
                size=format_count(size), limit=format_count(limit),
                largest=f"{MAX_INPUT_SIDE}x{MAX_INPUT_SIDE}x{MAX_CHANNELS}",
            ))


def check_layer_count(count: int) -> None:
    if count > MAX_LAYERS:
        raise LimitError(
            _("The stack has {count} layers; this page accepts at most {limit}, so remove some.").format(
                count=format_count(count), limit=MAX_LAYERS
            )
        )


def _settings(layer: Layer) -> list[tuple[str, object, int]]:
    """(what, value, limit) for every whole-number setting of the layer that has a limit."""
    if isinstance(layer, Conv2D):
        return [
            (_("number of filters"), layer.filters, MAX_FILTERS), (_("kernel size"), layer.kernel_size, MAX_WINDOW),
            (_("stride"), layer.strides, MAX_WINDOW), (_("dilation"), layer.dilation_rate, MAX_WINDOW),
            (_("padding"), layer.padding, MAX_WINDOW),
        ]
    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        return [(_("pool size"), layer.pool_size, MAX_WINDOW), (_("stride"), layer.strides, MAX_WINDOW)]
    if isinstance(layer, ZeroPadding2D):
        return [(_("padding"), layer.padding, MAX_WINDOW)]
    if isinstance(layer, Dense):
        return [(_("number of units"), layer.units, MAX_UNITS)]
    return []


def check_stack_limits(stack: list[Layer]) -> None:
    """LimitError naming the first layer and setting above its limit. Settings of the wrong kind
    (a kernel of 2.5) are left for the arithmetic to explain on their row."""
    check_layer_count(len(stack))
    for position, layer in enumerate(stack, start=1):
        for what, value, limit in _settings(layer):
            if isinstance(value, int) and not isinstance(value, bool) and value > limit:
                raise LimitError(
                    _("Layer {position} ({layer_type}) has a {setting} of {value}; this page accepts at most {limit}.")
                    .format(position=position, layer_type=type(layer).__name__, setting=what,
                            value=format_count(value), limit=format_count(limit))
                )
        number = layer.rate if isinstance(layer, Dropout) else getattr(layer, "negative_slope", None)
        if isinstance(layer, (Dropout, LeakyReLU)) and isinstance(number, float) and not math.isfinite(number):
            raise LimitError(_("Layer {position} ({layer_type}) has {number}, which is not a finite number.").format(
                position=position, layer_type=type(layer).__name__, number=number
            ))


def check_keras_limits(params: int) -> None:
    """LimitError when a stack is too large to build in Keras on a shared server."""
    if params > MAX_KERAS_PARAMS:
        raise LimitError(
            _(
                "This stack has {params} parameters, and the Keras check builds at most {limit} (about {megabytes} MB "
                "of weights) so that one stack cannot fill the server's memory: shrink the Dense layers, or pool "
                "before Flatten."
            ).format(params=format_count(params), limit=format_count(MAX_KERAS_PARAMS),
                     megabytes=MAX_KERAS_PARAMS * 4 // 10**6)
        )
