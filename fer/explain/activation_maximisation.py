"""Activation maximisation: draw the face that a filter (or an output unit) likes best.

Start from a gray image with a little noise and climb the gradient of one unit's mean
activation with respect to the pixels. Left alone, the ascent finds high-frequency noise that
excites the unit but means nothing to a person, so each step looks at a randomly jittered,
slightly rotated and rescaled copy of the image (a pattern must survive being moved), and the
image is kept smooth by blurring it every few steps or by penalising its total variation.
Optionally the image is described by its Fourier coefficients, scaled down at high
frequencies, which makes smooth images the easy ones to reach (Olah et al., Distill 2017).

Every filter of a layer is optimised at once: the batch holds one image per filter and image k
is scored by filter k. All randomness comes from `AscentSettings.seed`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Callable, Sequence

import numpy as np

from fer.explain.base import (
    CONV_KINDS,
    ExplainError,
    capped_steps,
    check_layer,
    conv_layer_names,
    layer_kind,
    model_input,
    pre_softmax_tensor,
)

Progress = Callable[[int, int], None]  # (steps done, total steps)
REGULARISERS = ("blur", "total variation", "none")
# Layers that only copy, pad or reshape their input: nothing of their own to draw.
_PASS_THROUGH_KINDS = ("InputLayer", "Flatten", "Dropout", "ZeroPadding2D", "Reshape")
ACTIVATION_KINDS = ("ReLU", "LeakyReLU", "Activation", "ELU", "PReLU")


@dataclass(frozen=True)
class AscentSettings:
    steps: int = 200
    learning_rate: float = 0.05
    jitter_pixels: int = 2
    rotation_degrees: float = 5.0
    scale_range: float = 0.05  # each step rescales by a factor in [1 - range, 1 + range]
    regulariser: str = "blur"
    blur_sigma: float = 0.6
    blur_every: int = 4
    total_variation_weight: float = 0.05
    fourier: bool = False
    fourier_decay: float = 1.0
    seed: int = 0

    def __post_init__(self):
        if self.steps < 1:
            raise ExplainError(f"steps must be at least 1; got {self.steps}.")
        if self.learning_rate <= 0:
            raise ExplainError(f"learning_rate must be positive; got {self.learning_rate}.")
        if self.regulariser not in REGULARISERS:
            raise ExplainError(f"regulariser must be one of {', '.join(REGULARISERS)}; got {self.regulariser!r}.")
        if not 0 <= self.scale_range < 1:
            raise ExplainError(f"scale_range must be in [0, 1); got {self.scale_range}.")
        if self.jitter_pixels < 0 or self.blur_every < 1:
            raise ExplainError("jitter_pixels must be 0 or more and blur_every at least 1.")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FilterGallery:
    layer_name: str
    units: np.ndarray  # (K,) the filter / unit index each image maximises
    images: np.ndarray  # (K, H, W) float32 in [0, 1], what the model sees
    activations: np.ndarray  # (K,) mean activation of unit k on image k, after the ascent
    start_activations: np.ndarray  # (K,) the same on the starting image
    history: np.ndarray  # (steps, K) the objective on the transformed copy at each step
    settings: AscentSettings

    def to_arrays(self) -> dict:
        return {
            "units": self.units,
            "images": self.images,
            "activations": self.activations,
            "start_activations": self.start_activations,
            "history": self.history,
        }

    @classmethod
    def from_arrays(cls, layer_name: str, settings: AscentSettings, arrays: dict) -> "FilterGallery":
        return cls(layer_name=layer_name, settings=settings, **{key: np.asarray(arrays[key]) for key in (
            "units", "images", "activations", "start_activations", "history")})


def unit_count(model, layer_name: str) -> int:
    """How many filters (conv) or units (dense) the layer has."""
    return int(check_layer(model, layer_name).output.shape[-1])


def optimisable_layer_names(model) -> list[str]:
    """Layers whose units can be maximised: everything after the input with a channel axis."""
    return [
        layer.name
        for layer in model.layers
        if layer_kind(layer) not in _PASS_THROUGH_KINDS and len(layer.output.shape) in (2, 4)
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
        raise ExplainError(f"{model.name} has no layer whose units can be drawn.")
    return names[0]


def _unit_model(model, layer_name: str):
    """The model cut at `layer_name`; the last layer is cut before its softmax (its logits)."""
    import keras

    layer = check_layer(model, layer_name)
    output = pre_softmax_tensor(model) if layer is model.layers[-1] else layer.output
    return keras.Model(model_input(model), output)


def _random_transforms(settings: AscentSettings, steps: int, count: int, size: tuple[int, int]) -> np.ndarray:
    """(steps, count, 8) projective transforms: rotate and scale about the centre, then shift."""
    rng = np.random.default_rng(settings.seed + 1)
    height, width = size
    angles = np.deg2rad(rng.uniform(-settings.rotation_degrees, settings.rotation_degrees, (steps, count)))
    scales = rng.uniform(1 - settings.scale_range, 1 + settings.scale_range, (steps, count))
    shifts = rng.integers(-settings.jitter_pixels, settings.jitter_pixels + 1, (steps, count, 2))
    cos, sin = np.cos(angles) / scales, np.sin(angles) / scales
    centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
    # Output pixel (x, y) samples input pixel A (x - c) + c + shift, with A = rotation / scale.
    a0, a1 = cos, -sin
    b0, b1 = sin, cos
    a2 = centre_x - a0 * centre_x - a1 * centre_y + shifts[..., 0]
    b2 = centre_y - b0 * centre_x - b1 * centre_y + shifts[..., 1]
    zeros = np.zeros_like(a0)
    return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=-1).astype(np.float32)


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(np.ceil(2 * sigma)))
    offsets = np.arange(-radius, radius + 1, dtype=np.float32)
    weights = np.exp(-0.5 * (offsets / max(sigma, 1e-6)) ** 2)
    weights /= weights.sum()
    return np.outer(weights, weights).astype(np.float32)[..., None, None]


def _fourier_scale(size: tuple[int, int], decay: float) -> np.ndarray:
    height, width = size
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    frequencies = np.sqrt(fx**2 + fy**2)
    return (1.0 / np.maximum(frequencies, 1.0 / max(height, width)) ** decay).astype(np.float32)


def maximise_activations(
    model,
    layer_name: str,
    units: Sequence[int] | None = None,
    settings: AscentSettings = AscentSettings(),
    progress: Progress | None = None,
) -> FilterGallery:
    """One image per unit of `layer_name` (default: all of them), optimised together in one batch.

    Units may repeat (e.g. `[3] * 8` gives eight different pictures of "Happy"): each image
    starts from its own noise. `progress(step, total)` is called after every step.
    """
    import tensorflow as tf

    available = unit_count(model, layer_name)
    units = np.arange(available) if units is None else np.asarray(list(units), dtype=np.int64)
    if units.size == 0 or units.min() < 0 or units.max() >= available:
        raise ExplainError(f"{layer_name} has units 0..{available - 1}; got {units.tolist()}.")
    steps = capped_steps(settings.steps)
    size = tuple(int(value) for value in model.input_shape[1:3])
    count = len(units)
    unit_model = _unit_model(model, layer_name)
    rng = np.random.default_rng(settings.seed)

    if settings.fourier:
        scale = tf.constant(_fourier_scale(size, settings.fourier_decay))
        spectrum_shape = (count, size[0], size[1] // 2 + 1, 2)
        parameters = tf.Variable(rng.normal(0.0, 0.01, spectrum_shape).astype(np.float32))
        pixel_count = float(size[0] * size[1])

        def to_image(values):
            spectrum = tf.complex(values[..., 0] * scale, values[..., 1] * scale)
            spatial = tf.signal.irfft2d(spectrum, fft_length=size) * np.sqrt(pixel_count) / 4.0
            return tf.sigmoid(spatial)[..., None]
    else:
        parameters = tf.Variable(rng.normal(0.0, 0.1, (count, *size, 1)).astype(np.float32))

        def to_image(values):
            return tf.sigmoid(values)

    transforms = tf.constant(_random_transforms(settings, steps, count, size))
    unit_mask = tf.one_hot(units, available)
    tv_weight = settings.total_variation_weight if settings.regulariser == "total variation" else 0.0
    blur = settings.regulariser == "blur" and not settings.fourier
    kernel = tf.constant(_gaussian_kernel(settings.blur_sigma)) if blur else None
    first_moment = tf.Variable(tf.zeros_like(parameters))
    second_moment = tf.Variable(tf.zeros_like(parameters))
    beta1, beta2, epsilon = 0.9, 0.999, 1e-8

    def objective(images):
        activations = unit_model(images, training=False)
        if len(activations.shape) == 4:
            activations = tf.reduce_mean(activations, axis=(1, 2))
        return tf.reduce_sum(activations * unit_mask, axis=-1)

    @tf.function(reduce_retracing=True)
    def ascent_step(transform, step):
        with tf.GradientTape() as tape:
            images = to_image(parameters)
            moved = tf.raw_ops.ImageProjectiveTransformV3(
                images=images,
                transforms=transform,
                output_shape=tf.constant(size, tf.int32),
                fill_value=0.0,
                interpolation="BILINEAR",
                fill_mode="REFLECT",
            )
            scores = objective(moved)
            loss = -tf.reduce_sum(scores)
            if tv_weight:
                loss += tv_weight * tf.reduce_sum(tf.image.total_variation(images)) / float(size[0] * size[1]) * 100.0
        gradient = tape.gradient(loss, parameters)
        first_moment.assign(beta1 * first_moment + (1 - beta1) * gradient)
        second_moment.assign(beta2 * second_moment + (1 - beta2) * tf.square(gradient))
        corrected_first = first_moment / (1 - tf.pow(beta1, step))
        corrected_second = second_moment / (1 - tf.pow(beta2, step))
        parameters.assign_sub(settings.learning_rate * corrected_first / (tf.sqrt(corrected_second) + epsilon))
        return scores

    @tf.function
    def blur_parameters():
        parameters.assign(tf.nn.depthwise_conv2d(parameters, kernel, strides=[1, 1, 1, 1], padding="SAME"))

    start_activations = objective(to_image(parameters)).numpy()
    history = np.zeros((steps, count), dtype=np.float32)
    for step in range(steps):
        history[step] = ascent_step(transforms[step], tf.constant(step + 1, tf.float32)).numpy()
        if blur and (step + 1) % settings.blur_every == 0 and step + 1 < steps:
            blur_parameters()
        if progress is not None:
            progress(step + 1, steps)
    images = to_image(parameters)
    return FilterGallery(
        layer_name=layer_name,
        units=units,
        images=images.numpy()[..., 0].astype(np.float32),
        activations=objective(images).numpy().astype(np.float32),
        start_activations=start_activations.astype(np.float32),
        history=history,
        settings=replace(settings, steps=steps),
    )


def cached_maximise_activations(
    model,
    model_file,
    layer_name: str,
    units: Sequence[int] | None = None,
    settings: AscentSettings = AscentSettings(),
    progress: Progress | None = None,
    cache=None,
) -> tuple[FilterGallery, bool]:
    """`maximise_activations`, stored on disk under the hash of `model_file`; returns (gallery, from_cache)."""
    from fer.explain.cache import ResultCache, file_hash

    cache = cache if cache is not None else ResultCache()
    unit_list = None if units is None else [int(unit) for unit in units]
    effective = replace(settings, steps=capped_steps(settings.steps))
    key = cache.key(
        method="activation maximisation",
        model=file_hash(model_file),
        layer=layer_name,
        units=unit_list,
        settings=effective.to_dict(),
    )
    stored = cache.load(key)
    if stored is not None:
        if progress is not None:
            progress(effective.steps, effective.steps)
        return FilterGallery.from_arrays(layer_name, effective, stored), True
    gallery = maximise_activations(model, layer_name, units, effective, progress)
    try:
        cache.save(key, gallery.to_arrays())
    except OSError:  # a read-only models folder costs the cache, not the picture
        pass
    return gallery, False
