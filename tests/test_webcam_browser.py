"""The exported webcam page in real headless Chromium with a fake camera (a y4m of a drawn face).

Parity: the same 48x48 input gives the same probabilities in the browser and in Keras.
Preprocessing parity: the page's crop of a camera frame is fer.faces' crop of that frame, and
Keras on that crop gives the page's prediction. What the page shows (the label, the seven bars)
is Python's prediction for the fake camera's face, in the bundle served alone and inside the
Streamlit page. A photo with an EXIF orientation is cropped alike by the page and by Python.
"""

import base64
import functools
import http.server
import os
import shutil
import threading

import numpy as np
import pytest

from fer import export, faces, preprocessing, registry
from fer.data import EMOTIONS
from tests.assets.faces import make_exif_face
from tests.assets.webcam.fake_camera import face_frame, write_y4m
from tests.browser import CHROMIUM, CHROMIUM_ARGS, FAKE_CAMERA_ARGS, wait_for_streamlit_page
from tests.models import batchnorm_cnn, registry_folder

READY = "() => window.ferDebug && (window.ferDebug.ready || /failed/.test(window.ferDebug.state))"
FACE_SHOWN = "() => window.ferDebug && ferDebug.last && ferDebug.last.found && ferDebug.frames > 15"
# The last analysed frame and what the page shows for it, read in one go (frames keep coming).
SHOWN = """() => ({
    snapshot: ferDebug.snapshot(),
    prediction: document.getElementById('prediction').textContent,
    bars: [...document.querySelectorAll('#bars .bar')].map(bar => ({
        label: bar.querySelector('span').textContent,
        value: bar.querySelector('.value').textContent,
        top: bar.classList.contains('top'),
    })),
})"""
# Where face_frame() puts the drawn face (x, y, side) in its default 640x480 frame: the middle.
FRAME_FACE = ((640 - 300) // 2, (480 - 300) // 2, 300)


def tiny_model(seed=0):
    # Spread the probabilities so a wrong crop or a wrong scale would show in them.
    return batchnorm_cnn(seed=seed, spread=20)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """A tiny model exported twice (float32, float16) and each bundle served by http.server."""
    root = tmp_path_factory.mktemp("webcam")
    model = tiny_model()
    with registry_folder(root / "models"):
        registry.save_run("tiny", model, {"architecture": "toy"}, metrics={"test_accuracy": 0.5})
        folders = {dtype: export.export_bundle("tiny", root / dtype, dtype).folder for dtype in export.WEIGHT_DTYPES}
    servers, urls = [], {}
    for dtype, folder in folders.items():
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls[dtype] = f"http://127.0.0.1:{server.server_address[1]}/index.html"
    yield model, folders, urls
    for server in servers:
        server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def camera_browser(browser, tmp_path_factory):
    """A second Chromium, from the same Playwright, whose camera plays a drawn face."""
    y4m = write_y4m(tmp_path_factory.mktemp("camera") / "face.y4m", [face_frame()])
    chromium = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, *FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={y4m}"],
    )
    yield chromium
    chromium.close()


def open_page(browser, url, init_script=None):
    page = browser.new_page()
    if init_script:
        page.add_init_script(init_script)
    page.goto(url)
    page.wait_for_function(READY, timeout=90_000)
    return page


def frame_of(snapshot) -> np.ndarray:
    rgba = np.frombuffer(base64.b64decode(snapshot["rgbaBase64"]), np.uint8)
    return rgba.reshape(snapshot["height"], snapshot["width"], 4)


def python_prediction(model, frame) -> tuple[faces.FaceCrop, np.ndarray]:
    """fer.faces' crop of the very frame the page analysed, and Keras's probabilities for it."""
    crop = faces.crop_face(frame)
    assert crop.found, crop.message
    return crop, model.predict(preprocessing.to_model_input(crop.face), verbose=0)[0]


def assert_page_shows(shown, probabilities, tolerance: float) -> None:
    """The page's label, its top bar and its seven percentages are Python's prediction."""
    best = int(np.argmax(probabilities))
    assert np.sort(probabilities)[-1] - np.sort(probabilities)[-2] > 2 * tolerance  # a clear winner
    assert np.abs(np.array(shown["snapshot"]["probabilities"]) - probabilities).max() < tolerance
    assert shown["snapshot"]["label"] == EMOTIONS[best]
    assert shown["prediction"].split()[0] == EMOTIONS[best]
    assert [bar["label"] for bar in shown["bars"]] == list(EMOTIONS)
    assert [bar["label"] for bar in shown["bars"] if bar["top"]] == [EMOTIONS[best]]
    percentages = np.array([float(bar["value"].rstrip("%")) for bar in shown["bars"]])
    assert np.abs(percentages - 100 * probabilities).max() <= 0.05 + 100 * tolerance


