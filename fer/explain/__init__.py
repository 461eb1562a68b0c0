"""Explaining a trained network: saliency maps, Grad-CAM, filter pictures and feature maps.

One module per method, in the style of tf-keras-vis. Saliency methods share one interface
(`fer.explain.base.SaliencyMethod`): built from a Keras model, called on faces and one class per
face, they return maps `(N, 48, 48)` in [0, 1]. `make_saliency_method(name, model, ...)` builds
one by the name a page shows. Slow optimisations honour `$FER_EXPLAIN_MAX_STEPS`.
"""

from fer.explain.activation_maximisation import (
    AscentSettings,
    FilterGallery,
    cached_maximise_activations,
    default_filter_layer,
    maximise_activations,
    optimisable_layer_names,
    unit_count,
)
from fer.explain.base import ExplainError, SaliencyMethod, conv_layer_names, spatial_layer_names
from fer.explain.feature_maps import LayerMaps, feature_map_layer_names, feature_maps, maps_as_tiles
from fer.explain.gradcam import GradCAM, default_gradcam_layer
from fer.explain.integrated_gradients import IntegratedGradients
from fer.explain.masking import enlarge, heatmap_rgb, keep_salient_pixels, overlay, stretch_contrast, tile_grid
from fer.explain.saliency import Saliency

SALIENCY_METHODS = ("Vanilla gradient", "SmoothGrad", "Grad-CAM", "Integrated gradients")


def make_saliency_method(
    name: str,
    model,
    layer_name: str | None = None,
    smooth_samples: int = 20,
    noise_level: float = 0.15,
    integration_steps: int = 32,
    seed: int = 0,
) -> SaliencyMethod:
    """The saliency method called `name` (one of SALIENCY_METHODS), ready to call on faces."""
    if name == "Vanilla gradient":
        return Saliency(model)
    if name == "SmoothGrad":
        return Saliency(model, smooth_samples=smooth_samples, noise_level=noise_level, seed=seed)
    if name == "Grad-CAM":
        return GradCAM(model, layer_name)
    if name == "Integrated gradients":
        return IntegratedGradients(model, steps=integration_steps)
    raise ExplainError(f"Unknown saliency method {name!r}; choose one of: {', '.join(SALIENCY_METHODS)}.")


def predict_classes(model, images, batch_size: int = 256):
    """(probabilities (N, classes), predicted class (N,)) for uint8 or float faces, in batches."""
    import numpy as np

    from fer.explain.base import as_model_batch

    batch = as_model_batch(images)
    outputs = [np.asarray(model(batch[start : start + batch_size], training=False)) for start in range(0, len(batch), batch_size)]
    probabilities = np.concatenate(outputs) if outputs else np.zeros((0, int(model.output_shape[-1])))
    return probabilities, probabilities.argmax(axis=-1)
