"""Train a network: pick data, architecture and hyper-parameters, press Train, watch it learn."""

import altair as alt
import pandas as pd
import streamlit as st

from fer import backends, checkpoints, devices, jobs, permissions, registry, worker
from fer import train as engine
from fer.data import available_datasets, test_accuracy_split
from fer.events import current_events
from lessons._identity import LAPTOP, TEACHER, current_user, may
from lessons._shared import visible_runs

JOB_KEY = "train_job"
SHOWN_DONE_KEY = "train_shown_done"
FIELD_PREFIX = "train_field_"
REFRESH_SECONDS = 1.5
MAX_BATCH_POINTS = 400

st.title("Train a network")
st.markdown(
    """
Training is a loop: show the network a **batch** of faces, measure how wrong it is (the
**loss**), nudge every weight a little downhill (the **optimizer**, at a step size called the
**learning rate**), repeat. One pass over the training faces is an **epoch**. After each epoch
we also measure loss and accuracy on **validation** faces the network never trains on: when
training accuracy keeps climbing but validation stalls or worsens, the network is memorising
faces instead of learning expressions (**overfitting**), and the epoch worth keeping is an
earlier one.
"""
)

manager = jobs.manager()


# ----------------------------------------------------------------------------- who is this

# Who trains is the signed-in user (laptop mode: the one local user), never something in the URL:
# a shared link must not share an identity. Links from before carried ?owner=: it means nothing now.
user = current_user()
owner = user.name
if "owner" in st.query_params:
    del st.query_params["owner"]


def current_job() -> jobs.Job | None:
    job = manager.get(st.session_state.get(JOB_KEY)) or manager.get(st.query_params.get("job"))
    if job is None or job.owner != owner:
        own = manager.jobs(owner=owner)
        job = own[0] if own else None
        if job is None:
            manager.interrupted_runs(owner)  # adopts this student's trainings that outlived a server restart
            own = manager.jobs(owner=owner)
            job = own[0] if own else None
    if job is not None:
        st.session_state[JOB_KEY] = job.id
    return job


# ----------------------------------------------------------------------------- settings


@st.cache_resource(show_spinner="Asking TensorFlow which devices it can use...")
def device_list() -> list[devices.Device]:
    return devices.list_devices()


def field_key(name: str) -> str:
    return FIELD_PREFIX + name


def apply_preset() -> None:
    chosen = st.session_state[field_key("preset")]
    if chosen in engine.PRESETS:
        values = engine.preset(chosen).to_dict()
        named_dataset = engine.PRESETS[chosen].settings.get("dataset")
        if named_dataset not in available_datasets():
            values.pop("dataset")  # keep the student's data set: the preset names none, or one not imported here
        for name, value in values.items():
            st.session_state[field_key(name)] = value


defaults = engine.preset("classroom-quick").to_dict()
for name, value in defaults.items():
    st.session_state.setdefault(field_key(name), value)
st.session_state.setdefault(field_key("preset"), "classroom-quick")

architectures = engine.architecture_names()
datasets = available_datasets()
for name, options in (("architecture", architectures), ("dataset", datasets)):
    if st.session_state[field_key(name)] not in options:
        st.session_state[field_key(name)] = options[0]

gpus = [device for device in device_list() if device.kind == "GPU"]

