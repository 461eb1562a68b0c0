"""The analysis lessons (confusion matrix, CNN versus DNN, ensembles) through AppTest:
with no model they say what to do; with tiny real models in the registry they show results,
and the numbers they show are checked against the same models run here by hand (NumPy and
Keras, no fer.evaluate): accuracy and cell counts, fitted ensemble weights on a case whose
answer is known, and test-time augmentation."""

from pathlib import Path

import keras
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fer import data, registry
from fer.accounts import LAPTOP_NAME
from fer.data import EMOTIONS
from tests.models import pooled_softmax, save_tiny_run

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
CONFUSION, CNN_VS_DNN, ENSEMBLES = "lessons/confusion.py", "lessons/cnn_vs_dnn.py", "lessons/ensembles.py"
BRIGHTNESS = np.linspace(0.1, 0.9, 7)  # the "brightness" data set: a face of class k is this bright


def save_tiny(name: str, seed: int, architecture: str = "tiny") -> None:
    history = [{"epoch": epoch, "loss": 2.0 - 0.1 * epoch, "accuracy": 0.2 + 0.05 * epoch,
                "val_loss": 2.1 - 0.1 * epoch, "val_accuracy": 0.18 + 0.05 * epoch} for epoch in range(3)]
    save_tiny_run(
        name, pooled_softmax(seed), architecture=architecture, parameters=1015,
        history_rows=history, metrics={"test_accuracy": 0.3 + 0.1 * seed},
    )


def brightness_reader(sharpness: float = 1000.0) -> keras.Model:
    """A model that is right by construction on the brightness data set: it averages the face and
    answers the class whose brightness c_k is nearest. logits_k = 2 s c_k b - s c_k^2, which is
    -s (b - c_k)^2 up to a term the same for every class."""
    model = keras.Sequential(
        [keras.Input((48, 48, 1)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(7, activation="softmax")]
    )
    model.layers[-1].set_weights([(2 * sharpness * BRIGHTNESS)[None, :], -sharpness * BRIGHTNESS**2])
    return model


def save_brightness_dataset(train_per_class: int = 40, test_per_class: int = 10) -> None:
    """Faces of one grey level each (plus a little noise), 10 % of Training kept for validation."""
    rng = np.random.default_rng(5)
    labels = np.repeat(np.arange(7), train_per_class + test_per_class).astype(np.uint8)
    usage = np.tile(["Training"] * train_per_class + ["PublicTest"] * test_per_class, 7)
    noise = rng.normal(0, 8, (len(labels), 48, 48))
    images = np.clip(BRIGHTNESS[labels, None, None] * 255 + noise, 0, 255).astype(np.uint8)
    data.save_cache("brightness", images, labels, usage)


def probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The model's own answer on uint8 faces, with nothing of fer.evaluate in between."""
    return np.asarray(model(images[..., None].astype(np.float32) / 255.0), dtype=np.float64)


def shifted(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """(N, 48, 48) faces moved by (dy, dx), the border repeated: written with np.pad, not the app's code."""
    pad = max(abs(dy), abs(dx))
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    return padded[:, pad - dy : pad - dy + 48, pad - dx : pad - dx + 48]


def by_hand_tta(model: keras.Model, images: np.ndarray, mode: str) -> np.ndarray:
    """flip, flip+crops (shifts of 3), or ten-crop of a model with no crop layer (corners 2 pixels in)."""
    looks = [(0, 0)] + ([(-3, 0), (3, 0), (0, -3), (0, 3)] if "crops" in mode else [])
    if mode == "ten-crop":
        looks = [(0, 0), (-2, -2), (-2, 2), (2, -2), (2, 2)]
    views = [shifted(images, dy, dx) for dy, dx in looks]
    if mode in ("flip", "flip+crops", "ten-crop"):
        views += [view[:, :, ::-1] for view in views]
    return np.mean([probabilities(model, view) for view in views], axis=0)


def log_loss(p: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(labels)), labels], 1e-12))))


