"""Activation maximisation: draw the face that a filter (or an output unit) likes best.

Start from a gray image with a little noise and climb the gradient of one unit's mean
activation with respect to the pixels (Erhan et al., "Visualizing Higher-Layer Features of a
Deep Network", 2009; Simonyan et al., https://arxiv.org/abs/1312.6034). Left alone, the ascent
finds high-frequency noise that excites the unit but means nothing to a person, so:

- `transforms`: each step looks at a randomly jittered, slightly rotated and rescaled copy;
- `regularisers`: the picture is blurred every few steps, or its total variation penalised;
- `parametrisation`: optionally the picture is described by its Fourier coefficients, scaled
  down at high frequencies, which makes smooth pictures the easy ones to reach;
- `ascent`: the loop itself, every unit of a layer at once, and a disk-cached version;
- `settings` holds the knobs, `layers` says which layers and units can be drawn.

    gallery = maximise_activations(model, "conv1_relu", settings=AscentSettings(steps=200))
    gallery.images  # (filters, 48, 48) in [0, 1]

All randomness comes from `AscentSettings.seed`.
"""

from fer.explain.activation_maximisation.ascent import FilterGallery, cached_maximise_activations, maximise_activations
from fer.explain.activation_maximisation.layers import default_filter_layer, optimisable_layer_names, unit_count
from fer.explain.activation_maximisation.settings import REGULARISERS, AscentSettings

__all__ = [
    "REGULARISERS",
    "AscentSettings",
    "FilterGallery",
    "cached_maximise_activations",
    "default_filter_layer",
    "maximise_activations",
    "optimisable_layer_names",
    "unit_count",
]
