"""Snapshot ensembles: a run keeps chosen epochs' weights as validation saw them, each becomes a model.

A real worker process trains a tiny CNN with BatchNorm and a fast moving average on the synthetic
faces, so the raw weights, the averaged ones and the averaged ones with BatchNorm measured again
all validate differently: only the last give the history's figures.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer import registry, snapshots
from fer.jobs import FINISHED, JobManager
from fer.train import TrainConfig, TrainConfigError, validate

REPO_ROOT = Path(__file__).resolve().parent.parent
RUN = "long"


def cli(models: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fer", *arguments], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT), FER_MODELS_DIR=str(models)))


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """The registry holding RUN: three epochs, snapshots of epochs 1 and 2 kept."""
    folder = tmp_path_factory.mktemp("models")
    saved = os.environ.get("FER_MODELS_DIR")
    os.environ["FER_MODELS_DIR"] = str(folder)
    try:
        config = TrainConfig(architecture="tiny_cnn", dataset="synthetic", epochs=3, batch_size=32,
                             max_train_images=640, crop_size=44, ema=True, ema_momentum=0.9,
                             optimizer="sgd_nesterov", learning_rate=0.1, seed=3, snapshot_epochs=(2, 1))
        jobs = JobManager(max_running=1)
        job = jobs.wait(jobs.submit(config, owner="ana", name=RUN).id, timeout=240)
        assert job.state == FINISHED, (folder / RUN / "worker.log").read_text()
    finally:
        os.environ.pop("FER_MODELS_DIR") if saved is None else os.environ.__setitem__("FER_MODELS_DIR", saved)
    return folder


def test_the_run_keeps_exactly_the_asked_epochs(models):
    kept = sorted(path.name for path in (models / RUN / snapshots.SNAPSHOT_DIR).iterdir())
    assert kept == ["epoch-001.keras", "epoch-002.keras"]
    assert json.loads((models / RUN / registry.CONFIG_FILE).read_text())["snapshot_epochs"] == [1, 2]


def test_a_snapshot_becomes_a_model_that_validates_as_its_epoch_did(models, monkeypatch):
    from fer.synth import default_dataset

    monkeypatch.setenv("FER_MODELS_DIR", str(models))
    assert snapshots.kept_epochs(RUN) == [1, 2]
    path = snapshots.make_model(RUN, 2)
    assert path.name == f"{RUN}-e2"

    history = registry.read_history(path.name)
    assert [row["epoch"] for row in history] == [1, 2]
    config = json.loads((path / registry.CONFIG_FILE).read_text())
    assert (config["snapshot_of"], config["snapshot_epoch"], config["owner"]) == (RUN, 2, "ana")
    assert config["training_seconds"] == pytest.approx(sum(row["seconds"] for row in history), abs=0.01)

    model = registry.load_model(path.name)
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    faces = default_dataset()
    seen = validate(model, *faces.split("val"), batch_size=32)
    assert seen["loss"] == pytest.approx(history[1]["val_loss"], rel=1e-4)
    assert seen["accuracy"] == pytest.approx(history[1]["val_accuracy"], abs=1e-9)
    assert registry.load_model(RUN).count_params() == model.count_params()

    metrics = json.loads((path / registry.METRICS_FILE).read_text())
    assert metrics["chosen_epoch"] == 2 and metrics["chosen_val_accuracy"] == history[1]["val_accuracy"]
    assert metrics["test_accuracy"] == pytest.approx(validate(model, *faces.split("test"), 32)["accuracy"])

    first = registry.load_model(snapshots.make_model(RUN, 1, name="first").name)
    inputs = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype("float32") / 255
    assert not np.allclose(first.predict(inputs, verbose=0), model.predict(inputs, verbose=0))


def test_the_command_line_makes_one_and_refuses_an_epoch_not_kept_with_a_sentence(models):
    made = cli(models, "snapshot", RUN, "--epoch", "1", "--name", "from-cli")
    assert made.returncode == 0, made.stderr
    assert (models / "from-cli" / registry.MODEL_FILE).exists() and "epoch 1 of long" in made.stdout

    refused = cli(models, "snapshot", RUN, "--epoch", "3")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "long kept no snapshot of epoch 3 (it has 1, 2)" in refused.stderr
    assert not (models / f"{RUN}-e3").exists()


def test_snapshot_epochs_are_counted_from_one_sorted_and_kept_through_json():
    config = TrainConfig(epochs=9, snapshot_epochs=[6, 3, 6])
    assert config.snapshot_epochs == (3, 6)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(TrainConfigError, match="snapshot epochs count from 1, not 0"):
        TrainConfig(epochs=9, snapshot_epochs=(0, 4))
