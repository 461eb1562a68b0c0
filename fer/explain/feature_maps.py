"""Feature maps: what every convolution and pooling layer outputs for one face.

A conv layer with 32 filters turns the 48x48 face into 32 maps, one per filter, each bright
where that filter's pattern occurs; pooling halves their size. Looking at them layer by layer
shows the face dissolving into ever coarser, ever more abstract features.

Reference: Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", 2013,
https://arxiv.org/abs/1311.2901
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer.explain.base import (
    CONV_KINDS,
    POOL_KINDS,
    ExplainError,
    as_model_batch,
    check_layer,
    is_block_output,
    layer_kind,
    model_input,
)
from fer.i18n import _


@dataclass(frozen=True)
class LayerMaps:
    """One layer's output for one face: `maps[:, :, k]` is channel k's map."""

    name: str
    kind: str  # the Keras layer class, e.g. "Conv2D" or "MaxPooling2D"
    maps: np.ndarray  # (H, W, channels) float32

    @property
    def channels(self) -> int:
        return int(self.maps.shape[-1])


def feature_map_layer_names(model) -> list[str]:
    """Every conv and pooling layer, and every residual Add (a block's output), in order."""
    return [layer.name for layer in model.layers
            if layer_kind(layer) in CONV_KINDS + POOL_KINDS or is_block_output(layer)]


def feature_maps(model, image, layer_names: list[str] | None = None) -> list[LayerMaps]:
    """The outputs of `layer_names` (default: every conv and pooling layer) for one face, in one pass.

    Args:
        model: a Keras model of (N, H, W, 1) images.
        image: one face, (H, W) uint8 or (1, H, W, 1) float in [0, 1].
        layer_names: which layers, in the order to return them.

    Raises:
        ExplainError: a model without conv or pooling layers, an unknown layer, or several faces.
    """
    import keras

    layer_names = feature_map_layer_names(model) if layer_names is None else list(layer_names)
    if not layer_names:
        raise ExplainError(
            _(
                "{name} has no convolution or pooling layer, so it makes no feature maps: pick a "
                "convolutional network."
            ).format(name=model.name)
        )
    layers = [check_layer(model, name) for name in layer_names]
    batch = as_model_batch(image)
    if len(batch) != 1:
        raise ExplainError(_("Feature maps are shown for one face at a time; got {count}.").format(count=len(batch)))
    probe = keras.Model(model_input(model), [layer.output for layer in layers])
    outputs = probe(batch, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [
        LayerMaps(layer.name, layer_kind(layer), np.asarray(output)[0].astype(np.float32))
        for layer, output in zip(layers, outputs)
    ]


def maps_as_tiles(maps: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (C, H, W) uint8, each map scaled to its own 0..255 (a constant map is black)."""
    maps = np.moveaxis(np.asarray(maps, dtype=np.float32), -1, 0)
    low = maps.min(axis=(1, 2), keepdims=True)
    high = maps.max(axis=(1, 2), keepdims=True)
    scaled = np.where(high > low, (maps - low) / np.where(high > low, high - low, 1.0), 0.0)
    return np.clip(np.rint(scaled * 255), 0, 255).astype(np.uint8)
