"""A residual network (`resnet_narrow`) exports to TF.js and runs in Chromium as Keras computes it.

The TF.js converter turns an Add that follows a convolution into the convolution's bias, even when
what it adds is a whole feature map (a residual connection): TensorFlow then crashed the process
while the export was checked. fer.export keeps such an Add an Add; here the bundle of an untrained
network (no bias to fuse: the Add follows the convolution directly) and of one with BatchNorm
statistics like a trained one (biases fused, the residual Add kept) answers like Keras, first in
TensorFlow (the export's own check), then in headless Chromium on the wasm backend.
"""

import json

import numpy as np
import pytest

from fer import export, nets, preprocessing, registry
from tests.test_pretrained import assert_bundle_agrees, shipped_faces
from tests.test_shipped_bundle_browser import opened_bundle, predict_in_page


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

    faces = shipped_faces()
    with opened_bundle(browser, result.folder) as page:
        in_browser = predict_in_page(page, faces)
    assert_bundle_agrees(in_browser, model.predict(preprocessing.to_model_input(faces), verbose=0),
                         metadata["weights"]["dtype"])
