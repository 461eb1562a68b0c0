"""CNN versus DNN: report B's convolutional network against a dense one of similar size."""

import math

import altair as alt
import pandas as pd
import streamlit as st

from fer import data, registry
from fer.presets import COMPARISON_RECIPES, comparison_settings
from lessons._identity import current_user
from lessons._shared import selected_dataset, visible_runs

CNN, DNN = "report_b_cnn", "report_b_dnn"
JOBS_KEY = "cnn_vs_dnn_jobs"
st.title("CNN versus DNN")
st.markdown(
    """
Report B trained two networks on the same faces: its **CNN** (six convolutions, then
two dense layers; 4.1 million parameters) and a **DNN** that only has dense layers
(5.4 million parameters). The DNN has *more* parameters, yet the CNN wins clearly. Train
both here on the same data with the same recipe, and compare.
"""
)


@st.cache_data(show_spinner="Counting parameters...")
def architecture_summary() -> pd.DataFrame:
    from fer import nets

    rows = []
    for name in (CNN, DNN):
        model = nets.build_architecture(name)
        rows.append({"network": name, "parameters": int(model.count_params()),
                     "what it is": nets.describe_architecture(name)})
    return pd.DataFrame(rows)


st.dataframe(
    architecture_summary(),
    column_config={"parameters": st.column_config.NumberColumn(format="localized")},
    hide_index=True,
)

dataset = selected_dataset()

# ---------------------------------------------------------------------------------- training
st.header("Train both")
recipe = st.radio(
    "Recipe (the same for both networks: only the architecture differs)", list(COMPARISON_RECIPES),
    format_func=lambda key: COMPARISON_RECIPES[key].description, key="cnn_vs_dnn_preset",
)
if st.button(f"Train the CNN and the DNN on {dataset.name}", type="primary", key="cnn_vs_dnn_train"):
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

    job_ids = st.session_state.get(JOBS_KEY) or {}
    watched = [job for job in (jobs.manager().get(job_id) for job_id in job_ids.values()) if job is not None]
    if not watched:
        return
    for job in watched:
        batch = job.events.last("batch")
        if job.state == jobs.QUEUED:
            position = jobs.manager().queue_position(job)
            st.progress(0.0, text=f"{job.config.architecture}: waiting, number {position} in the queue")
        elif job.active:
            fraction = batch["progress"] if batch else 0.0
            detail = (f"epoch {batch['epoch']}/{job.config.epochs}, about {batch['eta_seconds']:.0f} s left"
                      if batch else "starting")
            st.progress(min(fraction, 1.0), text=f"{job.config.architecture}: {detail}")
        elif job.error:
            st.error(f"{job.config.architecture}: {job.message}")
        else:
            st.progress(1.0, text=f"{job.config.architecture}: {job.state}, saved as {job.run_name}")
    if all(job.done for job in watched):
        st.session_state[JOBS_KEY] = {}
        st.rerun()  # the whole page, so the new runs appear below


training_progress()

# ---------------------------------------------------------------------------------- comparing
st.header("Side by side")
runs = [run for run in visible_runs() if run.kind == "keras"]
names = [run.name for run in runs]
by_name = {run.name: run for run in runs}


def default_index(architecture: str):
    matching = [index for index, run in enumerate(runs) if run.config.get("architecture") == architecture]
    return matching[0] if matching else None


cnn_column, dnn_column = st.columns(2)
cnn_name = cnn_column.selectbox("CNN run", names, index=default_index(CNN), placeholder="no report-B CNN trained yet",
                                key="cnn_vs_dnn_cnn")
dnn_name = dnn_column.selectbox("DNN run", names, index=default_index(DNN), placeholder="no report-B DNN trained yet",
                                key="cnn_vs_dnn_dnn")


def accuracy_of(run: registry.RunInfo):
    """(accuracy, the split it was measured on): the test split's if measured, else validation's."""
    for key in ("test_accuracy", "chosen_val_accuracy", "val_accuracy"):
        value = run.metrics.get(key)
        if isinstance(value, (int, float)) and not math.isnan(value):
            which = data.test_accuracy_split(run.config, run.metrics) if key == "test_accuracy" else "validation"
            return float(value), which
    return None, None


def parameters_of(run: registry.RunInfo):
    return run.config.get("parameters") or run.metrics.get("parameters") or run.metrics.get("params")


