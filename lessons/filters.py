"""Filter visualisation: the picture each filter (or each output) of the network likes best."""

import altair as alt
import pandas as pd
import streamlit as st

from fer import explain
from fer.data import EMOTIONS
from fer.i18n import N_, _, expressions, format_percent
from fer.urlstate import Field, UrlState
from lessons._explain_inputs import EXPRESSION_IDS, follow_url, keep_in_url, model_file, selected_model, show_error
from lessons._language import chart, page_language

DRAW_MODES = {"filters": N_("The filters of a layer"), "class": N_("What makes the network say...")}
REGULARISER_LABELS = {"blur": N_("blur"), "total variation": N_("total variation"), "none": N_("none")}

page_language()
NAMES = expressions()
st.title(_("Filter visualisation"))
st.markdown(
    _(
        "What is a filter looking for? Instead of searching the data set for the faces that excite it, "
        "we **draw** one: start from gray noise and repeat, a few hundred times,"
    )
)
image = r"\text{" + _("image") + "}"
st.latex(
    rf"{image} \leftarrow {image}"
    rf"  + \eta \, \frac{{\partial\, \overline{{a_k}}({image})}}{{\partial\, {image}}}"
)
st.markdown(
    _(
        "where $\\overline{a_k}$ is filter $k$'s mean activation. This is **activation maximisation**, "
        "gradient *ascent* on the picture with the network frozen. Alone it finds meaningless noise, so "
        "every step shows the network a slightly **jittered, rotated and rescaled** copy (a pattern has to "
        "survive being moved), and the picture is kept smooth by **blurring** it now and then or by "
        "penalising its **total variation**; optionally it lives in **Fourier space**, where smooth "
        "pictures are the easy ones. All the filters of a layer are drawn together, one picture per "
        "filter, in one batch. Early layers like edges and blobs; later ones, larger parts of faces."
    )
)

chosen_model = selected_model()
if chosen_model is None:
    st.stop()
model_name, model = chosen_model

layers = [name for name in explain.optimisable_layer_names(model) if name != model.layers[-1].name]
if not layers:
    st.error(_("{model} has no hidden layer to draw.").format(model=model_name))
    st.stop()
default_layer = explain.default_filter_layer(model)
# What a shared link holds: ?layer=conv2_relu, or ?draw=class&expression=happy
URL_STATE = UrlState(
    Field.choice("draw", "filters", DRAW_MODES),
    Field.choice("layer", default_layer if default_layer in layers else layers[0], layers),
    Field.choice("expression", "happy", EXPRESSION_IDS),
)
linked = follow_url(URL_STATE, "filters")
if linked is not None:
    st.session_state["filters_mode"] = linked["draw"]
    st.session_state["filters_layer"] = linked["layer"]
    st.session_state["filters_class"] = EXPRESSION_IDS.index(linked["expression"])

mode_labels = {mode: _(label) for mode, label in DRAW_MODES.items()}
mode = st.radio(_("Draw"), list(mode_labels), format_func=mode_labels.__getitem__, horizontal=True, key="filters_mode")
if mode == "filters":
    left, right = st.columns(2)
    layer_name = left.selectbox(
        _("Layer"), layers, key="filters_layer",
        help=_(
            "A convolution before its activation is linear in the pixels: its best picture is flat white "
            "or black. Pick the layer after the ReLU to see patterns."
        ),
    )
    available = explain.unit_count(model, layer_name)
    count = right.slider(
        _("How many of its {count} filters").format(count=available), 1, available, min(16, available),
        key="filters_count", help=_("All of them are optimised at once; more filters take proportionally longer."),
    )
    units = list(range(count))
    labels = [_("filter {unit}").format(unit=unit) for unit in units]
    keep_in_url(URL_STATE, "filters", {"draw": mode, "layer": layer_name})
else:
    layer_name = model.layers[-1].name
    left, right = st.columns(2)
    emotion = left.selectbox(
        _("Expression"), range(len(EMOTIONS)), format_func=NAMES.__getitem__, key="filters_class"
    )
    variants = right.slider(_("Different starting noises"), 1, 8, 4, key="filters_variants")
    units = [emotion] * variants
    labels = [f"{NAMES[emotion]} #{index + 1}" for index in range(variants)]
    keep_in_url(URL_STATE, "filters", {"draw": mode, "expression": EXPRESSION_IDS[emotion]})

