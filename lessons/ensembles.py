"""Ensembles and test-time augmentation: several models, and several looks at each face, vote."""

import altair as alt
import pandas as pd
import streamlit as st

from fer import competition, ensemble, evaluate, registry
from fer.i18n import _, format_percent
from lessons._identity import current_user
from lessons._language import chart, page_language
from lessons._shared import selected_dataset, visible_runs

RESULT_KEY = "ensemble_result"

page_language()
dataset = selected_dataset()
test_name = evaluate.split_title(dataset, "test")  # PublicTest on FER2013: PrivateTest stays for a competition
st.title(_("Ensembles and test-time augmentation"))
st.markdown(
    _(
        "Models trained differently make *different* mistakes. Averaging their predicted "
        "probabilities cancels part of those mistakes: in the literature an ensemble of CNNs adds "
        "two or three points on FER2013 ({best} against about {single} for the best single network)."
    ).format(best=format_percent(0.752, 1), single=format_percent(0.73))
)
st.markdown(
    _(
        "Plain averaging gives every model the same say. Here we fit one weight per model instead: "
        "non-negative weights that sum to one, chosen to make the **validation** predictions ({share} of "
        "Training) as good as possible (lowest cross-entropy). The **{test}** split is used only to "
        "judge the result, so the gain you see is honest. Test-time augmentation (TTA) is the same idea "
        "with one model: average its answers on the face, its mirror image and slightly shifted copies."
    ).format(share=format_percent(0.1), test=test_name)
)

runs = [run for run in visible_runs() if run.kind == "keras"]
if not runs:
    st.info(
        _(
            "There is no trained model yet. Train two or three on the **Train a network** page "
            "(for example a small CNN with different seeds or augmentation), then come back here."
        )
    )
    st.page_link("lessons/train.py", label=_("Train a network"), icon="🏋️")
    st.stop()

if not current_user().is_teacher and dataset.test_split in competition.hidden_splits(dataset.name):
    st.info(
        _("{dataset}'s {split} faces are kept for a competition's private board until it is revealed.").format(
            dataset=dataset.name, split=test_name
        )
    )
    st.stop()
names = [run.name for run in runs]
members = st.multiselect(
    _("Models to combine"), names, default=names[: min(3, len(names))], key="ensemble_members",
    help=_("Ensembles from the registry are left out: combine single models."),
)
method_column, tta_column = st.columns(2)
method_labels = {
    "gradient": _("projected gradient on the validation log-loss (any number of models)"),
    "grid": _("try every weight on a 0.05 grid (up to 4 models)"),
}
method = method_column.radio(
    _("How to fit the weights"), list(method_labels), format_func=method_labels.__getitem__, key="ensemble_method"
)
tta_labels = {mode: evaluate.tta_label(mode) for mode in evaluate.TTA_MODES}
tta = tta_column.selectbox(
    _("Test-time augmentation for every model"),
    list(tta_labels),
    format_func=tta_labels.__getitem__,
    key="ensemble_tta",
)

if len(members) < 2:
    st.info(_("Pick at least two models to combine."))
    st.stop()
if method == "grid" and len(members) > 4:
    st.warning(_("The grid has too many points for more than four models: use the gradient method."))
    st.stop()
other_data = sorted({run.config.get("dataset") for run in runs if run.name in members} - {dataset.name, None})
if other_data:
    st.warning(
        _(
            "Some of these models were trained on {others}, not on {dataset}: "
            "they are judged on the data set chosen in the sidebar."
        ).format(others=", ".join(other_data), dataset=dataset.name)
    )


def predictions(split: str, mode: str, status) -> list:
    bar = status.progress(0.0)
    split_name = evaluate.split_title(dataset, split)
    arrays = []
    for number, name in enumerate(members):
        arrays.append(
            evaluate.predict_split(
                name, dataset, split, tta=mode,
                progress=lambda fraction, number=number, name=name: bar.progress(
                    (number + fraction) / len(members),
                    text=_("{model} on {split} (TTA: {tta}): {percent}").format(
                        model=name, split=split_name, tta=mode, percent=format_percent(fraction)
                    ),
                ),
            )
        )
    return arrays


request = (tuple(members), method, tta, dataset.name)
fit_label = _("Fit the weights on validation and compare on {split}").format(split=test_name)
if st.button(fit_label, type="primary", key="ensemble_fit"):
    try:
        predicting = _("Predicting every model on validation and {split}...").format(split=test_name)
        with st.status(predicting, expanded=True) as status:
            val_probabilities = predictions("val", tta, status)
            test_probabilities = predictions("test", tta, status)
            comparison = ensemble.compare(
                members, val_probabilities, dataset.split("val")[1],
                test_probabilities, dataset.split("test")[1], method=method,
            )
            status.update(label=_("Done."), state="complete", expanded=False)
    except ValueError as error:  # empty split, broken model, wrong output shape: sentences for people
        st.error(str(error))
        st.stop()
    st.session_state[RESULT_KEY] = (request, comparison)

