"""Confusion matrix explorer: which expressions a model mixes up, down to the very faces."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from fer import competition, evaluate
from fer.data import EMOTIONS
from fer.urlstate import Field, UrlState
from lessons._identity import current_user
from lessons._shared import read_url_state, selected_dataset, selected_model_name, visible_runs, write_url_state

TRUE_KEY, PREDICTED_KEY, CHART_KEY = "confusion_true", "confusion_predicted", "confusion_chart"
GALLERY_LIMIT = 36
VIEWS = {"counts": "counts", "shares": "row-normalised (share of each true expression)"}


def seed_widgets(values: dict) -> None:
    """Start each widget key at what the page's link asks for, unless the session already holds one."""
    for key, value in values.items():
        if key not in st.session_state:
            st.session_state[key] = value


st.title("Confusion matrix")
st.markdown(
    """
Accuracy is one number; the **confusion matrix** shows where the errors go. Each row is
the expression a face *really* shows, each column the expression the model *predicted*.
The diagonal holds the faces it got right; everything off the diagonal is a mistake, and
which cells fill up tells you what the model finds hard. On FER2013 both homework reports
found the same ones: Angry taken for Sad, Disgust for Angry or Fear, Sad and Neutral
for each other. **Click a cell** to see exactly the faces in it.
"""
)

runs = visible_runs()
if not runs:
    st.info(
        "There is no trained model yet. Train one on the **Train a network** page (a few "
        "epochs of a small CNN on the synthetic faces take a minute or two), then come back here."
    )
    st.page_link("lessons/train.py", label="Train a network", icon="🏋️")
    st.stop()

dataset = selected_dataset()
names = [run.name for run in runs]
default_name = selected_model_name()
# A class competition's private faces stay off a student's page until its private board is revealed.
hidden = set() if current_user().is_teacher else competition.hidden_splits(dataset.name)
splits = [split for split in dataset.split_names if split not in hidden]
if not splits:
    st.info(f"Every split of {dataset.name} is kept for a competition's private board until it is revealed.")
    st.stop()
default_split = dataset.test_split if dataset.test_split in splits else splits[-1]
if st.session_state.get("confusion_split") not in (None, *splits):
    del st.session_state["confusion_split"]  # a split of another data set, or one hidden since
# The link holds the model, split, TTA and view; the cell comes below, once the matrix is known.
settings = UrlState(
    Field.choice("model", default_name if default_name in names else names[0], names),
    Field.choice("split", default_split, splits),
    Field.choice("tta", "none", evaluate.TTA_MODES),
    Field.choice("view", "counts", VIEWS),
)
notices = st.container()  # sentences about a bad link, at the top of the page
with notices:
    linked = read_url_state(settings)
seed_widgets(
    {
        "confusion_model": linked["model"],
        "confusion_split": linked["split"],
        "confusion_tta": linked["tta"],
        "confusion_view": linked["view"],
    }
)
model_column, split_column, tta_column = st.columns([2, 1, 2])
model_name = model_column.selectbox("Model", names, key="confusion_model")
split = split_column.radio("Split", splits, format_func=dataset.split_label, horizontal=True, key="confusion_split")
split_name = dataset.split_label(split)
tta = tta_column.selectbox(
    "Test-time augmentation",
    list(evaluate.TTA_MODES),
    format_func=lambda mode: f"{mode}: {evaluate.TTA_DESCRIPTIONS[mode]}",
    key="confusion_tta",
)


def evaluate_with_progress(mode: str) -> evaluate.Evaluation:
    bar = st.progress(0.0, text=f"Predicting {dataset.name}, {split_name}, with {model_name} (TTA: {mode})...")
    try:
        return evaluate.evaluate_split(
            model_name,
            dataset,
            split,
            tta=mode,
            progress=lambda fraction: bar.progress(
                fraction, text=f"Predicting {dataset.name}, {split_name}, with {model_name}: {fraction:.0%}"
            ),
        )
    finally:
        bar.empty()


try:
    result = evaluate_with_progress(tta)
    plain = evaluate_with_progress("none") if tta != "none" else result
except ValueError as error:  # RegistryError, DataError, EvaluationError: sentences for people
    st.error(str(error))
    st.stop()

matrix = result.matrix
shares = evaluate.normalise_rows(matrix)
accuracy_column, faces_column, wrong_column = st.columns(3)
accuracy_column.metric(
    f"Accuracy on {split_name}",
    f"{result.accuracy:.1%}",
    delta=f"{result.accuracy - plain.accuracy:+.1%} from TTA" if tta != "none" else None,
)
faces_column.metric("Faces", f"{len(result.labels):,}")
wrong_column.metric("Mistakes", f"{int(matrix.sum() - np.trace(matrix)):,}")
if dataset.synthetic:
    st.caption("Data set: the built-in synthetic faces (drawn, not photographed).")

