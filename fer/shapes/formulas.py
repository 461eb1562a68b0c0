"""The working, in text: each formula written with the student's own numbers.

    out = floor((W + 2p - k) / s) + 1            a convolution or pooling with padding p
    out = floor((W + 2p - d(k-1) - 1) / s) + 1   the same with dilation d
    out = ceil(W / s)                            padding="same"
    params = (k·k·C_in + 1)·F                    a convolution with F filters and a bias each

Nothing here decides whether a layer works: `arithmetic.py` does, and these functions are
only called for layers it accepted.
"""

from __future__ import annotations

import math

from fer.i18n import _, format_integer

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
    ZeroPadding2D,
)


def format_shape(shape: tuple[int, ...] | None) -> str:
    """(44, 44, 64), and (7,) for a flat vector, as Keras prints them; '' for no shape."""
    if shape is None:
        return ""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(size) for size in shape) + ")"


def format_count(number: int) -> str:
    """A count with the reader's thousands separators: 1,664."""
    return format_integer(number)


def axis_name(axis: str) -> str:
    """'height' or 'width' in the reader's language."""
    return _("height") if axis == "height" else _("width")


def describe_layer(layer: Layer) -> str:
    """The settings that matter, in words: '64 filters 5x5, stride 1, padding valid'."""
    separator = _(", ")
    if isinstance(layer, Conv2D):
        parts = [
            _("{filters} filters {kernel}x{kernel}").format(filters=layer.filters, kernel=layer.kernel_size),
            _("stride {stride}").format(stride=layer.strides),
            _("padding {padding}").format(padding=layer.padding),
        ]
        if layer.dilation_rate != 1:
            parts.append(_("dilation {dilation}").format(dilation=layer.dilation_rate))
        if not layer.use_bias:
            parts.append(_("no bias"))
        return separator.join(parts + ([layer.activation] if layer.activation else []))
    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        stride = layer.strides if layer.strides is not None else layer.pool_size
        return separator.join([
            f"{layer.pool_size}x{layer.pool_size}",
            _("stride {stride}").format(stride=stride),
            _("padding {padding}").format(padding=layer.padding),
        ])
    if isinstance(layer, ZeroPadding2D):
        return _("{pixels} pixel(s) each side").format(pixels=layer.padding)
    if isinstance(layer, Dense):
        parts = [_("{units} units").format(units=layer.units)] + ([] if layer.use_bias else [_("no bias")])
        return separator.join(parts + ([layer.activation] if layer.activation else []))
    if isinstance(layer, Dropout):
        return _("rate {rate}").format(rate=f"{layer.rate:g}")
    if isinstance(layer, LeakyReLU):
        return _("slope {slope}").format(slope=f"{layer.negative_slope:g}")
    return ""


def _letter(axis: str) -> str:
    return "H" if axis == "height" else "W"


def sliding_numbers(size: int, kernel: int, pad: int, dilation: int) -> str:
    """The numerator of the sliding-window formula with the numbers in: '(48 + 2·2 - 5)'."""
    if dilation == 1:
        return f"({size} + 2·{pad} - {kernel})"
    return f"({size} + 2·{pad} - {dilation}·({kernel}-1) - 1)"


def _sliding_working(size: int, kernel: int, stride: int, pad: int, dilation: int, axis: str) -> str:
    letter = _letter(axis)
    room = size + 2 * pad - (dilation * (kernel - 1) + 1)
    out = room // stride + 1
    if dilation == 1:
        letters = f"floor(({letter} + 2p - k) / s) + 1"
    else:
        letters = f"floor(({letter} + 2p - d(k-1) - 1) / s) + 1"
    numbers = sliding_numbers(size, kernel, pad, dilation)
    return f"{letters} = floor({numbers} / {stride}) + 1 = floor({room / stride:g}) + 1 = {out}"


def _same_working(size: int, stride: int, axis: str) -> str:
    return f"ceil({_letter(axis)} / s) = ceil({size} / {stride}) = {math.ceil(size / stride)}"


