"""The shipped TF.js bundle in real Chromium gives the shipped Keras model's answers.

Git holds the shipped model (models/pretrained-*) and its bundle (static/exports/pretrained-*:
model.json, the weight shards, metadata.json) side by side; a model trained again and not
exported again leaves a stale bundle that still loads and still names the model. Here the
bundle's own files, with today's webcam page beside them, run in headless Chromium: the page
scales each 48x48 face with the divisor metadata.json states and runs the graph model, and the
probabilities must be Keras's on the same faces. Drawn faces always; FER2013 PublicTest faces
when ../shared holds the data set (skipped otherwise).
"""

import contextlib
import functools
import http.server
import threading

import numpy as np
import pytest

from fer import export, preprocessing, registry
from tests.models import registry_folder
from tests.test_pretrained import (
    SHIPPED_BUNDLES,
    SHIPPED_MODELS,
    assert_bundle_agrees,
    public_test_faces,
    shipped_faces,
    shipped_names,
)

READY = "() => window.ferDebug && (window.ferDebug.ready || /failed/.test(window.ferDebug.state))"
PREDICT_ALL = """async (faces) => {
    const answers = [];
    for (const face of faces) answers.push(await ferDebug.predictFace(face));
    return answers;
}"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def shipped_bundle_names() -> list[str]:
    return [name for name in shipped_names() if (SHIPPED_BUNDLES / name / "model.json").is_file()]


def shipped_ensembles_without_bundle() -> list[str]:
    with registry_folder(SHIPPED_MODELS):
        return [name for name in shipped_names()
                if name not in shipped_bundle_names() and registry.read_run(name).kind == "ensemble"]


@pytest.fixture(scope="module", params=shipped_bundle_names() + shipped_ensembles_without_bundle())
def shipped_name(request) -> str:
    """A shipped bundle, or a shipped ensemble the webcam page exports on demand (exported here)."""
    return request.param


def test_the_default_model_ships_with_its_bundle():
    with registry_folder(SHIPPED_MODELS):
        assert registry.default_model_name() in shipped_bundle_names()


@pytest.fixture(scope="module")
def shipped_model(shipped_name):
    """The Keras model behind the bundle: a network, or an ensemble's members as one graph."""
    from fer.ensemble_network import load_network

    with registry_folder(SHIPPED_MODELS):
        return load_network(shipped_name)


@pytest.fixture(scope="module")
def bundle_page(shipped_name, browser, tmp_path_factory):
    """The shipped bundle (or the exported ensemble), open in Chromium."""
    if (SHIPPED_BUNDLES / shipped_name).is_dir():
        target = tmp_path_factory.mktemp("shipped") / shipped_name
        folder = export.copy_shipped_bundle(SHIPPED_BUNDLES / shipped_name, target)
    else:
        with registry_folder(SHIPPED_MODELS):
            folder = export.export_bundle(shipped_name, tmp_path_factory.mktemp("exported") / shipped_name,
                                          "float16").folder
    with opened_bundle(browser, folder) as page:
        yield page, export.read_bundle_metadata(folder)


@contextlib.contextmanager
def opened_bundle(browser, folder):
    """A bundle folder served by http.server as `python -m http.server` would, its page open in Chromium (wasm)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page()
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html?camera=0&backend=wasm")
        page.wait_for_function(READY, timeout=120_000)
        assert page.evaluate("ferDebug.ready"), page.evaluate("[ferDebug.state, ferDebug.message]")
        yield page
    finally:
        page.close()
        server.shutdown()


def predict_in_page(page, faces: np.ndarray) -> np.ndarray:
    """The bundle's probabilities for 48x48 uint8 faces, computed by the page as it does for the webcam."""
    return np.array(page.evaluate(PREDICT_ALL, [face.ravel().tolist() for face in faces]))


def browser_against_keras(bundle_page, shipped_model, faces: np.ndarray) -> None:
    page, metadata = bundle_page
    browser_probabilities = predict_in_page(page, faces)
    keras_probabilities = shipped_model.predict(preprocessing.to_model_input(faces), verbose=0)
    difference = float(np.abs(browser_probabilities - keras_probabilities).max())
    print(f"\nshipped bundle in Chromium (wasm) vs Keras on {len(faces)} faces: max abs difference {difference:.2e}")
    assert_bundle_agrees(browser_probabilities, keras_probabilities, metadata["weights"]["dtype"])


def test_the_shipped_bundle_in_chromium_answers_like_the_shipped_model(shipped_name, bundle_page, shipped_model):
    page, metadata = bundle_page
    assert metadata["model_name"] == shipped_name
    assert page.evaluate("ferDebug.backend") == "wasm"
    browser_against_keras(bundle_page, shipped_model, shipped_faces())


def test_the_shipped_bundle_in_chromium_answers_like_the_shipped_model_on_public_test(
    bundle_page, shipped_model, fer2013_npz
):
    browser_against_keras(bundle_page, shipped_model, public_test_faces(fer2013_npz))
