"""Saliency maps: which pixels does the network use to decide?"""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from fer import explain
from fer.data import EMOTIONS
from fer.i18n import N_, _, expressions, format_percent, pgettext
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
from lessons._language import chart, page_language
from lessons._shared import selected_dataset

# What a shared link holds: ?method=gradcam&expression=happy&face=3
URL_STATE = UrlState(Field.choice("method", "vanilla", explain.SALIENCY_METHODS), *FACE_FIELDS)
ONE_FACE, GRID = N_("One face"), N_("Grid: several faces per class")  # the radio's values, shown through _()
FOR_PREDICTED, FOR_TRUE = N_("the predicted class"), N_("the true class")

page_language()
NAMES = expressions()
st.title(_("Saliency maps"))
st.markdown(
    _(
        "A network's answer is a number computed from 2,304 pixels. A **saliency map** asks which of "
        "those pixels the answer depends on. The simplest one is the **gradient**: how much the class "
        "score (the logit, before the softmax) would change if one pixel became a little brighter. "
        "Bright means *this pixel matters for this class*; it does not say *which way*."
    )
)
st.markdown(
    "| " + _("method") + " | " + _("idea") + " |\n| --- | --- |\n"
    + "| " + pgettext("first use", "Vanilla gradient") + " | "
    + _("the size of $\\partial\\, \\text{score}_c / \\partial\\, \\text{pixel}$, pixel by pixel") + " |\n"
    + "| SmoothGrad | " + _("the same, averaged over noisy copies of the face: less speckle") + " |\n"
    + "| Grad-CAM | " + _("a conv layer's maps, each weighted by its average gradient: coarse regions") + " |\n"
    + "| " + pgettext("first use", "Integrated gradients") + " | "
    + _("gradients along a fade from black to the face, times the face") + " |"
)
st.markdown(
    _(
        "Report B also blacked out every pixel of low saliency: what survives is what the "
        "network looks at. A network that really learned expressions should look at eyes, brows and mouth."
    )
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
method_labels = {method: _(label) for method, label in explain.SALIENCY_METHODS.items()}
method_id = left.selectbox(
    _("Method"), list(method_labels), format_func=method_labels.__getitem__, key="saliency_method"
)
layer_name = None
smooth_samples = 20
if method_id == "gradcam":
    layers = explain.spatial_layer_names(model)
    if not layers:
        st.error(
            _("{model} has no layer with spatial maps, so Grad-CAM cannot apply: pick another method.").format(
                model=model_name
            )
        )
        st.stop()
    default_layer = explain.default_gradcam_layer(model)
    layer_name = middle.selectbox(_("Layer"), layers, index=layers.index(default_layer), key="saliency_layer")
elif method_id == "smoothgrad":
    smooth_samples = middle.slider(_("Noisy copies"), 5, 50, 20, step=5, key="saliency_samples")
mode_labels = {ONE_FACE: _(ONE_FACE), GRID: _(GRID)}
mode = right.radio(_("Show"), list(mode_labels), format_func=mode_labels.__getitem__, key="saliency_mode")

try:
    method = explain.make_saliency_method(method_id, model, layer_name=layer_name, smooth_samples=smooth_samples)
except explain.ExplainError as error:
    show_error(error)
    st.stop()
st.caption(f"**{method.name}**" + _(": ") + method.description)

opacity = st.slider(_("Heat-map opacity"), 0.0, 1.0, 0.5, 0.05, key="saliency_opacity")

if mode == ONE_FACE:
    chosen = choose_face(model_name, model, key="saliency")
    keep_in_url(URL_STATE, "saliency", {"method": method_id, **data_set_face_in_url("saliency")})
    if chosen is None:
        st.stop()
    probabilities, predicted = explain.predict_classes(model, chosen.face[None])
    probabilities, predicted = probabilities[0], int(predicted[0])
    class_labels = {"predicted": _("the predicted one ({expression})").format(expression=NAMES[predicted])}
    class_labels.update(enumerate(NAMES))
    target = st.selectbox(
        _("Explain which class?"),
        list(class_labels),
        format_func=class_labels.__getitem__,
        key="saliency_target",
    )
    class_index = predicted if target == "predicted" else int(target)
    threshold = st.slider(
        _("Mask: keep pixels with saliency at least"), 0.0, 1.0, 0.3, 0.05, key="saliency_threshold",
        help=_("Report B's view: everything less salient than this is blacked out."),
    )
    with st.spinner(_("Computing {method}...").format(method=method.name)):
        try:
            saliency = method(chosen.face[None], class_index)[0]
        except Exception as error:  # noqa: BLE001 - shown as a sentence, never a traceback
            show_error(error)
            st.stop()
    masked, kept = explain.keep_salient_pixels(chosen.face, saliency, threshold)
    pictures = {  # caption -> picture, each 48x48 shown four times larger
        chosen.caption: chosen.face,
        _("{method} for {expression}").format(method=method.name, expression=NAMES[class_index]):
            explain.heatmap_rgb(saliency),
        _("Overlay, opacity {opacity}").format(opacity=f"{opacity:.2f}"):
            explain.overlay(chosen.face, saliency, opacity),
        _("Pixels with saliency >= {threshold} ({kept} kept)").format(
            threshold=f"{threshold:.2f}", kept=format_percent(kept)
        ): masked,
    }
    for column, (caption, picture) in zip(st.columns(4), pictures.items()):
        column.image(explain.enlarge(picture, 4), caption=caption)
    bars = pd.DataFrame({"expression": NAMES, "probability": probabilities})
    st.altair_chart(
        chart(
            alt.Chart(bars)
            .mark_bar()
            .encode(
                x=alt.X("probability:Q", title=_("probability"), scale=alt.Scale(domain=[0, 1])),
                y=alt.Y("expression:N", sort=NAMES, title=None),
            )
            .properties(height=220)
        ),
        width="stretch",
    )
    percent = format_percent(probabilities[predicted])
    if chosen.label is not None:
        said = _("The model says **{said}** ({percent}); the data set says **{truth}**.").format(
            said=NAMES[predicted], percent=percent, truth=NAMES[chosen.label]
        )
    else:
        said = _("The model says **{said}** ({percent}).").format(said=NAMES[predicted], percent=percent)
    st.caption(said + " " + _("Pick another class above: the map shows what would speak *for* that class."))
else:
    keep_in_url(URL_STATE, "saliency", {"method": method_id})
    dataset = selected_dataset()
    images, labels = dataset.split("test")
    if len(images) == 0:
        images, labels = dataset.images, dataset.labels
    left, right = st.columns(2)
    per_class = left.slider(_("Faces per class"), 1, 8, 4, key="saliency_per_class")
    target_labels = {FOR_PREDICTED: _(FOR_PREDICTED), FOR_TRUE: _(FOR_TRUE)}
    explain_for = right.radio(
        _("Explain"), list(target_labels), format_func=target_labels.__getitem__, horizontal=True,
        key="saliency_grid_target",
    )
    chosen_indices = [np.flatnonzero(labels == emotion)[:per_class] for emotion in range(len(EMOTIONS))]
    flat = np.concatenate(chosen_indices)
    if len(flat) == 0:
        st.warning(
            _("The {dataset} test split is empty: pick another data set in the sidebar.").format(dataset=dataset.name)
        )
        st.stop()
    progress = st.progress(0.0, text=_("{method} for {count} faces...").format(method=method.name, count=len(flat)))
    predicted = explain.predict_classes(model, images[flat])[1]
    targets = predicted if explain_for == FOR_PREDICTED else labels[flat]
    maps = []
    for start in range(0, len(flat), 8):
        try:
            maps.append(method(images[flat[start : start + 8]], targets[start : start + 8]))
        except Exception as error:  # noqa: BLE001
            show_error(error)
            st.stop()
        done = min(start + 8, len(flat))
        counted = _("{method}: {done} of {count} faces").format(method=method.name, done=done, count=len(flat))
        progress.progress(done / len(flat), text=counted)
    progress.empty()
    maps = np.concatenate(maps)
    position = 0
    for emotion, indices in enumerate(chosen_indices):
        if len(indices) == 0:
            continue
        row = slice(position, position + len(indices))
        position += len(indices)
        tiles = np.stack([explain.overlay(images[i], saliency, opacity) for i, saliency in zip(indices, maps[row])])
        said = _(", ").join(NAMES[p] for p in predicted[row])
        st.image(
            explain.enlarge(explain.tile_grid(tiles, columns=len(tiles), gap=2), 2),
            caption=_("{expression} faces; the model says: {said}").format(expression=NAMES[emotion], said=said),
        )