with st.expander(_("Optimisation settings")):
    left, middle, right = st.columns(3)
    steps = left.slider(_("Ascent steps"), 10, 400, 200, step=10, key="filters_steps")
    learning_rate = left.select_slider(
        _("Step size"), [0.01, 0.02, 0.05, 0.1, 0.2], value=0.05, key="filters_lr"
    )
    regulariser_labels = {name: _(label) for name, label in REGULARISER_LABELS.items()}
    regulariser = middle.selectbox(
        _("Smoothness"), explain.REGULARISERS, format_func=regulariser_labels.__getitem__, key="filters_regulariser"
    )
    fourier = middle.checkbox(_("Fourier parametrisation"), key="filters_fourier")
    jitter = right.slider(_("Jitter (pixels)"), 0, 4, 2, key="filters_jitter")
    rotation = right.slider(_("Rotation (degrees)"), 0.0, 15.0, 5.0, 1.0, key="filters_rotation")
    scale = right.slider(_("Scale change"), 0.0, 0.2, 0.05, 0.01, key="filters_scale")
    seed = left.number_input(_("Seed"), 0, 10_000, 0, key="filters_seed")

settings = explain.AscentSettings(
    steps=steps,
    learning_rate=learning_rate,
    jitter_pixels=jitter,
    rotation_degrees=rotation,
    scale_range=scale,
    regulariser=regulariser,
    fourier=fourier,
    seed=int(seed),
)
request = (model_name, layer_name, tuple(units), settings)
st.caption(
    _(
        "{pictures} picture(s) x {steps} steps. Results are cached on disk: the same model, "
        "layer and settings come back at once."
    ).format(pictures=len(units), steps=settings.steps)
)

if st.button(_("Draw"), type="primary", key="filters_draw"):
    bar = st.progress(0.0, text=_("Starting the ascent..."))
    step_text = _("Ascent step {done} of {total}")

    def show_progress(done: int, total: int) -> None:
        if done == total or done % max(1, total // 50) == 0:
            bar.progress(done / total, text=step_text.format(done=done, total=total))

    try:
        gallery, from_cache = explain.cached_maximise_activations(
            model, model_file(model_name), layer_name, units, settings, progress=show_progress
        )
    except Exception as error:  # noqa: BLE001 - a sentence, never a traceback
        show_error(error)
        st.stop()
    bar.empty()
    st.session_state["filters_result"] = (request, gallery, from_cache, labels)

stored = st.session_state.get("filters_result")
if stored is None or stored[0] != request:
    st.info(_("Choose a layer and press **Draw**."))
    st.stop()
gallery, from_cache, labels = stored[1:]
if from_cache:
    st.caption(_("From the cache: drawn earlier with exactly these settings."))

pictures = explain.stretch_contrast(gallery.images)
columns_per_row = 8
for start in range(0, len(pictures), columns_per_row):
    columns = st.columns(columns_per_row)
    for column, index in zip(columns, range(start, min(start + columns_per_row, len(pictures)))):
        column.image(
            explain.enlarge(pictures[index], 3),
            caption=f"{labels[index]}: {gallery.activations[index]:.2f}",
        )

st.subheader(_("How far each one climbed"))
climbed = pd.DataFrame(
    {
        "picture": labels * 2,
        "moment": [_("start")] * len(labels) + [_("after the ascent")] * len(labels),
        "activation": [*gallery.start_activations, *gallery.activations],
    }
)
st.altair_chart(
    chart(
        alt.Chart(climbed)
        .mark_bar()
        .encode(
            x=alt.X("picture:N", sort=labels, title=None),
            xOffset="moment:N",
            y=alt.Y("activation:Q", title=_("mean activation")),
            color=alt.Color("moment:N", title=None),
        )
        .properties(height=260)
    ),
    width="stretch",
)
history = pd.DataFrame(gallery.history, columns=labels).mean(axis=1)
st.altair_chart(
    chart(
        alt.Chart(pd.DataFrame({"step": range(len(history)), "objective": history}))
        .mark_line()
        .encode(
            x=alt.X("step:Q", title=_("ascent step")),
            y=alt.Y("objective:Q", title=_("mean objective (jittered copies)")),
        )
        .properties(height=200)
    ),
    width="stretch",
)
if mode == "class":
    probabilities, predicted = explain.predict_classes(model, gallery.images)
    said = _(", ").join(f"{NAMES[p]} ({format_percent(probabilities[i, p])})" for i, p in enumerate(predicted))
    st.caption(
        _(
            "The activation is the class's logit (its score before the softmax). On these pictures the "
            "network says: {said}. Raising one logit can raise others too, so the top class may differ."
        ).format(said=said)
    )
else:
    st.caption(
        _(
            "Numbers under the pictures: the filter's mean activation on its picture. Pictures are "
            "contrast-stretched one by one; a filter that barely climbs shows mostly noise."
        )
    )
