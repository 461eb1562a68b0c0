"""The export and webcam lesson through AppTest: an ensemble is offered and exported like a single network."""

import shutil
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from fer import ensemble, evaluate, export
from tests.conftest import REPO_ROOT
from tests.models import batchnorm_cnn, save_tiny_run

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def open_webcam_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("lessons/webcam.py")
    app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def test_an_ensemble_is_exported_as_one_bundle_with_all_its_members_weights():
    save_tiny_run("first", batchnorm_cnn(seed=0), parameters=1000)
    save_tiny_run("second", batchnorm_cnn(seed=1), parameters=2000)
    ensemble.save_ensemble("pair", ["first", "second"], [0.25, 0.75], dataset="synthetic")

    app = open_webcam_page()
    chooser = app.selectbox[0]
    assert set(chooser.options) == {"first", "second", "pair"}
    chooser.set_value("pair").run()
    # 3,000 float32 weights are 0.012 MB: the members' counts added up.
    assert app.radio[0].options[0] == "float32 (about 0.01 MB of weights)"

    app.button[0].click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    folder = export.served_folder("pair")
    metadata = export.read_bundle_metadata(folder)
    assert metadata["members"] == ["first", "second"]
    faces = np.random.default_rng(2).random((4, 48, 48, 1), dtype=np.float32)
    expected = evaluate.load_predictor("pair").predict_proba(faces)
    assert np.abs(export.bundle_predictor(folder)(faces) - expected).max() < 1e-5
    assert [metric.label for metric in app.metric][:3] == ["Model (weights + graph)", "Whole bundle", "Weights"]


def test_a_shipped_bundle_is_shown_as_it_ships_with_no_button_to_rewrite_it(isolated_folders, isolated_exports):
    shipped = sorted(path.parent.name for path in export.DEFAULT_EXPORTS_DIR.glob("pretrained-*/model.json"))
    name = shipped[0]
    models, _ = isolated_folders
    shutil.copytree(REPO_ROOT / "models" / name, models / name)
    repository_bundle = export.DEFAULT_EXPORTS_DIR / name
    before = {path.name: path.stat().st_mtime_ns for path in repository_bundle.iterdir() if path.is_file()}

    app = open_webcam_page()
    app.selectbox[0].set_value(name).run()
    assert not app.exception, [exception.value for exception in app.exception]
    assert "Export to TensorFlow.js" not in [button.label for button in app.button]
    assert not app.radio  # no weights to choose: nothing will be exported
    assert any("ships with the app" in caption.value for caption in app.caption)
    shipped_dtype = export.read_bundle_metadata(repository_bundle)["weights"]["dtype"]
    assert [metric.value for metric in app.metric][2] == shipped_dtype
    assert (isolated_exports / name / export.METADATA_JSON).is_file()  # served from the app's exports folder
    assert {path.name: path.stat().st_mtime_ns for path in repository_bundle.iterdir() if path.is_file()} == before
