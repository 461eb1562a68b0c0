"""CNN versus DNN: report B's convolutional network against a dense one of similar size."""

import math

import altair as alt
import pandas as pd
import streamlit as st

from fer import data, measured, registry
from fer.face_dataset import shown_split_label
from fer.i18n import _, format_integer, format_percent
from fer.presets import COMPARISON_RECIPES, comparison_settings
from lessons._identity import current_user
from lessons._language import chart, page_language
from lessons._shared import selected_dataset, visible_runs

CNN, DNN = "report_b_cnn", "report_b_dnn"
JOBS_KEY = "cnn_vs_dnn_jobs"
page_language()
st.title(_("CNN versus DNN"))
st.markdown(
    _(
        "Report B trained two networks on the same faces: its **CNN** (six convolutions, then "
        "two dense layers; 4.1 million parameters) and a **DNN** that only has dense layers "
        "(5.4 million parameters). The DNN has *more* parameters, yet the CNN wins clearly. Train "
        "both here on the same data with the same recipe, and compare."
    )
)


@st.cache_data(show_spinner=False)
def parameter_counts() -> dict[str, int]:
    from fer import nets

    return {name: int(nets.build_architecture(name).count_params()) for name in (CNN, DNN)}


def architecture_summary() -> pd.DataFrame:
    from fer import nets

    with st.spinner(_("Counting parameters...")):
        counts = parameter_counts()
    return pd.DataFrame([{_("network"): name, _("parameters"): counts[name],
                          _("what it is"): nets.describe_architecture(name)} for name in (CNN, DNN)])


st.dataframe(
    architecture_summary(),
    column_config={_("parameters"): st.column_config.NumberColumn(format="localized")},
    hide_index=True,
)

dataset = selected_dataset()

# ---------------------------------------------------------------------------------- training
st.header(_("Train both"))
recipe_labels = {key: _(recipe.description) for key, recipe in COMPARISON_RECIPES.items()}
recipe = st.radio(
    _("Recipe (the same for both networks: only the architecture differs)"), list(recipe_labels),
    format_func=recipe_labels.__getitem__, key="cnn_vs_dnn_preset",
)
if st.button(_("Train the CNN and the DNN on {dataset}").format(dataset=dataset.name), type="primary",
             key="cnn_vs_dnn_train"):
    from fer import jobs, train

    try:
        submitted = {}
        for architecture in (CNN, DNN):
            config = train.TrainConfig(**comparison_settings(recipe, architecture, dataset.name))
            job = jobs.manager().submit(
                config, owner=current_user().name, name=f"{architecture}-{dataset.name}-{recipe}"[:52]
            )
            submitted[architecture] = job.id
        st.session_state[JOBS_KEY] = submitted
    except ValueError as error:
        st.error(str(error))


@st.fragment(run_every=2.0)
def training_progress() -> None:
    from fer import jobs

    page_language()
    job_ids = st.session_state.get(JOBS_KEY) or {}
    watched = [job for job in (jobs.manager().get(job_id) for job_id in job_ids.values()) if job is not None]
    if not watched:
        return
    for job in watched:
        batch = job.events.last("batch")
        if job.state == jobs.QUEUED:
            position = jobs.manager().queue_position(job)
            st.progress(0.0, text=_("{network}: waiting, number {position} in the queue").format(
                network=job.config.architecture, position=position))
        elif job.active:
            fraction = batch["progress"] if batch else 0.0
            detail = (_("epoch {epoch}/{epochs}, about {seconds} s left").format(
                epoch=batch["epoch"], epochs=job.config.epochs, seconds=format_integer(round(batch["eta_seconds"])))
                if batch else _("starting"))
            st.progress(min(fraction, 1.0), text=_("{network}: {detail}").format(
                network=job.config.architecture, detail=detail))
        elif job.error:
            st.error(_("{network}: {detail}").format(network=job.config.architecture, detail=job.message))
        else:
            state = _("stopped") if job.state == jobs.STOPPED else (
                _("cancelled") if job.state == jobs.CANCELLED else _("finished"))
            st.progress(1.0, text=_("{network}: {state}, saved as {run}").format(
                network=job.config.architecture, state=state, run=job.run_name))
    if all(job.done for job in watched):
        st.session_state[JOBS_KEY] = {}
        st.rerun()  # the whole page, so the new runs appear below


training_progress()

# ---------------------------------------------------------------------------------- comparing
st.header(_("Side by side"))
runs = [run for run in visible_runs() if run.kind == "keras"]
names = [run.name for run in runs]
by_name = {run.name: run for run in runs}


def default_index(architecture: str):
    matching = [index for index, run in enumerate(runs) if run.config.get("architecture") == architecture]
    return matching[0] if matching else None


cnn_column, dnn_column = st.columns(2)
cnn_name = cnn_column.selectbox(_("CNN run"), names, index=default_index(CNN),
                                placeholder=_("no report-B CNN trained yet"), key="cnn_vs_dnn_cnn")
