"""Filter visualisation: the picture each filter (or each output) of the network likes best."""

import pandas as pd
import streamlit as st

from fer import explain
from fer.data import EMOTIONS
from fer.urlstate import Field, UrlState
from lessons._explain_inputs import EXPRESSION_IDS, follow_url, keep_in_url, model_file, selected_model, show_error

DRAW_MODES = {"filters": "The filters of a layer", "class": "What makes the network say..."}

st.title("Filter visualisation")
st.markdown(
    """
What is a filter looking for? Instead of searching the data set for the faces that excite it,
we **draw** one: start from gray noise and repeat, a few hundred times,

$$\\text{image} \\leftarrow \\text{image}
  + \\eta \\, \\frac{\\partial\\, \\overline{a_k}(\\text{image})}{\\partial\\, \\text{image}}$$

where $\\overline{a_k}$ is filter $k$'s mean activation. This is **activation maximisation**,
gradient *ascent* on the picture with the network frozen. Alone it finds meaningless noise, so
every step shows the network a slightly **jittered, rotated and rescaled** copy (a pattern has to
survive being moved), and the picture is kept smooth by **blurring** it now and then or by
penalising its **total variation**; optionally it lives in **Fourier space**, where smooth
pictures are the easy ones. All the filters of a layer are drawn together, one picture per
filter, in one batch. Early layers like edges and blobs; later ones, larger parts of faces.
"""
)

chosen_model = selected_model()
if chosen_model is None:
    st.stop()
model_name, model = chosen_model

layers = [name for name in explain.optimisable_layer_names(model) if name != model.layers[-1].name]
if not layers:
    st.error(f"{model_name} has no hidden layer to draw.")
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

mode = st.radio("Draw", list(DRAW_MODES), format_func=DRAW_MODES.get, horizontal=True, key="filters_mode")
if mode == "filters":
    left, right = st.columns(2)
    layer_name = left.selectbox(
        "Layer", layers, key="filters_layer",
        help="A convolution before its activation is linear in the pixels: its best picture is flat white "
        "or black. Pick the layer after the ReLU to see patterns.",
    )
    available = explain.unit_count(model, layer_name)
    count = right.slider(
        f"How many of its {available} filters", 1, available, min(16, available), key="filters_count",
        help="All of them are optimised at once; more filters take proportionally longer.",
    )
    units = list(range(count))
    labels = [f"filter {unit}" for unit in units]
    keep_in_url(URL_STATE, "filters", {"draw": mode, "layer": layer_name})
else:
    layer_name = model.layers[-1].name
    left, right = st.columns(2)
    emotion = left.selectbox("Expression", range(len(EMOTIONS)), format_func=lambda i: EMOTIONS[i], key="filters_class")
    variants = right.slider("Different starting noises", 1, 8, 4, key="filters_variants")
    units = [emotion] * variants
    labels = [f"{EMOTIONS[emotion]} #{index + 1}" for index in range(variants)]
    keep_in_url(URL_STATE, "filters", {"draw": mode, "expression": EXPRESSION_IDS[emotion]})

with st.expander("Optimisation settings"):
    left, middle, right = st.columns(3)
    steps = left.slider("Ascent steps", 10, 400, 200, step=10, key="filters_steps")
    learning_rate = left.select_slider("Step size", [0.01, 0.02, 0.05, 0.1, 0.2], value=0.05, key="filters_lr")
    regulariser = middle.selectbox("Smoothness", explain.REGULARISERS, key="filters_regulariser")
    fourier = middle.checkbox("Fourier parametrisation", key="filters_fourier")
    jitter = right.slider("Jitter (pixels)", 0, 4, 2, key="filters_jitter")
    rotation = right.slider("Rotation (degrees)", 0.0, 15.0, 5.0, 1.0, key="filters_rotation")
    scale = right.slider("Scale change", 0.0, 0.2, 0.05, 0.01, key="filters_scale")
    seed = left.number_input("Seed", 0, 10_000, 0, key="filters_seed")

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
    f"{len(units)} picture(s) x {settings.steps} steps. Results are cached on disk: the same model, "
    "layer and settings come back at once."
)

if st.button("Draw", type="primary", key="filters_draw"):
    bar = st.progress(0.0, text="Starting the ascent...")

    def show_progress(done: int, total: int) -> None:
        if done == total or done % max(1, total // 50) == 0:
            bar.progress(done / total, text=f"Ascent step {done} of {total}")

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
    st.info("Choose a layer and press **Draw**.")
    st.stop()
_, gallery, from_cache, labels = stored
if from_cache:
    st.caption("From the cache: drawn earlier with exactly these settings.")

pictures = explain.stretch_contrast(gallery.images)
columns_per_row = 8
for start in range(0, len(pictures), columns_per_row):
    columns = st.columns(columns_per_row)
    for column, index in zip(columns, range(start, min(start + columns_per_row, len(pictures)))):
        column.image(
            explain.enlarge(pictures[index], 3),
            caption=f"{labels[index]}: {gallery.activations[index]:.2f}",
        )

st.subheader("How far each one climbed")
st.bar_chart(
    pd.DataFrame(
        {"start": gallery.start_activations, "after the ascent": gallery.activations},
        index=labels,
    ),
    stack=False,
    sort=False,
    height=260,
)
history = pd.DataFrame(gallery.history, columns=labels)
st.line_chart(
    history.mean(axis=1).rename("mean objective (jittered copies)"), x_label="ascent step", height=200
)
if mode == "class":
    probabilities, predicted = explain.predict_classes(model, gallery.images)
    said = ", ".join(f"{EMOTIONS[p]} ({probabilities[i, p]:.0%})" for i, p in enumerate(predicted))
    st.caption(
        "The activation is the class's logit (its score before the softmax). On these pictures the "
        f"network says: {said}. Raising one logit can raise others too, so the top class may differ."
    )
else:
    st.caption(
        "Numbers under the pictures: the filter's mean activation on its picture. Pictures are "
        "contrast-stretched one by one; a filter that barely climbs shows mostly noise."
    )
