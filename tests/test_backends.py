"""The engine on Keras's three backends: a small network trained under TensorFlow, JAX and PyTorch
in worker processes, opened by the app (TensorFlow) with the same predictions, and exported to TF.js."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer import backends, registry

REPO_ROOT = Path(__file__).resolve().parent.parent


def cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fer", *arguments], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))


def start_cli(*arguments: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fer", *arguments], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))


@pytest.fixture(scope="module")
def runs_on_every_backend(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    saved = os.environ.get("FER_MODELS_DIR")
    os.environ["FER_MODELS_DIR"] = str(models)
    try:
        # All three at once: most of each is starting Python and importing its backend.
        started = {backend: start_cli("train", "--arch", "small_cnn", "--epochs", "2", "--batch-size", "32",
                                      "--max-train-images", "320", "--crop", "44", "--ema", "--ema-momentum", "0.9",
                                      "--seed", "3", "--backend", backend, "--device", "cpu", "--name", backend)
                   for backend in ("tensorflow", "jax", "torch")}
        outcomes = {}
        for backend, process in started.items():
            stdout, stderr = process.communicate(timeout=600)
            outcomes[backend] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        yield models, outcomes
    finally:
        if saved is None:
            os.environ.pop("FER_MODELS_DIR", None)
        else:
            os.environ["FER_MODELS_DIR"] = saved


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_each_backend_trains_and_the_app_opens_the_model(runs_on_every_backend, backend, monkeypatch):
    models, outcomes = runs_on_every_backend
    result = outcomes[backend]
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    monkeypatch.setenv("FER_MODELS_DIR", str(models))
    run = registry.read_run(backend)
    assert run.config["backend"] == backend and run.config["library_versions"]["backend"] == backend
    assert run.config["device"].startswith("CPU") and run.config["images_per_second"] > 0
    # The app (TensorFlow) loads the .keras file and measures what the worker measured on the test faces.
    from fer.data import load_dataset
    from fer.preprocessing import to_model_input

    model = registry.load_model(backend)
    images, labels = load_dataset("synthetic").split("test")
    probabilities = model.predict(to_model_input(images), verbose=0)
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == labels))
    assert accuracy == pytest.approx(run.metrics["test_accuracy"], abs=1 / len(labels))
    assert model.layers[1].name == "center_crop"


def test_a_jax_trained_model_exports_to_tfjs_with_parity(runs_on_every_backend, monkeypatch, tmp_path):
    models, outcomes = runs_on_every_backend
    monkeypatch.setenv("FER_MODELS_DIR", str(models))
    from fer import export

    result = export.export_bundle("jax", tmp_path / "bundle")
    metadata = json.loads((tmp_path / "bundle" / "metadata.json").read_text())
    assert metadata["architecture"] == "small_cnn" and result.model_bytes > 0
    assert metadata["checked_against_keras"]["max_abs_difference"] < 1e-4


def test_a_backend_that_is_not_installed_gets_a_sentence_naming_the_package(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(backends.BackendError, match=r"PyTorch backend is not installed.*pip install torch"):
        backends.check_backend("torch")
    assert "torch" not in backends.installed_backends()


def test_a_gpu_asked_for_and_not_found_is_a_sentence_not_the_cpu():
    result = cli("train", "--arch", "small_cnn", "--epochs", "1", "--max-train-images", "64", "--backend", "jax",
                 "--device", "gpu", "--name", "wants-a-gpu")
    assert result.returncode == 1
    status = json.loads((registry.models_dir() / "wants-a-gpu" / "status.json").read_text())
    assert status["state"] == "failed" and "no GPU that JAX can see" in status["message"]
    assert not (registry.models_dir() / "wants-a-gpu" / "model.keras").exists()
