"""The training engine shared by the Train page, `python -m fer train`, the worker processes and the tests.

    config = TrainConfig(architecture="report_a_cnn", dataset="synthetic", epochs=3)
    result = train(config, events=EventLog(), stop=threading.Event())
    run_folder = save_result(result)

`train` is a plain loop anyone can read, in named steps: prepare the data, build and compile
the network, (restore a checkpoint), then per epoch: train on shuffled, augmented batches
(`fer.augment`) with the learning rate of every step (`fer.schedules`), validate (on the
weights' moving average when EMA is on), let the checkpoint rule (`fer.checkpoints`) choose the
epoch to keep, and, given a run folder, write a checkpoint from which `train(..., resume=True)`
continues exactly. Every batch and epoch goes to an event log that a page, a terminal or a
test reads. `stop` ends training after the current batch. It never touches Streamlit.
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from fer import augment, backends, checkpoints, devices, registry, schedules, snapshots
from fer.data import NUM_CLASSES, FaceDataset, load_dataset
from fer.events import EventLog, error
from fer.i18n import N_, _
from fer.preprocessing import IMAGE_SIZE, to_model_input
from fer.presets import PRESETS
from fer.schedules import SCHEDULES, learning_rate_at, learning_rate_for_epoch  # noqa: F401  (re-exported)

# Ids -> what pages show (through _()).
OPTIMIZERS = {"adam": N_("Adam"), "sgd_nesterov": N_("SGD with Nesterov momentum")}
CLASS_WEIGHTS = {"none": N_("Every face counts the same"), "balanced": N_("Rare expressions count more")}
CROP_SIZES = (48, 44, 40)
CHECKPOINT_DIR = "checkpoint"


class TrainConfigError(ValueError):
    """A hyper-parameter that cannot work; the message says which and what to use."""


@dataclass(frozen=True)
class TrainConfig:
    architecture: str = "report_a_cnn"
    dataset: str = "synthetic"
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0  # decoupled (AdamW-style), on kernels only
    schedule: str = "constant"
    warmup_epochs: int = 0  # linear warm-up before the schedule
    step_every_epochs: int = 10  # step schedule
    decay_factor: float = 0.5  # step and plateau schedules
    plateau_patience: int = 3
    ema: bool = False  # validate and keep an exponential moving average of the weights
    ema_momentum: float = 0.999
    crop_size: int = 48  # 44 or 40: random crops in training, the centre crop at test time
    augment_flip: bool = False
    augment_shift: float = 0.0  # fraction of the image, e.g. 0.1 = up to 4.8 pixels
    augment_rotation: float = 0.0  # degrees
    augment_zoom: float = 0.0  # fraction
    random_erasing: float = 0.0  # probability of erasing a random rectangle of a face
    label_smoothing: float = 0.0
    class_weights: str = "none"
    max_train_images: int = 0  # 0 = the whole training split
    seed: int = 0
    backend: str = "tensorflow"  # Keras backend of the worker: tensorflow, jax or torch
    device: str = "auto"
    mixed_precision: bool = False  # float16 on GPU (bfloat16 models do not export to TF.js)
    checkpoint_rule: str = "best_val_accuracy"
    early_stopping_patience: int = 5
    train_accuracy_threshold: float = 0.6
    snapshot_epochs: tuple[int, ...] = ()  # also keep these epochs' validated weights (fer.snapshots)

    def __post_init__(self) -> None:
        object.__setattr__(self, "snapshot_epochs", tuple(sorted({int(epoch) for epoch in self.snapshot_epochs})))
        problems = [problem for problem in _config_problems(self) if problem]
        if problems:
            raise TrainConfigError(_("This training cannot start: {problems}.").format(
                problems=_("; ").join(problems)))
        self.checkpoint()  # validates the rule and its parameters

    def checkpoint(self) -> checkpoints.CheckpointRule:
        return checkpoints.CheckpointRule(
            kind=self.checkpoint_rule,
            patience=self.early_stopping_patience,
            train_accuracy_threshold=self.train_accuracy_threshold,
        )

    def augmentation(self) -> augment.Augmentation:
        return augment.Augmentation(
            flip=self.augment_flip,
            crop_margin=(IMAGE_SIZE - self.crop_size) // 2,
            shift=self.augment_shift,
            rotation=self.augment_rotation,
            zoom=self.augment_zoom,
            erasing=self.random_erasing,
        )

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


def _config_problems(config: TrainConfig):
    """Each setting that cannot work, as a piece of a sentence in the reader's language (False when fine)."""
    yield config.epochs < 1 and _("epochs must be at least 1, not {value}").format(value=config.epochs)
    yield config.batch_size < 1 and _("the batch size must be at least 1, not {value}").format(value=config.batch_size)
    yield config.optimizer not in OPTIMIZERS and _("the optimizer {value} is unknown (use {known})").format(
        value=repr(config.optimizer), known=_(" or ").join(OPTIMIZERS))
    yield not config.learning_rate > 0 and _("the learning rate must be positive, not {value}").format(
        value=config.learning_rate)
    yield not 0 <= config.weight_decay < 0.1 and _(
        "the weight decay lies between 0 and 0.1 (5e-4 is usual), not {value}").format(value=config.weight_decay)
    yield config.schedule not in SCHEDULES and _("the schedule {value} is unknown (use {known})").format(
        value=repr(config.schedule), known=", ".join(SCHEDULES))
    yield not 0 <= config.warmup_epochs < config.epochs and _(
        "the warm-up must be shorter than the run: 0 to {most} epochs, not {value}").format(
        most=config.epochs - 1, value=config.warmup_epochs)
    yield config.step_every_epochs < 1 and _("the step schedule needs a step of at least 1 epoch")
    yield not 0 < config.decay_factor < 1 and _("the decay factor must lie between 0 and 1, not {value}").format(
        value=config.decay_factor)
    yield not 0.9 <= config.ema_momentum < 1 and _(
        "the EMA momentum lies between 0.9 and 1 (0.999 is usual), not {value}").format(value=config.ema_momentum)
    yield config.crop_size not in CROP_SIZES and _(
        "the crop size is one of {sizes} pixels (48 = no crop), not {value}").format(
        sizes=", ".join(map(str, CROP_SIZES)), value=config.crop_size)
    yield not 0 <= config.augment_shift <= 0.5 and _(
        "the shift is a fraction of the image between 0 and 0.5, not {value}").format(value=config.augment_shift)
    yield not 0 <= config.augment_rotation <= 180 and _(
        "the rotation is in degrees between 0 and 180, not {value}").format(value=config.augment_rotation)
    yield not 0 <= config.augment_zoom < 1 and _("the zoom is a fraction between 0 and 1, not {value}").format(
        value=config.augment_zoom)
    yield not 0 <= config.random_erasing <= 1 and _(
        "random erasing is a probability between 0 and 1, not {value}").format(value=config.random_erasing)
    yield not 0 <= config.label_smoothing < 1 and _("label smoothing lies between 0 and 1, not {value}").format(
        value=config.label_smoothing)
    yield config.class_weights not in CLASS_WEIGHTS and _("class weights {value} are unknown (use {known})").format(
        value=repr(config.class_weights), known=_(" or ").join(CLASS_WEIGHTS))
    yield config.max_train_images < 0 and _("the image limit must be 0 (all) or a positive number")
    yield config.backend not in backends.BACKENDS and _("the backend {value} is unknown (use {known})").format(
        value=repr(config.backend), known=", ".join(backends.BACKENDS))
    yield config.device not in devices.DEVICE_CHOICES and _("the device {value} is unknown (use {known})").format(
        value=repr(config.device), known=", ".join(devices.DEVICE_CHOICES))
    yield any(epoch < 1 for epoch in config.snapshot_epochs) and _(
        "snapshot epochs count from 1, not {value}").format(value=min(config.snapshot_epochs))
    yield config.mixed_precision and config.device == "cpu" and _(
        "mixed precision (float16) only helps on a GPU: untick it or choose the GPU")