def test_the_drawn_face_is_found_by_python_where_it_was_drawn(bundles):
    model, _, _ = bundles
    crop = faces.crop_face(face_frame())
    assert crop.found
    x, y, w, h = crop.box
    left, top, side = FRAME_FACE
    assert left <= x and top <= y and x + w <= left + side and y + h <= top + side  # inside the drawing
    assert w >= 0.6 * side
    probabilities = model.predict(preprocessing.to_model_input(crop.face), verbose=0)[0]
    assert np.sort(probabilities)[-1] - np.sort(probabilities)[-2] > 0.2  # one answer stands out


@pytest.mark.parametrize("dtype", export.WEIGHT_DTYPES)
def test_same_input_same_probabilities_in_browser_and_keras(bundles, camera_browser, dtype):
    model, _, urls = bundles
    page = open_page(camera_browser, urls[dtype] + "?camera=0&backend=wasm")
    assert page.evaluate("ferDebug.state") == "ready", page.evaluate("ferDebug.message")
    assert page.evaluate("ferDebug.backend") == "wasm"
    rng = np.random.default_rng(3)
    inputs = [rng.random((48, 48), dtype=np.float32) for _ in range(3)]
    inputs.append(faces.crop_face(face_frame()).face.astype(np.float32) / 255)
    browser_probabilities = np.array([page.evaluate("x => ferDebug.predict48(x)", x.ravel().tolist()) for x in inputs])
    keras_probabilities = model.predict(np.stack(inputs)[..., None], verbose=0)
    difference = float(np.abs(browser_probabilities - keras_probabilities).max())
    print(f"\nbrowser (wasm, {dtype}) vs Keras: max abs difference {difference:.2e}")
    assert np.ptp(keras_probabilities, axis=1).min() > 0.01  # not a flat model that hides errors
    assert difference < (1e-4 if dtype == "float32" else 5e-3)
    page.close()


def test_browser_crop_is_python_crop_and_keras_agrees(bundles, camera_browser):
    model, _, urls = bundles
    page = open_page(camera_browser, urls["float32"] + "?backend=wasm")
    page.wait_for_function(FACE_SHOWN, timeout=60_000)
    snapshot = page.evaluate("ferDebug.snapshot()")
    page.close()

    frame = frame_of(snapshot)
    python = faces.crop_face(frame)
    assert python.found
    assert list(python.box) == snapshot["box"]
    assert list(python.crop_box) == snapshot["cropBox"]
    browser_face = np.array(snapshot["cropPixels"], np.uint8).reshape(48, 48)
    # Equal up to numpy's grayscale rounding of exact .5 ties (a few colours in 10^5, off by one).
    assert np.abs(browser_face.astype(int) - python.face.astype(int)).max() <= 1
    assert (browser_face == python.face).mean() > 0.99

    crop = np.array(snapshot["crop"], np.float32).reshape(1, 48, 48, 1)
    np.testing.assert_array_equal(crop[0, ..., 0], browser_face / np.float32(255))
    keras_probabilities = model.predict(crop, verbose=0)[0]
    assert np.abs(keras_probabilities - np.array(snapshot["probabilities"])).max() < 1e-4


def test_camera_page_shows_box_prediction_and_fps(bundles, camera_browser):
    model, _, urls = bundles
    page = open_page(camera_browser, urls["float16"] + "?backend=wasm")
    page.wait_for_function(FACE_SHOWN, timeout=60_000)
    page.wait_for_function("() => document.getElementById('fps').textContent !== '-'", timeout=30_000)
    assert page.evaluate("ferDebug.state") == "face"
    shown = page.evaluate(SHOWN)
    crop, probabilities = python_prediction(model, frame_of(shown["snapshot"]))
    assert shown["snapshot"]["box"] == list(crop.box)
    assert_page_shows(shown, probabilities, tolerance=5e-3)  # float16 weights
    # The camera's face, whatever frame of it the page caught, is the drawn face's answer.
    _, drawn = python_prediction(model, face_frame())
    assert shown["snapshot"]["label"] == EMOTIONS[int(np.argmax(drawn))]
    assert float(page.inner_text("#fps")) > 1
    # The box is drawn on the canvas: some pixels there are the detector's pure green.
    green = page.evaluate("""() => {
        const c = document.getElementById('view'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] === 0 && d[i + 1] === 220 && d[i + 2] === 0) n++;
        return n; }""")
    assert green > 50
    page.close()


def test_clear_states_without_camera_refused_camera_and_no_face(bundles, camera_browser, tmp_path):
    _, folders, urls = bundles
    page = open_page(camera_browser, urls["float32"] + "?backend=wasm",
                     init_script="Object.defineProperty(navigator, 'mediaDevices', {value: undefined});")
    page.wait_for_function("() => ferDebug.state === 'no-camera'", timeout=30_000)
    assert "photo" in page.inner_text("#status")

    # A photo with no face, then a photo with one, through the upload input.
    import cv2

    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 128, np.uint8))
    page.set_input_files("#file", str(blank))
    page.wait_for_function("() => ferDebug.state === 'no-face'", timeout=30_000)
    assert "No face found in wall.png" in page.inner_text("#status")
    photo = tmp_path / "face.png"
    cv2.imwrite(str(photo), cv2.cvtColor(face_frame(800, 600, 380), cv2.COLOR_RGB2BGR))
    page.set_input_files("#file", str(photo))
    page.wait_for_function("() => ferDebug.state === 'face'", timeout=30_000)
    assert page.evaluate("ferDebug.last.box") == list(faces.crop_face(cv2.imread(str(photo))[..., ::-1].copy()).box)
    page.close()

    refuse = """navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));"""
    page = open_page(camera_browser, urls["float32"] + "?backend=wasm", init_script=refuse)
    page.wait_for_function("() => ferDebug.state === 'camera-refused'", timeout=30_000)
    assert "refused" in page.inner_text("#status")
    page.close()


