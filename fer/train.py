"""The training engine shared by the Train page, `python -m fer train` and the tests.

    config = TrainConfig(architecture="report_a_cnn", dataset="synthetic", epochs=3)
    result = train(config, events=EventLog(), stop=threading.Event())
    run_folder = save_result(result)

`train` builds a tf.data pipeline (with optional augmentation), compiles the chosen network
with the chosen optimizer and learning-rate schedule, runs `model.fit` with one callback that
writes every batch and every epoch into an `EventLog`, keeps the weights of the epoch the
checkpoint rule chooses, and stops cleanly after the current batch when `stop` is set.
It never touches Streamlit: a page reads the event log from another thread.
"""

from __future__ import annotations

import dataclasses
import math
import platform
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from fer import checkpoints, devices, registry
from fer.data import IMAGE_SIZE, NUM_CLASSES, FaceDataset, load_dataset
from fer.events import EventLog
from fer.preprocessing import scale_pixels

OPTIMIZERS = {"adam": "Adam", "sgd_nesterov": "SGD with Nesterov momentum"}
SCHEDULES = {
    "constant": "Constant",
    "step": "Step decay (multiply every few epochs)",
    "plateau": "Reduce on plateau of validation loss",
    "cosine": "Cosine decay to zero",
}
CLASS_WEIGHTS = {"none": "Every face counts the same", "balanced": "Rare expressions count more"}


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
    schedule: str = "constant"
    step_every_epochs: int = 10  # step schedule
    decay_factor: float = 0.5  # step and plateau schedules
    plateau_patience: int = 3
    augment_flip: bool = False
    augment_shift: float = 0.0  # fraction of the image, e.g. 0.1 = up to 4.8 pixels
    augment_rotation: float = 0.0  # degrees
    augment_zoom: float = 0.0  # fraction
    label_smoothing: float = 0.0
    class_weights: str = "none"
    max_train_images: int = 0  # 0 = the whole training split
    seed: int = 0
    device: str = "auto"
    mixed_precision: bool = False  # float16 on GPU (bfloat16 models do not export to TF.js)
    checkpoint_rule: str = "best_val_accuracy"
    early_stopping_patience: int = 5
    train_accuracy_threshold: float = 0.6

    def __post_init__(self) -> None:
        problems = []
        if self.epochs < 1:
            problems.append(f"epochs must be at least 1, not {self.epochs}")
        if self.batch_size < 1:
            problems.append(f"the batch size must be at least 1, not {self.batch_size}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"the optimizer {self.optimizer!r} is unknown (use {' or '.join(OPTIMIZERS)})")
        if not self.learning_rate > 0:
            problems.append(f"the learning rate must be positive, not {self.learning_rate}")
        if self.schedule not in SCHEDULES:
            problems.append(f"the schedule {self.schedule!r} is unknown (use {', '.join(SCHEDULES)})")
        if self.step_every_epochs < 1:
            problems.append("the step schedule needs a step of at least 1 epoch")
        if not 0 < self.decay_factor < 1:
            problems.append(f"the decay factor must lie between 0 and 1, not {self.decay_factor}")
        if not 0 <= self.augment_shift <= 0.5:
            problems.append(f"the shift is a fraction of the image between 0 and 0.5, not {self.augment_shift}")
        if not 0 <= self.augment_rotation <= 180:
            problems.append(f"the rotation is in degrees between 0 and 180, not {self.augment_rotation}")
        if not 0 <= self.augment_zoom < 1:
            problems.append(f"the zoom is a fraction between 0 and 1, not {self.augment_zoom}")
        if not 0 <= self.label_smoothing < 1:
            problems.append(f"label smoothing lies between 0 and 1, not {self.label_smoothing}")
        if self.class_weights not in CLASS_WEIGHTS:
            problems.append(f"class weights {self.class_weights!r} are unknown (use {' or '.join(CLASS_WEIGHTS)})")
        if self.max_train_images < 0:
            problems.append("the image limit must be 0 (all) or a positive number")
        if self.device not in devices.DEVICE_CHOICES:
            problems.append(f"the device {self.device!r} is unknown (use {', '.join(devices.DEVICE_CHOICES)})")
        if problems:
            raise TrainConfigError("This training cannot start: " + "; ".join(problems) + ".")
        self.checkpoint()  # validates the rule and its parameters

    def checkpoint(self) -> checkpoints.CheckpointRule:
        return checkpoints.CheckpointRule(
            kind=self.checkpoint_rule,
            patience=self.early_stopping_patience,
            train_accuracy_threshold=self.train_accuracy_threshold,
        )

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


# Short recipes a teacher can start from; every field can still be changed afterwards.
PRESETS: dict[str, tuple[str, dict]] = {
    "classroom-quick": (
        "Classroom quick: a small CNN on the synthetic faces, 10 epochs (about a minute on a laptop).",
        dict(architecture="small_cnn", dataset="synthetic", epochs=10, batch_size=32, learning_rate=1e-3),
    ),
    "report-a": (
        "Report A: the 4-convolution CNN, Adam, no augmentation, keep the lowest validation "
        "loss once training accuracy passes 0.6.",
        dict(
            architecture="report_a_cnn", epochs=30, batch_size=128, optimizer="adam", learning_rate=1e-3,
            checkpoint_rule="lowest_val_loss_above_train_accuracy", train_accuracy_threshold=0.6,
        ),
    ),
    "report-b": (
        "Report B: the large Keras CNN with early stopping on validation loss.",
        dict(
            architecture="report_b_cnn", epochs=50, batch_size=64, optimizer="adam", learning_rate=1e-3,
            checkpoint_rule="early_stopping", early_stopping_patience=5,
        ),
    ),
    "shipped-model": (
        "The recipe of the shipped pretrained model: our CPU-sized quick_cnn on FER2013, Adam with "
        "a cosine schedule over 20 epochs, flips and shifts (about 80 minutes on a 2-core laptop "
        "CPU, a few on a GPU).",
        dict(
            architecture="quick_cnn", dataset="fer2013", epochs=20, batch_size=128,
            optimizer="adam", learning_rate=1e-3, schedule="cosine",
            augment_flip=True, augment_shift=0.1, checkpoint_rule="best_val_accuracy",
        ),
    ),
    "literature": (
        "The literature's recipe: SGD with Nesterov momentum, reduce-on-plateau, flips, shifts and "
        "small rotations (long: give it 50+ epochs on FER2013).",
        dict(
            architecture="report_a_cnn", epochs=50, batch_size=64, optimizer="sgd_nesterov", learning_rate=0.01,
            schedule="plateau", augment_flip=True, augment_shift=0.1, augment_rotation=10.0,
            checkpoint_rule="best_val_accuracy",
        ),
    ),
}


def preset(name: str, **overrides) -> TrainConfig:
    if name not in PRESETS:
        raise TrainConfigError(f"Unknown preset {name!r}: use one of {', '.join(PRESETS)}.")
    return TrainConfig(**{**PRESETS[name][1], **overrides})


def architecture_names() -> list[str]:
    from fer.nets import ARCHITECTURES

    return list(ARCHITECTURES)


def learning_rate_for_epoch(config: TrainConfig, epoch: int) -> float:
    """The learning rate of epoch `epoch` (counting from 0) for the non-adaptive schedules."""
    if config.schedule == "step":
        return config.learning_rate * config.decay_factor ** (epoch // config.step_every_epochs)
    if config.schedule == "cosine":
        return config.learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
    return config.learning_rate


# ----------------------------------------------------------------------------- input pipeline


def balanced_class_weights(labels: np.ndarray) -> np.ndarray:
    """n / (classes * count) per class, as scikit-learn's "balanced": rare classes weigh more."""
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    present = counts > 0
    weights = np.ones(NUM_CLASSES)
    weights[present] = counts[present].sum() / (present.sum() * counts[present])
    return weights.astype(np.float32)


def make_augmenter(config: TrainConfig):
    """A Keras pipeline of random transformations, or None when every augmentation is off."""
    import keras

    layers = []
    if config.augment_flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=config.seed))
    if config.augment_shift > 0:
        layers.append(keras.layers.RandomTranslation(
            config.augment_shift, config.augment_shift, fill_mode="nearest", seed=config.seed + 1))
    if config.augment_rotation > 0:
        layers.append(keras.layers.RandomRotation(
            config.augment_rotation / 360.0, fill_mode="nearest", seed=config.seed + 2))
    if config.augment_zoom > 0:
        layers.append(keras.layers.RandomZoom(
            (-config.augment_zoom, config.augment_zoom), fill_mode="nearest", seed=config.seed + 3))
    return keras.Sequential(layers, name="augmentation") if layers else None


