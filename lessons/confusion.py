"""Confusion matrix explorer: which expressions a model mixes up, down to the very faces."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from fer import competition, evaluate
from fer.data import EMOTIONS
from fer.i18n import N_, _, expressions, format_integer, format_percent, pgettext
from fer.urlstate import Field, UrlState
from lessons._identity import current_user
from lessons._language import chart, page_language
from lessons._shared import read_url_state, selected_dataset, selected_model_name, visible_runs, write_url_state

TRUE_KEY, PREDICTED_KEY, CHART_KEY = "confusion_true", "confusion_predicted", "confusion_chart"
GALLERY_LIMIT = 36
VIEWS = {"counts": N_("counts"), "shares": N_("row-normalised (share of each true expression)")}


def seed_widgets(values: dict) -> None:
    """Start each widget key at what the page's link asks for, unless the session already holds one."""
    for key, value in values.items():
        if key not in st.session_state:
            st.session_state[key] = value


page_language()
NAMES = expressions()  # the seven expressions in the reader's language, in label order
st.title(_("Confusion matrix"))
st.markdown(
    _(
        "Accuracy is one number; the **confusion matrix** shows where the errors go. Each row is "
        "the expression a face *really* shows, each column the expression the model *predicted*. "
        "The diagonal holds the faces it got right; everything off the diagonal is a mistake, and "
        "which cells fill up tells you what the model finds hard. On FER2013 both homework reports "
        "found the same ones: {angry} taken for {sad}, {disgust} for {angry} or {fear}, {sad} and {neutral} "
        "for each other. **Click a cell** to see exactly the faces in it."
    ).format(angry=NAMES[0], disgust=NAMES[1], fear=NAMES[2], sad=NAMES[4], neutral=NAMES[6])
)

runs = visible_runs()
if not runs:
    st.info(
        _(
            "There is no trained model yet. Train one on the **Train a network** page (a few "
            "epochs of a small CNN on the synthetic faces take a minute or two), then come back here."
        )
    )
    st.page_link("lessons/train.py", label=_("Train a network"), icon="🏋️")
    st.stop()

dataset = selected_dataset()
names = [run.name for run in runs]
default_name = selected_model_name()
# A class competition's private faces stay off a student's page until its private board is revealed.
hidden = set() if current_user().is_teacher else competition.hidden_splits(dataset.name)
splits = [split for split in dataset.split_names if split not in hidden]
if not splits:
    st.info(
        _("Every split of {dataset} is kept for a competition's private board until it is revealed.").format(
            dataset=dataset.name
        )
    )
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
model_name = model_column.selectbox(_("Model"), names, key="confusion_model")
split_labels = {split: evaluate.split_title(dataset, split) for split in splits}
split = split_column.radio(
    _("Split"), splits, format_func=split_labels.__getitem__, horizontal=True, key="confusion_split"
)
split_name = split_labels[split]
tta_labels = {mode: evaluate.tta_label(mode) for mode in evaluate.TTA_MODES}
tta = tta_column.selectbox(
    pgettext("first use", "Test-time augmentation"),
    list(tta_labels),
    format_func=tta_labels.__getitem__,
    key="confusion_tta",
)