def _window_working(input_shape, kernel: int, stride: int, padding, dilation: int) -> str:
    """Both spatial axes of a convolution or pooling window, written once when they agree."""
    height, width = input_shape[0], input_shape[1]
    if padding == "same":
        text_h, text_w = _same_working(height, stride, "height"), _same_working(width, stride, "width")
    else:
        pad = 0 if padding == "valid" else padding
        text_h = _sliding_working(height, kernel, stride, pad, dilation, "height")
        text_w = _sliding_working(width, kernel, stride, pad, dilation, "width")
    if height == width:
        return f"H = W: {text_w}"
    return f"{text_h}; {text_w}"


def shape_working(layer: Layer, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> str:
    """How the layer's output shape follows from its input shape."""
    if isinstance(layer, Conv2D):
        return _window_working(input_shape, layer.kernel_size, layer.strides, layer.padding, layer.dilation_rate)
    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        stride = layer.pool_size if layer.strides is None else layer.strides
        return _window_working(input_shape, layer.pool_size, stride, layer.padding, 1)
    if isinstance(layer, ZeroPadding2D):
        pad, (height, width) = layer.padding, output_shape[:2]
        if input_shape[0] == input_shape[1]:
            return f"H = W: W + 2p = {input_shape[1]} + 2·{pad} = {width}"
        return f"H + 2p = {input_shape[0]} + 2·{pad} = {height}; W + 2p = {input_shape[1]} + 2·{pad} = {width}"
    if isinstance(layer, Flatten):
        if len(input_shape) == 1:
            return _("already flat")
        return "H·W·C = " + "·".join(str(size) for size in input_shape) + f" = {format_count(output_shape[0])}"
    if isinstance(layer, GlobalAveragePooling2D):
        return _("one average per channel over {height}x{width}: C = {channels}").format(
            height=input_shape[0], width=input_shape[1], channels=input_shape[2]
        )
    if isinstance(layer, Dense):
        if len(input_shape) == 1:
            return f"units = {layer.units}"
        positions = "x".join(map(str, input_shape[:-1]))
        return _(
            "not flat: Dense acts on the last axis at each of the {positions} positions, so only C changes to {units}"
        ).format(positions=positions, units=layer.units)
    if isinstance(layer, Dropout):
        return _("same shape: zeroes {percent} of the values while training").format(percent=f"{layer.rate:.0%}")
    if isinstance(layer, BatchNormalization):
        return _("same shape: normalises each channel")
    return _("same shape: applied to every value")


def params_working(layer: Layer, input_shape: tuple[int, ...], params: int) -> str:
    """How the layer's parameter count follows from its settings and its input's channels."""
    if isinstance(layer, Conv2D):
        k, c_in, filters = layer.kernel_size, input_shape[2], layer.filters
        if layer.use_bias:
            return f"(k·k·C_in + 1)·F = ({k}·{k}·{c_in} + 1)·{filters} = {format_count(params)}"
        return f"k·k·C_in·F = {k}·{k}·{c_in}·{filters} = {format_count(params)} " + _("(no bias)")
    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        if isinstance(layer, MaxPooling2D):
            return _("0: a pooling layer takes the maximum of each window, nothing to learn")
        return _("0: a pooling layer takes the average of each window, nothing to learn")
    if isinstance(layer, Dense):
        n_in = format_count(input_shape[-1])
        if layer.use_bias:
            return f"(N_in + 1)·units = ({n_in} + 1)·{layer.units} = {format_count(params)}"
        return f"N_in·units = {n_in}·{layer.units} = {format_count(params)} " + _("(no bias)")
    if isinstance(layer, BatchNormalization):
        channels = input_shape[-1]
        return f"4·C = 4·{channels} = {format_count(params)}: " + _(
            "γ and β are learned (2·C = {learned}), the moving mean and variance are not"
        ).format(learned=format_count(2 * channels))
    return "0"
