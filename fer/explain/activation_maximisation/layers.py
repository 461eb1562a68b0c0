"""Which layers and units activation maximisation can draw, and the model cut at one of them."""

from __future__ import annotations

from fer.explain.base import (
    CONV_KINDS,
    ExplainError,
    check_layer,
    conv_layer_names,
    layer_kind,
    model_input,
    pre_softmax_tensor,
)
from fer.i18n import _

# Layers that only copy, pad or reshape their input: nothing of their own to draw.
PASS_THROUGH_KINDS = ("InputLayer", "Flatten", "Dropout", "ZeroPadding2D", "Reshape")
ACTIVATION_KINDS = ("ReLU", "LeakyReLU", "Activation", "ELU", "PReLU")


def unit_count(model, layer_name: str) -> int:
    """How many filters (conv) or units (dense) the layer has."""
    return int(check_layer(model, layer_name).output.shape[-1])


def optimisable_layer_names(model) -> list[str]:
    """Layers whose units can be maximised: everything after the input with a channel axis."""
    return [
        layer.name
        for layer in model.layers
        if layer_kind(layer) not in PASS_THROUGH_KINDS and len(layer.output.shape) in (2, 4)
    ]


def default_filter_layer(model) -> str:
    """The first convolution output after its non-linearity.

    A conv layer without its activation is linear in the pixels, so its mean activation is
    maximised by a flat white or black picture; after a ReLU, a pattern matching the filter wins.
    """
    for layer in model.layers:
        kind = layer_kind(layer)
        if len(layer.output.shape) != 4:
            continue
        if kind in ACTIVATION_KINDS:
            return layer.name
        if kind in CONV_KINDS and layer.get_config().get("activation") not in (None, "linear"):
            return layer.name
    convs = conv_layer_names(model)
    if convs:
        return convs[0]
    names = optimisable_layer_names(model)
    if not names:
        raise ExplainError(_("{name} has no layer whose units can be drawn.").format(name=model.name))
    return names[0]


def unit_model(model, layer_name: str):
    """The model cut at `layer_name`; the last layer is cut before its softmax (its logits)."""
    import keras

    layer = check_layer(model, layer_name)
    output = pre_softmax_tensor(model) if layer is model.layers[-1] else layer.output
    return keras.Model(model_input(model), output)