def preset(name: str, **overrides) -> TrainConfig:
    if name not in PRESETS:
        raise TrainConfigError(_("Unknown preset {name}: use one of {presets}.").format(
            name=repr(name), presets=", ".join(PRESETS)))
    return TrainConfig(**{**PRESETS[name].settings, **overrides})


def architecture_names() -> list[str]:
    from fer.nets import ARCHITECTURES

    return list(ARCHITECTURES)


def balanced_class_weights(labels: np.ndarray) -> np.ndarray:
    """n / (classes * count) per class, as scikit-learn's "balanced": rare classes weigh more."""
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    present = counts > 0
    weights = np.ones(NUM_CLASSES)
    weights[present] = counts[present].sum() / (present.sum() * counts[present])
    return weights.astype(np.float32)


# ----------------------------------------------------------------------------- the data


@dataclass
class TrainingData:
    train_images: np.ndarray  # uint8 (N, 48, 48)
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_weights: np.ndarray | None
    recalibration: np.ndarray | None = None  # faces that measure BatchNorm for the EMA weights

    def steps_per_epoch(self, batch_size: int) -> int:
        return math.ceil(len(self.train_labels) / batch_size)


def prepare_data(dataset: FaceDataset, config: TrainConfig) -> TrainingData:
    images, labels = dataset.split("train")
    if len(labels) == 0:
        raise error(TrainConfigError, N_("The data set {name} has no training faces: import a data set with a "
                                         "train split."), name=repr(dataset.name))
    if config.max_train_images and config.max_train_images < len(labels):
        keep = np.sort(np.random.default_rng(config.seed).permutation(len(labels))[: config.max_train_images])
        images, labels = images[keep], labels[keep]
    weights = balanced_class_weights(labels) if config.class_weights == "balanced" else None
    data = TrainingData(images, labels, *dataset.split("val"), *dataset.split("test"), weights)
    if config.ema:
        data.recalibration = recalibration_sample(data, config)
    return data


