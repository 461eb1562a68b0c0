"""The training engine on tiny synthetic data: history, events, stop, checkpoints, queue, files."""

import json
import math
import threading

import numpy as np
import pytest

from fer import registry
from fer.checkpoints import CheckpointRule
from fer.events import EventLog
from fer.train import (
    TrainConfig,
    TrainConfigError,
    balanced_class_weights,
    learning_rate_for_epoch,
    prepare_data,
    preset,
    save_result,
    train,
    training_batches,
    validate,
)


def tiny_cnn(num_classes=7, input_shape=(48, 48, 1)):
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(4, 3, strides=4, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def faces():
    from fer.synth import make_dataset

    return make_dataset(per_class=8, seed=3)  # 42 train, 7 val, 7 test


def tiny_config(**changes):
    settings = dict(architecture="tiny_cnn", dataset="synthetic", epochs=2, batch_size=8)
    return TrainConfig(**{**settings, **changes})


@pytest.fixture(scope="module")
def two_epoch_run(faces, tmp_path_factory):
    events = EventLog()
    config = tiny_config(schedule="step", step_every_epochs=1, decay_factor=0.5, learning_rate=0.01,
                         checkpoint_rule="lowest_val_loss_above_train_accuracy", train_accuracy_threshold=0.0)
    result = train(config, dataset=faces, events=events, build_model=tiny_cnn)
    return result, events


# ----------------------------------------------------------------------------- engine


def test_history_has_one_row_per_epoch_with_learning_rate_schedule(two_epoch_run):
    result, _ = two_epoch_run
    assert [row["epoch"] for row in result.history] == [1, 2]
    for row in result.history:
        for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "images_per_second"):
            assert math.isfinite(row[key]), key
        assert 0.0 <= row["accuracy"] <= 1.0
    assert result.history[0]["lr"] == pytest.approx(0.01)
    assert result.history[1]["lr"] == pytest.approx(0.005)


def test_events_come_in_order_with_every_field(two_epoch_run):
    result, events = two_epoch_run
    kinds = [event["kind"] for event in events.since()]
    assert kinds[0] == "start" and kinds[-1] == "trained"
    steps = events.since()[0]["steps_per_epoch"]
    assert steps == math.ceil(42 / 8)
    # Per epoch: `steps` batch events, then the epoch event.
    expected = (["batch"] * steps + ["epoch"]) * 2
    assert [kind for kind in kinds if kind in ("batch", "epoch")] == expected
    batches = events.of_kind("batch")
    for event in batches:
        for key in ("loss", "accuracy", "learning_rate", "images_per_second", "eta_seconds", "progress"):
            assert math.isfinite(event[key]), key
    progress = [event["progress"] for event in batches]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert batches[-1]["eta_seconds"] == pytest.approx(0.0)
    assert [event["index"] for event in events.since()] == list(range(len(events)))
    epoch_events = events.of_kind("epoch")
    assert epoch_events[-1]["chosen_epoch"] == result.chosen.epoch
    assert all(event["complete"] for event in epoch_events)


def test_model_holds_the_chosen_epochs_weights(faces, two_epoch_run):
    result, _ = two_epoch_run
    rows = result.history
    lowest = min(rows, key=lambda row: row["val_loss"])
    assert result.chosen.epoch == lowest["epoch"]
    val_images, val_labels = faces.split("val")
    result.model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    val_loss = validate(result.model, val_images, val_labels, 8)["loss"]
    assert val_loss == pytest.approx(lowest["val_loss"], rel=1e-4)


def test_the_kept_weights_are_the_chosen_epochs_not_the_last(faces):
    """A run whose best epoch is not its last: the saved model must be the best one, restored."""
    events = EventLog()
    # A learning rate this high makes the tiny net worse after a few epochs; the rule keeps the best.
    config = tiny_config(epochs=6, learning_rate=0.3, optimizer="sgd_nesterov", checkpoint_rule="best_val_accuracy")
    result = train(config, dataset=faces, events=events, build_model=tiny_cnn)
    last = result.history[-1]["epoch"]
    assert result.chosen.epoch != last, [row["val_accuracy"] for row in result.history]
    val_images, val_labels = faces.split("val")
    result.model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    scores = validate(result.model, val_images, val_labels, 8)
    chosen_row = result.history[result.chosen.epoch - 1]
    assert scores["loss"] == pytest.approx(chosen_row["val_loss"], rel=1e-4)
    assert scores["loss"] != pytest.approx(result.history[-1]["val_loss"], rel=1e-4)


