"""Keras -> TF.js bundle: round trip, metadata, the zip, the CLI, and bad inputs."""

import datetime
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from fer import export, registry
from fer.data import EMOTIONS
from fer.faces import DEFAULT_SPEC
from tests.conftest import REPO_ROOT
from tests.models import batchnorm_cnn


def tiny_model(input_shape=(48, 48, 1), classes=7, seed=0):
    """Conv, BatchNorm, pooling, dense softmax: every layer kind a FER export carries."""
    return batchnorm_cnn(seed=seed, input_shape=input_shape, classes=classes)


@pytest.fixture
def saved_tiny():
    model = tiny_model()
    registry.save_run("tiny", model, {"architecture": "toy", "dataset": "synthetic"}, metrics={"test_accuracy": 0.4321})
    return model


def random_faces(count=5, seed=1):
    return np.random.default_rng(seed).random((count, 48, 48, 1), dtype=np.float32)


def test_float32_bundle_predicts_like_keras_and_is_self_contained(saved_tiny, tmp_path):
    messages = []
    result = export.export_bundle("tiny", tmp_path / "bundle", progress=lambda f, m: messages.append((f, m)))

    faces = random_faces()
    difference = np.abs(export.bundle_predictor(result.folder)(faces) - saved_tiny.predict(faces, verbose=0)).max()
    assert difference < 1e-6
    for path in ["model.json", "metadata.json", "index.html", "webcam.js", "vendor/tf.min.js",
                 "vendor/tf-backend-wasm.min.js", "vendor/tfjs-backend-wasm-simd.wasm", "vendor/opencv.js",
                 f"vendor/{DEFAULT_SPEC.cascade_file}"]:
        assert (result.folder / path).is_file(), path
    assert list(result.folder.glob("group1-shard*.bin"))
    assert [fraction for fraction, _ in messages] == sorted(fraction for fraction, _ in messages)
    assert messages[-1][0] == 1.0
    # The page loads nothing from the network: no http(s) URL in what the bundle's page loads.
    page = (result.folder / "index.html").read_text() + (result.folder / "webcam.js").read_text()
    hosts = set(re.findall(r"https?://([\w.-]+)", page))
    assert hosts <= {"localhost"}, hosts


def test_float16_halves_the_weights_and_stays_close(saved_tiny, tmp_path):
    full = export.export_bundle("tiny", tmp_path / "f32", "float32")
    half = export.export_bundle("tiny", tmp_path / "f16", "float16")

    def shard_bytes(folder):
        return sum(p.stat().st_size for p in folder.glob("group1-shard*.bin"))

    assert shard_bytes(half.folder) == pytest.approx(shard_bytes(full.folder) / 2, rel=0.05)
    manifest = json.loads((half.folder / "model.json").read_text())["weightsManifest"][0]["weights"]
    floats = [weight for weight in manifest if weight["dtype"] == "float32"]
    assert floats and all(weight.get("quantization", {}).get("dtype") == "float16" for weight in floats)
    faces = random_faces()
    difference = np.abs(export.bundle_predictor(half.folder)(faces) - saved_tiny.predict(faces, verbose=0)).max()
    assert 0 < difference < 1e-3
    assert half.metadata["weights"]["dtype"] == "float16"
    assert half.model_bytes < full.model_bytes


def test_metadata_states_labels_shapes_preprocessing_and_provenance(saved_tiny, tmp_path):
    result = export.export_bundle("tiny", tmp_path / "bundle")
    metadata = export.read_bundle_metadata(result.folder)

    assert metadata == result.metadata
    assert metadata["labels"] == list(EMOTIONS)
    assert metadata["model_name"] == "tiny"
    assert metadata["architecture"] == "toy"
    assert metadata["test_accuracy"] == 0.4321
    assert metadata["input"]["shape"] == [None, 48, 48, 1]
    assert metadata["output"]["shape"] == [None, 7]
    model_json = json.loads((result.folder / "model.json").read_text())
    assert metadata["input"]["name"] in model_json["signature"]["inputs"]
    assert metadata["preprocessing"]["divide_by"] == 255.0
    assert metadata["preprocessing"]["face_crop"] == json.loads(json.dumps(DEFAULT_SPEC.to_dict()))
    assert metadata["weights"]["dtype"] == "float32"
    assert metadata["bundle_bytes"] == sum(p.stat().st_size for p in result.folder.rglob("*") if p.is_file())
    exported = datetime.datetime.fromisoformat(metadata["exported"])
    assert abs((datetime.datetime.now(datetime.timezone.utc) - exported).total_seconds()) < 600
    assert metadata["checked_against_keras"]["max_abs_difference"] < 1e-6