with st.expander("Settings", expanded=True):
    st.selectbox(
        "Start from a recipe",
        ["custom", *engine.PRESETS],
        key=field_key("preset"),
        on_change=apply_preset,
        format_func=lambda name: "Custom (keep my settings)" if name == "custom" else engine.PRESETS[name].description,
    )
    data_column, net_column = st.columns(2)
    with data_column:
        st.selectbox(
            "Data set", datasets, key=field_key("dataset"),
            format_func=lambda name: "Synthetic faces (built in)" if name == "synthetic" else name,
        )
        st.number_input(
            "Train on at most this many faces (0 = all)", min_value=0, step=500, key=field_key("max_train_images"),
            help="A smaller training set makes an epoch quicker, at the cost of accuracy.",
        )
    with net_column:
        st.selectbox("Architecture", architectures, key=field_key("architecture"))
        from fer.nets import describe_architecture

        st.caption(describe_architecture(st.session_state[field_key("architecture")]))

    st.subheader("Optimisation", divider="gray")
    left, middle, right = st.columns(3)
    with left:
        st.number_input("Epochs", min_value=1, max_value=500, key=field_key("epochs"))
        st.select_slider("Batch size", [8, 16, 32, 64, 128, 256], key=field_key("batch_size"))
        st.number_input("Seed", min_value=0, step=1, key=field_key("seed"),
                        help="The same seed, data and settings give the same shuffles and starting weights.")
    with middle:
        st.radio("Optimizer", list(engine.OPTIMIZERS), key=field_key("optimizer"),
                 format_func=engine.OPTIMIZERS.get, horizontal=True)
        st.select_slider("Learning rate", [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
                         key=field_key("learning_rate"), format_func=lambda value: f"{value:g}")
        if st.session_state[field_key("optimizer")] == "sgd_nesterov":
            st.slider("Momentum", 0.0, 0.99, key=field_key("momentum"), step=0.01)
        st.select_slider("Weight decay (decoupled)", [0.0, 1e-5, 1e-4, 5e-4, 1e-3, 5e-3], key=field_key("weight_decay"),
                         format_func=lambda value: f"{value:g}",
                         help="Shrink every kernel a little at each step, apart from the gradient (AdamW-style).")
    with right:
        st.selectbox("Learning-rate schedule", list(engine.SCHEDULES), key=field_key("schedule"),
                     format_func=engine.SCHEDULES.get)
        schedule = st.session_state[field_key("schedule")]
        if schedule == "step":
            st.number_input("Multiply every ... epochs", min_value=1, key=field_key("step_every_epochs"))
        if schedule in ("step", "plateau"):
            st.slider("by the factor", 0.05, 0.95, key=field_key("decay_factor"), step=0.05)
        if schedule == "plateau":
            st.number_input("after ... epochs without improvement", min_value=1, key=field_key("plateau_patience"))
        st.number_input("Warm-up epochs", min_value=0, max_value=20, key=field_key("warmup_epochs"),
                        help="Climb linearly from almost 0 to the learning rate first: large rates are safe after it.")
        st.checkbox("Moving average of the weights (EMA)", key=field_key("ema"),
                    help="Validate and keep an average of the recent weights: smoother, usually a little better.")

    st.subheader("Augmentation and regularisation", divider="gray")
    st.caption(
        "Random changes to each training face, different every epoch: the network sees more "
        "varied faces than the data set holds. Validation and test faces are never changed."
    )
    left, middle, right = st.columns(3)
    with left:
        st.checkbox("Horizontal flips", key=field_key("augment_flip"))
        st.select_slider("Random crop (pixels kept of 48)", list(engine.CROP_SIZES)[::-1], key=field_key("crop_size"),
                         help="Train on random 44- or 40-pixel windows of each face; test on the centre window.")
        st.slider("Shift (fraction of the face)", 0.0, 0.3, key=field_key("augment_shift"), step=0.05)
    with middle:
        st.slider("Rotation (degrees)", 0.0, 30.0, key=field_key("augment_rotation"), step=1.0)
        st.slider("Zoom (fraction)", 0.0, 0.3, key=field_key("augment_zoom"), step=0.05)
        st.slider("Random erasing (probability)", 0.0, 1.0, key=field_key("random_erasing"), step=0.05,
                  help="Hide a random rectangle of some faces, so the network cannot rely on one part of the face.")
    with right:
        st.slider("Label smoothing", 0.0, 0.3, key=field_key("label_smoothing"), step=0.05,
                  help="Aim at 0.9 instead of 1.0 for the right class: a network less sure of itself.")
        st.radio("Class weights", list(engine.CLASS_WEIGHTS), key=field_key("class_weights"),
                 format_func=engine.CLASS_WEIGHTS.get,
                 help="FER2013 has 15 times fewer Disgust faces than Happy ones.")

    st.subheader("Which epoch to keep", divider="gray")
    left, right = st.columns(2)
    with left:
        st.selectbox("Checkpoint rule", list(checkpoints.RULES), key=field_key("checkpoint_rule"),
                     format_func=checkpoints.RULES.get)
    with right:
        rule = st.session_state[field_key("checkpoint_rule")]
        if rule == "early_stopping":
            st.number_input("Patience (epochs without a new best)", min_value=1,
                            key=field_key("early_stopping_patience"))
        if rule == "lowest_val_loss_above_train_accuracy":
            st.slider("Training-accuracy threshold", 0.0, 1.0, key=field_key("train_accuracy_threshold"), step=0.05)

    st.subheader("Device", divider="gray")
    left, right = st.columns(2)
    with left:
        st.radio("Train on", list(devices.DEVICE_CHOICES), key=field_key("device"), horizontal=True,
                 format_func={"auto": "Best available", "cpu": "CPU", "gpu": "GPU"}.get)
        if not gpus:
            st.session_state[field_key("mixed_precision")] = False
        st.checkbox("Mixed precision (float16, GPU only)", key=field_key("mixed_precision"), disabled=not gpus)
        installed = backends.installed_backends()
        if st.session_state[field_key("backend")] not in installed:
            st.session_state[field_key("backend")] = "tensorflow"
        st.radio("Keras backend", installed, key=field_key("backend"), horizontal=True,
                 format_func=backends.BACKENDS.get,
                 help="The same network and recipe on TensorFlow, JAX or PyTorch: use the one your GPU supports. "
                      "The trained model opens everywhere in the app either way.")
    with right:
        st.markdown("TensorFlow sees: " + ", ".join(f"**{d.kind}** {d.description}" for d in device_list()))
        if not gpus:
            st.caption("No GPU here, so training runs on the CPU. "
                       "With several GPUs, training is mirrored across all of them.")
    st.text_input("Run name (optional)", key="train_run_name", placeholder="e.g. ana-small-cnn-flips",
                  help="Letters, digits, '.', '_' or '-'. If the name is taken, -2, -3... is added.")


def config_from_widgets() -> engine.TrainConfig:
    values = {name: st.session_state[field_key(name)] for name in engine.TrainConfig.__dataclass_fields__}
    for name in ("epochs", "batch_size", "seed", "max_train_images", "step_every_epochs",
                 "plateau_patience", "early_stopping_patience", "warmup_epochs", "crop_size"):
        values[name] = int(values[name])
    return engine.TrainConfig(**values)


config, config_error = None, None
try:
    config = config_from_widgets()
except ValueError as error:
    config_error = str(error)

run_name = st.session_state.get("train_run_name", "").strip()
if run_name:
    try:
        registry.validate_name(run_name)
    except registry.RegistryError as error:
        config_error = str(error)
    if permissions.is_shipped(run_name):
        config_error = (f"Names starting with {permissions.SHIPPED_PREFIX!r} are kept for the shipped models: "
                        "pick another.")

# ----------------------------------------------------------------------------- train and stop

job = current_job()
active = job is not None and job.active

button_column, stop_column, note_column = st.columns([1, 1, 4])
with button_column:
    start = st.button("Train", type="primary", disabled=active or config is None or config_error is not None,
                      width="stretch")
with stop_column:
    stop = st.button("Stop", disabled=not active, width="stretch",
                     help="Ends after the current batch and keeps the best epoch so far.")
with note_column:
    if config_error:
        st.error(config_error)
    elif active:
        st.caption("One training per student at a time: stop this one to start another.")

if start and config is not None and not config_error:
    job = manager.submit(config, owner=owner, name=run_name or None)
    st.session_state[JOB_KEY] = job.id
    st.query_params["job"] = job.id
    st.rerun()  # so the buttons show the new state at once
if stop and job is not None:
    manager.stop(job.id, by=user)
    st.rerun()


def continue_run(name: str, more_epochs: int = 0) -> None:
    # The teacher continuing a student's run continues it for the student: the run stays theirs.
    recorded = registry.run_owner(name) if user.role == TEACHER else None
    try:
        continued = manager.resume(name, owner=recorded or owner, more_epochs=more_epochs, by=user)
    except ValueError as error:
        st.session_state["train_resume_error"] = str(error)
    else:
        st.session_state[JOB_KEY] = continued.id


if not active:
    for left_behind in manager.interrupted_runs(None if user.is_teacher else owner)[:3]:
        column, button_column = st.columns([5, 1])
        whose = f" ({left_behind.owner}'s)" if left_behind.owner != owner else ""
        column.warning(f"**{left_behind.id}**{whose}: {left_behind.message}")
        button_column.button("Continue", key=f"train_continue_{left_behind.id}", on_click=continue_run,
                             args=(left_behind.id,), help="Go on from its last complete epoch.")
if st.session_state.get("train_resume_error"):
    st.error(st.session_state.pop("train_resume_error"))


# ----------------------------------------------------------------------------- the live view


def chart_frames(events: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long tables for altair: one row per (x, series) for loss and for accuracy."""
    rows = []
    batches = [event for event in events if event["kind"] == "batch"]
    step = max(1, len(batches) // MAX_BATCH_POINTS)
    for event in batches[::step]:
        x = event["epoch"] - 1 + event["batch"] / event["batches"]
        rows.append({"epoch": x, "series": "training (during the epoch)", "loss": event["loss"],
                     "accuracy": event["accuracy"]})
    for event in events:
        if event["kind"] == "epoch":
            rows.append({"epoch": event["epoch"], "series": "training", "loss": event["loss"],
                         "accuracy": event["accuracy"]})
            rows.append({"epoch": event["epoch"], "series": "validation", "loss": event["val_loss"],
                         "accuracy": event["val_accuracy"]})
    frame = pd.DataFrame(rows, columns=["epoch", "series", "loss", "accuracy"])
    return frame, frame


def history_chart(frame: pd.DataFrame, metric: str, chosen_epoch: int | None) -> alt.LayerChart:
    colours = alt.Scale(
        domain=["training (during the epoch)", "training", "validation"],
        range=["#b9cfe8", "#1f77b4", "#ff7f0e"],
    )
    base = alt.Chart(frame).encode(
        x=alt.X("epoch:Q", title="epoch"),
        y=alt.Y(f"{metric}:Q", title=metric, scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", scale=colours, title=None, legend=alt.Legend(orient="bottom")),
        tooltip=["series", alt.Tooltip("epoch:Q", format=".2f"), alt.Tooltip(f"{metric}:Q", format=".4f")],
    )
    lines = base.mark_line(point=alt.OverlayMarkDef(size=30))
    layers = [lines]
    if chosen_epoch is not None:
        marker = pd.DataFrame({"epoch": [chosen_epoch], "label": [f"kept: epoch {chosen_epoch}"]})
        layers.append(alt.Chart(marker).mark_rule(color="green", strokeDash=[4, 3]).encode(x="epoch:Q"))
        layers.append(alt.Chart(marker).mark_text(align="left", dx=4, dy=-6, color="green").encode(
            x="epoch:Q", y=alt.value(8), text="label:N"))
    return alt.layer(*layers).properties(height=280, title=f"{metric.capitalize()}: training vs validation")


def epoch_table(rows: list[dict], chosen_epoch: int | None) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    wanted = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "images_per_second")
    columns = [c for c in wanted if c in table]
    table = table[columns]
    table.insert(len(table.columns), "kept", ["✓" if epoch == chosen_epoch else "" for epoch in table["epoch"]])
    return table.set_index("epoch")


def show_charts(frame: pd.DataFrame, chosen_epoch: int | None) -> None:
    left, right = st.columns(2)
    with left:
        st.altair_chart(history_chart(frame, "loss", chosen_epoch), width="stretch")
    with right:
        st.altair_chart(history_chart(frame, "accuracy", chosen_epoch), width="stretch")


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def live_view(job_id: str) -> None:
    job = manager.get(job_id)
    if job is None:
        st.info("That training is no longer on this server (it restarted). Saved runs are listed below.")
        return
    events = current_events(job.events.since())
    start_event = next((event for event in events if event["kind"] == "start"), None)
    last_batch = next((event for event in reversed(events) if event["kind"] == "batch"), None)
    epoch_events = [event for event in events if event["kind"] == "epoch"]
    chosen_epoch = epoch_events[-1]["chosen_epoch"] if epoch_events else None

    if job.state == jobs.QUEUED:
        st.info(
            f"Waiting in the queue: position **{manager.queue_position(job)}**. "
            f"{manager.running_count()} training(s) are running on this server, at most "
            f"{manager.max_running} at once. It starts by itself."
        )
    elif job.state == jobs.RUNNING and start_event is None:
        st.info("Preparing the data and building the network...")
    if start_event is not None:
        st.caption(
            f"**{job.config.architecture}** ({start_event['parameters']:,} parameters) on "
            f"**{job.config.dataset}**: {start_event['train_images']:,} training and "
            f"{start_event['val_images']:,} validation faces. "
            f"Backend **{backends.BACKENDS[job.config.backend]}** on **{start_event['device']}**."
        )
    if last_batch is not None:
        if job.active:
            text = (
                f"Epoch {last_batch['epoch']}/{job.config.epochs}, "
                f"batch {last_batch['batch']}/{last_batch['batches']} · "
                f"{last_batch['images_per_second']:.0f} images/s · "
                f"about {format_seconds(last_batch['eta_seconds'])} left"
            )
            if job.stop_requested:
                text = "Stopping after this batch... " + text
            st.progress(min(last_batch["progress"], 1.0), text=text)
        frame, _ = chart_frames(events)
        show_charts(frame, chosen_epoch)
        st.caption(f"{len(frame)} points on the charts.")
    if epoch_events:
        st.dataframe(epoch_table(epoch_events, chosen_epoch), width="stretch")
        st.caption(f"Kept so far: epoch {chosen_epoch}, {epoch_events[-1]['chosen_reason']}.")

    if job.state == jobs.FINISHED or job.state == jobs.STOPPED:
        metrics = job.metrics or {}
        how = "Stopped" if job.state == jobs.STOPPED else "Finished"
        split = test_accuracy_split(worker.read_json(job.folder / registry.CONFIG_FILE), metrics)
        test = f" Accuracy on {split}: **{metrics['test_accuracy']:.3f}**." if "test_accuracy" in metrics else ""
        st.success(
            f"{how}. Saved as **{job.run_name}** with the weights of epoch {metrics.get('chosen_epoch')} "
            f"({metrics.get('chosen_reason')}).{test} Trained at {metrics.get('images_per_second', 0):.0f} images/s."
        )
    elif job.state in (jobs.FAILED, jobs.INTERRUPTED):
        st.error(job.message)
    elif job.state == jobs.CANCELLED:
        st.info("Taken out of the queue before it started.")
    elif job.active and (last_batch is None or not job.stop_requested):
        evaluating = next((event for event in reversed(events) if event["kind"] in ("evaluating", "trained")), None)
        if evaluating is not None:
            st.caption("Measuring accuracy on the test split and saving the run...")

    if job.done and st.session_state.get(SHOWN_DONE_KEY) != job.id:
        # Refresh the whole page once: buttons, the run list and the sidebar's model list.
        st.session_state[SHOWN_DONE_KEY] = job.id
        st.rerun()


st.header("Training", divider="gray")
if job is None:
    st.info("Choose the settings above and press **Train**. The charts fill in while the network learns.")
else:
    st.fragment(run_every=REFRESH_SECONDS if job.active else None)(live_view)(job.id)

others = [other for other in manager.jobs() if other.owner != owner and other.active]
if others:
    st.caption(
        f"Also on this server: {sum(o.state == jobs.RUNNING for o in others)} running and "
        f"{sum(o.state == jobs.QUEUED for o in others)} waiting trainings of other students."
    )


# ----------------------------------------------------------------------------- saved runs



def rename_chosen_run(old_name: str) -> None:
    new_name = st.session_state.get("train_new_name", "").strip()
    try:
        permissions.check(user, permissions.RENAME, old_name, registry.run_owner(old_name))
        registry.rename_run(old_name, new_name)
    except ValueError as error:
        st.session_state["train_registry_error"] = str(error)
    else:
        st.session_state["train_chosen_run"] = new_name
        st.session_state["train_new_name"] = ""


def delete_chosen_run(name: str) -> None:
    try:
        permissions.check(user, permissions.DELETE, name, registry.run_owner(name))
        registry.delete_run(name)
    except ValueError as error:
        st.session_state["train_registry_error"] = str(error)
    else:
        st.session_state.pop("train_chosen_run", None)
        st.session_state["train_confirm_delete"] = False


st.header("Saved runs", divider="gray")
runs = visible_runs()
if not runs:
    st.info("No saved runs yet: train one above, or on the command line with "
            "`python -m fer train --preset classroom-quick`.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "name": run.name,
                    **({"owner": "shipped" if run.shipped else run.owner} if user.role != LAPTOP else {}),
                    "architecture": run.config.get("architecture"),
                    "data set": run.config.get("dataset"),
                    "kept epoch": run.metrics.get("chosen_epoch"),
                    "accuracy": run.metrics.get("test_accuracy"),
                    "measured on": test_accuracy_split(run.config, run.metrics),
                    "backend": run.config.get("backend", "tensorflow"),
                    "device": run.config.get("device"),
                    "images/s": run.config.get("images_per_second"),
                }
                for run in runs
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    chosen_run = st.selectbox("Look at, rename or delete a run", [run.name for run in runs], key="train_chosen_run")
    history = registry.read_history(chosen_run)
    run_info = registry.read_run(chosen_run)
    if history and "val_loss" in history[0]:
        kept = run_info.metrics.get("chosen_epoch")
        frame = pd.DataFrame(
            [{"epoch": row["epoch"], "series": "training", "loss": row["loss"], "accuracy": row["accuracy"]}
             for row in history]
            + [{"epoch": row["epoch"], "series": "validation", "loss": row["val_loss"], "accuracy": row["val_accuracy"]}
               for row in history]
        )
        show_charts(frame, kept)
        with st.expander("Epoch table"):
            st.dataframe(epoch_table(history, kept), width="stretch")
    refused = {action: may(action, chosen_run, run_info.owner)
               for action in (permissions.RENAME, permissions.DELETE, permissions.CONTINUE)}
    if (run_info.path / engine.CHECKPOINT_DIR / "state.json").exists() and not active:
        more_column, button_column = st.columns([2, 1])
        more = more_column.number_input("Train it longer: more epochs", min_value=1, max_value=500, value=10,
                                        key="train_more_epochs", disabled=bool(refused[permissions.CONTINUE]),
                                        help="Continues from its last epoch with all its optimizer state.")
        button_column.button(f"{int(more)} more epochs", on_click=continue_run, args=(chosen_run, int(more)),
                             key="train_more_button", disabled=bool(refused[permissions.CONTINUE]),
                             help=refused[permissions.CONTINUE])
    rename_column, delete_column = st.columns(2)
    with rename_column:
        st.text_input("New name", key="train_new_name", placeholder="letters, digits, '.', '_' or '-'",
                      disabled=bool(refused[permissions.RENAME]))
        st.button("Rename", on_click=rename_chosen_run, args=(chosen_run,), key="train_rename_button",
                  disabled=bool(refused[permissions.RENAME]), help=refused[permissions.RENAME])
    with delete_column:
        confirm = st.checkbox(f"Yes, delete {chosen_run} for good", key="train_confirm_delete",
                              disabled=bool(refused[permissions.DELETE]), help=refused[permissions.DELETE])
        st.button("Delete", disabled=not confirm or bool(refused[permissions.DELETE]), on_click=delete_chosen_run,
                  args=(chosen_run,), key="train_delete_button")
    if refused[permissions.RENAME] and refused[permissions.DELETE]:
        st.caption(refused[permissions.DELETE].replace(" delete it", " rename or delete it"))
    if st.session_state.get("train_registry_error"):
        st.error(st.session_state.pop("train_registry_error"))
