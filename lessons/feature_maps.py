"""Feature maps: what every convolution and pooling layer makes of one face."""

import numpy as np
import streamlit as st

from fer import explain
from fer.i18n import _, ngettext
from lessons._explain_inputs import choose_face, selected_model, show_error
from lessons._language import page_language

page_language()
st.title(_("Feature maps"))
st.markdown(
    _(
        "A convolution layer with $C$ filters turns its input into $C$ **feature maps**, one per filter: "
        "map $k$ at position $(i, j)$ is filter $k$'s response to the patch around $(i, j)$, "
        "$\\;a_k(i, j) = b_k + \\sum_{u, v, c} w_k(u, v, c)\\, x(i + u, j + v, c)$. "
        "Pooling then keeps the strongest response in each $2 \\times 2$ block, halving the map."
    )
)
st.markdown(
    _(
        "Below, one face goes through the network and every map of every conv and pooling layer is "
        "shown, each scaled to its own range (white = that filter's strongest response). The first "
        "layer still looks like the face, with edges picked out; layer by layer the maps shrink and "
        "stop looking like anything a person would name."
    )
)

chosen_model = selected_model()
if chosen_model is None:
    st.stop()
model_name, model = chosen_model

layer_names = explain.feature_map_layer_names(model)
if not layer_names:
    st.warning(
        _("{model} has no convolution or pooling layer, so it makes no feature maps.").format(model=model_name)
    )
    st.stop()

chosen = choose_face(model_name, model, key="feature_maps")
if chosen is None:
    st.stop()

left, right = st.columns(2)
shown_layers = left.multiselect(_("Layers"), layer_names, default=layer_names, key="feature_maps_layers")
max_maps = right.slider(_("At most this many maps per layer"), 8, 256, 64, step=8, key="feature_maps_max")

with st.spinner(_("Running the face through the network...")):
    try:
        all_maps = explain.feature_maps(model, chosen.face, shown_layers) if shown_layers else []
    except Exception as error:  # noqa: BLE001 - a sentence, never a traceback
        show_error(error)
        st.stop()

st.image(explain.enlarge(chosen.face, 3), caption=chosen.caption)
for layer in all_maps:
    height, width, channels = layer.maps.shape
    shown = min(channels, max_maps)
    heading = ngettext(
        "{name} ({kind}): {count} map of {height}x{width}",
        "{name} ({kind}): {count} maps of {height}x{width}",
        channels,
    )
    st.subheader(heading.format(name=layer.name, kind=layer.kind, count=channels, height=height, width=width))
    tiles = explain.maps_as_tiles(layer.maps[..., :shown])
    zoom = max(1, 96 // height)
    columns = min(16, shown) if height >= 12 else min(32, shown)
    st.image(explain.enlarge(explain.tile_grid(tiles, columns=columns, gap=1), zoom), clamp=True)
    strongest = np.argsort(layer.maps.mean(axis=(0, 1)))[::-1][:5]
    maps = _(", ").join(_("map {index}").format(index=k) for k in strongest)
    first = _("Showing the first {shown} of {count}.").format(shown=shown, count=channels) + " "
    st.caption((first if shown < channels else "") + _("Strongest on average: {maps}.").format(maps=maps))