def test_zip_holds_every_file_under_one_folder(saved_tiny, tmp_path):
    result = export.export_bundle("tiny", tmp_path / "tiny-bundle")
    with zipfile.ZipFile(io.BytesIO(export.zip_bundle(result.folder))) as archive:
        names = set(archive.namelist())
        assert json.loads(archive.read("tiny-bundle/metadata.json")) == result.metadata
    files = [path for path in result.folder.rglob("*") if path.is_file()]
    expected = {f"tiny-bundle/{path.relative_to(result.folder).as_posix()}" for path in files}
    assert names == expected


def test_reexport_replaces_the_folder_and_a_failed_export_keeps_the_old_one(saved_tiny, tmp_path):
    target = tmp_path / "bundle"
    export.export_bundle("tiny", target, "float16")
    (target / "stale.txt").write_text("from an older export")
    export.export_bundle("tiny", target, "float32")
    assert not (target / "stale.txt").exists()
    assert export.read_bundle_metadata(target)["weights"]["dtype"] == "float32"

    registry.save_run("wide", tiny_model(input_shape=(64, 64, 1)), {"architecture": "toy"})
    with pytest.raises(export.ExportError, match="48, 48, 1"):
        export.export_bundle("wide", target)
    assert export.read_bundle_metadata(target)["model_name"] == "tiny"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_ensemble_exports_as_one_graph_that_mixes_its_members_like_the_evaluator(saved_tiny, tmp_path):
    from fer import ensemble, evaluate

    # Same architecture, so the same Keras name twice: the one graph must keep them apart. This one
    # also names its output in a list, as fer.nets' functional builders do.
    twin = tiny_model(seed=5)
    twin = keras.Model(twin.inputs, [twin.outputs[0]], name=twin.name)
    registry.save_run("twin", twin, {"architecture": "toy", "dataset": "synthetic"})
    ensemble.save_ensemble("pair", ["tiny", "twin"], [0.3, 0.7], dataset="synthetic")

    result = export.export_bundle("pair", tmp_path / "bundle", "float32")

    faces = random_faces(count=6, seed=3)
    expected = evaluate.load_predictor("pair").predict_proba(faces)
    alone = evaluate.load_predictor("twin").predict_proba(faces)
    assert np.abs(alone - expected).max() > 1e-3  # the mix differs from a member, so the check below means something
    assert np.abs(export.bundle_predictor(result.folder)(faces) - expected).max() < 1e-5
    metadata = export.read_bundle_metadata(result.folder)
    assert metadata["architecture"] == "ensemble"
    assert metadata["members"] == ["tiny", "twin"] and metadata["member_weights"] == [0.3, 0.7]


def test_unknown_and_invalid_names_are_refused():
    with pytest.raises(registry.RegistryError, match="No run called 'ghost'"):
        export.export_bundle("ghost", "unused")
    with pytest.raises(registry.RegistryError, match="not a valid run name"):
        export.export_bundle("../escape", "unused")


