"""What each layer does to a shape, and how many numbers it learns: integers only, no TensorFlow.

`apply_layer(layer, input_shape)` returns the output shape and the parameter counts, or raises
`LayerError` with a sentence saying why the layer cannot work on that input (a window larger
than the image, a Conv2D after Flatten, a stride that does not tile exactly when asked to).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fer.i18n import _

from .formulas import axis_name, format_count, sliding_numbers
from .layers import (
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
    ZeroPadding2D,
)


class LayerError(ValueError):
    """A layer that cannot work on the input it receives; the message is one sentence with the fix."""


@dataclass(frozen=True)
class LayerOutput:
    shape: tuple[int, ...]
    params: int  # everything Keras's count_params() counts, moving statistics included
    trainable_params: int


def _require_image(shape: tuple[int, ...], layer_type: str) -> None:
    if len(shape) != 3:
        raise LayerError(
            _(
                "{layer_type} needs an image (height, width, channels) but receives a flat vector of "
                "{count} numbers: move the Flatten after this layer, or remove this layer."
            ).format(layer_type=layer_type, count=format_count(shape[0]))
        )


def _require_positive_int(value, what: str) -> None:
    """`what` is a setting's name already in the reader's language."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise LayerError(
            _("The {setting} must be a whole number of at least 1; it is {value}.").format(
                setting=what, value=repr(value)
            )
        )


def _check_padding(padding, allow_explicit: bool) -> None:
    if padding in ("valid", "same"):
        return
    if allow_explicit and isinstance(padding, int) and not isinstance(padding, bool) and padding >= 0:
        return
    if allow_explicit:
        message = _("Padding must be 'valid', 'same' or a number of pixels (0 or more); it is {value}.")
    else:
        message = _("Padding must be 'valid' or 'same'; it is {value}.")
    raise LayerError(message.format(value=repr(padding)))


