"""The analysis lessons (confusion matrix, CNN versus DNN, ensembles) through AppTest:
with no model they say what to do; with tiny real models in the registry they show results."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fer import registry

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
CONFUSION, CNN_VS_DNN, ENSEMBLES = "lessons/confusion.py", "lessons/cnn_vs_dnn.py", "lessons/ensembles.py"


def tiny_model(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((48, 48, 1)),
            keras.layers.AveragePooling2D(6),
            keras.layers.Flatten(),
            keras.layers.Dense(7, activation="softmax", kernel_initializer=keras.initializers.RandomNormal(stddev=3.0)),
        ]
    )


def save_tiny(name: str, seed: int, architecture: str = "tiny") -> None:
    history = [{"epoch": epoch, "loss": 2.0 - 0.1 * epoch, "accuracy": 0.2 + 0.05 * epoch,
                "val_loss": 2.1 - 0.1 * epoch, "val_accuracy": 0.18 + 0.05 * epoch} for epoch in range(3)]
    registry.save_run(
        name, tiny_model(seed), {"architecture": architecture, "dataset": "synthetic", "parameters": 1015},
        history_rows=history, metrics={"test_accuracy": 0.3 + 0.1 * seed},
    )


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def page_text(app: AppTest) -> str:
    parts = [element.value for element in (*app.markdown, *app.info, *app.caption, *app.warning, *app.success)]
    return "\n".join(str(part) for part in parts)


@pytest.mark.parametrize("page", [CONFUSION, ENSEMBLES])
def test_page_without_models_says_to_train_one(page):
    app = open_page(page)
    assert "Train a network" in page_text(app)


def test_cnn_vs_dnn_without_models_offers_to_train_them():
    app = open_page(CNN_VS_DNN)
    assert "Train" in " ".join(button.label for button in app.button)
    assert "weight sharing" in page_text(app).lower()


def test_confusion_page_shows_accuracy_matrix_and_the_chosen_cell():
    save_tiny("tiny-a", seed=0)
    app = open_page(CONFUSION)
    accuracy = app.metric[0].value
    assert accuracy.endswith("%") and 0 <= float(accuracy.rstrip("%")) <= 100
    assert "Angry" in app.selectbox(key="confusion_true").options
    # pick a cell through the fallback selectboxes: the caption counts exactly its faces
    app.selectbox(key="confusion_true").set_value("Happy")
    app.selectbox(key="confusion_predicted").set_value("Happy")
    app.run()
    assert not app.exception
    assert "Happy faces the model got right" in page_text(app)
    app.radio(key="confusion_view").set_value("row-normalised (share of each true expression)").run()
    assert not app.exception


def test_confusion_page_reports_a_broken_model_as_a_sentence(isolated_folders):
    save_tiny("tiny-a", seed=0)
    models, _ = isolated_folders
    (models / "tiny-a" / "model.keras").write_bytes(b"not a zip")
    app = open_page(CONFUSION)
    assert app.error and "tiny-a" in app.error[0].value


def test_ensembles_page_fits_weights_and_saves_an_ensemble():
    save_tiny("tiny-a", seed=0)
    save_tiny("tiny-b", seed=1)
    app = open_page(ENSEMBLES)
    app.multiselect(key="ensemble_members").set_value(["tiny-a", "tiny-b"]).run()
    assert not app.exception
    app.button(key="ensemble_fit").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    labels = [metric.label for metric in app.metric]
    assert any(label.startswith("Best single model (tiny-") for label in labels), labels
    weights = app.dataframe[0].value["weight"]
    assert np.isclose(weights.sum(), 1.0) and (weights >= 0).all()
    app.text_input(key="ensemble_name").set_value("tiny-pair").run()
    app.button(key="ensemble_save").click().run()
    assert not app.exception
    run = registry.read_run("tiny-pair")
    assert run.kind == "ensemble" and run.config["members"] == ["tiny-a", "tiny-b"]
    assert np.isclose(sum(run.config["weights"]), 1.0)
    app.button(key="ensemble_tta_measure").click().run()
    assert not app.exception
    measured = app.dataframe[-1].value
    assert list(measured.index) == ["tiny-a", "tiny-b"] and "flip+crops" in measured.columns


def test_cnn_vs_dnn_compares_the_two_seed_networks_from_the_registry():
    save_tiny("cnn-run", seed=1, architecture="report_b_cnn")
    save_tiny("dnn-run", seed=0, architecture="report_b_dnn")
    app = open_page(CNN_VS_DNN)
    assert app.selectbox(key="cnn_vs_dnn_cnn").value == "cnn-run"
    assert app.selectbox(key="cnn_vs_dnn_dnn").value == "dnn-run"
    text = page_text(app)
    assert "the CNN reached **40.0%** test accuracy with 1,015 parameters" in text
    assert "the DNN reached **30.0%**" in text
    parameters = app.dataframe[0].value.set_index("network")["parameters"]
    assert parameters["report_b_cnn"] == 4_087_323 and parameters["report_b_dnn"] > parameters["report_b_cnn"]
