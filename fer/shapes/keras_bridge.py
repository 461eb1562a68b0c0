"""Keras, for checking: build a stack for real, and read any Keras model into the same rows.

The only module of `fer.shapes` that touches Keras, and it imports it inside the functions, so
the arithmetic stays free of TensorFlow and agreement with Keras is an outside check.
"""

from __future__ import annotations

import math

from fer.i18n import _

from .formulas import format_shape
from .layers import (
    AveragePooling2D,
    Conv2D,
    Dense,
    Dropout,
    Layer,
    LeakyReLU,
    MaxPooling2D,
    StackError,
    ZeroPadding2D,
    layer_names,
)
from .limits import check_keras_limits
from .table import Row, compute_table, first_error, total_params

EXPLICIT_PADDING_SUFFIX = "_explicit_padding"


def build_keras_model(input_shape: tuple[int, int, int], stack: list[Layer]):
    """The stack as a real Keras model (input, then each layer in turn), layer names matching `compute_table`'s.

    Keras's Conv2D has no explicit padding, so `Conv2D(padding=2)` becomes a ZeroPadding2D
    (named '<conv>_explicit_padding') followed by a 'valid' Conv2D; `keras_table` folds the
    pair back into one row. A stack that breaks, or one above `limits.MAX_KERAS_PARAMS`
    parameters, is refused with a StackError before Keras allocates anything.
    """
    rows = compute_table(input_shape, stack)
    broken = first_error(rows)
    if broken is not None:
        raise StackError(_("Fix layer {name} first: {reason}").format(name=broken.name, reason=broken.error))
    check_keras_limits(total_params(rows)[0])
    import keras
    from keras import layers

    model_layers = []
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
        elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
            pool = getattr(layers, type(layer).__name__)
            model_layers.append(pool(layer.pool_size, strides=layer.strides, padding=layer.padding, name=name))
        elif isinstance(layer, ZeroPadding2D):
            model_layers.append(layers.ZeroPadding2D(layer.padding, name=name))
        elif isinstance(layer, Dense):
            model_layers.append(
                layers.Dense(layer.units, activation=layer.activation, use_bias=layer.use_bias, name=name)
            )
        elif isinstance(layer, Dropout):
            model_layers.append(layers.Dropout(layer.rate, name=name))
        elif isinstance(layer, LeakyReLU):
            model_layers.append(layers.LeakyReLU(negative_slope=layer.negative_slope, name=name))
        else:
            model_layers.append(getattr(layers, type(layer).__name__)(name=name))
    inputs = keras.Input(shape=tuple(input_shape), name="input")
    outputs = inputs
    for model_layer in model_layers:
        outputs = model_layer(outputs)
    return keras.Model(inputs, outputs, name="stack")


def keras_table(model) -> list[Row]:
    """Rows read from a real Keras model: its own output shapes and parameter counts, no arithmetic."""
    input_shape = tuple(int(size) for size in model.inputs[0].shape[1:])
    from_keras = _("from Keras")
    rows = [Row("input", "Input", from_keras, input_shape, 0, 0)]
    model_layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for index, layer in enumerate(model_layers):
        following = model_layers[index + 1] if index + 1 < len(model_layers) else None
        if following is not None and layer.name == following.name + EXPLICIT_PADDING_SUFFIX:
            continue
        trainable = sum(math.prod(weight.shape) for weight in layer.trainable_weights)
        shape = tuple(int(size) for size in layer.output.shape[1:])
        params = int(layer.count_params())
        rows.append(Row(layer.name, type(layer).__name__, from_keras, shape, params, int(trainable)))
    return rows


def compare_tables(ours: list[Row], theirs: list[Row]) -> list[str]:
    """Sentences for every difference in layer type, output shape or parameter counts; [] when equal."""
    differences = []
    if len(ours) != len(theirs):
        differences.append(_("The tables have {ours} and {theirs} rows.").format(ours=len(ours), theirs=len(theirs)))
    for index, (mine, keras_row) in enumerate(zip(ours, theirs)):
        for label, a, b in (
            (_("type"), mine.layer_type, keras_row.layer_type),
            (_("output shape"), format_shape(mine.output_shape), format_shape(keras_row.output_shape)),
            (_("parameters"), mine.params, keras_row.params),
            (_("trainable parameters"), mine.trainable_params, keras_row.trainable_params),
        ):
            if a != b:
                differences.append(_("Row {index} ({ours} / {keras}): {label} {a} here, {b} in Keras.").format(
                    index=index, ours=mine.name, keras=keras_row.name, label=label, a=a, b=b
                ))
    return differences