stored = st.session_state.get(RESULT_KEY)
if stored is None or stored[0] != request:
    st.caption(_("Press the button to fit the weights for this choice of models."))
    st.stop()
comparison = stored[1]


def change(points: float) -> str:
    """A change of accuracy in points: '+2.0%'."""
    return f"{points:+.1%}"


best_name, best_accuracy = comparison.best_single
st.header(_("The result on {split}").format(split=test_name))
single, averaged, weighted = st.columns(3)
single.metric(_("Best single model ({name})").format(name=best_name), format_percent(best_accuracy, 1))
averaged.metric(_("Plain average"), format_percent(comparison.averaging_test_accuracy, 1),
                delta=_("{change} vs best single").format(
                    change=change(comparison.averaging_test_accuracy - best_accuracy)))
weighted.metric(_("Fitted weights"), format_percent(comparison.weighted_test_accuracy, 1),
                delta=_("{change} vs best single").format(change=change(comparison.gain_over_best_single)))
st.markdown(
    _(
        "Against plain averaging the fitted weights change the accuracy on {split} by **{change}**; "
        "validation cross-entropy went from {average} (average) to {fitted} (fitted). "
        "A model with weight 0 adds nothing the others do not already know. On a small test split a "
        "difference of one or two faces is noise, so do not read much into a fraction of a point."
    ).format(
        split=test_name, change=change(comparison.gain_over_averaging),
        average=f"{comparison.averaging_val_log_loss:.3f}", fitted=f"{comparison.weighted_val_log_loss:.3f}",
    )
)
model_column, weight_column = _("model"), _("weight")
alone = _("accuracy alone on {split}").format(split=test_name)
table = pd.DataFrame(
    {
        model_column: comparison.names,
        weight_column: comparison.weights,
        alone: [comparison.single_test_accuracy[name] for name in comparison.names],
    }
)
st.altair_chart(
    chart(
        alt.Chart(table).mark_bar().encode(
            x=alt.X(f"{weight_column}:Q", scale=alt.Scale(domain=[0, 1]), title=weight_column),
            y=alt.Y(f"{model_column}:N", sort=None, title=None),
            tooltip=[
                alt.Tooltip(f"{model_column}:N", title=model_column),
                alt.Tooltip(f"{weight_column}:Q", format=".3f", title=weight_column),
                alt.Tooltip(f"{alone}:Q", format=".1%", title=alone),
            ],
        ).properties(height=40 * len(table) + 30)
    ),
    width="stretch",
)
st.dataframe(
    table,
    column_config={
        weight_column: st.column_config.NumberColumn(format="%.3f"),
        alone: st.column_config.NumberColumn(format="percent"),
    },
    hide_index=True,
)

st.header(_("Save the ensemble"))
st.markdown(
    _(
        "Saved, it appears in the sidebar's model list like any model, and the confusion matrix "
        "and other pages use it as one."
    )
)
name_column, save_column = st.columns([3, 1])
ensemble_name = name_column.text_input(_("Name"), value=registry.unique_name("ensemble"), key="ensemble_name")
if save_column.button(_("Save to the registry"), key="ensemble_save"):
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
        st.success(
            _("Saved {name}: pick it in the sidebar to use it on every page.").format(name=repr(ensemble_name))
        )

st.header(_("What test-time augmentation adds"))
MEASURED_TTA = ("none", "flip", "flip+crops", "ten-crop")
st.markdown(
    _(
        "Each model alone, with no augmentation, with the mirror image, with mirror plus four "
        "shifted copies, and with **ten-crop**: the centre and the four corner crops of the size the "
        "model was trained on (44 of 48 pixels for a model trained on random 44-pixel crops), each also "
        "mirrored, as in the best single FER2013 networks of the literature. A mirrored face is still "
        "the same expression, so a model that learned faces (and was trained with flips) should agree "
        "with itself; averaging smooths out its sensitivity to exact pixel positions. It costs 2x or "
        "10x the prediction time."
    )
)
if st.button(_("Measure TTA on {split}").format(split=test_name), key="ensemble_tta_measure"):
    rows = []
    try:
        with st.status(_("Predicting with every augmentation..."), expanded=True) as status:
            labels = dataset.split("test")[1]
            for mode in MEASURED_TTA:
                for name, probabilities in zip(members, predictions("test", mode, status)):
                    rows.append({"model": name, "TTA": mode, "accuracy": ensemble.accuracy(probabilities, labels)})
            status.update(label=_("Done."), state="complete", expanded=False)
    except ValueError as error:
        st.error(str(error))
        st.stop()
    # Rows are models, columns the TTA modes (names, like the models'), then the gain in the reader's words.
    measured = pd.DataFrame(rows).pivot(index="model", columns="TTA", values="accuracy")[list(MEASURED_TTA)]
    measured.index.name = _("model")
    measured[_("gain ({mode})").format(mode="ten-crop")] = measured["ten-crop"] - measured["none"]
    st.dataframe(
        measured,
        column_config={column: st.column_config.NumberColumn(format="percent") for column in measured.columns},
    )
