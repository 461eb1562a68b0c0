"""Train a network: pick data, architecture and hyper-parameters, press Train, watch it learn."""

import altair as alt
import pandas as pd
import streamlit as st

from fer import backends, checkpoints, devices, jobs, measured, permissions, registry, worker
from fer import train as engine
from fer.data import SYNTHETIC, available_datasets, test_accuracy_split
from fer.events import current_events, shown
from fer.face_dataset import shown_split_label
from fer.i18n import _, expression, format_decimal, format_integer, pgettext
from lessons._identity import LAPTOP, TEACHER, current_user, may
from lessons._language import chart, page_language
from lessons._shared import visible_runs

JOB_KEY = "train_job"
SHOWN_DONE_KEY = "train_shown_done"
FIELD_PREFIX = "train_field_"
REFRESH_SECONDS = 1.5
MAX_BATCH_POINTS = 400

page_language()
st.title(_("Train a network"))
st.markdown(
    _(
        "Training is a loop: show the network a **batch** of faces, measure how wrong it is (the "
        "**loss**), nudge every weight a little downhill (the **optimizer**, at a step size called the "
        "**learning rate**), repeat. One pass over the training faces is an **epoch**. After each epoch "
        "we also measure loss and accuracy on **validation** faces the network never trains on: when "
        "training accuracy keeps climbing but validation stalls or worsens, the network is memorising "
        "faces instead of learning expressions (**overfitting**), and the epoch worth keeping is an "
        "earlier one."
    )
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


@st.cache_resource(show_spinner=False)
def device_list() -> list[devices.Device]:
    return devices.list_devices()


def dataset_label(name: str | None) -> str:
    return _("Synthetic faces (built in)") if name == SYNTHETIC else str(name)


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

with st.spinner(_("Asking TensorFlow which devices it can use...")):
    gpus = [device for device in device_list() if device.kind == "GPU"]

# Widget options stay ids; what they show is made here, in this run's language.
preset_labels = {"custom": _("Custom (keep my settings)"),
                 **{name: _(recipe.description) for name, recipe in engine.PRESETS.items()}}
dataset_labels = {name: dataset_label(name) for name in datasets}
optimizer_labels = {name: _(label) for name, label in engine.OPTIMIZERS.items()}
schedule_labels = {name: _(label) for name, label in engine.SCHEDULES.items()}
class_weight_labels = {name: _(label) for name, label in engine.CLASS_WEIGHTS.items()}
rule_labels = {name: _(label) for name, label in checkpoints.RULES.items()}
device_labels = {"auto": _("Best available"), "cpu": "CPU", "gpu": "GPU"}


def rate_label(value: float) -> str:
    return f"{value:g}"


with st.expander(_("Settings"), expanded=True):
    st.selectbox(
        _("Start from a recipe"),
        list(preset_labels),
        key=field_key("preset"),
        on_change=apply_preset,
        format_func=preset_labels.__getitem__,
    )
    try:
        measured_result = measured.measured_result(st.session_state[field_key("preset")])
        if measured_result is not None:
            st.caption(measured.summary(measured_result))
    except measured.MeasuredResultError as error:
        st.warning(str(error))
    data_column, net_column = st.columns(2)
    with data_column:
        st.selectbox(_("Data set"), datasets, key=field_key("dataset"), format_func=dataset_labels.__getitem__)
        st.number_input(
            _("Train on at most this many faces (0 = all)"), min_value=0, step=500,
            key=field_key("max_train_images"),
            help=_("A smaller training set makes an epoch quicker, at the cost of accuracy."),
        )
    with net_column:
        st.selectbox(_("Architecture"), architectures, key=field_key("architecture"))
        from fer.nets import describe_architecture

        st.caption(describe_architecture(st.session_state[field_key("architecture")]))

    st.subheader(_("Optimisation"), divider="gray")
    left, middle, right = st.columns(3)
    with left:
        st.number_input(pgettext("first use", "Epochs"), min_value=1, max_value=500, key=field_key("epochs"))
        st.select_slider(pgettext("first use", "Batch size"), [8, 16, 32, 64, 128, 256], key=field_key("batch_size"))
        st.number_input(_("Seed"), min_value=0, step=1, key=field_key("seed"),
                        help=_("The same seed, data and settings give the same shuffles and starting weights."))
    with middle:
        st.radio(pgettext("first use", "Optimizer"), list(optimizer_labels), key=field_key("optimizer"),
                 format_func=optimizer_labels.__getitem__, horizontal=True)
        st.select_slider(pgettext("first use", "Learning rate"), [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
                         key=field_key("learning_rate"), format_func=rate_label)
        if st.session_state[field_key("optimizer")] == "sgd_nesterov":
            st.slider(pgettext("first use", "Momentum"), 0.0, 0.99, key=field_key("momentum"), step=0.01)
        st.select_slider(pgettext("first use", "Weight decay (decoupled)"), [0.0, 1e-5, 1e-4, 5e-4, 1e-3, 5e-3],
                         key=field_key("weight_decay"), format_func=rate_label,
                         help=_("Shrink every kernel a little at each step, apart from the gradient (AdamW-style)."))
    with right:
        st.selectbox(pgettext("first use", "Learning-rate schedule"), list(schedule_labels), key=field_key("schedule"),
                     format_func=schedule_labels.__getitem__)
        schedule = st.session_state[field_key("schedule")]
        if schedule == "step":
            st.number_input(_("Multiply every ... epochs"), min_value=1, key=field_key("step_every_epochs"))
        if schedule in ("step", "plateau"):
            st.slider(_("by the factor"), 0.05, 0.95, key=field_key("decay_factor"), step=0.05)
        if schedule == "plateau":
            st.number_input(_("after ... epochs without improvement"), min_value=1, key=field_key("plateau_patience"))
        st.number_input(pgettext("first use", "Warm-up epochs"), min_value=0, max_value=20,
                        key=field_key("warmup_epochs"),
                        help=_("Climb linearly from almost 0 to the learning rate first: large rates are safe after "
                               "it."))
        st.checkbox(pgettext("first use", "Moving average of the weights (EMA)"), key=field_key("ema"),
                    help=_("Validate and keep an average of the recent weights: smoother, usually a little better."))

    st.subheader(pgettext("first use", "Augmentation and regularisation"), divider="gray")
    st.caption(
        _("Random changes to each training face, different every epoch: the network sees more "
          "varied faces than the data set holds. Validation and test faces are never changed.")
    )
    left, middle, right = st.columns(3)
    with left:
        st.checkbox(_("Horizontal flips"), key=field_key("augment_flip"))
        st.select_slider(_("Random crop (pixels kept of 48)"), list(engine.CROP_SIZES)[::-1],
                         key=field_key("crop_size"),
                         help=_("Train on random 44- or 40-pixel windows of each face; test on the centre window."))
        st.slider(_("Shift (fraction of the face)"), 0.0, 0.3, key=field_key("augment_shift"), step=0.05)
    with middle:
        st.slider(_("Rotation (degrees)"), 0.0, 30.0, key=field_key("augment_rotation"), step=1.0)
        st.slider(_("Zoom (fraction)"), 0.0, 0.3, key=field_key("augment_zoom"), step=0.05)
        st.slider(pgettext("first use", "Random erasing (probability)"), 0.0, 1.0, key=field_key("random_erasing"),
                  step=0.05,
                  help=_("Hide a random rectangle of some faces, so the network cannot rely on one part of the face."))
    with right:
        st.slider(pgettext("first use", "Label smoothing"), 0.0, 0.3, key=field_key("label_smoothing"), step=0.05,
                  help=_("Aim at 0.9 instead of 1.0 for the right class: a network less sure of itself."))
        st.radio(pgettext("first use", "Class weights"), list(class_weight_labels), key=field_key("class_weights"),
                 format_func=class_weight_labels.__getitem__,
                 help=_("FER2013 has 15 times fewer {disgust} faces than {happy} ones.").format(
                     disgust=expression("Disgust"), happy=expression("Happy")))

    st.subheader(_("Which epoch to keep"), divider="gray")
    left, right = st.columns(2)
    with left:
        st.selectbox(pgettext("first use", "Checkpoint rule"), list(rule_labels), key=field_key("checkpoint_rule"),
                     format_func=rule_labels.__getitem__)
    with right:
        rule = st.session_state[field_key("checkpoint_rule")]
        if rule == "early_stopping":
            st.number_input(_("Patience (epochs without a new best)"), min_value=1,
                            key=field_key("early_stopping_patience"))
        if rule == "lowest_val_loss_above_train_accuracy":
            st.slider(_("Training-accuracy threshold"), 0.0, 1.0, key=field_key("train_accuracy_threshold"),
                      step=0.05)

    st.subheader(_("Device"), divider="gray")
    left, right = st.columns(2)
    with left:
        st.radio(_("Train on"), list(device_labels), key=field_key("device"), horizontal=True,
                 format_func=device_labels.__getitem__)
        if not gpus:
            st.session_state[field_key("mixed_precision")] = False
        st.checkbox(pgettext("first use", "Mixed precision (float16, GPU only)"), key=field_key("mixed_precision"),
                    disabled=not gpus)
        installed = backends.installed_backends()
        if st.session_state[field_key("backend")] not in installed:
            st.session_state[field_key("backend")] = "tensorflow"
        st.radio(pgettext("first use", "Keras backend"), installed, key=field_key("backend"), horizontal=True,
                 format_func=backends.BACKENDS.get,
                 help=_("The same network and recipe on TensorFlow, JAX or PyTorch: use the one your GPU supports. "
                        "The trained model opens everywhere in the app either way."))
    with right:
        st.markdown(_("TensorFlow sees: {devices}").format(devices=", ".join(
            f"**{d.kind}** {shown(d.said) if d.said else d.description}" for d in device_list())))
        if not gpus:
            st.caption(_("No GPU here, so training runs on the CPU. "
                         "With several GPUs, training is mirrored across all of them."))
    st.text_input(_("Run name (optional)"), key="train_run_name", placeholder=_("e.g. ana-small-cnn-flips"),
                  help=_("Letters, digits, '.', '_' or '-'. If the name is taken, -2, -3... is added."))


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
        config_error = _("Names starting with {prefix} are kept for the shipped models: pick another.").format(
            prefix=repr(permissions.SHIPPED_PREFIX))

# ----------------------------------------------------------------------------- train and stop

job = current_job()
active = job is not None and job.active

button_column, stop_column, note_column = st.columns([1, 1, 4])
with button_column:
    start = st.button(_("Train"), type="primary", disabled=active or config is None or config_error is not None,
                      width="stretch")
with stop_column:
    stop = st.button(_("Stop"), disabled=not active, width="stretch",
                     help=_("Ends after the current batch and keeps the best epoch so far."))
with note_column:
    if config_error:
        st.error(config_error)
    elif active:
        st.caption(_("One training per student at a time: stop this one to start another."))

if start and config is not None and not config_error:
    job = manager.submit(config, owner=owner, name=run_name or None)
    st.session_state[JOB_KEY] = job.id
    st.query_params["job"] = job.id
    st.rerun()  # so the buttons show the new state at once
if stop and job is not None:
    manager.stop(job.id, by=user)
    st.rerun()


def continue_run(name: str, more_epochs: int = 0) -> None:
    page_language()  # a callback runs before the page: its sentences in the reader's language too
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
        if left_behind.owner != owner:
            column.warning(_("**{run}** ({owner}'s): {message}").format(
                run=left_behind.id, owner=left_behind.owner, message=left_behind.message))
        else:
            column.warning(_("**{run}**: {message}").format(run=left_behind.id, message=left_behind.message))
        button_column.button(_("Continue"), key=f"train_continue_{left_behind.id}", on_click=continue_run,
                             args=(left_behind.id,), help=_("Go on from its last complete epoch."))
if st.session_state.get("train_resume_error"):
    st.error(st.session_state.pop("train_resume_error"))


# ----------------------------------------------------------------------------- the live view


def series_names() -> dict[str, str]:
    """The charts' three curves (ids -> what the legend says, in the reader's language)."""
    return {"during": _("training (during the epoch)"), "training": _("training"), "validation": _("validation")}


def chart_frames(events: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long tables for altair: one row per (x, series) for loss and for accuracy."""
    names = series_names()
    rows = []
    batches = [event for event in events if event["kind"] == "batch"]
    step = max(1, len(batches) // MAX_BATCH_POINTS)
    for event in batches[::step]:
        x = event["epoch"] - 1 + event["batch"] / event["batches"]
        rows.append({"epoch": x, "series": names["during"], "loss": event["loss"], "accuracy": event["accuracy"]})
    for event in events:
        if event["kind"] == "epoch":
            rows.append({"epoch": event["epoch"], "series": names["training"], "loss": event["loss"],
                         "accuracy": event["accuracy"]})
            rows.append({"epoch": event["epoch"], "series": names["validation"], "loss": event["val_loss"],
                         "accuracy": event["val_accuracy"]})
    frame = pd.DataFrame(rows, columns=["epoch", "series", "loss", "accuracy"])
    return frame, frame


def history_chart(frame: pd.DataFrame, metric: str, chosen_epoch: int | None) -> alt.LayerChart:
    names = series_names()
    colours = alt.Scale(domain=[names["during"], names["training"], names["validation"]],
                        range=["#b9cfe8", "#1f77b4", "#ff7f0e"])
    metric_name = {"loss": _("loss"), "accuracy": _("accuracy")}[metric]
    epoch_name = _("epoch")
    base = alt.Chart(frame).encode(
        x=alt.X("epoch:Q", title=epoch_name),
        y=alt.Y(f"{metric}:Q", title=metric_name, scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", scale=colours, title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("series:N", title=_("series")), alt.Tooltip("epoch:Q", format=".2f", title=epoch_name),
                 alt.Tooltip(f"{metric}:Q", format=".4f", title=metric_name)],
    )
    lines = base.mark_line(point=alt.OverlayMarkDef(size=30))
    layers = [lines]
    if chosen_epoch is not None:
        marker = pd.DataFrame({"epoch": [chosen_epoch],
                               "label": [_("kept: epoch {epoch}").format(epoch=chosen_epoch)]})
        layers.append(alt.Chart(marker).mark_rule(color="green", strokeDash=[4, 3]).encode(x="epoch:Q"))
        layers.append(alt.Chart(marker).mark_text(align="left", dx=4, dy=-6, color="green").encode(
            x="epoch:Q", y=alt.value(8), text="label:N"))
    title = {"loss": _("Loss: training vs validation"), "accuracy": _("Accuracy: training vs validation")}[metric]
    return chart(alt.layer(*layers).properties(height=280, title=title))


def epoch_columns() -> dict[str, str]:
    """history.csv's columns as the epoch table heads them (the English are the file's own names)."""
    return {
        "epoch": pgettext("epoch table", "epoch"), "loss": pgettext("epoch table", "loss"),
        "accuracy": pgettext("epoch table", "accuracy"), "val_loss": pgettext("epoch table", "val_loss"),
        "val_accuracy": pgettext("epoch table", "val_accuracy"), "lr": pgettext("epoch table", "lr"),
        "seconds": pgettext("epoch table", "seconds"),
        "images_per_second": pgettext("epoch table", "images_per_second"), "kept": pgettext("epoch table", "kept"),
    }


def epoch_table(rows: list[dict], chosen_epoch: int | None) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    wanted = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "images_per_second")
    columns = [c for c in wanted if c in table]
    table = table[columns]
    table.insert(len(table.columns), "kept", ["✓" if epoch == chosen_epoch else "" for epoch in table["epoch"]])
    return table.rename(columns=epoch_columns()).set_index(epoch_columns()["epoch"])


def kept_reason(record: dict) -> str:
    """Why an epoch is kept, from an epoch event or metrics.json, in the reader's language."""
    return shown(record.get("chosen_reason_sentence") or record.get("chosen_reason"))


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
    page_language()  # a fragment's own reruns decide the language again
    job = manager.get(job_id)
    if job is None:
        st.info(_("That training is no longer on this server (it restarted). Saved runs are listed below."))
        return
    events = current_events(job.events.since())
    start_event = next((event for event in events if event["kind"] == "start"), None)
    last_batch = next((event for event in reversed(events) if event["kind"] == "batch"), None)
    epoch_events = [event for event in events if event["kind"] == "epoch"]
    chosen_epoch = epoch_events[-1]["chosen_epoch"] if epoch_events else None

    if job.state == jobs.QUEUED:
        st.info(
            _("Waiting in the queue: position **{position}**. {running} training(s) are running on this server, "
              "at most {most} at once. It starts by itself.").format(
                position=manager.queue_position(job), running=manager.running_count(), most=manager.max_running)
        )
    elif job.state == jobs.RUNNING and start_event is None:
        st.info(_("Preparing the data and building the network..."))
    if start_event is not None:
        st.caption(
            _("**{architecture}** ({parameters} parameters) on **{dataset}**: {train} training and {val} validation "
              "faces. Backend **{backend}** on **{device}**.").format(
                architecture=job.config.architecture, parameters=format_integer(start_event["parameters"]),
                dataset=dataset_label(job.config.dataset), train=format_integer(start_event["train_images"]),
                val=format_integer(start_event["val_images"]), backend=backends.BACKENDS[job.config.backend],
                device=shown(start_event.get("device_sentence") or start_event["device"]))
        )
    if last_batch is not None:
        if job.active:
            text = _("Epoch {epoch}/{epochs}, batch {batch}/{batches} · {speed} images/s · about {left} left").format(
                epoch=last_batch["epoch"], epochs=job.config.epochs, batch=last_batch["batch"],
                batches=last_batch["batches"], speed=format_decimal(last_batch["images_per_second"], 0),
                left=format_seconds(last_batch["eta_seconds"]))
            if job.stop_requested:
                text = _("Stopping after this batch... {progress}").format(progress=text)
            st.progress(min(last_batch["progress"], 1.0), text=text)
        frame, _frame = chart_frames(events)
        show_charts(frame, chosen_epoch)
        st.caption(_("{count} points on the charts.").format(count=format_integer(len(frame))))
    if epoch_events:
        st.dataframe(epoch_table(epoch_events, chosen_epoch), width="stretch")
        st.caption(_("Kept so far: epoch {epoch}, {reason}.").format(
            epoch=chosen_epoch, reason=kept_reason(epoch_events[-1])))

    if job.state == jobs.FINISHED or job.state == jobs.STOPPED:
        metrics = job.metrics or {}
        split = test_accuracy_split(worker.read_json(job.folder / registry.CONFIG_FILE), metrics)
        test = (" " + _("Accuracy on {split}: **{accuracy}**.").format(
            split=shown_split_label(split), accuracy=format_decimal(metrics["test_accuracy"], 3))
            if "test_accuracy" in metrics else "")
        saved = (_("Stopped. Saved as **{run}** with the weights of epoch {epoch} ({reason}).")
                 if job.state == jobs.STOPPED else
                 _("Finished. Saved as **{run}** with the weights of epoch {epoch} ({reason})."))
        st.success(
            saved.format(run=job.run_name, epoch=metrics.get("chosen_epoch"), reason=kept_reason(metrics)) + test
            + " " + _("Trained at {speed} images/s.").format(
                speed=format_decimal(metrics.get("images_per_second", 0), 0))
        )
    elif job.state in (jobs.FAILED, jobs.INTERRUPTED):
        st.error(job.message)
    elif job.state == jobs.CANCELLED:
        st.info(_("Taken out of the queue before it started."))
    elif job.active and (last_batch is None or not job.stop_requested):
        evaluating = next((event for event in reversed(events) if event["kind"] in ("evaluating", "trained")), None)
        if evaluating is not None:
            st.caption(_("Measuring accuracy on the test split and saving the run..."))

    if job.done and st.session_state.get(SHOWN_DONE_KEY) != job.id:
        # Refresh the whole page once: buttons, the run list and the sidebar's model list.
        st.session_state[SHOWN_DONE_KEY] = job.id
        st.rerun()


st.header(_("Training"), divider="gray")
if job is None:
    st.info(_("Choose the settings above and press **Train**. The charts fill in while the network learns."))
else:
    st.fragment(run_every=REFRESH_SECONDS if job.active else None)(live_view)(job.id)

others = [other for other in manager.jobs() if other.owner != owner and other.active]
if others:
    st.caption(
        _("Also on this server: {running} running and {waiting} waiting trainings of other students.").format(
            running=sum(o.state == jobs.RUNNING for o in others), waiting=sum(o.state == jobs.QUEUED for o in others))
    )


# ----------------------------------------------------------------------------- saved runs



def rename_chosen_run(old_name: str) -> None:
    page_language()
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
    page_language()
    try:
        permissions.check(user, permissions.DELETE, name, registry.run_owner(name))
        registry.delete_run(name)
    except ValueError as error:
        st.session_state["train_registry_error"] = str(error)
    else:
        st.session_state.pop("train_chosen_run", None)
        st.session_state["train_confirm_delete"] = False


def device_of(config: dict) -> str | None:
    return shown(config["device_sentence"]) if config.get("device_sentence") else config.get("device")


st.header(_("Saved runs"), divider="gray")
runs = visible_runs()
if not runs:
    st.info(_("No saved runs yet: train one above, or on the command line with "
              "`python -m fer train --preset classroom-quick`."))
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    _("name"): run.name,
                    **({_("owner"): _("shipped") if run.shipped else run.owner} if user.role != LAPTOP else {}),
                    _("architecture"): run.config.get("architecture"),
                    _("data set"): dataset_label(run.config.get("dataset")),
                    _("kept epoch"): run.metrics.get("chosen_epoch"),
                    _("accuracy"): run.metrics.get("test_accuracy"),
                    _("measured on"): shown_split_label(test_accuracy_split(run.config, run.metrics)),
                    _("backend"): backends.BACKENDS.get(run.config.get("backend", "tensorflow")),
                    _("device"): device_of(run.config),
                    _("images/s"): run.config.get("images_per_second"),
                }
                for run in runs
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    chosen_run = st.selectbox(_("Look at, rename or delete a run"), [run.name for run in runs],
                              key="train_chosen_run")
    history = registry.read_history(chosen_run)
    run_info = registry.read_run(chosen_run)
    if history and "val_loss" in history[0]:
        kept = run_info.metrics.get("chosen_epoch")
        names = series_names()
        frame = pd.DataFrame(
            [{"epoch": row["epoch"], "series": names["training"], "loss": row["loss"], "accuracy": row["accuracy"]}
             for row in history]
            + [{"epoch": row["epoch"], "series": names["validation"], "loss": row["val_loss"],
                "accuracy": row["val_accuracy"]} for row in history]
        )
        show_charts(frame, kept)
        with st.expander(_("Epoch table")):
            st.dataframe(epoch_table(history, kept), width="stretch")
    refused = {action: may(action, chosen_run, run_info.owner)
               for action in (permissions.RENAME, permissions.DELETE, permissions.CONTINUE)}
    if (run_info.path / engine.CHECKPOINT_DIR / "state.json").exists() and not active:
        more_column, button_column = st.columns([2, 1])
        more = more_column.number_input(_("Train it longer: more epochs"), min_value=1, max_value=500, value=10,
                                        key="train_more_epochs", disabled=bool(refused[permissions.CONTINUE]),
                                        help=_("Continues from its last epoch with all its optimizer state."))
        button_column.button(_("{count} more epochs").format(count=int(more)), on_click=continue_run,
                             args=(chosen_run, int(more)),
                             key="train_more_button", disabled=bool(refused[permissions.CONTINUE]),
                             help=refused[permissions.CONTINUE])
    rename_column, delete_column = st.columns(2)
    with rename_column:
        st.text_input(_("New name"), key="train_new_name", placeholder=_("letters, digits, '.', '_' or '-'"),
                      disabled=bool(refused[permissions.RENAME]))
        st.button(_("Rename"), on_click=rename_chosen_run, args=(chosen_run,), key="train_rename_button",
                  disabled=bool(refused[permissions.RENAME]), help=refused[permissions.RENAME])
    with delete_column:
        confirm = st.checkbox(_("Yes, delete {run} for good").format(run=chosen_run), key="train_confirm_delete",
                              disabled=bool(refused[permissions.DELETE]), help=refused[permissions.DELETE])
        st.button(_("Delete"), disabled=not confirm or bool(refused[permissions.DELETE]), on_click=delete_chosen_run,
                  args=(chosen_run,), key="train_delete_button")
    if refused[permissions.RENAME] and refused[permissions.DELETE]:
        # The delete refusal says both: its verb, the last one in the sentence, becomes "rename or delete".
        head, verb, tail = refused[permissions.DELETE].rpartition(pgettext("permission", "delete"))
        st.caption(head + pgettext("permission", "rename or delete") + tail if verb else refused[permissions.DELETE])
    if st.session_state.get("train_registry_error"):
        st.error(st.session_state.pop("train_registry_error"))
