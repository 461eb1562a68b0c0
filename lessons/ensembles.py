"""Ensembles and test-time augmentation: several models, and several looks at each face, vote."""

import altair as alt
import pandas as pd
import streamlit as st

from fer import competition, ensemble, evaluate, registry
from lessons._identity import current_user
from lessons._shared import selected_dataset, visible_runs

RESULT_KEY = "ensemble_result"

dataset = selected_dataset()
test_name = dataset.split_label("test")  # PublicTest on FER2013: PrivateTest stays for a competition
st.title("Ensembles and test-time augmentation")
st.markdown(
    f"""
Models trained differently make *different* mistakes. Averaging their predicted
probabilities cancels part of those mistakes: in the literature an ensemble of CNNs adds
two or three points on FER2013 (75.2% against about 73% for the best single network).

Plain averaging gives every model the same say. Here we fit one weight per model instead:
non-negative weights that sum to one, chosen to make the **validation** predictions (10 % of
Training) as good as possible (lowest cross-entropy). The **{test_name}** split is used only to
judge the result, so the gain you see is honest. Test-time augmentation (TTA) is the same idea
with one model: average its answers on the face, its mirror image and slightly shifted copies.
"""
)

runs = [run for run in visible_runs() if run.kind == "keras"]
if not runs:
    st.info(
        "There is no trained model yet. Train two or three on the **Train a network** page "
        "(for example a small CNN with different seeds or augmentation), then come back here."
    )
    st.page_link("lessons/train.py", label="Train a network", icon="🏋️")
    st.stop()

if not current_user().is_teacher and dataset.test_split in competition.hidden_splits(dataset.name):
    st.info(f"{dataset.name}'s {test_name} faces are kept for a competition's private board until it is revealed.")
    st.stop()
names = [run.name for run in runs]
members = st.multiselect(
    "Models to combine", names, default=names[: min(3, len(names))], key="ensemble_members",
    help="Ensembles from the registry are left out: combine single models.",
)
method_column, tta_column = st.columns(2)
method = method_column.radio(
    "How to fit the weights",
    ["gradient", "grid"],
    format_func=lambda choice: {
        "gradient": "projected gradient on the validation log-loss (any number of models)",
        "grid": "try every weight on a 0.05 grid (up to 4 models)",
    }[choice],
    key="ensemble_method",
)
tta = tta_column.selectbox(
    "Test-time augmentation for every model",
    list(evaluate.TTA_MODES),
    format_func=lambda mode: f"{mode}: {evaluate.TTA_DESCRIPTIONS[mode]}",
    key="ensemble_tta",
)

if len(members) < 2:
    st.info("Pick at least two models to combine.")
    st.stop()
if method == "grid" and len(members) > 4:
    st.warning("The grid has too many points for more than four models: use the gradient method.")
    st.stop()
other_data = sorted({run.config.get("dataset") for run in runs if run.name in members} - {dataset.name, None})
if other_data:
    st.warning(
        f"Some of these models were trained on {', '.join(other_data)}, not on {dataset.name}: "
        "they are judged on the data set chosen in the sidebar."
    )


def predictions(split: str, mode: str, status) -> list:
    bar = status.progress(0.0)
    arrays = []
    for number, name in enumerate(members):
        arrays.append(
            evaluate.predict_split(
                name, dataset, split, tta=mode,
                progress=lambda fraction, number=number, name=name: bar.progress(
                    (number + fraction) / len(members),
                    text=f"{name} on {dataset.split_label(split)} (TTA: {mode}): {fraction:.0%}",
                ),
            )
        )
    return arrays


request = (tuple(members), method, tta, dataset.name)
if st.button(f"Fit the weights on validation and compare on {test_name}", type="primary", key="ensemble_fit"):
    try:
        with st.status(f"Predicting every model on validation and {test_name}...", expanded=True) as status:
            val_probabilities = predictions("val", tta, status)
            test_probabilities = predictions("test", tta, status)
            comparison = ensemble.compare(
                members, val_probabilities, dataset.split("val")[1],
                test_probabilities, dataset.split("test")[1], method=method,
            )
            status.update(label="Done.", state="complete", expanded=False)
    except ValueError as error:  # empty split, broken model, wrong output shape: sentences for people
        st.error(str(error))
        st.stop()
    st.session_state[RESULT_KEY] = (request, comparison)

stored = st.session_state.get(RESULT_KEY)
if stored is None or stored[0] != request:
    st.caption("Press the button to fit the weights for this choice of models.")
    st.stop()
