"""The three explanation pages, driven by AppTest, with no model and with a tiny real one.

The pages' pictures are read back as the browser would get them (the encoded image files
Streamlit serves) and compared with what `fer.explain` computes for the same face, method and
class, so a page that shows the wrong face, the wrong method or the wrong class fails.
"""

from pathlib import Path

import cv2
import numpy as np
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from fer import explain, registry
from fer.data import EMOTIONS, load_dataset
from fer.explain.base import STEP_CAP_VARIABLE
from tests.models import save_tiny_run, tiny_cnn

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
SALIENCY, FILTERS, FEATURE_MAPS = "lessons/saliency.py", "lessons/filters.py", "lessons/feature_maps.py"
PAGES = (SALIENCY, FILTERS, FEATURE_MAPS)


@pytest.fixture
def tiny_run(monkeypatch):
    """The tiny CNN, saved as the registry's only run; explanations capped at 3 steps."""
    monkeypatch.setenv(STEP_CAP_VARIABLE, "3")
    model = tiny_cnn()
    save_tiny_run("tiny", model)
    return model


@pytest.fixture
def served(monkeypatch) -> dict[str, bytes]:
    """Every file the pages hand to Streamlit's media store, by its id, as the browser would fetch it."""
    files = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes):
            files[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    return files


def pictures(app: AppTest, served: dict[str, bytes]) -> list[tuple[str, np.ndarray]]:
    """(caption, decoded picture) of every st.image on the page, in order; RGB or grayscale uint8."""
    shown = []
    for element in app.get("image"):
        for image in element.proto.imgs:
            file_id = image.url.rsplit("/", 1)[-1].split(".")[0]
            picture = cv2.imdecode(np.frombuffer(served[file_id], np.uint8), cv2.IMREAD_UNCHANGED)
            if picture.ndim == 3:
                picture = cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)
            shown.append((image.caption, picture))
    return shown


def picture_with(shown, caption_start: str) -> np.ndarray:
    found = [picture for caption, picture in shown if caption.startswith(caption_start)]
    assert len(found) == 1, (caption_start, [caption for caption, _ in shown])
    return found[0]


def assert_shows(picture: np.ndarray, expected: np.ndarray, wrong: np.ndarray) -> None:
    """`picture` is `expected` up to JPEG's small errors, and clearly not `wrong`."""
    assert picture.shape == expected.shape, (picture.shape, expected.shape)
    error = np.abs(picture.astype(float) - expected).mean()
    confusion = np.abs(picture.astype(float) - wrong).mean()
    assert error < 8 and error < confusion / 3, (error, confusion)  # JPEG costs colour maps about 3 to 6 levels


def open_page(page: str, **query) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    return app


def synthetic_test_faces(expression: int):
    """The synthetic test split's faces of one expression, and their positions in the split."""
    images, labels = load_dataset("synthetic").split("test")
    positions = np.flatnonzero(labels == expression)
    return images, positions


@pytest.mark.parametrize("page", PAGES)
def test_without_a_model_each_page_says_what_to_do(page):
    app = open_page(page)
    assert any("Train a network" in info.value for info in app.info)


def test_saliency_page_shows_the_face_the_chosen_methods_map_and_the_models_answer(tiny_run, served):
    model = tiny_run
    app = open_page(SALIENCY)
    images, positions = synthetic_test_faces(0)
    face = images[positions[0]]  # the default: the first Angry test face
    probabilities = np.asarray(model(face[None, ..., None] / 255.0))[0]
    predicted = int(probabilities.argmax())
    other_class = (predicted + 1) % len(EMOTIONS)

    shown = pictures(app, served)
    assert len(shown) == 4
    assert_shows(picture_with(shown, f"synthetic test face #{positions[0]}: Angry"), explain.enlarge(face, 4),
                 wrong=explain.enlarge(images[positions[1]], 4))
    answer = [caption.value for caption in app.caption if caption.value.startswith("The model says")]
    assert answer[0].startswith(f"The model says **{EMOTIONS[predicted]}** ({probabilities[predicted]:.0%})")
    assert "the data set says **Angry**" in answer[0]

    for method_id, label in explain.SALIENCY_METHODS.items():
        app.selectbox(key="saliency_method").set_value(method_id).run()
        assert not app.exception, (method_id, app.exception)
        assert dict(app.query_params).get("method", "vanilla") == method_id  # the default stays out of the URL
        assert any(caption.value.startswith(f"**{label}**:") for caption in app.caption)
        if method_id == "gradcam":
            assert app.selectbox(key="saliency_layer").value == "conv2"  # the default: the last convolution
        method = explain.make_saliency_method(method_id, model)
        expected, wrong = method(face, predicted)[0], method(face, other_class)[0]  # one face a call, as the page
        shown = pictures(app, served)
        assert_shows(picture_with(shown, f"{label} for {EMOTIONS[predicted]}"),
                     explain.enlarge(explain.heatmap_rgb(expected), 4),
                     wrong=explain.enlarge(explain.heatmap_rgb(wrong), 4))

    app.selectbox(key="saliency_target").set_value(5).run()
    app.slider(key="saliency_threshold").set_value(0.8).run()
    assert not app.exception, app.exception
    saliency = explain.make_saliency_method("integrated_gradients", model)(face, 5)[0]
    masked, kept = explain.keep_salient_pixels(face, saliency, 0.8)
    shown = pictures(app, served)
    assert_shows(picture_with(shown, "Integrated gradients for Surprise"),
                 explain.enlarge(explain.heatmap_rgb(saliency), 4), wrong=np.zeros((192, 192, 3)))
    assert_shows(picture_with(shown, f"Pixels with saliency >= 0.80 ({kept:.0%} kept)"),
                 explain.enlarge(masked, 4), wrong=explain.enlarge(face, 4))