dnn_name = dnn_column.selectbox(_("DNN run"), names, index=default_index(DNN),
                                placeholder=_("no report-B DNN trained yet"), key="cnn_vs_dnn_dnn")


def accuracy_of(run: registry.RunInfo):
    """(accuracy, the split it was measured on): the test split's if measured, else validation's."""
    for key in ("test_accuracy", "chosen_val_accuracy", "val_accuracy"):
        value = run.metrics.get(key)
        if isinstance(value, (int, float)) and not math.isnan(value):
            which = (shown_split_label(data.test_accuracy_split(run.config, run.metrics)) if key == "test_accuracy"
                     else _("validation"))
            return float(value), which
    return None, None


def parameters_of(run: registry.RunInfo):
    return run.config.get("parameters") or run.metrics.get("parameters") or run.metrics.get("params")


if cnn_name is None or dnn_name is None:
    st.info(
        _("Train both networks with the button above (or on the **Train a network** page, "
          "architectures report_b_cnn and report_b_dnn), then compare them here.")
    )
else:
    history_frames = []
    for role, name in (("CNN", cnn_name), ("DNN", dnn_name)):
        history = pd.DataFrame(registry.read_history(name))
        if history.empty or "epoch" not in history:
            continue
        for column, curve in (("accuracy", _("train")), ("val_accuracy", _("validation"))):
            if column in history:
                history_frames.append(pd.DataFrame({"epoch": history["epoch"], "accuracy": history[column],
                                                    "network": f"{role}: {name}", "curve": curve}))
    if history_frames:
        curves = pd.concat(history_frames)
        st.altair_chart(chart(
            alt.Chart(curves).mark_line(point=True).encode(
                x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1), title=_("epoch")),
                y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title=_("accuracy")),
                color=alt.Color("curve:N", title=None),
                tooltip=[alt.Tooltip("network:N", title=_("network")), alt.Tooltip("curve:N", title=_("curve")),
                         alt.Tooltip("epoch:Q", title=_("epoch")),
                         alt.Tooltip("accuracy:Q", format=".1%", title=_("accuracy"))],
            ).properties(height=260).facet(column=alt.Facet("network:N", title=None))),
        )
        st.caption(_("Solid lines with points: accuracy per epoch on the training faces and on the validation "
                     "faces."))
    else:
        st.caption(_("These runs have no training history to draw."))

    sentences = []
    for role, name in (("CNN", cnn_name), ("DNN", dnn_name)):
        run = by_name[name]
        value, which = accuracy_of(run)
        parameters = parameters_of(run)
        if value is not None:
            reached = (_("the {network} reached **{accuracy}** on {split} with {parameters} parameters") if parameters
                       else _("the {network} reached **{accuracy}** on {split}"))
            sentences.append(reached.format(network=role, accuracy=format_percent(value, 1), split=which,
                                            parameters=format_integer(int(parameters or 0))))
    if len(sentences) == 2:
        st.markdown(_("On this comparison {first} and {second}.").format(first=sentences[0], second=sentences[1]))
    elif sentences:
        st.markdown(_("On this comparison {first}.").format(first=sentences[0]))
    trained_on = {by_name[name].config.get("dataset") for name in (cnn_name, dnn_name)}
    if len(trained_on) > 1:
        st.warning(_("These two runs were trained on different data ({datasets}): not a fair comparison.").format(
            datasets=", ".join(map(str, trained_on))))

st.header(_("Accuracy against parameter count"))
points = []
for run in runs:
    value, which = accuracy_of(run)
    parameters = parameters_of(run)
    if value is not None and parameters:
        points.append({"run": run.name, "architecture": str(run.config.get("architecture", "?")),
                       "parameters": int(parameters), "accuracy": value, "measured on": which})
if points:
    scatter = alt.Chart(pd.DataFrame(points)).encode(
        x=alt.X("parameters:Q", scale=alt.Scale(type="log"), title=_("parameters (log scale)")),
        y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title=_("accuracy")),
        color=alt.Color("architecture:N", title=_("architecture")),
        tooltip=[alt.Tooltip("run:N", title=_("run")), alt.Tooltip("architecture:N", title=_("architecture")),
                 alt.Tooltip("parameters:Q", format=",", title=_("parameters")),
                 alt.Tooltip("accuracy:Q", format=".1%", title=_("accuracy")),
                 alt.Tooltip("measured on:N", title=_("measured on"))],
    )
    labelled = scatter.mark_circle(size=120) + scatter.mark_text(dy=-12, fontSize=11).encode(text="run:N")
    st.altair_chart(chart(labelled.properties(height=320)), width="stretch")
    st.caption(_("Every trained model in the registry. More parameters do not buy accuracy by themselves: "
                 "where they sit matters."))
else:
    st.caption(_("Trained models appear here once they have a measured accuracy."))

