"""A residual network (`resnet_narrow`) exports to TF.js and runs in Chromium as Keras computes it.

The TF.js converter turns an Add that follows a convolution into the convolution's bias, even when
what it adds is a whole feature map (a residual connection): TensorFlow then crashed the process
while the export was checked. fer.export keeps such an Add an Add; here the bundle of an untrained
network (no bias to fuse: the Add follows the convolution directly) and of one with BatchNorm
statistics like a trained one (biases fused, the residual Add kept) answers like Keras, first in
TensorFlow (the export's own check), then in headless Chromium on the wasm backend.
"""

import functools
import http.server
import json
import threading

import numpy as np
import pytest

from fer import export, nets, preprocessing, registry
from tests.test_pretrained import assert_bundle_agrees, shipped_faces
from tests.test_shipped_bundle_browser import PREDICT_ALL, READY, QuietHandler


def resnet_like_trained(untrained: bool):
    model = nets.build_resnet_narrow()
    rng = np.random.default_rng(4)
    if not untrained:
        for layer in model.layers:
            if type(layer).__name__ == "BatchNormalization":
                channels = layer.gamma.shape[0]
                layer.beta.assign(rng.normal(0, 0.3, channels).astype(np.float32))
                layer.moving_mean.assign(rng.normal(0, 0.3, channels).astype(np.float32))
                layer.moving_variance.assign(rng.uniform(0.5, 2.0, channels).astype(np.float32))
    predictions = model.get_layer("predictions")
    predictions.kernel.assign(predictions.kernel * 40.0)  # confident answers, so that they can disagree
    return model


@pytest.mark.parametrize("untrained", [True, False], ids=["untrained", "batchnorm-statistics"])
def test_a_residual_networks_bundle_answers_like_keras_in_chromium(untrained, browser, tmp_path):
    model = resnet_like_trained(untrained)
    registry.save_run("residual", model, {"architecture": "resnet_narrow"})
    result = export.export_bundle("residual", tmp_path / "residual")
    metadata = export.read_bundle_metadata(result.folder)
    assert metadata["checked_against_keras"]["max_abs_difference"] < 1e-4
    nodes = json.loads((result.folder / "model.json").read_text())["modelTopology"]["node"]
    assert sum(node["op"] in ("Add", "AddV2", "AddN") for node in nodes) >= 4  # the four residual Adds stay Adds

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(result.folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page()
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html?camera=0&backend=wasm")
        page.wait_for_function(READY, timeout=120_000)
        assert page.evaluate("ferDebug.ready"), page.evaluate("[ferDebug.state, ferDebug.message]")
        faces = shipped_faces()
        in_browser = np.array(page.evaluate(PREDICT_ALL, [face.ravel().tolist() for face in faces]))
    finally:
        page.close()
        server.shutdown()
    in_keras = registry.load_model("residual").predict(preprocessing.to_model_input(faces), verbose=0)
    assert_bundle_agrees(in_browser, in_keras, metadata["weights"]["dtype"])
