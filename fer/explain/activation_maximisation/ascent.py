"""The ascent itself: climb one unit's mean activation by changing the picture, all units in one batch.

The batch holds one picture per unit and picture k is scored by unit k. Each step moves every
picture at random (`transforms`), scores the moved copies, and takes an Adam step on the
pictures' parameters (`parametrisation`); a regulariser keeps them smooth (`regularisers`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from fer.explain.activation_maximisation.layers import unit_count, unit_model
from fer.explain.activation_maximisation.parametrisation import starting_parameters
from fer.explain.activation_maximisation.regularisers import blur, gaussian_kernel, total_variation_penalty
from fer.explain.activation_maximisation.settings import AscentSettings
from fer.explain.activation_maximisation.transforms import move, random_transforms
from fer.explain.base import ExplainError, capped_steps
from fer.i18n import _

Progress = Callable[[int, int], None]  # (steps done, total steps)
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8


@dataclass(frozen=True)
class FilterGallery:
    """The pictures of one ascent and how far each climbed."""

    layer_name: str
    units: np.ndarray  # (K,) the filter / unit index each image maximises
    images: np.ndarray  # (K, H, W) float32 in [0, 1], what the model sees
    activations: np.ndarray  # (K,) mean activation of unit k on image k, after the ascent
    start_activations: np.ndarray  # (K,) the same on the starting image
    history: np.ndarray  # (steps, K) the objective on the transformed copy at each step
    settings: AscentSettings

    ARRAYS = ("units", "images", "activations", "start_activations", "history")

    def to_arrays(self) -> dict:
        return {key: getattr(self, key) for key in self.ARRAYS}

    @classmethod
    def from_arrays(cls, layer_name: str, settings: AscentSettings, arrays: dict) -> "FilterGallery":
        return cls(layer_name=layer_name, settings=settings, **{key: np.asarray(arrays[key]) for key in cls.ARRAYS})


def _checked_units(model, layer_name: str, units: Sequence[int] | None) -> np.ndarray:
    available = unit_count(model, layer_name)
    units = np.arange(available) if units is None else np.asarray(list(units), dtype=np.int64)
    if units.size == 0 or units.min() < 0 or units.max() >= available:
        raise ExplainError(_(
            "{layer_name} has units 0..{largest}; got {units}."
        ).format(layer_name=layer_name, largest=available - 1, units=units.tolist()))
    return units


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

    units = _checked_units(model, layer_name, units)
    steps = capped_steps(settings.steps)
    size = tuple(int(value) for value in model.input_shape[1:3])
    count = len(units)
    cut_model = unit_model(model, layer_name)
    parameters, to_image = starting_parameters(
        count, size, settings.fourier, settings.fourier_decay, np.random.default_rng(settings.seed)
    )
    transforms = tf.constant(random_transforms(settings, steps, count, size))
    unit_mask = tf.one_hot(units, unit_count(model, layer_name))
    tv_weight = settings.total_variation_weight if settings.regulariser == "total variation" else 0.0
    blurring = settings.regulariser == "blur" and not settings.fourier
    kernel = tf.constant(gaussian_kernel(settings.blur_sigma)) if blurring else None
    first_moment = tf.Variable(tf.zeros_like(parameters))
    second_moment = tf.Variable(tf.zeros_like(parameters))

    def objective(images):
        """Unit k's mean activation on picture k (its value, for a dense unit)."""
        activations = cut_model(images, training=False)
        if len(activations.shape) == 4:
            activations = tf.reduce_mean(activations, axis=(1, 2))
        return tf.reduce_sum(activations * unit_mask, axis=-1)

    @tf.function(reduce_retracing=True)
    def ascent_step(transform, step):
        with tf.GradientTape() as tape:
            images = to_image(parameters)
            scores = objective(move(images, transform, size))
            loss = -tf.reduce_sum(scores)
            if tv_weight:
                loss += tv_weight * total_variation_penalty(images, size)
        gradient = tape.gradient(loss, parameters)
        # Adam, written out so the whole step is one traced graph with no optimiser state elsewhere.
        first_moment.assign(ADAM_BETA1 * first_moment + (1 - ADAM_BETA1) * gradient)
        second_moment.assign(ADAM_BETA2 * second_moment + (1 - ADAM_BETA2) * tf.square(gradient))
        corrected_first = first_moment / (1 - tf.pow(ADAM_BETA1, step))
        corrected_second = second_moment / (1 - tf.pow(ADAM_BETA2, step))
        parameters.assign_sub(settings.learning_rate * corrected_first / (tf.sqrt(corrected_second) + ADAM_EPSILON))
        return scores

    @tf.function
    def blur_parameters():
        parameters.assign(blur(parameters, kernel))

    start_activations = objective(to_image(parameters)).numpy()
    history = np.zeros((steps, count), dtype=np.float32)
    for step in range(steps):
        history[step] = ascent_step(transforms[step], tf.constant(step + 1, tf.float32)).numpy()
        if blurring and (step + 1) % settings.blur_every == 0 and step + 1 < steps:
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
