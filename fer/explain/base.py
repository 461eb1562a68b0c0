"""What every explanation method shares: input checks, class scores before the softmax, layer lists.

A saliency method is a class built from a Keras model and called on a batch of faces and one
class index per face; it returns one map per face, `(N, 48, 48)` float32 in [0, 1], 1 where
the method says the pixel matters most. `SaliencyMethod` is that small interface.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from fer.i18n import N_, _
from fer.preprocessing import scale_pixels

# Optimisations (activation maximisation, SmoothGrad samples, integrated-gradient steps) never
# run more steps than this when the variable is set: tests and slow laptops set it low.
STEP_CAP_VARIABLE = "FER_EXPLAIN_MAX_STEPS"

CONV_KINDS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
POOL_KINDS = ("MaxPooling2D", "AveragePooling2D")


class ExplainError(ValueError):
    """A layer, class or image an explanation cannot use; the message says what to pick instead."""


def capped_steps(steps: int) -> int:
    """`steps`, lowered to $FER_EXPLAIN_MAX_STEPS when that is set."""
    if steps < 1:
        raise ExplainError(_("The number of steps must be at least 1; got {steps}.").format(steps=steps))
    cap = os.environ.get(STEP_CAP_VARIABLE)
    if cap:
        try:
            return max(1, min(steps, int(cap)))
        except ValueError:
            raise ExplainError(_(
                "{variable} must be a whole number; got {cap}."
            ).format(variable="$" + STEP_CAP_VARIABLE, cap=repr(cap))) from None
    return steps


def as_model_batch(images: np.ndarray) -> np.ndarray:
    """uint8 faces (N, H, W) or (H, W), or float (N, H, W, 1) in [0, 1] -> float32 (N, H, W, 1)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = scale_pixels(images.astype(np.float32))
    images = images.astype(np.float32)
    if images.ndim == 2:
        images = images[None, ..., None]
    elif images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] != 1:
        raise ExplainError(
            _(
                "Expected grayscale faces (N, H, W) uint8 or (N, H, W, 1) float; got shape {shape}."
            ).format(shape=images.shape)
        )
    return images


def class_index_array(class_indices, count: int, num_classes: int) -> np.ndarray:
    """One class per image: an int for all of them, or a sequence of `count` ints, each in range."""
    indices = np.asarray(class_indices)
    if indices.ndim > 1 or (indices.ndim == 1 and len(indices) != count):
        raise ExplainError(
            _(
                "Give one class for all {count} faces or one class per face; got {size} classes "
                "shaped {shape} for {count} faces."
            ).format(count=count, size=indices.size, shape=indices.shape)
        )
    if indices.dtype.kind not in "iu":
        raise ExplainError(_(
            "Class indices are whole numbers; got {indices}."
        ).format(indices=repr(indices.tolist())))
    indices = np.broadcast_to(indices.astype(np.int64), (count,)).copy()
    if np.any(indices < 0) or np.any(indices >= num_classes):
        raise ExplainError(_(
            "Class indices must be between 0 and {largest}; got {indices}."
        ).format(largest=num_classes - 1, indices=indices.tolist()))
    return indices


def layer_kind(layer) -> str:
    return type(layer).__name__


def is_block_output(layer) -> bool:
    """A residual block's output: an Add of maps (N, H, W, C), the convolutions joined with the shortcut."""
    return layer_kind(layer) == "Add" and len(layer.output.shape) == 4


def _has_softmax(layer) -> bool:
    if layer_kind(layer) == "Softmax":
        return True
    try:
        return layer.get_config().get("activation") == "softmax"
    except (AttributeError, NotImplementedError):
        return False


def pre_softmax_tensor(model):
    """The symbolic class scores of `model` before its softmax (logits), else its plain output.

    Gradients of a softmax probability shrink as the network grows confident, and raising one
    probability can be done by lowering the others; logits avoid both, as tf-keras-vis does.
    """
    last = model.layers[-1]
    if not _has_softmax(last):
        return model.outputs[0]
    if layer_kind(last) in ("Softmax", "Activation"):
        return last.input
    config = {**last.get_config(), "activation": "linear", "name": f"{last.name}_logits"}
    linear = type(last).from_config(config)
    linear.build(last.input.shape)
    linear.set_weights(last.get_weights())
    return linear(last.input)


def model_input(model):
    """The model's input tensor (a single tensor, so sub-models are called with a plain batch)."""
    return model.inputs[0] if len(model.inputs) == 1 else model.inputs


def scores_model(model, extra_layer_names: Sequence[str] = ()):
    """A Keras model from the same input to `[*extra layer outputs, logits]`."""
    import keras

    outputs = [model.get_layer(name).output for name in extra_layer_names]
    return keras.Model(model_input(model), [*outputs, pre_softmax_tensor(model)])


def spatial_layer_names(model) -> list[str]:
    """Every layer whose output is an image of channels (N, H, W, C), input excluded."""
    names = []
    for layer in model.layers:
        if layer_kind(layer) == "InputLayer":
            continue
        shape = getattr(layer, "output", None)
        if shape is not None and len(layer.output.shape) == 4:
            names.append(layer.name)
    return names


def conv_layer_names(model) -> list[str]:
    return [layer.name for layer in model.layers if layer_kind(layer) in CONV_KINDS]


def check_layer(model, layer_name: str):
    try:
        return model.get_layer(layer_name)
    except ValueError:
        known = ", ".join(layer.name for layer in model.layers)
        raise ExplainError(_(
            "The model has no layer called {layer_name}; its layers are: {known}."
        ).format(layer_name=repr(layer_name), known=known)) from None


def normalise_maps(maps) -> np.ndarray:
    """Scale each map to [0, 1] by its own maximum (maps are non-negative); all-zero maps stay zero."""
    maps = np.maximum(np.asarray(maps, dtype=np.float32), 0.0)
    peaks = maps.reshape(len(maps), -1).max(axis=1).reshape(-1, *([1] * (maps.ndim - 1)))
    return np.where(peaks > 0, maps / np.where(peaks > 0, peaks, 1.0), 0.0).astype(np.float32)


class SaliencyMethod:
    """The common interface: `method(images, class_indices) -> (N, H, W)` maps in [0, 1].

    Subclasses set `method_id` (the stable id of `fer.explain.SALIENCY_METHODS`), `name` (its
    label) and `description` (one sentence for the page), and implement `explain`.

    Args:
        model: a Keras classifier of (N, H, W, 1) images; a softmax at its end is looked through.
    """

    method_id = ""
    name = N_("saliency method")  # English, marked for the catalogue; instances hold it translated
    description = ""

    def __init__(self, model):
        self.name = _(type(self).name)
        self.description = _(type(self).description) if type(self).description else ""
        self.model = model
        self.num_classes = int(model.output_shape[-1])

    def __call__(self, images, class_indices) -> np.ndarray:
        batch = as_model_batch(images)
        indices = class_index_array(class_indices, len(batch), self.num_classes)
        return self.explain(batch, indices)

    def explain(self, batch: np.ndarray, class_indices: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def predict_classes(model, images, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities (N, classes), predicted class (N,)) for uint8 or float faces, in batches."""
    batch = as_model_batch(images)
    outputs = [
        np.asarray(model(batch[start : start + batch_size], training=False))
        for start in range(0, len(batch), batch_size)
    ]
    probabilities = np.concatenate(outputs) if outputs else np.zeros((0, int(model.output_shape[-1])))
    return probabilities, probabilities.argmax(axis=-1)
