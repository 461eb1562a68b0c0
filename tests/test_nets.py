"""The reports' networks, layer by layer, against the numbers report A and report B give."""

import numpy as np
import pytest

from fer import nets


def _layer_table(model):
    """(name, output shape without batch, parameter count) for every layer but the input."""
    return [
        (layer.name, tuple(layer.output.shape[1:]), layer.count_params())
        for layer in model.layers
        if type(layer).__name__ != "InputLayer"
    ]


def _trainable(model) -> int:
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def test_report_a_cnn_matches_report_a():
    model = nets.build_report_a_cnn()
    table = {name: (shape, params) for name, shape, params in _layer_table(model)}
    # conv(1->32, 5x5, pad 2), conv(32->128, 5x5, pad 2), conv(128->256, 3x3), conv(256->256, 3x3)
    expected_convs = {
        "conv1": ((48, 48, 32), 5 * 5 * 1 * 32 + 32),
        "conv2": ((24, 24, 128), 5 * 5 * 32 * 128 + 128),
        "conv3": ((12, 12, 256), 3 * 3 * 128 * 256 + 256),
        "conv4": ((6, 6, 256), 3 * 3 * 256 * 256 + 256),
    }
    for name, expected in expected_convs.items():
        assert table[name] == expected, name
    assert [table[f"pool{block}"][0][:2] for block in (1, 2, 3, 4)] == [(24, 24), (12, 12), (6, 6), (3, 3)]
    assert table["flatten"][0] == (3 * 3 * 256,)
    assert table["dense"] == ((256,), 3 * 3 * 256 * 256 + 256)
    assert table["predictions"] == ((7,), 256 * 7 + 7)
    kinds = [type(layer).__name__ for layer in model.layers[1:5]]
    assert kinds == ["Conv2D", "LeakyReLU", "BatchNormalization", "MaxPooling2D"]
    assert model.get_layer("conv1_leaky_relu").negative_slope == pytest.approx(0.05)
    # The report counts trainable parameters (PyTorch style); Keras adds BatchNorm's moving statistics.
    assert _trainable(model) == 1_582_343
    batchnorm_channels = 32 + 128 + 256 + 256 + 256
    assert model.count_params() == 1_582_343 + 2 * batchnorm_channels


REPORT_B_CNN = [
    ("conv1", (44, 44, 64), 1_664),
    ("pad1", (48, 48, 64), 0),
    ("pool1", (22, 22, 64), 0),
    ("pad2", (24, 24, 64), 0),
    ("conv2", (22, 22, 64), 36_928),
    ("pad3", (24, 24, 64), 0),
    ("conv3", (22, 22, 64), 36_928),
    ("pool2", (10, 10, 64), 0),
    ("pad4", (12, 12, 64), 0),
    ("dropout1", (12, 12, 64), 0),
    ("conv4", (10, 10, 96), 55_392),
    ("pad5", (12, 12, 96), 0),
    ("conv5", (10, 10, 128), 110_720),
    ("pad6", (12, 12, 128), 0),
    ("dropout2", (12, 12, 128), 0),
    ("conv6", (10, 10, 128), 147_584),
    ("pad7", (12, 12, 128), 0),
    ("pool3", (5, 5, 128), 0),
    ("dropout3", (5, 5, 128), 0),
    ("flatten", (3200,), 0),
    ("dense1", (900,), 2_880_900),
    ("dense2", (900,), 810_900),
    ("predictions", (7,), 6_307),
]


def test_report_b_cnn_matches_report_b_layer_by_layer():
    model = nets.build_report_b_cnn()
    assert _layer_table(model) == REPORT_B_CNN
    assert model.count_params() == 4_087_323
    assert _trainable(model) == 4_087_323
    assert type(model.get_layer("pool1")).__name__ == "MaxPooling2D"
    assert type(model.get_layer("pool2")).__name__ == "AveragePooling2D"