def evaluate_with_progress(mode: str) -> evaluate.Evaluation:
    names = {"dataset": dataset.name, "split": split_name, "model": model_name}
    bar = st.progress(0.0, text=_("Predicting {dataset}, {split}, with {model} (TTA: {tta})...").format(
        tta=mode, **names))
    try:
        return evaluate.evaluate_split(
            model_name,
            dataset,
            split,
            tta=mode,
            progress=lambda fraction: bar.progress(
                fraction, text=_("Predicting {dataset}, {split}, with {model}: {percent}").format(
                    percent=format_percent(fraction), **names)
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
    _("Accuracy on {split}").format(split=split_name),
    format_percent(result.accuracy, 1),
    delta=_("{change} from TTA").format(change=f"{result.accuracy - plain.accuracy:+.1%}") if tta != "none" else None,
)
faces_column.metric(_("Faces"), format_integer(len(result.labels)))
wrong_column.metric(_("Mistakes"), format_integer(int(matrix.sum() - np.trace(matrix))))
if dataset.synthetic:
    st.caption(_("Data set: the built-in synthetic faces (drawn, not photographed)."))

st.header(_("The matrix"))
view_labels = {view: _(label) for view, label in VIEWS.items()}
view = st.radio(_("Show"), list(view_labels), format_func=view_labels.__getitem__, horizontal=True,
                key="confusion_view")
normalised = view != "counts"
# Cells hold the expressions' names in the reader's language; the click reports the labels (0..6).
cells = pd.DataFrame(
    [
        {
            "true": NAMES[i],
            "predicted": NAMES[j],
            "true_label": i,
            "predicted_label": j,
            "count": int(matrix[i, j]),
            "share": float(shares[i, j]),
            "label": format_percent(shares[i, j]) if normalised else str(int(matrix[i, j])),
        }
        for i in range(len(EMOTIONS))
        for j in range(len(EMOTIONS))
    ]
)
value_field = "share" if normalised else "count"
value_titles = {"share": _("share"), "count": _("count")}
cell_selection = alt.selection_point(
    name="cell", fields=["true_label", "predicted_label"], on="click", toggle=False
)
base = alt.Chart(cells).encode(
    x=alt.X(
        "predicted:N", sort=NAMES, title=_("Predicted expression"), axis=alt.Axis(labelAngle=0, orient="top")
    ),
    y=alt.Y("true:N", sort=NAMES, title=_("True expression")),
)
heatmap = base.mark_rect(stroke="white", strokeWidth=2, cursor="pointer").encode(
    color=alt.Color(f"{value_field}:Q", scale=alt.Scale(scheme="blues"), title=value_titles[value_field]),
    opacity=alt.condition(cell_selection, alt.value(1.0), alt.value(0.75)),
    tooltip=[
        alt.Tooltip("true:N", title=_("true")),
        alt.Tooltip("predicted:N", title=_("predicted")),
        alt.Tooltip("count:Q", title=_("count")),
        alt.Tooltip("share:Q", format=".1%", title=_("share")),
    ],
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
    if not points:
        return
    try:
        true_label, predicted_label = int(points[0]["true_label"]), int(points[0]["predicted_label"])
    except (KeyError, TypeError, ValueError):
        return
    if 0 <= true_label < len(EMOTIONS) and 0 <= predicted_label < len(EMOTIONS):
        st.session_state[TRUE_KEY] = EMOTIONS[true_label]
        st.session_state[PREDICTED_KEY] = EMOTIONS[predicted_label]


st.altair_chart(
    chart((heatmap + numbers).properties(height=420)),
    key=CHART_KEY,
    on_select=_cell_clicked,
    selection_mode="cell",
    width="stretch",
)
st.caption(
    _("Rows: the true expression. Columns: the model's answer.") + " "
    + (_("Each row sums to {whole}: the share of that expression's faces that went to each answer.").format(
        whole=format_percent(1.0)) if normalised else _("Numbers are faces."))
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

st.header(_("The faces in one cell"))
true_column, predicted_column = st.columns(2)
shown_names = dict(zip(EMOTIONS, NAMES))  # the options stay the English ids the link holds
true_name = true_column.selectbox(_("True expression"), EMOTIONS, format_func=shown_names.__getitem__, key=TRUE_KEY)
predicted_name = predicted_column.selectbox(
    _("Predicted expression"), EMOTIONS, format_func=shown_names.__getitem__, key=PREDICTED_KEY
)
true_label, predicted_label = EMOTIONS.index(true_name), EMOTIONS.index(predicted_name)
write_url_state(settings, {"split": split, "tta": tta, "view": view})
# Always in the link, even when equal to today's defaults: those depend on which run is newest.
for name, value in {"model": model_name, "true": true_name, "predicted": predicted_name}.items():
    if st.query_params.get(name) != value:
        st.query_params[name] = value
indices = result.cell(true_label, predicted_label)
images = dataset.split(split)[0]
true_shown, predicted_shown = NAMES[true_label], NAMES[predicted_label]

if true_label == predicted_label:
    # "faces" even for one: links and tests read these sentences as they always were.
    st.markdown(
        _("**{count}** {expression} faces the model got right.").format(count=len(indices), expression=true_shown)
    )
else:
    st.markdown(
        _(
            "**{count}** {true} faces the model called **{predicted}** ({share} of all {true} faces in this split)."
        ).format(
            count=len(indices), true=true_shown, predicted=predicted_shown,
            share=format_percent(shares[true_label, predicted_label]),
        )
    )
if len(indices) == 0:
    st.info(_("This cell is empty: pick another cell."))
else:
    shown = indices[:GALLERY_LIMIT]
    if len(indices) > GALLERY_LIMIT:
        st.caption(_("Showing the first {shown} of {count}.").format(shown=GALLERY_LIMIT, count=len(indices)))
    with st.container(key="confusion_gallery"):
        columns = st.columns(6)
        for position, index in enumerate(shown):
            probabilities = result.probabilities[index]
            top = np.argsort(probabilities)[::-1][:3]
            caption = " · ".join(f"{NAMES[k]} {format_percent(probabilities[k])}" for k in top)
            columns[position % 6].image(images[index], caption=f"#{index}: {caption}", width=96)
    st.dataframe(
        pd.DataFrame(result.probabilities[shown], columns=NAMES, index=[f"#{i}" for i in shown]),
        column_config={
            name: st.column_config.ProgressColumn(name, min_value=0.0, max_value=1.0, format="percent")
            for name in NAMES
        },
    )

st.header(_("Most confused pairs"))
if pairs:
    pair_columns = {"true": _("true"), "taken for": _("taken for"), "faces": _("faces"),
                    "share of true": _("share of true")}
    st.dataframe(
        pd.DataFrame(
            [
                {
                    pair_columns["true"]: NAMES[pair.true_label],
                    pair_columns["taken for"]: NAMES[pair.predicted_label],
                    pair_columns["faces"]: pair.count,
                    pair_columns["share of true"]: pair.share_of_true,
                }
                for pair in pairs
            ]
        ),
        column_config={pair_columns["share of true"]: st.column_config.NumberColumn(format="percent")},
        hide_index=True,
    )
else:
    st.success(_("No mistakes at all on this split."))

st.header(_("Per expression"))
st.markdown(
    _(
        "**Precision**: of the faces the model *called* X, the share that really are X. "
        "**Recall**: of the faces that *are* X, the share the model found. **F1** is their harmonic "
        "mean, and **support** is how many X faces there are: a rare class ({disgust} in FER2013) can "
        "have a poor recall and still barely move the accuracy."
    ).format(disgust=NAMES[1])
)
metric_columns = {"emotion": _("expression"), "precision": _("precision"), "recall": _("recall"), "f1": _("f1"),
                  "support": _("support")}
st.dataframe(
    pd.DataFrame(
        [{**vars(row), "emotion": NAMES[EMOTIONS.index(row.emotion)]} for row in result.per_class()]
    ).rename(columns=metric_columns),
    column_config={
        metric_columns[name]: st.column_config.NumberColumn(format="%.3f") for name in ("precision", "recall", "f1")
    },
    hide_index=True,
)
