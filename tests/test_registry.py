"""The model registry: save, list, load, rename, delete; bad names; no clobbering; atomic saves."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from fer import registry
from fer.registry import RegistryError
from tests.models import flat_softmax

REPO_ROOT = Path(__file__).resolve().parent.parent


def tiny_model(fill: float = 0.0):
    model = flat_softmax()
    if fill:
        model.set_weights([np.full_like(weight, fill) for weight in model.get_weights()])
    return model


def first_kernel_value(name: str) -> float:
    return float(registry.load_model(name).get_weights()[0].flat[0])


def test_save_list_load_rename_delete(isolated_folders):
    models, _ = isolated_folders
    registry.save_run("first", tiny_model(0.1), {"architecture": "tiny", "dataset": "synthetic"},
                      [{"epoch": 1, "loss": 1.5}, {"epoch": 2, "loss": 1.25}], {"test_accuracy": 0.5})
    registry.save_run("second", tiny_model(0.2), {"architecture": "tiny", "dataset": "synthetic"})
    os.utime(models / "first" / "config.json", (1, 1))  # make "second" clearly the newest
    assert [run.name for run in registry.list_runs()] == ["second", "first"]
    assert registry.default_model_name() == "second"
    run = registry.read_run("first")
    assert run.kind == "keras" and run.config["architecture"] == "tiny" and run.metrics == {"test_accuracy": 0.5}
    assert registry.read_history("first") == [{"epoch": 1, "loss": 1.5}, {"epoch": 2, "loss": 1.25}]
    assert first_kernel_value("first") == pytest.approx(0.1)

    registry.rename_run("first", "renamed")
    assert {run.name for run in registry.list_runs()} == {"second", "renamed"}
    assert first_kernel_value("renamed") == pytest.approx(0.1)
    with pytest.raises(RegistryError, match="No run called 'first'"):
        registry.read_run("first")

    registry.delete_run("renamed")
    assert [run.name for run in registry.list_runs()] == ["second"]
    assert sorted(path.name for path in models.iterdir()) == ["second"]


@pytest.mark.parametrize(
    "bad_name", ["../escape", "a/b", "/etc", "", ".hidden", "-dash", "a..b", "x" * 65, "spa ce", "tab\tname", None]
)
def test_bad_names_are_refused_everywhere(isolated_folders, bad_name):
    models, _ = isolated_folders
    registry.save_run("good", tiny_model(), {"architecture": "tiny", "dataset": "synthetic"})
    with pytest.raises(RegistryError, match="not a valid run name"):
        registry.save_run(bad_name, tiny_model(), {"architecture": "tiny", "dataset": "synthetic"})
    with pytest.raises(RegistryError, match="not a valid run name"):
        registry.rename_run("good", bad_name)
    with pytest.raises(RegistryError, match="not a valid run name"):
        registry.delete_run(bad_name)
    with pytest.raises(RegistryError, match="not a valid run name"):
        registry.load_model(bad_name)
    assert sorted(path.name for path in models.iterdir()) == ["good"]
    assert sorted(path.name for path in models.parent.iterdir()) == ["data", "exports", "models"]  # nothing escaped


def test_nothing_is_clobbered(isolated_folders):
    registry.save_run("mine", tiny_model(0.1), {"architecture": "tiny", "dataset": "synthetic"})
    registry.save_run("yours", tiny_model(0.2), {"architecture": "tiny", "dataset": "synthetic"})
    with pytest.raises(RegistryError, match="already exists"):
        registry.save_run("mine", tiny_model(0.3), {"architecture": "tiny", "dataset": "synthetic"})
    with pytest.raises(RegistryError, match="already exists"):
        registry.rename_run("yours", "mine")
    assert first_kernel_value("mine") == pytest.approx(0.1)
    assert first_kernel_value("yours") == pytest.approx(0.2)
    assert registry.unique_name("mine") == "mine-2"
    assert registry.unique_name("fresh") == "fresh"


def test_exception_after_the_model_is_written_keeps_the_previous_run(isolated_folders, monkeypatch):
    models, _ = isolated_folders
    registry.save_run("run", tiny_model(0.1), {"architecture": "old", "dataset": "synthetic"})

    def broken_history(rows):
        raise OSError("disk full")

    monkeypatch.setattr(registry, "history_to_csv", broken_history)
    with pytest.raises(OSError, match="disk full"):
        registry.save_run("run", tiny_model(0.9), {"architecture": "new", "dataset": "synthetic"}, overwrite=True)
    assert registry.read_run("run").config["architecture"] == "old"
    assert first_kernel_value("run") == pytest.approx(0.1)
    assert sorted(path.name for path in models.iterdir()) == ["run"]


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import keras
    from fer import registry

    where = sys.argv[1]
    model = keras.Sequential(
        [keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(7, activation="softmax")])
    model.set_weights([np.full_like(weight, 0.9) for weight in model.get_weights()])

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if where == "after_model":  # the new model.keras is on disk, config and history are not
        registry.history_to_csv = die
    elif where == "between_renames":  # no atomic exchange: the old run is parked, the new not yet in place
        registry._exchange = lambda first, second: False
        real_replace = os.replace
        calls = []
        def replace_then_die(source, target):
            calls.append(target)
            if len(calls) == 2:
                die()
            real_replace(source, target)
        registry.os.replace = replace_then_die
    registry.save_run("run", model, {"architecture": "new", "dataset": "synthetic"}, overwrite=True)
    print("the save finished, so nothing was killed")
    """
)