def open_page(page: str, query: dict | None = None, dataset: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    if dataset:
        app.session_state["sidebar_dataset"] = dataset
    app.run()
    app.switch_page(page)
    app.query_params.update(query or {})
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
    images, labels = data.load_dataset("synthetic").split("test")
    predicted = probabilities(pooled_softmax(0), images).argmax(axis=1)
    app = open_page(CONFUSION)
    assert app.metric[0].value == f"{np.mean(predicted == labels):.1%}"  # counted here, not by the page
    assert app.metric[2].value == f"{np.sum(predicted != labels):,}"
    # pick a cell through the fallback selectboxes: the caption counts exactly its faces
    happy = EMOTIONS.index("Happy")
    app.selectbox(key="confusion_true").set_value("Happy")
    app.selectbox(key="confusion_predicted").set_value("Happy")
    app.run()
    assert not app.exception
    count = np.sum((labels == happy) & (predicted == happy))
    assert f"**{count}** Happy faces the model got right" in page_text(app)
    app.radio(key="confusion_view").set_value("shares").run()
    assert not app.exception
    assert app.query_params == {"model": "tiny-a", "view": "shares", "true": "Happy", "predicted": "Happy"}


def test_confusion_link_opens_the_model_split_tta_and_cell_it_names():
    save_tiny("tiny-a", seed=0)
    save_tiny("tiny-b", seed=1)
    images, labels = data.load_dataset("synthetic").split("val")
    flip_averaged = by_hand_tta(pooled_softmax(1), images, "flip").argmax(axis=1)
    matrix = np.zeros((7, 7), int)
    np.add.at(matrix, (labels, flip_averaged), 1)
    np.fill_diagonal(matrix, -1)
    # the second-largest mistake: the page would open on the largest by itself
    true_label, predicted_label = np.unravel_index(np.argsort(matrix, axis=None)[-2], matrix.shape)
    query = {
        "model": "tiny-b", "split": "val", "tta": "flip", "view": "shares",
        "true": EMOTIONS[true_label], "predicted": EMOTIONS[predicted_label],
    }
    app = open_page(CONFUSION, query)
    assert app.selectbox(key="confusion_model").value == "tiny-b"
    assert (app.radio(key="confusion_split").value, app.selectbox(key="confusion_tta").value) == ("val", "flip")
    assert app.radio(key="confusion_view").value == "shares"
    assert app.metric[0].value == f"{np.mean(flip_averaged == labels):.1%}"
    count = matrix[true_label, predicted_label]
    called = f"**{count}** {EMOTIONS[true_label]} faces the model called **{EMOTIONS[predicted_label]}**"
    assert called in page_text(app)
    assert app.query_params == query


def test_a_bad_confusion_link_is_a_warning_and_the_page_opens_on_the_biggest_mistake():
    save_tiny("tiny-a", seed=0)
    app = open_page(CONFUSION, {"model": "ghost", "split": "everything", "true": "Angy", "tta": "rotate"})
    warnings = "\n".join(element.value for element in app.warning)
    for sentence in ("model='ghost' must be one of tiny-a", "split='everything' must be one of train, val, test",
                     "true='Angy' must be one of Angry", "tta='rotate' must be one of none"):
        assert sentence in warnings
    images, labels = data.load_dataset("synthetic").split("test")
    matrix = np.zeros((7, 7), int)
    np.add.at(matrix, (labels, probabilities(pooled_softmax(0), images).argmax(axis=1)), 1)
    np.fill_diagonal(matrix, -1)
    worst = np.unravel_index(matrix.argmax(), matrix.shape)
    assert (app.selectbox(key="confusion_true").value, app.selectbox(key="confusion_predicted").value) == (
        EMOTIONS[worst[0]], EMOTIONS[worst[1]]
    )
    assert app.query_params == {"model": "tiny-a", "true": EMOTIONS[worst[0]], "predicted": EMOTIONS[worst[1]]}
    app.run()
    assert not app.warning and not app.exception


def test_confusion_page_reports_a_broken_model_as_a_sentence(isolated_folders):
    save_tiny("tiny-a", seed=0)
    models, _ = isolated_folders
    (models / "tiny-a" / "model.keras").write_bytes(b"not a zip")
    app = open_page(CONFUSION)
    assert app.error and "tiny-a" in app.error[0].value


def test_ensembles_page_gives_the_weight_to_the_member_that_is_right_and_saves_the_ensemble():
    """A known answer: on the brightness faces one member is right by construction and the other
    guesses, so the fitted weights go to the first and the mixture is no worse than it alone."""
    save_brightness_dataset()
    save_tiny_run("reader", brightness_reader(), dataset="brightness")
    save_tiny_run("guesser", pooled_softmax(3), dataset="brightness")
    app = open_page(ENSEMBLES, dataset="brightness")
    app.multiselect(key="ensemble_members").set_value(["guesser", "reader"]).run()
    assert not app.exception
    app.button(key="ensemble_fit").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    weights = app.dataframe[0].value.set_index("model")["weight"]
    assert weights["reader"] > 0.99, weights

    dataset = data.load_dataset("brightness")
    val_images, val_labels = dataset.split("val")
    test_images, test_labels = dataset.split("test")
    reader, guesser = brightness_reader(), pooled_softmax(3)
    assert np.mean(probabilities(reader, test_images).argmax(axis=1) == test_labels) == 1.0
    single_losses = [log_loss(probabilities(model, val_images), val_labels) for model in (reader, guesser)]
    comparison = app.session_state["ensemble_result"][1]
    assert comparison.weighted_val_log_loss <= min(single_losses) + 1e-9
    mixture = weights["guesser"] * probabilities(guesser, val_images) + weights["reader"] * probabilities(
        reader, val_images
    )
    assert comparison.weighted_val_log_loss == pytest.approx(log_loss(mixture, val_labels), abs=1e-6)
    assert [metric.label for metric in app.metric][0] == "Best single model (reader)"
    assert [metric.value for metric in app.metric] == ["100.0%", app.metric[1].value, "100.0%"]

    app.text_input(key="ensemble_name").set_value("pair").run()
    app.button(key="ensemble_save").click().run()
    assert not app.exception
    run = registry.read_run("pair")
    assert run.kind == "ensemble" and run.config["members"] == ["guesser", "reader"]
    assert run.owner == LAPTOP_NAME  # recorded like a training's: only its maker and the teacher may change it
    np.testing.assert_allclose(run.config["weights"], weights[["guesser", "reader"]])


def test_ensembles_page_measures_tta_as_the_models_do_by_hand():
    save_tiny("tiny-a", seed=0)
    save_tiny("tiny-b", seed=1)
    app = open_page(ENSEMBLES)
    app.multiselect(key="ensemble_members").set_value(["tiny-a", "tiny-b"]).run()
    app.button(key="ensemble_fit").click().run()
    app.button(key="ensemble_tta_measure").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    measured = app.dataframe[-1].value
    images, labels = data.load_dataset("synthetic").split("test")
    for name, seed in (("tiny-a", 0), ("tiny-b", 1)):
        for mode in ("none", "flip", "flip+crops", "ten-crop"):
            by_hand = np.mean(by_hand_tta(pooled_softmax(seed), images, mode).argmax(axis=1) == labels)
            assert measured.loc[name, mode] == pytest.approx(by_hand), (name, mode)
        assert measured.loc[name, "gain (ten-crop)"] == pytest.approx(
            measured.loc[name, "ten-crop"] - measured.loc[name, "none"]
        )


def test_cnn_vs_dnn_compares_the_two_seed_networks_from_the_registry():
    save_tiny("cnn-run", seed=1, architecture="report_b_cnn")
    save_tiny("dnn-run", seed=0, architecture="report_b_dnn")
    app = open_page(CNN_VS_DNN)
    assert app.selectbox(key="cnn_vs_dnn_cnn").value == "cnn-run"
    assert app.selectbox(key="cnn_vs_dnn_dnn").value == "dnn-run"
    text = page_text(app)
    assert "the CNN reached **40.0%** on test with 1,015 parameters" in text  # the split is named
    assert "the DNN reached **30.0%**" in text
    parameters = app.dataframe[0].value.set_index("network")["parameters"]
    assert parameters["report_b_cnn"] == 4_087_323 and parameters["report_b_dnn"] > parameters["report_b_cnn"]