def test_missing_and_corrupt_model_files_give_sentences(saved_tiny, tmp_path):
    path = registry.run_path("tiny") / registry.MODEL_FILE
    path.write_bytes(b"this is not a keras zip")
    with pytest.raises(registry.RegistryError, match="could not be loaded"):
        export.export_bundle("tiny", tmp_path / "bundle")
    path.unlink()
    with pytest.raises(registry.RegistryError, match="missing"):
        export.export_bundle("tiny", tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()


def test_other_bad_inputs(saved_tiny, tmp_path):
    with pytest.raises(export.ExportError, match="float32, float16"):
        export.export_bundle("tiny", tmp_path / "bundle", "int8")
    registry.save_run("alone", None, {"kind": "ensemble", "members": ["tiny"], "weights": [1.0]})
    with pytest.raises(export.ExportError, match="'alone' cannot be exported: An ensemble needs at least two"):
        export.export_bundle("alone", tmp_path / "bundle")
    registry.save_run("big", tiny_model(input_shape=(64, 64, 1)), {"architecture": "toy"})
    registry.save_run("mixed", None, {"kind": "ensemble", "members": ["tiny", "big"], "weights": [0.5, 0.5]})
    with pytest.raises(export.ExportError, match="inputs of different shapes"):
        export.export_bundle("mixed", tmp_path / "bundle")
    registry.save_run("loop", None, {"kind": "ensemble", "members": ["tiny", "loop"], "weights": [0.5, 0.5]})
    with pytest.raises(export.ExportError, match="contains itself"):
        export.export_bundle("loop", tmp_path / "bundle")
    registry.save_run("five", tiny_model(classes=5), {"architecture": "toy"})
    with pytest.raises(export.ExportError, match="7-class"):
        export.export_bundle("five", tmp_path / "bundle")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(export.ExportError, match="is a file"):
        export.export_bundle("tiny", tmp_path / "a-file")
    with pytest.raises(export.ExportError, match="not an exported bundle"):
        export.read_bundle_metadata(tmp_path)


def test_cli_exports_and_reports_errors_as_sentences(saved_tiny, tmp_path, capsys):
    from fer.__main__ import main

    assert main(["export", "tiny", str(tmp_path / "cli"), "--float16", "--zip"]) == 0
    assert export.read_bundle_metadata(tmp_path / "cli")["weights"]["dtype"] == "float16"
    assert zipfile.is_zipfile(tmp_path / "cli.zip")
    assert "http.server" in capsys.readouterr().out

    assert main(["export", "ghost", str(tmp_path / "nothing")]) == 2
    assert "No run called 'ghost'" in capsys.readouterr().err


def test_the_app_exports_into_fer_exports_dir_and_never_into_the_repository(saved_tiny, isolated_exports):
    shipped_before = sorted(path.name for path in export.DEFAULT_EXPORTS_DIR.iterdir())
    result = export.export_for_app("tiny", "float16")

    served = export.served_name("tiny")
    assert result.folder == isolated_exports / served == export.served_folder("tiny")
    assert export.read_bundle_metadata(isolated_exports / served)["model_name"] == "tiny"
    assert sorted(path.name for path in export.DEFAULT_EXPORTS_DIR.iterdir()) == shipped_before
    assert export.served_url("tiny") == f"/app/static/exports/{served}/index.html"


def test_a_students_bundle_is_served_under_an_address_nobody_guesses(saved_tiny, isolated_exports):
    from tests.models import save_tiny_run

    save_tiny_run("tiny-twin")
    served = export.served_name("tiny")
    assert served.startswith("tiny-") and len(served) == len("tiny-") + 16
    assert export.served_name("tiny") == served  # the same address every time, and after a restart
    assert export.served_name("tiny-twin") != "tiny-twin-" + served.removeprefix("tiny-")  # a secret per run
    assert export.served_name("pretrained-model") == "exported-pretrained-model"  # shipped: public by design
    export.export_for_app("tiny", "float16")
    assert [path.name for path in isolated_exports.iterdir()] == [served]
    with pytest.raises(registry.RegistryError, match="No run called 'ghost'"):
        export.served_name("ghost")


def shipped_bundle_files(folder: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in folder.iterdir() if path.is_file()}


def git_ignores(path: str) -> bool:
    """Whether .gitignore's rules ignore a path in the repository (tracked or not)."""
    check = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=REPO_ROOT)
    assert check.returncode in (0, 1), f"git check-ignore failed on {path}"
    return check.returncode == 0


def test_a_shipped_bundle_is_never_rewritten_and_a_shipped_model_without_one_exports_where_git_looks_away(
    isolated_exports,
):
    shipped = sorted(path.parent.name for path in export.DEFAULT_EXPORTS_DIR.glob("pretrained-*/model.json"))
    assert shipped, "the default network ships with its TF.js bundle"
    name = shipped[0]
    before = shipped_bundle_files(export.DEFAULT_EXPORTS_DIR / name)

    assert export.shipped_bundle(name) == export.DEFAULT_EXPORTS_DIR / name
    assert export.served_name(name) == name
    with pytest.raises(export.ExportError, match=f"{name}'s bundle ships with the app.*fer export {name}"):
        export.export_for_app(name, "float16")
    assert shipped_bundle_files(export.DEFAULT_EXPORTS_DIR / name) == before
    assert not git_ignores(f"static/exports/{name}/model.json")

    served = export.serve_shipped_bundle(name)  # the app's exports folder is elsewhere: a copy is served there
    assert served == isolated_exports / name
    assert export.read_bundle_metadata(served) == export.read_bundle_metadata(export.DEFAULT_EXPORTS_DIR / name)
    assert (served / "index.html").is_file() and (served / "vendor").is_dir()

    # A shipped ensemble has no bundle in git: exporting it must not look like a change to the shipped files.
    assert export.shipped_bundle("pretrained-ensemble-of-three") is None
    assert export.served_name("pretrained-ensemble-of-three") == "exported-pretrained-ensemble-of-three"
    assert git_ignores("static/exports/exported-pretrained-ensemble-of-three/model.json")
    assert git_ignores("static/exports/pretrained-ensemble-of-three/vendor/tf.min.js")
