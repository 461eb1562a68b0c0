"""The three explanation pages, driven by AppTest, with no model and with a tiny real one."""

from pathlib import Path

import keras
import pytest
from streamlit.testing.v1 import AppTest

from fer import registry
from fer.explain.base import STEP_CAP_VARIABLE

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
PAGES = ("lessons/saliency.py", "lessons/filters.py", "lessons/feature_maps.py")


def tiny_face_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((48, 48, 1), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(4, name="pool1")(x)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(7, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny")


@pytest.fixture
def tiny_run(monkeypatch):
    monkeypatch.setenv(STEP_CAP_VARIABLE, "3")
    registry.save_run("tiny", tiny_face_model(), {"architecture": "tiny", "dataset": "synthetic"})
    return "tiny"


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("page", PAGES)
def test_without_a_model_each_page_says_what_to_do(page):
    app = open_page(page)
    assert any("Train a network" in info.value for info in app.info)


def test_saliency_page_every_method_one_face_and_grid(tiny_run):
    app = open_page("lessons/saliency.py")
    assert len(app.get("image")) >= 1
    for method in ("SmoothGrad", "Integrated gradients", "Grad-CAM"):
        app.selectbox(key="saliency_method").set_value(method).run()
        assert not app.exception, (method, app.exception)
    assert app.selectbox(key="saliency_layer").value == "conv2"  # the last convolution by default
    app.selectbox(key="saliency_target").set_value(5).run()
    app.slider(key="saliency_threshold").set_value(0.8).run()
    assert not app.exception
    assert any("Pixels with saliency >= 0.80" in str(image.proto) for image in app.get("image"))

    app.radio(key="saliency_source").set_value("A misclassified image").run()
    assert not app.exception, app.exception
    app.radio(key="saliency_mode").set_value("Grid: several faces per class").run()
    assert not app.exception, app.exception
    assert sum("faces; the model says" in str(image.proto) for image in app.get("image")) == 7


def test_filters_page_draws_a_gallery_with_progress_and_caches_it(tiny_run):
    app = open_page("lessons/filters.py")
    assert any("press **Draw**" in info.value for info in app.info)
    app.slider(key="filters_count").set_value(4).run()
    app.button(key="filters_draw").click().run()
    assert not app.exception, app.exception
    captions = " ".join(str(image.proto) for image in app.get("image"))
    assert all(f"filter {unit}:" in captions for unit in range(4))

    app.button(key="filters_draw").click().run()
    assert any("From the cache" in caption.value for caption in app.caption)

    app.radio(key="filters_mode").set_value("What makes the network say...").run()
    app.button(key="filters_draw").click().run()
    assert not app.exception, app.exception
    assert "Happy #1" in " ".join(str(image.proto) for image in app.get("image"))


def test_feature_maps_page_shows_every_conv_and_pooling_layer(tiny_run):
    app = open_page("lessons/feature_maps.py")
    headers = [header.value for header in app.main.subheader]
    assert headers == [
        "conv1 (Conv2D): 4 maps of 48x48",
        "pool1 (MaxPooling2D): 4 maps of 12x12",
        "conv2 (Conv2D): 4 maps of 12x12",
        "pool2 (MaxPooling2D): 4 maps of 6x6",
    ]


ASSET = Path(__file__).resolve().parent / "assets" / "explain" / "drawn_face_400x300.png"


def test_photos_go_through_the_face_crop_on_the_pages(tiny_run):
    import cv2
    import numpy as np

    photo = cv2.imread(str(ASSET))
    jpeg = cv2.imencode(".jpg", photo)[1].tobytes()
    blank = cv2.imencode(".jpg", np.full((240, 320, 3), 128, np.uint8))[1].tobytes()

    app = open_page("lessons/feature_maps.py")
    app.radio(key="feature_maps_source").set_value("Camera snapshot").run()
    app.camera_input(key="feature_maps_camera").set_value(("snapshot.jpg", jpeg, "image/jpeg")).run()
    assert not app.exception, app.exception
    assert any("Face found" in str(image.proto) for image in app.get("image"))
    assert len(app.main.subheader) == 4

    app.camera_input(key="feature_maps_camera").set_value(("snapshot.jpg", blank, "image/jpeg")).run()
    assert not app.exception, app.exception
    assert any("No face found" in warning.value for warning in app.warning)
    assert len(app.main.subheader) == 0

    app = open_page("lessons/saliency.py")
    app.radio(key="saliency_source").set_value("Upload a photo").run()
    app.file_uploader(key="saliency_upload").set_value(("face.png", ASSET.read_bytes(), "image/png")).run()
    assert not app.exception, app.exception
    assert any("Overlay, opacity" in str(image.proto) for image in app.get("image"))


def test_an_ensemble_is_refused_with_a_sentence(tiny_run):
    registry.save_run("pair", None, {"members": ["tiny"], "weights": [1.0], "architecture": "ensemble", "dataset": "synthetic"})
    app = open_page("lessons/saliency.py")
    assert any("Pick a single model" in warning.value for warning in app.warning)