st.header("The matrix")
view = st.radio("Show", list(VIEWS), format_func=VIEWS.get, horizontal=True, key="confusion_view")
normalised = view != "counts"
cells = pd.DataFrame(
    [
        {
            "true": EMOTIONS[i],
            "predicted": EMOTIONS[j],
            "count": int(matrix[i, j]),
            "share": float(shares[i, j]),
            "label": f"{shares[i, j]:.0%}" if normalised else str(int(matrix[i, j])),
        }
        for i in range(len(EMOTIONS))
        for j in range(len(EMOTIONS))
    ]
)
value_field = "share" if normalised else "count"
cell_selection = alt.selection_point(name="cell", fields=["true", "predicted"], on="click", toggle=False)
base = alt.Chart(cells).encode(
    x=alt.X(
        "predicted:N", sort=list(EMOTIONS), title="Predicted expression", axis=alt.Axis(labelAngle=0, orient="top")
    ),
    y=alt.Y("true:N", sort=list(EMOTIONS), title="True expression"),
)
heatmap = base.mark_rect(stroke="white", strokeWidth=2, cursor="pointer").encode(
    color=alt.Color(f"{value_field}:Q", scale=alt.Scale(scheme="blues"), title=value_field),
    opacity=alt.condition(cell_selection, alt.value(1.0), alt.value(0.75)),
    tooltip=["true", "predicted", "count", alt.Tooltip("share:Q", format=".1%")],
).add_params(cell_selection)
dark_above = 0.5 * (shares.max() if normalised else matrix.max())
numbers = base.mark_text(fontSize=14, cursor="pointer").encode(
    text="label:N",
    color=alt.condition(f"datum.{value_field} > {dark_above}", alt.value("white"), alt.value("black")),
)


def _cell_clicked() -> None:
    """Copy the clicked cell into the two selectboxes below, which hold the choice."""
    event = st.session_state.get(CHART_KEY)
    points = (event or {}).get("selection", {}).get("cell", [])
    if points and points[0].get("true") in EMOTIONS and points[0].get("predicted") in EMOTIONS:
        st.session_state[TRUE_KEY] = points[0]["true"]
        st.session_state[PREDICTED_KEY] = points[0]["predicted"]


st.altair_chart(
    (heatmap + numbers).properties(height=420),
    key=CHART_KEY,
    on_select=_cell_clicked,
    selection_mode="cell",
    width="stretch",
)
st.caption(
    "Rows: the true expression. Columns: the model's answer. "
    + ("Each row sums to 100%: the share of that expression's faces that went to each answer."
       if normalised else "Numbers are faces.")
)

pairs = result.confused_pairs(top=10)
worst = pairs[0] if pairs else None
# The cell a link names; without one, the page opens on the model's biggest mistake.
cell_state = UrlState(
    Field.choice("true", EMOTIONS[worst.true_label] if worst else EMOTIONS[0], EMOTIONS),
    Field.choice("predicted", EMOTIONS[worst.predicted_label] if worst else EMOTIONS[0], EMOTIONS),
)
with notices:
    linked_cell = read_url_state(cell_state)
seed_widgets({TRUE_KEY: linked_cell["true"], PREDICTED_KEY: linked_cell["predicted"]})

st.header("The faces in one cell")
true_column, predicted_column = st.columns(2)
true_name = true_column.selectbox("True expression", EMOTIONS, key=TRUE_KEY)
predicted_name = predicted_column.selectbox("Predicted expression", EMOTIONS, key=PREDICTED_KEY)
true_label, predicted_label = EMOTIONS.index(true_name), EMOTIONS.index(predicted_name)
write_url_state(settings, {"split": split, "tta": tta, "view": view})
# Always in the link, even when equal to today's defaults: those depend on which run is newest.
for name, value in {"model": model_name, "true": true_name, "predicted": predicted_name}.items():
    if st.query_params.get(name) != value:
        st.query_params[name] = value
indices = result.cell(true_label, predicted_label)
images, _ = dataset.split(split)

if true_label == predicted_label:
    st.markdown(f"**{len(indices)}** {true_name} faces the model got right.")
else:
    st.markdown(
        f"**{len(indices)}** {true_name} faces the model called **{predicted_name}** "
        f"({shares[true_label, predicted_label]:.0%} of all {true_name} faces in this split)."
    )
if len(indices) == 0:
    st.info("This cell is empty: pick another cell.")
else:
    shown = indices[:GALLERY_LIMIT]
    if len(indices) > GALLERY_LIMIT:
        st.caption(f"Showing the first {GALLERY_LIMIT} of {len(indices)}.")
    with st.container(key="confusion_gallery"):
        columns = st.columns(6)
        for position, index in enumerate(shown):
            probabilities = result.probabilities[index]
            top = np.argsort(probabilities)[::-1][:3]
            caption = " · ".join(f"{EMOTIONS[k]} {probabilities[k]:.0%}" for k in top)
            columns[position % 6].image(images[index], caption=f"#{index}: {caption}", width=96)
    st.dataframe(
        pd.DataFrame(result.probabilities[shown], columns=EMOTIONS, index=[f"#{i}" for i in shown]),
        column_config={
            emotion: st.column_config.ProgressColumn(emotion, min_value=0.0, max_value=1.0, format="percent")
            for emotion in EMOTIONS
        },
    )

st.header("Most confused pairs")
if pairs:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "true": EMOTIONS[pair.true_label],
                    "taken for": EMOTIONS[pair.predicted_label],
                    "faces": pair.count,
                    "share of true": pair.share_of_true,
                }
                for pair in pairs
            ]
        ),
        column_config={"share of true": st.column_config.NumberColumn(format="percent")},
        hide_index=True,
    )
else:
    st.success("No mistakes at all on this split.")

st.header("Per expression")
st.markdown(
    """
**Precision**: of the faces the model *called* X, the share that really are X.
**Recall**: of the faces that *are* X, the share the model found. **F1** is their harmonic
mean, and **support** is how many X faces there are: a rare class (Disgust in FER2013) can
have a poor recall and still barely move the accuracy.
"""
)
st.dataframe(
    pd.DataFrame([vars(row) for row in result.per_class()]),
    column_config={
        name: st.column_config.NumberColumn(format="%.3f") for name in ("precision", "recall", "f1")
    },
    hide_index=True,
)