def make_pipeline(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    shuffle_seed: int | None = None,
    augmenter=None,
    class_weights: np.ndarray | None = None,
):
    """uint8 faces -> batches of (float32 (B,48,48,1) in [0,1], one-hot labels[, sample weights]).

    The autotuner is off and prefetch is a fixed 2: on this machine tf.data's autotuner stalled
    7-9 s at every epoch end (DESIGN.md).
    """
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(images), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    weight_table = None if class_weights is None else tf.constant(class_weights)

    def prepare(batch_images, batch_labels):
        inputs = scale_pixels(tf.cast(batch_images, tf.float32))[..., None]
        if augmenter is not None:
            inputs = augmenter(inputs, training=True)
        targets = tf.one_hot(tf.cast(batch_labels, tf.int32), NUM_CLASSES)
        if weight_table is None:
            return inputs, targets
        return inputs, targets, tf.gather(weight_table, tf.cast(batch_labels, tf.int32))

    dataset = dataset.map(prepare)
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options).prefetch(2)


# ----------------------------------------------------------------------------- the callback


class EventCallback:
    """Factory for the Keras callback (Keras is imported lazily, so this module loads fast)."""

    @staticmethod
    def create(**kwargs):
        import keras

        class _EventCallback(keras.callbacks.Callback):
            def __init__(self, events, stop, config, rule, steps_per_epoch, train_images):
                super().__init__()
                self.events = events
                self.stop = stop
                self.config = config
                self.rule = rule
                self.steps_per_epoch = steps_per_epoch
                self.train_images = train_images
                self.history: list[dict] = []
                self.best_weights = None
                self.best_epoch: int | None = None
                self.stopped_by: str | None = None
                self.training_seconds = 0.0
                self.images_seen = 0

            def on_epoch_begin(self, epoch, logs=None):
                if self.config.schedule in ("step", "cosine"):
                    self.model.optimizer.learning_rate = learning_rate_for_epoch(self.config, epoch)
                self.epoch_learning_rate = float(np.asarray(self.model.optimizer.learning_rate))
                self.epoch_images = 0
                self.epoch_start = time.perf_counter()
                self.last_batch_end = self.epoch_start

            def on_train_batch_end(self, batch, logs=None):
                now = time.perf_counter()
                self.training_seconds += now - self.last_batch_end
                self.last_batch_end = now
                size = min(self.config.batch_size, self.train_images - batch * self.config.batch_size)
                self.epoch_images += size
                self.images_seen += size
                epoch = len(self.history) + 1
                done = (epoch - 1) * self.steps_per_epoch + batch + 1
                total = self.config.epochs * self.steps_per_epoch
                seconds_per_batch = self.training_seconds / max(done, 1)
                logs = logs or {}
                self.events.append(
                    "batch",
                    epoch=epoch,
                    batch=batch + 1,
                    batches=self.steps_per_epoch,
                    loss=float(logs.get("loss", math.nan)),
                    accuracy=float(logs.get("accuracy", math.nan)),
                    learning_rate=self.epoch_learning_rate,
                    images_per_second=self.epoch_images / max(now - self.epoch_start, 1e-9),
                    progress=done / total,
                    eta_seconds=seconds_per_batch * (total - done),
                )
                if self.stop is not None and self.stop.is_set() and not self.model.stop_training:
                    self.model.stop_training = True
                    self.stopped_by = "user"
                    self.events.append("stopping", epoch=epoch, batch=batch + 1)

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                seconds = time.perf_counter() - self.epoch_start
                batch_seconds = self.last_batch_end - self.epoch_start
                row = {
                    "epoch": epoch + 1,
                    "loss": float(logs.get("loss", math.nan)),
                    "accuracy": float(logs.get("accuracy", math.nan)),
                    "val_loss": float(logs.get("val_loss", math.nan)),
                    "val_accuracy": float(logs.get("val_accuracy", math.nan)),
                    "lr": self.epoch_learning_rate,
                    "seconds": round(seconds, 3),
                    "images_per_second": round(self.epoch_images / max(batch_seconds, 1e-9), 1),
                }
                self.history.append(row)
                choice = self.rule.choose(self.history)
                if choice.epoch == row["epoch"]:
                    self.best_weights = [np.array(weight) for weight in self.model.get_weights()]
                    self.best_epoch = row["epoch"]
                if self.stopped_by is None and self.rule.should_stop(self.history):
                    self.model.stop_training = True
                    self.stopped_by = "early_stopping"
                self.events.append(
                    "epoch",
                    **row,
                    complete=self.epoch_images >= self.train_images,
                    chosen_epoch=choice.epoch,
                    chosen_reason=choice.reason,
                    stopped_by=self.stopped_by,
                )

        return _EventCallback(**kwargs)