def test_saliency_grid_shows_every_class_with_the_models_answers(tiny_run, served):
    model = tiny_run
    app = open_page(SALIENCY)
    app.radio(key="saliency_mode").set_value("Grid: several faces per class").run()
    assert not app.exception, app.exception
    shown = pictures(app, served)
    assert len(shown) == len(EMOTIONS)
    for emotion, (caption, grid) in zip(EMOTIONS, shown):
        images, positions = synthetic_test_faces(EMOTIONS.index(emotion))
        predicted = np.asarray(model(images[positions[:4], ..., None] / 255.0)).argmax(axis=-1)
        assert caption == f"{emotion} faces; the model says: " + ", ".join(EMOTIONS[p] for p in predicted)
        assert grid.shape == (2 * 48, 2 * (4 * 48 + 3 * 2), 3)  # four faces, 2-pixel gaps, twice enlarged


def test_the_saliency_page_takes_a_misclassified_face(tiny_run, served):
    app = open_page(SALIENCY)
    app.radio(key="saliency_source").set_value("A misclassified image").run()
    assert not app.exception, app.exception
    caption = pictures(app, served)[0][0]
    really, says = caption.split("really ")[1].split(", the model says ")
    assert really != says, caption


def test_filters_page_draws_a_gallery_with_progress_and_caches_it(tiny_run, served):
    app = open_page(FILTERS)
    assert any("press **Draw**" in info.value for info in app.info)
    assert app.selectbox(key="filters_layer").value == "conv1"  # the first convolution with a ReLU
    app.slider(key="filters_count").set_value(4).run()
    app.button(key="filters_draw").click().run()
    assert not app.exception, app.exception
    shown = pictures(app, served)
    assert [caption.split(":")[0] for caption, _ in shown] == [f"filter {unit}" for unit in range(4)]
    assert all(picture.shape == (144, 144) for _, picture in shown)  # 48x48, three times larger
    assert all(picture.max() - picture.min() > 200 for _, picture in shown)  # contrast-stretched, not flat

    app.button(key="filters_draw").click().run()
    assert any("From the cache" in caption.value for caption in app.caption)

    app.selectbox(key="filters_layer").set_value("conv2").run()
    assert app.query_params["layer"] == "conv2"
    app.radio(key="filters_mode").set_value("class").run()
    app.button(key="filters_draw").click().run()
    assert not app.exception, app.exception
    assert [caption.split(":")[0] for caption, _ in pictures(app, served)] == [f"Happy #{n}" for n in range(1, 5)]
    assert app.query_params["draw"] == "class" and "layer" not in app.query_params
    assert any(caption.value.startswith("The activation is the class's logit") for caption in app.caption)