def test_a_photo_with_an_exif_orientation_is_cropped_alike_by_the_page_and_python(bundles, camera_browser):
    """createImageBitmap turns the sideways JPEG upright; fer.faces must too, or the crops differ."""
    model, _, urls = bundles
    page = open_page(camera_browser, urls["float32"] + "?camera=0&backend=wasm")
    page.set_input_files("#file", str(make_exif_face.ASSET))
    page.wait_for_function("() => ferDebug.state === 'face' || ferDebug.state === 'no-face'", timeout=30_000)
    shown = page.evaluate(SHOWN)
    page.close()
    snapshot = shown["snapshot"]
    assert snapshot["found"], "the page found no face in the photo"
    assert (snapshot["width"], snapshot["height"]) == (make_exif_face.UPRIGHT_WIDTH, make_exif_face.UPRIGHT_HEIGHT)

    python = faces.crop_face(make_exif_face.ASSET.read_bytes())  # the file's bytes, as an upload
    assert python.found
    assert snapshot["box"] == list(python.box)
    assert snapshot["cropBox"] == list(python.crop_box)
    page_face = np.array(snapshot["cropPixels"], np.uint8).reshape(48, 48)
    # Two JPEG decoders (Chromium's, OpenCV's libjpeg) may differ by a level here and there.
    difference = np.abs(page_face.astype(int) - python.face.astype(int))
    print(f"\nEXIF photo: crops differ by at most {difference.max()} on {(difference > 0).mean():.1%} of pixels")
    assert difference.max() <= 2
    probabilities = model.predict(preprocessing.to_model_input(python.face), verbose=0)[0]
    assert_page_shows(shown, probabilities, tolerance=2e-2)


def test_a_broken_model_says_why(bundles, camera_browser, tmp_path):
    _, folders, _ = bundles
    broken = shutil.copytree(folders["float32"], tmp_path / "broken")
    (broken / "model.json").write_text("{not json")
    handler = functools.partial(QuietHandler, directory=str(broken))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = open_page(camera_browser, f"http://127.0.0.1:{server.server_address[1]}/index.html?camera=0")
        assert page.evaluate("ferDebug.state") == "model-failed"
        assert page.inner_text("#status").startswith("The model failed to load:")
        assert len(page.inner_text("#status")) > len("The model failed to load: ") + 5
        page.close()
    finally:
        server.shutdown()


def test_streamlit_page_exports_and_embeds_the_demo(app_server, camera_browser):
    name = f"webcam-e2e-{os.getpid()}"
    model = tiny_model()
    with registry_folder(app_server.models_dir):
        registry.save_run(name, model, {"architecture": "toy", "parameters": 500})
    try:
        page = camera_browser.new_page()
        page.goto(app_server.page_url("lessons/webcam.py"))
        wait_for_streamlit_page(page)
        button = page.get_by_role("button", name="Export to TensorFlow.js")
        button.wait_for(timeout=60_000)
        button.click()
        wait_for_streamlit_page(page)
        page.get_by_text("Download the bundle").wait_for(timeout=90_000)
        with registry_folder(app_server.models_dir):
            served = export.served_name(name)  # the run's name and its secret
        frame_element = page.wait_for_selector(f'iframe[src*="exports/{served}/index.html"]', timeout=30_000)
        demo = frame_element.content_frame()
        try:
            demo.wait_for_function(FACE_SHOWN, timeout=90_000)
        except Exception:
            state = demo.evaluate("window.ferDebug && [ferDebug.state, ferDebug.message, ferDebug.frames]")
            raise AssertionError(state) from None
        assert demo.evaluate("ferDebug.state") == "face"
        # The app wrote the bundle into its own exports folder, which Streamlit serves.
        assert export.read_bundle_metadata(app_server.exports_dir / served)["model_name"] == name
        shown = demo.evaluate(SHOWN)
        crop, probabilities = python_prediction(model, frame_of(shown["snapshot"]))
        assert shown["snapshot"]["box"] == list(crop.box)
        assert_page_shows(shown, probabilities, tolerance=1e-4)  # float32, the page's default
        # No ?backend=: the page timed every backend that started and kept the fastest.
        trials = demo.evaluate("ferDebug.backendTimings")
        assert "wasm" in trials, trials
        assert demo.evaluate("ferDebug.backend") == min(trials, key=trials.get), trials
        assert page.query_selector_all('[data-testid="stException"]') == []
        page.close()
    finally:
        with registry_folder(app_server.models_dir):
            shutil.rmtree(app_server.exports_dir / export.served_name(name), ignore_errors=True)