# ----------------------------------------------------------------------------- the engine


@dataclass
class TrainResult:
    config: TrainConfig
    model: object  # keras.Model, float32, holding the chosen epoch's weights
    history: list[dict]
    chosen: checkpoints.Choice
    metrics: dict
    run_config: dict  # what goes into config.json
    stopped_by: str | None = None
    name: str | None = None  # set by save_result
    path: Path | None = None


def library_versions() -> dict:
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def _training_split(dataset: FaceDataset, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    images, labels = dataset.split("train")
    if len(labels) == 0:
        raise TrainConfigError(f"The data set {dataset.name!r} has no training faces: import a data set with a train split.")
    if config.max_train_images and config.max_train_images < len(labels):
        keep = np.random.default_rng(config.seed).permutation(len(labels))[: config.max_train_images]
        keep.sort()
        images, labels = images[keep], labels[keep]
    return images, labels


def _compile(model, config: TrainConfig):
    import keras

    if config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate)
    else:
        optimizer = keras.optimizers.SGD(learning_rate=config.learning_rate, momentum=config.momentum, nesterov=True)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def _build(build_model: Callable, policy: str):
    """Build under a dtype policy. Keras keeps the policy per thread, so concurrent jobs do not mix."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        return build_model(num_classes=NUM_CLASSES, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 1))
    finally:
        keras.config.set_dtype_policy(previous)


def train(
    config: TrainConfig,
    dataset: FaceDataset | None = None,
    events: EventLog | None = None,
    stop: threading.Event | None = None,
    build_model: Callable | None = None,
) -> TrainResult:
    """Train one network; every batch and epoch goes to `events`; `stop` ends it after a batch.

    `build_model(num_classes=, input_shape=)` overrides the architecture lookup (tests use tiny
    networks this way); by default it is `fer.nets.ARCHITECTURES[config.architecture]`.
    """
    import keras

    events = events if events is not None else EventLog()
    if build_model is None:
        from fer.nets import ARCHITECTURES

        if config.architecture not in ARCHITECTURES:
            raise TrainConfigError(
                f"Unknown architecture {config.architecture!r}: use one of {', '.join(ARCHITECTURES)}."
            )
        build_model = ARCHITECTURES[config.architecture]
    dataset = dataset if dataset is not None else load_dataset(config.dataset)
    place = devices.placement(config.device)
    if config.mixed_precision and place.kind != "GPU":
        raise TrainConfigError(
            "Mixed precision (float16) only speeds up GPUs and this run is on the CPU: untick it."
        )
    train_images, train_labels = _training_split(dataset, config)
    val_images, val_labels = dataset.split("val")
    test_images, test_labels = dataset.split("test")
    steps_per_epoch = math.ceil(len(train_labels) / config.batch_size)
    rule = config.checkpoint()

    keras.utils.set_random_seed(config.seed)
    weights = balanced_class_weights(train_labels) if config.class_weights == "balanced" else None
    train_data = make_pipeline(
        train_images, train_labels, config.batch_size, shuffle_seed=config.seed,
        augmenter=make_augmenter(config), class_weights=weights,
    )
    val_data = make_pipeline(val_images, val_labels, config.batch_size) if len(val_labels) else None

    policy = "mixed_float16" if config.mixed_precision else "float32"
    with place.strategy.scope():
        model = _compile(_build(build_model, policy), config)

    events.append(
        "start",
        config=config.to_dict(),
        device=place.description,
        device_kind=place.kind,
        replicas=place.replicas,
        steps_per_epoch=steps_per_epoch,
        epochs=config.epochs,
        train_images=len(train_labels),
        val_images=len(val_labels),
        test_images=len(test_labels),
        parameters=int(model.count_params()),
    )
    callback = EventCallback.create(
        events=events, stop=stop, config=config, rule=rule,
        steps_per_epoch=steps_per_epoch, train_images=len(train_labels),
    )
    callbacks = [callback]
    if config.schedule == "plateau" and val_data is not None:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=config.decay_factor, patience=config.plateau_patience, verbose=0))
    started = time.perf_counter()
    model.fit(train_data, validation_data=val_data, epochs=config.epochs, callbacks=callbacks, verbose=0, shuffle=False)
    wall_seconds = time.perf_counter() - started

    chosen = rule.choose(callback.history)
    if callback.best_weights is not None and callback.best_epoch == chosen.epoch:
        model.set_weights(callback.best_weights)
    if config.mixed_precision:
        # Save a float32 twin: TF.js export and CPU inference expect float32 weights.
        float_model = _compile(_build(build_model, "float32"), config)
        float_model.set_weights(model.get_weights())
        model = float_model

    metrics: dict = {
        "chosen_epoch": chosen.epoch,
        "chosen_reason": chosen.reason,
        "epochs_run": len(callback.history),
        "stopped_by": callback.stopped_by,
        "images_per_second": round(callback.images_seen / max(callback.training_seconds, 1e-9), 1),
        "training_seconds": round(wall_seconds, 2),
    }
    chosen_row = next((row for row in callback.history if row["epoch"] == chosen.epoch), None)
    if chosen_row is not None:
        metrics.update({f"chosen_{key}": chosen_row[key] for key in ("loss", "accuracy", "val_loss", "val_accuracy")})
    if len(test_labels):
        events.append("evaluating", test_images=len(test_labels))
        test_loss, test_accuracy = model.evaluate(
            make_pipeline(test_images, test_labels, config.batch_size), verbose=0)
        metrics.update(test_loss=float(test_loss), test_accuracy=float(test_accuracy))

    run_config = {
        "kind": "keras",
        **config.to_dict(),
        "dataset_synthetic": bool(dataset.synthetic),
        "train_images": len(train_labels),
        "val_images": len(val_labels),
        "test_images": len(test_labels),
        "parameters": int(model.count_params()),
        "device": place.description,
        "device_kind": place.kind,
        "replicas": place.replicas,
        "images_per_second": metrics["images_per_second"],
        "library_versions": library_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    result = TrainResult(config, model, callback.history, chosen, metrics, run_config, callback.stopped_by)
    events.append("trained", metrics=metrics)
    return result


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
        for _ in range(5):
            candidate = registry.unique_name(stem[:52])
            try:
                path = registry.save_run(
                    candidate, result.model, result.run_config, result.history, result.metrics)
                break
            except (registry.RegistryError, OSError):
                # Another process took the name between our check and our rename: next number.
                if not registry.run_path(candidate).exists():
                    raise
        else:
            raise registry.RegistryError(f"Could not find a free run name starting with {stem!r}: pick another name.")
    result.name, result.path = candidate, path
    return path