def test_feature_maps_page_shows_every_conv_and_pooling_layer(tiny_run, served):
    app = open_page(FEATURE_MAPS)
    headers = [header.value for header in app.main.subheader]
    assert headers == [
        "conv1 (Conv2D): 4 maps of 48x48",
        "pool1 (MaxPooling2D): 4 maps of 12x12",
        "conv2 (Conv2D): 4 maps of 12x12",
        "pool2 (AveragePooling2D): 4 maps of 6x6",
    ]
    images, positions = synthetic_test_faces(0)
    maps = explain.feature_maps(tiny_run, images[positions[0]])
    shown = pictures(app, served)
    assert shown[0][0] == f"synthetic test face #{positions[0]}: Angry"
    for layer, (_, grid) in zip(maps, shown[1:], strict=True):
        size, zoom = layer.maps.shape[0], max(1, 96 // layer.maps.shape[0])
        expected = explain.enlarge(explain.tile_grid(explain.maps_as_tiles(layer.maps), columns=4, gap=1), zoom)
        assert_shows(grid, expected, wrong=255 - expected)
        assert grid.shape == (size * zoom, (4 * size + 3) * zoom)


ASSET = Path(__file__).resolve().parent / "assets" / "explain" / "drawn_face_400x300.png"


def test_photos_go_through_the_face_crop_on_the_pages(tiny_run, served):
    photo = cv2.imread(str(ASSET))
    jpeg = cv2.imencode(".jpg", photo)[1].tobytes()
    blank = cv2.imencode(".jpg", np.full((240, 320, 3), 128, np.uint8))[1].tobytes()

    app = open_page(FEATURE_MAPS)
    app.radio(key="feature_maps_source").set_value("Camera snapshot").run()
    app.camera_input(key="feature_maps_camera").set_value(("snapshot.jpg", jpeg, "image/jpeg")).run()
    assert not app.exception, app.exception
    shown = pictures(app, served)
    assert picture_with(shown, "Face found").shape[:2] == (270, 360)  # the photo, shown 360 wide
    assert picture_with(shown, "The 48x48 face the model sees").shape == (144, 144)
    assert len(app.main.subheader) == 4

    app.camera_input(key="feature_maps_camera").set_value(("snapshot.jpg", blank, "image/jpeg")).run()
    assert not app.exception, app.exception
    assert any("No face found" in warning.value for warning in app.warning)
    assert len(app.main.subheader) == 0

    app = open_page(SALIENCY)
    app.radio(key="saliency_source").set_value("Upload a photo").run()
    app.file_uploader(key="saliency_upload").set_value(("face.png", ASSET.read_bytes(), "image/png")).run()
    assert not app.exception, app.exception
    shown = pictures(app, served)
    assert picture_with(shown, "Overlay, opacity 0.50").shape == (192, 192, 3)
    assert picture_with(shown, "uploaded photo face.png").shape == (192, 192)


def test_an_ensemble_is_refused_with_a_sentence(tiny_run):
    registry.save_run(
        "pair", None, {"members": ["tiny"], "weights": [1.0], "architecture": "ensemble", "dataset": "synthetic"}
    )
    app = open_page(SALIENCY)
    assert any("Pick a single model" in warning.value for warning in app.warning)


# ---------------------------------------------------------------- links a teacher shares


def test_a_saliency_link_opens_the_page_on_that_face_and_method(tiny_run, served):
    app = open_page(SALIENCY, method="gradcam", expression="happy", face="3")
    assert not app.warning, [warning.value for warning in app.warning]
    assert app.selectbox(key="saliency_method").value == "gradcam"
    assert app.radio(key="saliency_source").value == "Data set image"
    assert (app.selectbox(key="saliency_class").value, app.number_input(key="saliency_index").value) == (3, 3)
    images, positions = synthetic_test_faces(3)
    shown = pictures(app, served)
    assert_shows(picture_with(shown, f"synthetic test face #{positions[2]}: Happy"),
                 explain.enlarge(images[positions[2]], 4), wrong=explain.enlarge(images[positions[0]], 4))
    assert any(caption.startswith("Grad-CAM for") for caption, _ in shown)

    app.number_input(key="saliency_index").set_value(5).run()  # the page leads from now on
    assert dict(app.query_params) == {"method": "gradcam", "expression": "happy", "face": "5"}
    assert app.selectbox(key="saliency_method").value == "gradcam"


@pytest.mark.parametrize(
    "query,sentence",
    [
        ({"method": "Grad-CAM"}, "The link's method='Grad-CAM' must be one of vanilla, smoothgrad, gradcam"),
        ({"method": "sobel"}, "so the page starts from 'vanilla' instead"),
        ({"expression": "bored"}, "The link's expression='bored' must be one of angry, disgust"),
        ({"face": "0"}, "The link's face='0' must lie between 1 and 99,999"),
        ({"face": "two"}, "The link's face='two' must be a number"),
        ({"face": "2.5"}, "The link's face='2.5' must be a whole number"),
        ({"expression": "sad", "face": "51"}, "has 50 Sad faces, not 51: showing the first one"),
    ],
)
def test_a_bad_saliency_link_opens_the_page_with_a_warning(tiny_run, query, sentence):
    app = open_page(SALIENCY, **query)
    warnings = [warning.value for warning in app.warning]
    assert any(sentence in warning for warning in warnings), warnings
    assert len(app.get("image")) == 4  # the page still explains a face


def test_a_filters_link_opens_the_page_on_that_layer(tiny_run):
    app = open_page(FILTERS, layer="conv2")
    assert not app.warning, [warning.value for warning in app.warning]
    assert app.selectbox(key="filters_layer").value == "conv2"
    assert app.slider(key="filters_count").max == 4

    app = open_page(FILTERS, draw="class", expression="sad")
    assert (app.radio(key="filters_mode").value, app.selectbox(key="filters_class").value) == ("class", 4)


@pytest.mark.parametrize(
    "query,sentence",
    [
        ({"layer": "conv9"}, "The link's layer='conv9' must be one of conv1, pool1, conv2, pool2"),
        ({"layer": "predictions"}, "so the page starts from 'conv1' instead"),
        ({"draw": "everything"}, "The link's draw='everything' must be one of filters, class"),
    ],
)
def test_a_bad_filters_link_opens_the_page_with_a_warning(tiny_run, query, sentence):
    app = open_page(FILTERS, **query)
    warnings = [warning.value for warning in app.warning]
    assert any(sentence in warning for warning in warnings), warnings
    assert app.selectbox(key="filters_layer").value == "conv1"