st.header(_("Why convolution wins on faces"))
st.markdown(
    _(
        "- **Locality.** A 3x3 filter looks at a pixel and its neighbours only. The evidence for an "
        "expression is local: the corner of a mouth, a wrinkled nose, a raised brow. A dense layer "
        "connects every pixel to every unit and has to *discover* that neighbours belong together, "
        "from a few thousand faces.\n"
        "- **Weight sharing.** The same filter slides over the whole face, so a \"mouth corner "
        "detector\" is learned once and used everywhere. The CNN's six convolutions hold fewer than "
        "0.4 million weights; most of its 4.1M parameters sit in its dense head. The "
        "DNN spends 2.4 million weights on its first layer alone (2,304 pixels x 1,024 units), one "
        "separate weight for every pixel-unit pair.\n"
        "- **Translation equivariance.** Shift the face by two pixels and a convolution's feature "
        "maps shift by two pixels too; pooling then makes the answer nearly unchanged. Faces in "
        "FER2013 are not perfectly aligned, and a dense layer sees a shifted face as a different "
        "input it must learn again.\n"
        "- **Parameters are not the same as capacity to generalise.** With more free weights and no "
        "built-in knowledge of images, the DNN fits the training faces (watch its training curve) "
        "while its validation accuracy stalls: it overfits. The CNN's constraints are exactly the "
        "right prior for images, so the same data goes further."
    )
)

# ---------------------------------------------------------------------------------- better recipes
st.header(_("Same network, better recipe"))
st.markdown(
    _(
        "Each report trained its CNN one way and gave one figure. Below, the same two networks, layer for layer, "
        "are trained by the recipe the literature uses on FER2013: what a network can learn did not change, only "
        "how it was taught. The numbers are what these recipes measured when we ran them."
    )
)


def better_recipe(figure: measured.ReportFigure) -> None:
    st.subheader(_("{report}'s CNN ({architecture})").format(report=_(figure.report), architecture=figure.architecture))
    try:
        result = measured.measured_result(figure.better_preset)
    except measured.MeasuredResultError as error:
        st.error(str(error))
        result = None
    own_column, plain_column, flip_column = st.columns(3)
    own_column.metric(_("The report's own figure"), format_percent(figure.accuracy), help=_(figure.measured_on))
    if result is not None:
        def points(accuracy: float) -> str:
            return _("{points} points").format(points=f"{(accuracy - figure.accuracy) * 100:+.1f}")

        plain_column.metric(_("Better recipe, on PublicTest"), format_percent(result.accuracy, 1),
                            delta=points(result.accuracy))
        if result.flip_accuracy is not None:
            flip_column.metric(_("With flip averaging"), format_percent(result.flip_accuracy, 1),
                               delta=points(result.flip_accuracy))
        st.caption(_("{report}'s figure is {measured_on}.").format(report=_(figure.report),
                                                                 measured_on=_(figure.measured_on))
                   + " " + measured.summary(result))
        curve = pd.DataFrame(result.validation_curve, columns=["epoch", "accuracy"])
        line = alt.Chart(curve).mark_line(point=True).encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1), title=_("epoch")),
            y=alt.Y("accuracy:Q", scale=alt.Scale(zero=False), title=_("validation accuracy")),
            tooltip=[alt.Tooltip("epoch:Q", title=_("epoch")),
                     alt.Tooltip("accuracy:Q", format=".1%", title=_("validation accuracy"))],
        )
        report_line = pd.DataFrame({"accuracy": [figure.accuracy], "label": [
            _("{report}: {accuracy}").format(report=_(figure.report), accuracy=format_percent(figure.accuracy))]})
        rule = alt.Chart(report_line).mark_rule(strokeDash=[6, 4], color="gray").encode(y="accuracy:Q")
        label = alt.Chart(report_line).mark_text(align="left", dx=4, dy=-8, color="gray").encode(
            x=alt.value(0), y="accuracy:Q", text="label:N")
        st.altair_chart(chart((line + rule + label).properties(height=240)), width="stretch")
        st.caption(_("The better recipe's validation accuracy per epoch; the dashed line is the report's figure."))
    else:
        st.info(_("Not measured on this installation yet: train it with the command below (it needs FER2013), "
                  "evaluate it on PublicTest with `bench/bench_evaluate.py --write-metrics`, then record it with "
                  "`scripts/record_result.py`."))
    changes = measured.recipe_changes(figure.own_preset, figure.better_preset)
    # A markdown table: long settings wrap instead of being cut off as in a data frame.
    table = [(_("setting"), _("the report's recipe"), _("the better recipe")), ("---",) * 3,
             *((change.setting, change.before, change.after) for change in changes)]
    st.markdown(_("What changed, with the network left as it was ({own} → {better}):").format(
        own=figure.own_preset, better=figure.better_preset) + "\n\n"
        + "\n".join("| " + " | ".join(row) + " |" for row in table))
    st.code(measured.rerun_command(figure.better_preset), language="bash")


for report_figure in measured.REPORT_FIGURES.values():
    better_recipe(report_figure)