def training_batches(data: TrainingData, config: TrainConfig, epoch: int):
    """Yield (inputs, one-hot targets, sample weights or None) for one epoch, one batch ahead.

    The order and every random change depend only on (seed, epoch, batch): see `fer.augment`.
    """
    order = augment.epoch_order(len(data.train_labels), config.seed, epoch)
    settings = config.augmentation()
    eye = np.eye(NUM_CLASSES, dtype=np.float32)

    def make(batch: int):
        chosen = order[batch * config.batch_size : (batch + 1) * config.batch_size]
        labels = data.train_labels[chosen]
        generator = augment.batch_generator(config.seed, epoch, batch)
        inputs = augment.augment(data.train_images[chosen], settings, generator)
        weights = None if data.class_weights is None else data.class_weights[labels]
        return inputs, eye[labels], weights

    # Prepared in this thread: with a helper thread preparing the next batch beside TensorFlow's
    # step, workers died of SIGSEGV now and then (cause not found yet; see the issue notes).
    for batch in range(data.steps_per_epoch(config.batch_size)):
        yield make(batch)


# ----------------------------------------------------------------------------- the network


def architecture_builder(config: TrainConfig, build_model: Callable | None = None) -> Callable:
    """`build_model(num_classes=, input_shape=)` for the config (tests pass their own)."""
    if build_model is not None:
        return build_model
    from fer import nets

    if config.architecture not in nets.ARCHITECTURES:
        raise error(TrainConfigError, N_("Unknown architecture {name}: use one of {known}."),
                    name=repr(config.architecture), known=", ".join(nets.ARCHITECTURES))
    builder = nets.ARCHITECTURES[config.architecture]
    if config.crop_size == IMAGE_SIZE:
        return builder
    if config.architecture not in nets.CROPPABLE:
        raise error(TrainConfigError, N_("{name} has no crop layer, so it cannot train on {size}-pixel crops: use "
                                         "crop size 48, or one of {known}."),
                    name=config.architecture, size=config.crop_size, known=", ".join(nets.CROPPABLE))
    return lambda **kwargs: builder(crop_size=config.crop_size, **kwargs)


def make_optimizer(config: TrainConfig):
    import keras

    options = dict(learning_rate=config.learning_rate, use_ema=config.ema, ema_momentum=config.ema_momentum)
    if config.weight_decay:
        options["weight_decay"] = config.weight_decay
    if config.optimizer == "adam":
        optimizer = keras.optimizers.AdamW(**options) if config.weight_decay else keras.optimizers.Adam(**options)
    else:
        optimizer = keras.optimizers.SGD(momentum=config.momentum, nesterov=True, **options)
    if config.weight_decay:
        # Decay the kernels only: shrinking biases and BatchNorm's scale and shift does not regularise.
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer


def build_and_compile(build_model: Callable, config: TrainConfig, policy: str = "float32"):
    """Build under a dtype policy (Keras keeps it per thread) and compile with the config's optimizer."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = build_model(num_classes=NUM_CLASSES, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 1))
    finally:
        keras.config.set_dtype_policy(previous)
    model.compile(
        optimizer=make_optimizer(config),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    model.optimizer.build(model.trainable_variables)
    return model


class MovingAverage:
    """Swap the optimizer's moving average of the weights in (to validate or keep) and back out.

    BatchNorm's moving mean and variance belong to the raw weights: with the averaged weights
    they are wrong (a 47 % network read 17 % on FER2013 validation, one class for every face).
    So they are measured again for the averaged weights, as the plain mean over a fixed sample
    of training faces (`recalibration_images`), and put back with the raw weights afterwards.
    """

    def __init__(self, model, enabled: bool, recalibration_images: np.ndarray | None = None,
                 batch_size: int = 128) -> None:
        self.model, self.enabled = model, enabled
        self.images, self.batch_size = recalibration_images, batch_size

    def __enter__(self):
        if self.enabled:
            self.raw = [variable.numpy() for variable in self.model.variables]
            averages = self.model.optimizer._model_variables_moving_average
            for variable, average in zip(self.model.trainable_variables, averages):
                # A copy: under JAX the next step donates (frees) the model variable's buffer.
                variable.assign(np.array(average.numpy()))
            if self.images is not None and len(self.images):
                recalibrate_batchnorm(self.model, self.images, self.batch_size)
        return self

    def __exit__(self, *exception) -> None:
        if self.enabled:
            for variable, value in zip(self.model.variables, self.raw):
                variable.assign(value)


def batchnorm_layers(model) -> list:
    import keras

    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]


def recalibrate_batchnorm(model, images: np.ndarray, batch_size: int) -> None:
    """Set every BatchNorm's moving statistics to their mean over `images` (uint8 faces)."""
    layers = batchnorm_layers(model)
    if not layers:
        return
    momenta = [layer.momentum for layer in layers]
    try:
        for index, start in enumerate(range(0, len(images), batch_size)):
            for layer in layers:
                layer.momentum = index / (index + 1)  # a running mean: batch i weighs 1 / (i + 1)
            model(to_model_input(images[start : start + batch_size]), training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum


def recalibration_sample(data: TrainingData, config: TrainConfig, count: int = 2048) -> np.ndarray:
    """A fixed sample of un-augmented training faces, the same every epoch and after a resume."""
    order = np.random.default_rng([config.seed, 2**31 - 2]).permutation(len(data.train_labels))
    return data.train_images[np.sort(order[:count])]


def reseed_dropout(model, seed: int, epoch: int) -> None:
    """Give every random layer a state that depends only on (seed, epoch): resumed runs match."""
    for index, variable in enumerate(model.non_trainable_variables):
        if variable.path.endswith("seed_generator_state"):
            value = np.array([(seed * 1_000_003 + epoch * 7_919 + index) % 2**31, 0])
            variable.assign(value.astype(variable.dtype))


# ----------------------------------------------------------------------------- the loop's state


@dataclass
class LoopState:
    """Everything besides the weights that a resumed run needs to continue exactly."""

    epochs_done: int = 0
    history: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    plateau: schedules.PlateauState = field(default_factory=schedules.PlateauState)
    images_seen: int = 0
    training_seconds: float = 0.0
    stopped_by: str | None = None
    best_weights: list | None = None  # values of model.variables at the chosen epoch
    session_seconds: float = 0.0  # in this process only: a resumed run's ETA uses its own speed
    session_steps: int = 0

    def to_dict(self) -> dict:
        return {
            "epochs_done": self.epochs_done, "history": self.history, "best_epoch": self.best_epoch,
            "plateau": self.plateau.to_dict(), "images_seen": self.images_seen,
            "training_seconds": self.training_seconds,
        }

    @classmethod
    def from_dict(cls, values: dict) -> LoopState:
        return cls(
            epochs_done=int(values["epochs_done"]), history=list(values["history"]), best_epoch=values["best_epoch"],
            plateau=schedules.PlateauState(**values["plateau"]), images_seen=int(values["images_seen"]),
            training_seconds=float(values["training_seconds"]),
        )


def save_checkpoint(folder: Path, model, loop: LoopState, config: TrainConfig) -> None:
    """Write weights, optimizer state (EMA included), chosen weights and loop state; atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".{CHECKPOINT_DIR}.partial"
    if staging.exists():
        import shutil

        shutil.rmtree(staging)
    staging.mkdir()
    arrays = {f"model/{i}": v.numpy() for i, v in enumerate(model.variables)}
    arrays.update({f"optimizer/{i}": v.numpy() for i, v in enumerate(model.optimizer.variables)})
    np.savez(staging / "state.npz", **arrays)
    if loop.best_weights is not None:
        np.savez(staging / "best.npz", **{f"model/{i}": value for i, value in enumerate(loop.best_weights)})
    state = {**loop.to_dict(), "config": config.to_dict(), "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (staging / "state.json").write_text(json.dumps(state, indent=1, default=float))
    registry.replace_folder(staging, folder / CHECKPOINT_DIR)


class CheckpointError(ValueError):
    """A checkpoint that cannot be continued from; the message says why and what to do."""


def load_checkpoint(folder: Path, model) -> LoopState:
    """Put a checkpoint's weights and optimizer state into `model`; return the loop state."""
    checkpoint = folder / CHECKPOINT_DIR
    try:
        state = json.loads((checkpoint / "state.json").read_text())
        loop = LoopState.from_dict(state)
        with np.load(checkpoint / "state.npz") as arrays:
            _assign(model.variables, arrays, "model")
            _assign(model.optimizer.variables, arrays, "optimizer")
        if (checkpoint / "best.npz").exists():
            with np.load(checkpoint / "best.npz") as arrays:
                loop.best_weights = [arrays[f"model/{i}"] for i in range(len(model.variables))]
    except FileNotFoundError as missing:
        raise error(CheckpointError, N_("{name} has no complete checkpoint ({file} is missing): it cannot be "
                                        "continued; train it again."),
                    name=folder.name, file=Path(missing.filename).name) from None
    except (OSError, ValueError, KeyError, TypeError) as damage:
        raise error(CheckpointError, N_("The checkpoint of {name} is damaged ({error}): it cannot be continued; "
                                        "train it again."),
                    name=folder.name, error=f"{type(damage).__name__}: {damage}") from None
    return loop


def _assign(variables, arrays, prefix: str) -> None:
    names = [name for name in arrays.files if name.startswith(prefix + "/")]
    if len(names) != len(variables):
        raise ValueError(_("it holds {count} {kind} variables where the network has {wanted}").format(
            count=len(names), kind=prefix, wanted=len(variables)))
    for index, variable in enumerate(variables):
        value = arrays[f"{prefix}/{index}"]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(_("{name} has shape {shape}, the checkpoint {saved}").format(
                name=variable.path, shape=tuple(variable.shape), saved=value.shape))
        variable.assign(value)


# ----------------------------------------------------------------------------- one epoch


def train_one_epoch(model, data: TrainingData, config: TrainConfig, epoch: int, loop: LoopState, events, stop,
                    batch_event_seconds: float = 0.0) -> dict:
    """Train on every batch of epoch `epoch` (from 0) unless stopped; returns the epoch's numbers."""
    steps = data.steps_per_epoch(config.batch_size)
    total = config.epochs * steps
    started = last_event = time.perf_counter()
    reseed_dropout(model, config.seed, epoch)
    epoch_images = 0
    sums = {"loss": 0.0, "accuracy": 0.0}  # Keras 3's train_on_batch reports each batch alone
    first_rate = learning_rate_at(config, float(epoch), loop.plateau)
    for batch, (inputs, targets, weights) in enumerate(training_batches(data, config, epoch)):
        rate = learning_rate_at(config, epoch + batch / steps, loop.plateau)
        model.optimizer.learning_rate.assign(rate)
        began = time.perf_counter()
        logs = model.train_on_batch(inputs, targets, sample_weight=weights, return_dict=True)
        now = time.perf_counter()
        loop.training_seconds += now - began
        loop.session_seconds += now - began
        loop.session_steps += 1
        epoch_images += len(inputs)
        loop.images_seen += len(inputs)
        for key in sums:
            sums[key] += float(logs.get(key, math.nan)) * len(inputs)
        stopping = stop is not None and stop.is_set()
        last = batch + 1 == steps or stopping
        if last or now - last_event >= batch_event_seconds:
            last_event = now
            done = epoch * steps + batch + 1
            events.append(
                "batch", epoch=epoch + 1, batch=batch + 1, batches=steps,
                loss=sums["loss"] / epoch_images, accuracy=sums["accuracy"] / epoch_images,
                learning_rate=rate, images_per_second=epoch_images / max(now - started, 1e-9),
                progress=done / total, eta_seconds=loop.session_seconds / loop.session_steps * (total - done),
            )
        if stopping:
            loop.stopped_by = "user"
            events.append("stopping", epoch=epoch + 1, batch=batch + 1)
            break
    return {
        "epoch": epoch + 1,
        "loss": sums["loss"] / max(epoch_images, 1),
        "accuracy": sums["accuracy"] / max(epoch_images, 1),
        "lr": first_rate,
        # Wall time of the loop (batch preparation and events included), not validation.
        "images_per_second": round(epoch_images / max(time.perf_counter() - started, 1e-9), 1),
        "complete": epoch_images >= len(data.train_labels),
        "started": started,
    }


def validate(model, images: np.ndarray, labels: np.ndarray, batch_size: int) -> dict:
    """Mean loss and accuracy over `images`, a batch at a time, as `model.evaluate` would give them.

    Not `model.evaluate`: under TensorFlow it builds a tf.data iterator at every call, and workers
    crashed there with SIGSEGV now and then when the CPU was crowded (faulthandler's stack in
    worker.log ended in keras' epoch_iterator.reset, in one run of ten under load).
    """
    if not len(labels):
        return {"loss": math.nan, "accuracy": math.nan}
    targets = np.eye(NUM_CLASSES, dtype=np.float32)[labels]
    sums = {"loss": 0.0, "accuracy": 0.0}
    for start in range(0, len(labels), batch_size):
        inputs = to_model_input(images[start : start + batch_size])
        logs = model.test_on_batch(inputs, targets[start : start + batch_size], return_dict=True)
        for key in sums:  # each call reports its batch alone, like train_on_batch
            sums[key] += float(logs[key]) * len(inputs)
    return {key: total / len(labels) for key, total in sums.items()}


def end_epoch(model, data: TrainingData, config: TrainConfig, row: dict, loop: LoopState, rule, events) -> None:
    """Validate, record the row, let the rule choose, snapshot the chosen weights, adjust the plateau."""
    with MovingAverage(model, config.ema, data.recalibration, config.batch_size):
        scores = validate(model, data.val_images, data.val_labels, config.batch_size)
        row.update(val_loss=float(scores["loss"]), val_accuracy=float(scores["accuracy"]))
        row["seconds"] = round(time.perf_counter() - row.pop("started"), 3)
        complete = row.pop("complete")
        loop.history = [old for old in loop.history if old["epoch"] < row["epoch"]] + [row]
        choice = rule.choose(loop.history)
        if choice.epoch == row["epoch"]:
            loop.best_weights = [variable.numpy() for variable in model.variables]
            loop.best_epoch = row["epoch"]
    if config.schedule == "plateau" and complete:
        loop.plateau.update(row["val_loss"], config.plateau_patience, config.decay_factor)
    if loop.stopped_by is None and rule.should_stop(loop.history):
        loop.stopped_by = "early_stopping"
    if complete:
        loop.epochs_done = row["epoch"]
    events.append("epoch", **row, complete=complete, chosen_epoch=choice.epoch, chosen_reason=choice.reason,
                  chosen_reason_sentence=choice.why, stopped_by=loop.stopped_by)


# ----------------------------------------------------------------------------- the engine


@dataclass
class TrainResult:
    config: TrainConfig
    model: object  # keras.Model, float32, holding the chosen epoch's weights, not compiled
    history: list[dict]
    chosen: checkpoints.Choice
    metrics: dict
    run_config: dict  # what goes into config.json
    stopped_by: str | None = None
    name: str | None = None  # set by save_result
    path: Path | None = None


def library_versions() -> dict:
    import keras

    return {"python": platform.python_version(), "keras": keras.__version__, "numpy": np.__version__,
            "backend": keras.backend.backend(), **backends.versions()}


def train(
    config: TrainConfig,
    dataset: FaceDataset | None = None,
    events: EventLog | None = None,
    stop: threading.Event | None = None,
    build_model: Callable | None = None,
    run_dir: Path | None = None,
    resume: bool = False,
    batch_event_seconds: float = 0.0,
    on_epoch: Callable[[TrainResult], None] | None = None,
) -> TrainResult:
    """Train one network; every batch and epoch goes to `events`; `stop` ends it after a batch.

    With `run_dir`, a checkpoint is written there after every complete epoch, and `resume=True`
    continues from it (the config may ask for more epochs than before). `on_epoch` gets the
    result so far after every checkpoint (the worker saves the chosen model with it).
    """
    import keras

    events = events if events is not None else EventLog()
    if keras.backend.backend() != config.backend:
        raise error(TrainConfigError, N_("This process runs Keras on {running}, and the training asks for {backend}: "
                                         "train it in a worker (the Train page, or python -m fer train --backend "
                                         "{backend})."), running=keras.backend.backend(), backend=config.backend)
    builder = architecture_builder(config, build_model)
    dataset = dataset if dataset is not None else load_dataset(config.dataset)
    place = devices.placement(config.device)
    if config.mixed_precision and place.kind != "GPU":
        raise error(TrainConfigError,
                    N_("Mixed precision (float16) only speeds up GPUs and this run is on the CPU: untick it."))
    data = prepare_data(dataset, config)
    rule = config.checkpoint()

    keras.utils.set_random_seed(config.seed)
    policy = "mixed_float16" if config.mixed_precision else "float32"
    with place.strategy.scope():
        model = build_and_compile(builder, config, policy)
    loop = LoopState()
    if resume:
        if run_dir is None:
            raise error(TrainConfigError, N_("A resume needs the run's folder."))
        loop = load_checkpoint(Path(run_dir), model)
        events.append("resumed", from_epoch=loop.epochs_done + 1, epochs=config.epochs)
    events.append(
        "start", config=config.to_dict(), device=place.description, device_sentence=place.said,
        device_kind=place.kind, replicas=place.replicas,
        steps_per_epoch=data.steps_per_epoch(config.batch_size), epochs=config.epochs,
        train_images=len(data.train_labels), val_images=len(data.val_labels), test_images=len(data.test_labels),
        parameters=int(model.count_params()), first_epoch=loop.epochs_done + 1,
    )
    started = time.perf_counter()
    for epoch in range(loop.epochs_done, config.epochs):
        row = train_one_epoch(model, data, config, epoch, loop, events, stop, batch_event_seconds)
        end_epoch(model, data, config, row, loop, rule, events)
        if run_dir is not None and loop.epochs_done == epoch + 1:
            if loop.epochs_done in config.snapshot_epochs:  # first: a resume redoes an epoch, never skips its snapshot
                save_snapshot(Path(run_dir), model, builder, data, config, loop.epochs_done)
            save_checkpoint(Path(run_dir), model, loop, config)
            if on_epoch is not None:
                on_epoch(finish(model, builder, config, data, loop, rule, place, dataset, started, evaluate_test=False))
        if loop.stopped_by is not None:
            break
    result = finish(model, builder, config, data, loop, rule, place, dataset, started, events=events)
    events.append("trained", metrics=result.metrics)
    return result


def float32_twin(builder, values: list) -> object:
    """A new, uncompiled float32 copy of the network holding `values`, one per variable in order."""
    twin = builder(num_classes=NUM_CLASSES, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 1))
    for variable, value in zip(twin.variables, values):
        variable.assign(value.astype(variable.dtype) if hasattr(value, "astype") else value)
    return twin