def test_saved_run_has_config_history_and_metrics(two_epoch_run):
    result, _ = two_epoch_run
    path = save_result(result, "tiny-run")
    config = json.loads((path / "config.json").read_text())
    for field in TrainConfig.__dataclass_fields__:
        assert field in config, field
    assert config["kind"] == "keras" and config["architecture"] == "tiny_cnn" and config["seed"] == 0
    assert {"tensorflow", "keras", "python", "numpy"} <= set(config["library_versions"])
    assert config["device"].startswith(("CPU", "GPU")) and config["images_per_second"] > 0
    history = registry.read_history("tiny-run")
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[1]["val_loss"] == pytest.approx(result.history[1]["val_loss"])
    metrics = json.loads((path / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert metrics["chosen_epoch"] == result.chosen.epoch
    # The saved model predicts exactly what the trained one does.
    loaded = registry.load_model("tiny-run")
    probe = np.random.default_rng(0).random((3, 48, 48, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(probe, verbose=0), result.model.predict(probe, verbose=0), atol=1e-6)
    # Saving again never clobbers: the second run gets a new name.
    second = save_result(result, "tiny-run")
    assert second.name == "tiny-run-2" and path.exists()


def test_stop_request_ends_after_the_current_batch(faces):
    stop = threading.Event()
    stop.set()  # already set: the engine must still finish the batch it is in, then stop
    events = EventLog()
    result = train(tiny_config(epochs=20), dataset=faces, events=events, stop=stop, build_model=tiny_cnn)
    assert result.stopped_by == "user"
    assert len(events.of_kind("batch")) == 1
    assert len(result.history) == 1 and result.metrics["epochs_run"] == 1
    assert events.of_kind("epoch")[0]["complete"] is False
    assert result.chosen.epoch == 1 and "test_accuracy" in result.metrics


def test_bad_settings_are_refused_with_a_sentence():
    with pytest.raises(TrainConfigError, match="epochs must be at least 1"):
        TrainConfig(epochs=0)
    with pytest.raises(TrainConfigError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="patience"):
        TrainConfig(checkpoint_rule="early_stopping", early_stopping_patience=0)


def test_mixed_precision_is_refused_on_the_cpu(faces):
    with pytest.raises(TrainConfigError, match="(?i)mixed precision"):
        train(tiny_config(device="cpu", mixed_precision=True), dataset=faces, build_model=tiny_cnn)


def test_batches_scale_augment_and_weigh():
    images = np.full((10, 48, 48), 255, dtype=np.uint8)
    images[:, :, :24] = 0  # left half black: a flip moves it to the right
    labels = np.array([0] * 9 + [1], dtype=np.uint8)
    weights = balanced_class_weights(labels)
    assert weights[1] > weights[0] and weights[1] == pytest.approx(10 / (2 * 1))
    from fer.data import FaceDataset

    dataset = FaceDataset("t", images, labels, np.array(["train"] * 10), True, "")
    config = tiny_config(augment_flip=True, class_weights="balanced", batch_size=10, seed=1)
    inputs, targets, sample_weights = next(training_batches(prepare_data(dataset, config), config, epoch=0))
    assert inputs.shape == (10, 48, 48, 1) and inputs.dtype == np.float32
    assert 0.0 <= inputs.min() and inputs.max() <= 1.0
    assert targets.shape == (10, 7) and np.all(targets.sum(axis=1) == 1)
    flipped = inputs[:, 24, 2, 0] > 0.5  # a white pixel at the far left means that face was flipped
    assert 0 < flipped.sum() < 10, "a random flip should flip some faces but not all"
    np.testing.assert_allclose(sorted(sample_weights), sorted(weights[np.argmax(targets, axis=1)]))
    again = next(training_batches(prepare_data(dataset, config), config, epoch=0))
    np.testing.assert_array_equal(inputs, again[0])  # the same (seed, epoch, batch): the same faces
    other_epoch = next(training_batches(prepare_data(dataset, config), config, epoch=1))
    assert not np.array_equal(inputs, other_epoch[0])


def test_learning_rate_schedules():
    config = TrainConfig(learning_rate=0.1, epochs=10, schedule="step", step_every_epochs=3, decay_factor=0.1)
    assert [round(learning_rate_for_epoch(config, epoch), 6) for epoch in (0, 2, 3, 6)] == [0.1, 0.1, 0.01, 0.001]
    cosine = config.replace(schedule="cosine")
    assert learning_rate_for_epoch(cosine, 0) == pytest.approx(0.1)
    assert learning_rate_for_epoch(cosine, 5) == pytest.approx(0.05)
    assert learning_rate_for_epoch(config.replace(schedule="constant"), 9) == 0.1


# ----------------------------------------------------------------------------- checkpoint rules


def history(*rows):
    return [
        {"epoch": epoch, "accuracy": accuracy, "val_loss": val_loss, "val_accuracy": val_accuracy}
        for epoch, (accuracy, val_loss, val_accuracy) in enumerate(rows, start=1)
    ]


# Epoch 2 has the lowest validation loss but the network had learnt little; epoch 4 has the
# lowest loss among epochs above 0.6 training accuracy; epoch 5 the best validation accuracy.
CONSTRUCTED = history(
    (0.30, 1.20, 0.40),
    (0.45, 0.90, 0.45),
    (0.62, 1.00, 0.55),
    (0.70, 0.95, 0.58),
    (0.80, 1.10, 0.61),
    (0.90, 1.30, 0.60),
)


def test_report_000_rule_keeps_lowest_val_loss_above_the_threshold():
    def rule(threshold):
        return CheckpointRule("lowest_val_loss_above_train_accuracy", train_accuracy_threshold=threshold)

    assert rule(0.6).choose(CONSTRUCTED).epoch == 4
    assert rule(0.85).choose(CONSTRUCTED).epoch == 6
    fallback = CheckpointRule("lowest_val_loss_above_train_accuracy", train_accuracy_threshold=0.95).choose(CONSTRUCTED)
    assert fallback.epoch == 2 and "never reached" in fallback.reason


def test_best_validation_accuracy_rule():
    assert CheckpointRule("best_val_accuracy").choose(CONSTRUCTED).epoch == 5


def test_early_stopping_waits_patience_epochs_after_the_best():
    rule = CheckpointRule("early_stopping", patience=3)
    assert rule.choose(CONSTRUCTED).epoch == 2
    assert not rule.should_stop(CONSTRUCTED[:4])  # two epochs since the best
    assert rule.should_stop(CONSTRUCTED[:5])  # three epochs since the best
    assert not CheckpointRule("best_val_accuracy").should_stop(CONSTRUCTED)


def test_rules_without_validation_keep_the_last_epoch():
    rows = [{"epoch": 1, "accuracy": 0.5, "val_loss": float("nan"), "val_accuracy": float("nan")},
            {"epoch": 2, "accuracy": 0.6, "val_loss": float("nan"), "val_accuracy": float("nan")}]
    assert CheckpointRule("best_val_accuracy").choose(rows).epoch == 2
    assert CheckpointRule("best_val_accuracy").choose([]).epoch is None


# ----------------------------------------------------------------------------- events and jobs


def test_event_log_readers_follow_concurrent_writers_by_index():
    log = EventLog()
    def write(n):
        for i in range(200):
            log.append("tick", writer=n, i=i)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    seen, index = [], 0
    for writer in writers:
        writer.start()
    while index < 800:
        fresh = log.wait(index, timeout=5)
        seen.extend(fresh)
        index += len(fresh)
    for writer in writers:
        writer.join()
    assert [event["index"] for event in seen] == list(range(800))
    for n in range(4):
        assert [event["i"] for event in seen if event["writer"] == n] == list(range(200))


# ----------------------------------------------------------------------------- the page without a browser


def test_train_page_lists_runs_and_explains_bad_names(two_epoch_run):
    from streamlit.testing.v1 import AppTest

    result, _ = two_epoch_run
    save_result(result, "class-run")
    at = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    at.run()
    at.switch_page("lessons/train.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key="train_chosen_run").value == "class-run"
    at.text_input(key="train_new_name").set_value("../escape")
    at.button[[button.label for button in at.button].index("Rename")].click()
    at.run()
    assert not at.exception
    assert any("not a valid run name" in error.value for error in at.error)
    assert [run.name for run in registry.list_runs()] == ["class-run"]
    at.text_input(key="train_new_name").set_value("renamed-run")
    at.button[[button.label for button in at.button].index("Rename")].click()
    at.run()
    assert [run.name for run in registry.list_runs()] == ["renamed-run"]
    at.text_input(key="train_run_name").set_value("a/b").run()
    assert any("not a valid run name" in error.value for error in at.error)
    assert at.button[[button.label for button in at.button].index("Train")].disabled


def test_the_classroom_preset_learns_the_synthetic_faces():
    """What a class does first on a fresh machine must work: the preset's own run, on the built-in set."""
    result = train(preset("classroom-quick"))
    chance = 1 / 7
    assert result.metrics["test_accuracy"] > 4 * chance, [row["val_accuracy"] for row in result.history]


def test_batchnorm_is_measured_again_for_the_averaged_weights():
    """EMA weights with the raw weights' BatchNorm statistics read one class for every face on FER2013."""
    import keras

    from fer.preprocessing import to_model_input
    from fer.train import recalibrate_batchnorm

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Conv2D(3, 3, name="conv"),
                              keras.layers.BatchNormalization(name="bn"), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(7, activation="softmax")])
    images = np.random.default_rng(1).integers(0, 256, (50, 48, 48), dtype=np.uint8)
    recalibrate_batchnorm(model, images, batch_size=16)
    features = np.asarray(model.get_layer("conv")(to_model_input(images)))
    batches = [features[start : start + 16] for start in range(0, 50, 16)]
    expected_mean = np.mean([batch.mean(axis=(0, 1, 2)) for batch in batches], axis=0)
    expected_variance = np.mean([batch.var(axis=(0, 1, 2)) for batch in batches], axis=0)
    bn = model.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), expected_mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), expected_variance, rtol=1e-3, atol=1e-6)
    assert bn.momentum == pytest.approx(0.99)  # put back afterwards