comparison = stored[1]

best_name, best_accuracy = comparison.best_single
st.header(f"The result on {test_name}")
single, averaged, weighted = st.columns(3)
single.metric(f"Best single model ({best_name})", f"{best_accuracy:.1%}")
averaged.metric("Plain average", f"{comparison.averaging_test_accuracy:.1%}",
                delta=f"{comparison.averaging_test_accuracy - best_accuracy:+.1%} vs best single")
weighted.metric("Fitted weights", f"{comparison.weighted_test_accuracy:.1%}",
                delta=f"{comparison.gain_over_best_single:+.1%} vs best single")
st.markdown(
    f"Against plain averaging the fitted weights change the accuracy on {test_name} by "
    f"**{comparison.gain_over_averaging:+.1%}**; validation cross-entropy went from "
    f"{comparison.averaging_val_log_loss:.3f} (average) to {comparison.weighted_val_log_loss:.3f} (fitted). "
    "A model with weight 0 adds nothing the others do not already know. On a small test split a "
    "difference of one or two faces is noise, so do not read much into a fraction of a point."
)
alone = f"accuracy alone on {test_name}"
table = pd.DataFrame(
    {
        "model": comparison.names,
        "weight": comparison.weights,
        alone: [comparison.single_test_accuracy[name] for name in comparison.names],
    }
)
st.altair_chart(
    alt.Chart(table).mark_bar().encode(
        x=alt.X("weight:Q", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("model:N", sort=None, title=None),
        tooltip=["model", alt.Tooltip("weight:Q", format=".3f"), alt.Tooltip(f"{alone}:Q", format=".1%")],
    ).properties(height=40 * len(table) + 30),
    width="stretch",
)
st.dataframe(
    table,
    column_config={
        "weight": st.column_config.NumberColumn(format="%.3f"),
        alone: st.column_config.NumberColumn(format="percent"),
    },
    hide_index=True,
)

st.header("Save the ensemble")
st.markdown(
    "Saved, it appears in the sidebar's model list like any model, and the confusion matrix "
    "and other pages use it as one."
)
name_column, save_column = st.columns([3, 1])
ensemble_name = name_column.text_input("Name", value=registry.unique_name("ensemble"), key="ensemble_name")
if save_column.button("Save to the registry", key="ensemble_save"):
    try:
        ensemble.save_ensemble(
            ensemble_name, comparison.names, comparison.weights, dataset=dataset.name,
            metrics={**comparison.as_metrics(), "tta": tta, "fitted_with": method,
                     "test_split": dataset.test_split, "test_label": dataset.test_label},
            owner=current_user().name,
        )
    except ValueError as error:
        st.error(str(error))
    else:
        st.success(f"Saved {ensemble_name!r}: pick it in the sidebar to use it on every page.")

st.header("What test-time augmentation adds")
MEASURED_TTA = ("none", "flip", "flip+crops", "ten-crop")
st.markdown(
    "Each model alone, with no augmentation, with the mirror image, with mirror plus four "
    "shifted copies, and with **ten-crop**: the centre and the four corner crops of the size the "
    "model was trained on (44 of 48 pixels for a model trained on random 44-pixel crops), each also "
    "mirrored, as in the best single FER2013 networks of the literature. A mirrored face is still "
    "the same expression, so a model that learned faces (and was trained with flips) should agree "
    "with itself; averaging smooths out its sensitivity to exact pixel positions. It costs 2x or "
    "10x the prediction time."
)
if st.button(f"Measure TTA on {test_name}", key="ensemble_tta_measure"):
    rows = []
    try:
        with st.status("Predicting with every augmentation...", expanded=True) as status:
            labels = dataset.split("test")[1]
            for mode in MEASURED_TTA:
                for name, probabilities in zip(members, predictions("test", mode, status)):
                    rows.append({"model": name, "TTA": mode, "test accuracy": ensemble.accuracy(probabilities, labels)})
            status.update(label="Done.", state="complete", expanded=False)
    except ValueError as error:
        st.error(str(error))
        st.stop()
    measured = pd.DataFrame(rows).pivot(index="model", columns="TTA", values="test accuracy")[list(MEASURED_TTA)]
    measured["gain (ten-crop)"] = measured["ten-crop"] - measured["none"]
    st.dataframe(
        measured,
        column_config={column: st.column_config.NumberColumn(format="percent") for column in measured.columns},
    )