@pytest.mark.parametrize("where", ["after_model", "between_renames"])
def test_a_save_killed_midway_leaves_the_previous_run_readable(isolated_folders, tmp_path, where):
    models, _ = isolated_folders
    registry.save_run("run", tiny_model(0.1), {"architecture": "old", "dataset": "synthetic"},
                      [{"epoch": 1, "loss": 1.0}], {"test_accuracy": 0.25})
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    process = subprocess.run([sys.executable, str(script), where], env=env, capture_output=True, text=True, timeout=120)
    assert process.returncode == -9, process.stdout + process.stderr
    leftovers = [path.name for path in models.iterdir() if path.name != "run"]
    assert leftovers, "the killed save should have left its temporary folder behind"
    # The previous state is what every reader sees.
    assert [run.name for run in registry.list_runs()] == ["run"]
    run = registry.read_run("run")
    assert run.config["architecture"] == "old" and run.metrics == {"test_accuracy": 0.25}
    assert registry.read_history("run") == [{"epoch": 1, "loss": 1.0}]
    assert first_kernel_value("run") == pytest.approx(0.1)
    # And the next save over it works.
    registry.save_run("run", tiny_model(0.5), {"architecture": "newer", "dataset": "synthetic"}, overwrite=True)
    assert first_kernel_value("run") == pytest.approx(0.5)


def test_overwrite_replaces_the_whole_run(isolated_folders):
    models, _ = isolated_folders
    registry.save_run("run", tiny_model(0.1), {"architecture": "old", "dataset": "synthetic"}, metrics={"a": 1})
    registry.save_run("run", tiny_model(0.3), {"architecture": "new", "dataset": "synthetic"}, metrics={"b": 2},
                      overwrite=True)
    assert registry.read_run("run").metrics == {"b": 2}
    assert first_kernel_value("run") == pytest.approx(0.3)
    assert sorted(path.name for path in models.iterdir()) == ["run"]


def test_a_model_with_python_code_is_refused(isolated_folders):
    import keras

    model = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Lambda(lambda x: x * 2.0),
                              keras.layers.Flatten(), keras.layers.Dense(7, activation="softmax")])
    registry.save_run("lambda", model, {"architecture": "lambda", "dataset": "synthetic"})
    with pytest.raises(RegistryError, match="unsafe"):
        registry.load_model("lambda")