def test_the_moving_average_is_validated_with_its_own_batchnorm_statistics(faces):
    """Inside MovingAverage: averaged weights, BatchNorm measured for them; afterwards: all as before."""
    import keras

    from fer.preprocessing import to_model_input
    from fer.train import MovingAverage, build_and_compile

    def small(num_classes=7, input_shape=(48, 48, 1)):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(4, 5, strides=3, name="conv"),
                                 keras.layers.BatchNormalization(name="bn"), keras.layers.ReLU(),
                                 keras.layers.Flatten(), keras.layers.Dense(num_classes, activation="softmax")])

    config = tiny_config(ema=True, ema_momentum=0.99, optimizer="sgd_nesterov", learning_rate=0.1)
    model = build_and_compile(small, config)
    images, labels = faces.split("train")
    for _ in range(5):
        model.train_on_batch(to_model_input(images), np.eye(7)[labels])
    before = [variable.numpy().copy() for variable in model.variables]
    averages = [average.numpy() for average in model.optimizer._model_variables_moving_average]
    bn = model.get_layer("bn")
    with MovingAverage(model, True, images, batch_size=16):
        np.testing.assert_allclose(model.get_layer("conv").kernel.numpy(), averages[0])
        features = np.asarray(model.get_layer("conv")(to_model_input(images)))
        means = [features[start : start + 16].mean(axis=(0, 1, 2)) for start in range(0, len(images), 16)]
        np.testing.assert_allclose(bn.moving_mean.numpy(), np.mean(means, axis=0), rtol=1e-4, atol=1e-6)
    for variable, value in zip(model.variables, before):
        np.testing.assert_array_equal(variable.numpy(), value)


@pytest.mark.parametrize("batch_size", [7, 64, 500])
def test_validation_gives_what_keras_evaluate_gives(batch_size):
    import keras

    from fer import train
    from tests.models import batchnorm_cnn

    model = batchnorm_cnn(seed=0)
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    faces, labels = rng.integers(0, 256, (130, 48, 48), dtype=np.uint8), rng.integers(0, 7, 130)
    model.train_on_batch(train.to_model_input(faces[:32]), np.eye(7)[labels[:32]])
    ours = train.validate(model, faces, labels, batch_size)
    expected = model.evaluate(train.to_model_input(faces), np.eye(7, dtype=np.float32)[labels], batch_size=batch_size,
                              verbose=0, return_dict=True)
    assert ours["loss"] == pytest.approx(float(expected["loss"]), rel=1e-5)
    assert ours["accuracy"] == pytest.approx(float(expected["accuracy"]), abs=1e-6)
    assert train.validate(model, faces, labels, batch_size) == ours  # nothing carried over from one call to the next
