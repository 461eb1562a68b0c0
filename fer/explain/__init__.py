"""Explaining a trained network: saliency maps, Grad-CAM, filter pictures and feature maps.

One module per method, in the style of tf-keras-vis. Saliency methods share one interface
(`fer.explain.base.SaliencyMethod`): built from a Keras model, called on faces and one class per
face, they return maps `(N, 48, 48)` in [0, 1]. `make_saliency_method(method_id, model, ...)`
builds one by its stable id (`SALIENCY_METHODS` maps ids to the labels a page shows).
Slow optimisations honour `$FER_EXPLAIN_MAX_STEPS`.
"""

from fer.explain.activation_maximisation import (
    REGULARISERS,
    AscentSettings,
    FilterGallery,
    cached_maximise_activations,
    default_filter_layer,
    maximise_activations,
    optimisable_layer_names,
    unit_count,
)
from fer.explain.base import (
    ExplainError,
    SaliencyMethod,
    conv_layer_names,
    predict_classes,
    spatial_layer_names,
)
from fer.explain.feature_maps import LayerMaps, feature_map_layer_names, feature_maps, maps_as_tiles
from fer.explain.gradcam import GradCAM, default_gradcam_layer
from fer.explain.integrated_gradients import IntegratedGradients
from fer.explain.masking import enlarge, heatmap_rgb, keep_salient_pixels, overlay, stretch_contrast, tile_grid
from fer.explain.methods import SALIENCY_METHODS, UnknownMethodError, make_saliency_method
from fer.explain.saliency import Saliency

__all__ = [
    "REGULARISERS",
    "SALIENCY_METHODS",
    "AscentSettings",
    "ExplainError",
    "FilterGallery",
    "GradCAM",
    "IntegratedGradients",
    "LayerMaps",
    "Saliency",
    "SaliencyMethod",
    "UnknownMethodError",
    "cached_maximise_activations",
    "conv_layer_names",
    "default_filter_layer",
    "default_gradcam_layer",
    "enlarge",
    "feature_map_layer_names",
    "feature_maps",
    "heatmap_rgb",
    "keep_salient_pixels",
    "make_saliency_method",
    "maps_as_tiles",
    "maximise_activations",
    "optimisable_layer_names",
    "overlay",
    "predict_classes",
    "spatial_layer_names",
    "stretch_contrast",
    "tile_grid",
    "unit_count",
]