def test_a_truncated_model_file_is_a_sentence_not_a_crash(isolated_folders):
    path = registry.save_run("broken", tiny_model(), {"architecture": "tiny", "dataset": "synthetic"})
    model_file = path / registry.MODEL_FILE
    model_file.write_bytes(model_file.read_bytes()[:200])
    with pytest.raises(RegistryError, match="could not be loaded"):
        registry.load_model("broken")


def test_metrics_update_is_merged(isolated_folders):
    registry.save_run("run", tiny_model(), {"architecture": "tiny", "dataset": "synthetic"}, metrics={"a": 1})
    assert registry.write_metrics("run", {"b": 2}) == {"a": 1, "b": 2}
    assert json.loads((registry.run_path("run") / "metrics.json").read_text()) == {"a": 1, "b": 2}


def test_the_default_among_shipped_models_is_the_best_single_network_not_the_newest(isolated_folders):
    models, _ = isolated_folders
    registry.save_run("pretrained-better", tiny_model(0.1), {"architecture": "tiny", "dataset": "fer2013"},
                      metrics={"public_test": {"accuracy": 0.70}})
    registry.save_run("pretrained-worse", tiny_model(0.2), {"architecture": "tiny", "dataset": "fer2013"},
                      metrics={"public_test": {"accuracy": 0.68}})
    ensemble = {"kind": "ensemble", "architecture": "ensemble", "dataset": "fer2013",
                "members": ["pretrained-better", "pretrained-worse"], "weights": [0.5, 0.5]}
    registry.save_run("pretrained-ensemble", None, ensemble, metrics={"public_test": {"accuracy": 0.72}})
    for name in ("pretrained-better", "pretrained-ensemble"):
        os.utime(models / name / "config.json", (1, 1))  # "pretrained-worse" is the newest
    assert registry.default_model_name() == "pretrained-better"
    snapshot = {"architecture": "tiny", "dataset": "fer2013", "snapshot_of": "long", "snapshot_epoch": 105}
    registry.save_run("pretrained-long-e105", tiny_model(0.4), snapshot, metrics={"public_test": {"accuracy": 0.71}})
    assert registry.default_model_name() == "pretrained-better"  # a snapshot ships for the ensemble
    registry.save_run("mine", tiny_model(0.3), {"architecture": "tiny", "dataset": "synthetic"})
    assert registry.default_model_name() == "mine"


def test_the_best_shipped_network_is_judged_by_its_best_test_time_augmentation(isolated_folders):
    """The issue's targets count PublicTest with TTA: a network a hair behind plain but ahead with flips wins."""
    registry.save_run("pretrained-plain-ahead", tiny_model(0.1), {"architecture": "tiny", "dataset": "fer2013"},
                      metrics={"public_test": {"accuracy": 0.687, "accuracy_by_tta": {
                          "none": 0.687, "flip": 0.695, "flip+crops": 0.698}}})
    registry.save_run("pretrained-tta-ahead", tiny_model(0.2), {"architecture": "tiny", "dataset": "fer2013"},
                      metrics={"public_test": {"accuracy": 0.686, "accuracy_by_tta": {
                          "none": 0.686, "flip": 0.699, "flip+crops": 0.701}}})
    assert registry.best_shipped() == "pretrained-tta-ahead"
    assert registry.default_model_name() == "pretrained-tta-ahead"


def test_an_ensembles_training_cost_counts_a_run_once_however_many_of_its_snapshots_it_holds():
    from fer import ensemble

    def cost(hours):
        return {"quiet_hours": hours, "quiet_cpu_hours": 2 * hours}

    narrow, wide = {"cost": cost(2.0)}, {"cost": cost(1.5)}
    early = {"cost": cost(3.0), "snapshot_of": "long"}
    late = {"cost": cost(4.0), "snapshot_of": "long"}
    assert ensemble.training_cost([narrow, wide]) == {"quiet_hours": 3.5, "quiet_cpu_hours": 7.0}
    assert ensemble.training_cost([narrow, late, early]) == {"quiet_hours": 6.0, "quiet_cpu_hours": 12.0}
    assert ensemble.training_cost([narrow, {"architecture": "tiny"}]) is None