def test_report_b_dnn_matches_report_b():
    model = nets.build_report_b_dnn(dropout_rate=0.4)
    dense = [(shape, params) for name, shape, params in _layer_table(model) if name.startswith(("dense", "pred"))]
    widths = [2304, 1024, 1024, 768, 768, 512, 512, 7]
    assert dense == [((out,), (inp + 1) * out) for inp, out in zip(widths, widths[1:])]
    assert model.count_params() == 5_447_687
    dropouts = [layer for layer in model.layers if type(layer).__name__ == "Dropout"]
    assert len(dropouts) == 6 and all(layer.rate == pytest.approx(0.4) for layer in dropouts)


@pytest.mark.parametrize("name", sorted(nets.ARCHITECTURES))
def test_every_architecture_ends_in_softmax_and_follows_num_classes(name):
    model = nets.build_architecture(name, num_classes=5)
    assert model.output_shape == (None, 5)
    assert model.layers[-1].activation.__name__ == "softmax"
    assert not any(type(layer).__name__ == "Lambda" for layer in model.layers)
    probabilities = model(np.random.default_rng(0).random((2, 48, 48, 1), dtype=np.float32), training=False)
    np.testing.assert_allclose(np.sum(probabilities, axis=1), 1.0, rtol=1e-5)
    assert len(nets.describe_architecture(name)) > 40


def test_our_own_nets_stay_small():
    assert 80_000 < nets.build_small_cnn().count_params() < 120_000
    # float16 weights of the pretrained net must stay under 20 MB.
    assert nets.build_vgg_fer().count_params() * 2 < 20_000_000


def test_small_cnn_round_trips_through_safe_mode(tmp_path):
    import keras

    model = nets.build_small_cnn(input_shape=(16, 16, 1))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    images = np.random.default_rng(1).random((3, 16, 16, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)


def test_bad_names_and_rates_get_sentences():
    with pytest.raises(ValueError, match="Unknown architecture"):
        nets.build_architecture("resnet1000")
    with pytest.raises(ValueError, match="Unknown architecture"):
        nets.describe_architecture("resnet1000")
    with pytest.raises(ValueError, match="dropout_rate"):
        nets.build_report_b_cnn(dropout_rate=1.5)


def test_resnet_narrow_adds_each_blocks_input_back_and_counts_its_parameters():
    import keras

    model = nets.build_resnet_narrow()
    table = {name: (shape, params) for name, shape, params in _layer_table(model)}
    assert [table[f"stage{stage}_add"][0] for stage in (1, 2, 3, 4)] == [
        (44, 44, 32), (22, 22, 64), (11, 11, 128), (6, 6, 256)]
    # A 1x1 shortcut only where the shape changes: stage 1 adds its input as it is.
    assert "stage1_shortcut" not in table and all(f"stage{stage}_shortcut" in table for stage in (2, 3, 4))
    assert table["average"][0] == (256,)

    def batchnorm(channels):  # gamma, beta, moving mean and variance
        return 4 * channels

    expected = 9 * 1 * 32 + batchnorm(32)
    for before, filters in zip((32, 32, 64, 128), (32, 64, 128, 256)):
        expected += 9 * before * filters + 9 * filters * filters + 2 * batchnorm(filters)
        if before != filters:
            expected += before * filters + batchnorm(filters)
    expected += 256 * 7 + 7
    assert model.count_params() == expected

    # With its second BatchNorm silenced, a block passes its input through: the addition is there.
    silenced = model.get_layer("stage1_conv2_batchnorm")
    silenced.gamma.assign(np.zeros(32, dtype=np.float32))
    silenced.beta.assign(np.zeros(32, dtype=np.float32))
    probe = keras.Model(model.inputs, [model.get_layer("stem_conv_relu").output, model.get_layer("stage1_relu").output])
    stem, block = probe(np.random.default_rng(0).random((2, 48, 48, 1), dtype=np.float32), training=False)
    np.testing.assert_allclose(np.asarray(block), np.asarray(stem), atol=1e-6)