def sliding_size(size: int, kernel: int, stride: int, pad: int, dilation: int, axis: str, exact: bool) -> int:
    """One spatial axis of a window sliding without 'same' padding: floor((W + 2p - d(k-1) - 1) / s) + 1."""
    reach = dilation * (kernel - 1) + 1
    room = size + 2 * pad - reach
    if room < 0:
        padded = f"{size} + 2·{pad} = {size + 2 * pad}" if pad else f"{size}"
        if dilation > 1:
            window = _("{reach} (a {kernel}-wide kernel with dilation {dilation})").format(
                reach=reach, kernel=kernel, dilation=dilation
            )
        else:
            window = f"{kernel}"
        raise LayerError(
            _(
                "The window ({window} pixels) is larger than the {axis} it slides over ({padded} pixels): "
                "there is no place to put it, and the formula gives {result}. Use a smaller kernel, "
                "padding 'same', or fewer pooling layers before this one."
            ).format(window=window, axis=axis_name(axis), padded=padded, result=room // stride + 1)
        )
    if exact and room % stride:
        raise LayerError(
            _(
                "Exact tiling fails on the {axis}: {numbers} = {room} is not a multiple of the stride {stride}, "
                "so the last {left} pixel(s) are never covered by the window. "
                "Change the stride, the kernel or the padding so that the window lands on the last pixel."
            ).format(
                axis=axis_name(axis), numbers=sliding_numbers(size, kernel, pad, dilation), room=room, stride=stride,
                left=room % stride,
            )
        )
    return room // stride + 1


def same_size(size: int, stride: int, axis: str, exact: bool) -> int:
    """One spatial axis with 'same' padding: ceil(W / s)."""
    if exact and size % stride:
        raise LayerError(
            _(
                "Exact tiling fails on the {axis}: {size} pixels is not a multiple of the stride {stride}, "
                "so 'same' padding has to add {extra} uneven pixel(s). Change the stride or the input size."
            ).format(axis=axis_name(axis), size=size, stride=stride, extra=stride - size % stride)
        )
    return math.ceil(size / stride)


def _window(shape, kernel: int, stride: int, padding, dilation: int, exact: bool) -> tuple[int, int]:
    if padding == "same":
        return same_size(shape[0], stride, "height", exact), same_size(shape[1], stride, "width", exact)
    pad = 0 if padding == "valid" else padding
    return (
        sliding_size(shape[0], kernel, stride, pad, dilation, "height", exact),
        sliding_size(shape[1], kernel, stride, pad, dilation, "width", exact),
    )


def apply_layer(layer: Layer, shape: tuple[int, ...], exact_tiling: bool = False) -> LayerOutput:
    """The layer's output shape and parameter counts for an input of `shape` (batch axis left out)."""
    if isinstance(layer, Conv2D):
        _require_image(shape, "Conv2D")
        _require_positive_int(layer.filters, _("number of filters"))
        _require_positive_int(layer.kernel_size, _("kernel size"))
        _require_positive_int(layer.strides, _("stride"))
        _require_positive_int(layer.dilation_rate, _("dilation"))
        _check_padding(layer.padding, allow_explicit=True)
        if layer.strides > 1 and layer.dilation_rate > 1:
            raise LayerError(
                _(
                    "Keras does not combine a stride above 1 with a dilation above 1 in one Conv2D: "
                    "set one of them to 1."
                )
            )
        height, width = _window(shape, layer.kernel_size, layer.strides, layer.padding, layer.dilation_rate,
                                exact_tiling)
        weights = layer.kernel_size * layer.kernel_size * shape[2] * layer.filters
        params = weights + (layer.filters if layer.use_bias else 0)
        return LayerOutput((height, width, layer.filters), params, params)

    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        _require_image(shape, type(layer).__name__)
        _require_positive_int(layer.pool_size, _("pool size"))
        stride = layer.pool_size if layer.strides is None else layer.strides
        _require_positive_int(stride, _("stride"))
        _check_padding(layer.padding, allow_explicit=False)
        height, width = _window(shape, layer.pool_size, stride, layer.padding, 1, exact_tiling)
        return LayerOutput((height, width, shape[2]), 0, 0)

    if isinstance(layer, ZeroPadding2D):
        _require_image(shape, "ZeroPadding2D")
        pad = layer.padding
        if not isinstance(pad, int) or isinstance(pad, bool) or pad < 0:
            raise LayerError(_("Zero padding must be a whole number of pixels, 0 or more; it is {value}.").format(
                value=repr(pad)
            ))
        return LayerOutput((shape[0] + 2 * pad, shape[1] + 2 * pad, shape[2]), 0, 0)

    if isinstance(layer, Flatten):
        return LayerOutput((math.prod(shape),), 0, 0)

    if isinstance(layer, GlobalAveragePooling2D):
        _require_image(shape, "GlobalAveragePooling2D")
        return LayerOutput((shape[2],), 0, 0)

    if isinstance(layer, Dense):
        _require_positive_int(layer.units, _("number of units"))
        params = (shape[-1] + (1 if layer.use_bias else 0)) * layer.units
        return LayerOutput(shape[:-1] + (layer.units,), params, params)

    if isinstance(layer, Dropout):
        if not isinstance(layer.rate, (int, float)) or not 0 <= layer.rate < 1:
            raise LayerError(
                _("The dropout rate is the fraction of values dropped: at least 0 and below 1; it is {value}.").format(
                    value=repr(layer.rate)
                )
            )
        return LayerOutput(shape, 0, 0)

    if isinstance(layer, BatchNormalization):
        channels = shape[-1]  # gamma and beta are learned; the moving mean and variance are not
        return LayerOutput(shape, 4 * channels, 2 * channels)

    if isinstance(layer, (ReLU, LeakyReLU)):
        if isinstance(layer, LeakyReLU) and not isinstance(layer.negative_slope, (int, float)):
            raise LayerError(
                _("The negative slope must be a number; it is {value}.").format(value=repr(layer.negative_slope))
            )
        return LayerOutput(shape, 0, 0)

    raise LayerError(_("{layer_type} is not a layer this calculator knows.").format(layer_type=type(layer).__name__))