def save_snapshot(run_dir: Path, model, builder, data: TrainingData, config: TrainConfig, epoch: int) -> Path:
    """Keep this epoch's weights as validation saw them (the moving average, with its BatchNorm) in
    RUN/snapshots/, a model of its own for a snapshot ensemble (`fer.snapshots.make_model`)."""
    with MovingAverage(model, config.ema, data.recalibration, config.batch_size):
        twin = float32_twin(builder, [variable.numpy() for variable in model.variables])
    target = snapshots.snapshot_file(run_dir, epoch)
    target.parent.mkdir(exist_ok=True)
    partial = target.with_name(f".{target.stem}.partial.keras")
    twin.save(partial)
    partial.replace(target)
    return target


def finish(model, builder, config, data, loop, rule, place, dataset, started, events=None,
           evaluate_test: bool = True) -> TrainResult:
    """A float32, uncompiled twin holding the chosen epoch's weights, its metrics and its config."""
    chosen = rule.choose(loop.history)
    keep = model.get_weights() if loop.best_weights is None or loop.best_epoch != chosen.epoch else None
    if keep is not None:
        twin = builder(num_classes=NUM_CLASSES, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 1))
        twin.set_weights(keep)
    else:
        twin = float32_twin(builder, loop.best_weights)
    metrics: dict = {
        "chosen_epoch": chosen.epoch,
        "chosen_reason": chosen.reason,  # English; chosen_reason_sentence is shown in the reader's language
        "chosen_reason_sentence": chosen.why,
        "epochs_run": len(loop.history),
        "stopped_by": loop.stopped_by,
        "images_per_second": round(loop.images_seen / max(loop.training_seconds, 1e-9), 1),
        "training_seconds": round(loop.training_seconds, 2),
    }
    chosen_row = next((row for row in loop.history if row["epoch"] == chosen.epoch), None)
    if chosen_row is not None:
        metrics.update({f"chosen_{key}": chosen_row[key] for key in ("loss", "accuracy", "val_loss", "val_accuracy")})
    if evaluate_test and len(data.test_labels):
        if events is not None:
            events.append("evaluating", test_images=len(data.test_labels))
        twin.compile(loss="categorical_crossentropy", metrics=["accuracy"])
        scores = validate(twin, data.test_images, data.test_labels, config.batch_size)
        metrics.update(test_loss=float(scores["loss"]), test_accuracy=float(scores["accuracy"]))
    run_config = {
        "kind": "keras",
        **config.to_dict(),
        "dataset_synthetic": bool(dataset.synthetic),
        "train_images": len(data.train_labels),
        "val_images": len(data.val_labels),
        "test_images": len(data.test_labels),
        "test_split": dataset.test_split,  # the split "test accuracy" is measured on (PublicTest for FER2013)
        "test_label": dataset.test_label,
        "parameters": int(twin.count_params()),
        "device": place.description,
        "device_sentence": place.said,
        "device_kind": place.kind,
        "replicas": place.replicas,
        "images_per_second": metrics["images_per_second"],
        "training_seconds": metrics["training_seconds"],
        "library_versions": library_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return TrainResult(config, twin, list(loop.history), chosen, metrics, run_config, loop.stopped_by)


# ----------------------------------------------------------------------------- saving

_SAVE_LOCK = threading.Lock()


def default_run_stem(config: TrainConfig) -> str:
    stem = f"{config.architecture}-{config.dataset}-{time.strftime('%m%d-%H%M')}"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._") or "run"
    return stem[:52]


def save_result(result: TrainResult, name: str | None = None) -> Path:
    """Save into the registry under `name` (or a default), made unique: a run is never clobbered."""
    stem = registry.validate_name(name) if name else default_run_stem(result.config)
    with _SAVE_LOCK:  # unique_name + save as one step within this process
        for _attempt in range(5):
            candidate = registry.unique_name(stem[:52])
            try:
                path = registry.save_run(candidate, result.model, result.run_config, result.history, result.metrics)
                break
            except (registry.RegistryError, OSError):
                # Another process took the name between our check and our rename: next number.
                if not registry.run_path(candidate).exists():
                    raise
        else:
            raise registry.RegistryError(_("Could not find a free run name starting with {stem}: pick another "
                                           "name.").format(stem=repr(stem)))
    result.name, result.path = candidate, path
    return path