if cnn_name is None or dnn_name is None:
    st.info(
        "Train both networks with the button above (or on the **Train a network** page, "
        "architectures report_b_cnn and report_b_dnn), then compare them here."
    )
else:
    history_frames = []
    for role, name in (("CNN", cnn_name), ("DNN", dnn_name)):
        history = pd.DataFrame(registry.read_history(name))
        if history.empty or "epoch" not in history:
            continue
        for column, curve in (("accuracy", "train"), ("val_accuracy", "validation")):
            if column in history:
                history_frames.append(pd.DataFrame({"epoch": history["epoch"], "accuracy": history[column],
                                                    "network": f"{role}: {name}", "curve": curve}))
    if history_frames:
        curves = pd.concat(history_frames)
        st.altair_chart(
            alt.Chart(curves).mark_line(point=True).encode(
                x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
                y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1])),
                color=alt.Color("curve:N", title=None),
                tooltip=["network", "curve", "epoch", alt.Tooltip("accuracy:Q", format=".1%")],
            ).properties(height=260).facet(column=alt.Facet("network:N", title=None)),
        )
        st.caption("Solid lines with points: accuracy per epoch on the training faces and on the validation faces.")
    else:
        st.caption("These runs have no training history to draw.")

    sentences = []
    for role, name in (("CNN", cnn_name), ("DNN", dnn_name)):
        run = by_name[name]
        value, which = accuracy_of(run)
        parameters = parameters_of(run)
        if value is not None:
            sentences.append(
                f"the {role} reached **{value:.1%}** on {which}"
                + (f" with {int(parameters):,} parameters" if parameters else "")
            )
    if sentences:
        st.markdown("On this comparison " + " and ".join(sentences) + ".")
    trained_on = {by_name[name].config.get("dataset") for name in (cnn_name, dnn_name)}
    if len(trained_on) > 1:
        st.warning(f"These two runs were trained on different data ({', '.join(map(str, trained_on))}): "
                   "not a fair comparison.")

st.header("Accuracy against parameter count")
points = []
for run in runs:
    value, which = accuracy_of(run)
    parameters = parameters_of(run)
    if value is not None and parameters:
        points.append({"run": run.name, "architecture": str(run.config.get("architecture", "?")),
                       "parameters": int(parameters), "accuracy": value, "measured on": which})
if points:
    scatter = alt.Chart(pd.DataFrame(points)).encode(
        x=alt.X("parameters:Q", scale=alt.Scale(type="log"), title="parameters (log scale)"),
        y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1])),
        color="architecture:N",
        tooltip=["run", "architecture", alt.Tooltip("parameters:Q", format=","),
                 alt.Tooltip("accuracy:Q", format=".1%"), "measured on"],
    )
    labelled = scatter.mark_circle(size=120) + scatter.mark_text(dy=-12, fontSize=11).encode(text="run:N")
    st.altair_chart(labelled.properties(height=320), width="stretch")
    st.caption("Every trained model in the registry. More parameters do not buy accuracy by themselves: "
               "where they sit matters.")
else:
    st.caption("Trained models appear here once they have a measured accuracy.")

st.header("Why convolution wins on faces")
st.markdown(
    """
- **Locality.** A 3x3 filter looks at a pixel and its neighbours only. The evidence for an
  expression is local: the corner of a mouth, a wrinkled nose, a raised brow. A dense layer
  connects every pixel to every unit and has to *discover* that neighbours belong together,
  from a few thousand faces.
- **Weight sharing.** The same filter slides over the whole face, so a "mouth corner
  detector" is learned once and used everywhere. The CNN's six convolutions hold fewer than
  0.4 million weights; most of its 4.1M parameters sit in its dense head. The
  DNN spends 2.4 million weights on its first layer alone (2,304 pixels x 1,024 units), one
  separate weight for every pixel-unit pair.
- **Translation equivariance.** Shift the face by two pixels and a convolution's feature
  maps shift by two pixels too; pooling then makes the answer nearly unchanged. Faces in
  FER2013 are not perfectly aligned, and a dense layer sees a shifted face as a different
  input it must learn again.
- **Parameters are not the same as capacity to generalise.** With more free weights and no
  built-in knowledge of images, the DNN fits the training faces (watch its training curve)
  while its validation accuracy stalls: it overfits. The CNN's constraints are exactly the
  right prior for images, so the same data goes further.
"""
)
