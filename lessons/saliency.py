"""Saliency maps: which pixels does the network use to decide?"""

import numpy as np
import pandas as pd
import streamlit as st

from fer import explain
from fer.data import EMOTIONS
from fer.urlstate import Field, UrlState
from lessons._explain_inputs import (
    FACE_FIELDS,
    choose_face,
    data_set_face_in_url,
    face_widgets_from_url,
    follow_url,
    keep_in_url,
    selected_model,
    show_error,
)
from lessons._shared import selected_dataset

# What a shared link holds: ?method=gradcam&expression=happy&face=3
URL_STATE = UrlState(Field.choice("method", "vanilla", explain.SALIENCY_METHODS), *FACE_FIELDS)

st.title("Saliency maps")
st.markdown(
    """
A network's answer is a number computed from 2,304 pixels. A **saliency map** asks which of
those pixels the answer depends on. The simplest one is the **gradient**: how much the class
score (the logit, before the softmax) would change if one pixel became a little brighter.
Bright means *this pixel matters for this class*; it does not say *which way*.

| method | idea |
| --- | --- |
| Vanilla gradient | the size of $\\partial\\, \\text{score}_c / \\partial\\, \\text{pixel}$, pixel by pixel |
| SmoothGrad | the same, averaged over noisy copies of the face: less speckle |
| Grad-CAM | a conv layer's maps, each weighted by its average gradient: coarse regions |
| Integrated gradients | gradients along a fade from black to the face, times the face |

Report B also blacked out every pixel of low saliency: what survives is what the
network looks at. A network that really learned expressions should look at eyes, brows and mouth.
"""
)

chosen_model = selected_model()
if chosen_model is None:
    st.stop()
model_name, model = chosen_model

linked = follow_url(URL_STATE, "saliency")
if linked is not None:
    st.session_state["saliency_method"] = linked["method"]
    face_widgets_from_url("saliency", linked)

left, middle, right = st.columns(3)
method_id = left.selectbox(
    "Method", list(explain.SALIENCY_METHODS), format_func=explain.SALIENCY_METHODS.get, key="saliency_method"
)
layer_name = None
smooth_samples = 20
if method_id == "gradcam":
    layers = explain.spatial_layer_names(model)
    if not layers:
        st.error(f"{model_name} has no layer with spatial maps, so Grad-CAM cannot apply: pick another method.")
        st.stop()
    default_layer = explain.default_gradcam_layer(model)
    layer_name = middle.selectbox("Layer", layers, index=layers.index(default_layer), key="saliency_layer")
elif method_id == "smoothgrad":
    smooth_samples = middle.slider("Noisy copies", 5, 50, 20, step=5, key="saliency_samples")
mode = right.radio("Show", ("One face", "Grid: several faces per class"), key="saliency_mode")

try:
    method = explain.make_saliency_method(method_id, model, layer_name=layer_name, smooth_samples=smooth_samples)
except explain.ExplainError as error:
    show_error(error)
    st.stop()
st.caption(f"**{method.name}**: {method.description}")

opacity = st.slider("Heat-map opacity", 0.0, 1.0, 0.5, 0.05, key="saliency_opacity")

if mode == "One face":
    chosen = choose_face(model_name, model, key="saliency")
    keep_in_url(URL_STATE, "saliency", {"method": method_id, **data_set_face_in_url("saliency")})
    if chosen is None:
        st.stop()
    probabilities, predicted = explain.predict_classes(model, chosen.face[None])
    probabilities, predicted = probabilities[0], int(predicted[0])
    class_options = ["predicted"] + list(range(len(EMOTIONS)))
    target = st.selectbox(
        "Explain which class?",
        class_options,
        format_func=lambda option: (
            f"the predicted one ({EMOTIONS[predicted]})" if option == "predicted" else EMOTIONS[option]
        ),
        key="saliency_target",
    )
    class_index = predicted if target == "predicted" else int(target)
    threshold = st.slider(
        "Mask: keep pixels with saliency at least", 0.0, 1.0, 0.3, 0.05, key="saliency_threshold",
        help="Report B's view: everything less salient than this is blacked out.",
    )
    with st.spinner(f"Computing {method.name}..."):
        try:
            saliency = method(chosen.face[None], class_index)[0]
        except Exception as error:  # noqa: BLE001 - shown as a sentence, never a traceback
            show_error(error)
            st.stop()
    masked, kept = explain.keep_salient_pixels(chosen.face, saliency, threshold)
    pictures = {  # caption -> picture, each 48x48 shown four times larger
        chosen.caption: chosen.face,
        f"{method.name} for {EMOTIONS[class_index]}": explain.heatmap_rgb(saliency),
        f"Overlay, opacity {opacity:.2f}": explain.overlay(chosen.face, saliency, opacity),
        f"Pixels with saliency >= {threshold:.2f} ({kept:.0%} kept)": masked,
    }
    for column, (caption, picture) in zip(st.columns(4), pictures.items()):
        column.image(explain.enlarge(picture, 4), caption=caption)
    chart = pd.DataFrame({"probability": probabilities}, index=list(EMOTIONS))
    st.bar_chart(chart, horizontal=True, sort=False, height=220)
    st.caption(
        f"The model says **{EMOTIONS[predicted]}** ({probabilities[predicted]:.0%})"
        + (f"; the data set says **{EMOTIONS[chosen.label]}**." if chosen.label is not None else ".")
        + " Pick another class above: the map shows what would speak *for* that class."
    )
else:
    keep_in_url(URL_STATE, "saliency", {"method": method_id})
    dataset = selected_dataset()
    images, labels = dataset.split("test")
    if len(images) == 0:
        images, labels = dataset.images, dataset.labels
    left, right = st.columns(2)
    per_class = left.slider("Faces per class", 1, 8, 4, key="saliency_per_class")
    explain_for = right.radio(
        "Explain", ("the predicted class", "the true class"), horizontal=True, key="saliency_grid_target"
    )
    chosen_indices = [np.flatnonzero(labels == emotion)[:per_class] for emotion in range(len(EMOTIONS))]
    flat = np.concatenate(chosen_indices)
    if len(flat) == 0:
        st.warning(f"The {dataset.name} test split is empty: pick another data set in the sidebar.")
        st.stop()
    progress = st.progress(0.0, text=f"{method.name} for {len(flat)} faces...")
    _, predicted = explain.predict_classes(model, images[flat])
    targets = predicted if explain_for == "the predicted class" else labels[flat]
    maps = []
    for start in range(0, len(flat), 8):
        try:
            maps.append(method(images[flat[start : start + 8]], targets[start : start + 8]))
        except Exception as error:  # noqa: BLE001
            show_error(error)
            st.stop()
        done = min(start + 8, len(flat))
        progress.progress(done / len(flat), text=f"{method.name}: {done} of {len(flat)} faces")
    progress.empty()
    maps = np.concatenate(maps)
    position = 0
    for emotion, indices in enumerate(chosen_indices):
        if len(indices) == 0:
            continue
        row = slice(position, position + len(indices))
        position += len(indices)
        tiles = np.stack([explain.overlay(images[i], saliency, opacity) for i, saliency in zip(indices, maps[row])])
        said = ", ".join(EMOTIONS[p] for p in predicted[row])
        st.image(
            explain.enlarge(explain.tile_grid(tiles, columns=len(tiles), gap=2), 2),
            caption=f"{EMOTIONS[emotion]} faces; the model says: {said}",
        )
