"""Explanations on tiny hand-built models whose right answers are known in advance.

The known-answer tests run twice: on the model as built, and on the same model saved to a
.keras file and loaded back, as the pages get it from the registry.
"""

import keras
import numpy as np
import pytest

from fer import explain
from fer.explain import base
from tests.models import flat_softmax, saved_and_reloaded, tiny_cnn

SIZE = 16
REGION = (slice(3, 7), slice(9, 13))  # the only pixels the region model's classifier reads


def region_model(seed: int = 0) -> keras.Model:
    """Conv 3x3 -> flatten -> dense softmax, with the dense weights zero outside REGION.

    The class scores can only change through the conv outputs inside REGION, which see the
    input pixels inside REGION grown by one pixel (the 3x3 kernel's reach), nothing else.
    """
    rng = np.random.default_rng(seed)
    inputs = keras.Input((SIZE, SIZE, 1))
    features = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="conv")(inputs)
    flat = keras.layers.Flatten(name="flatten")(features)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(flat)
    model = keras.Model(inputs, outputs, name="region_model")
    model.get_layer("conv").set_weights(
        [rng.uniform(0.1, 1.0, (3, 3, 1, 3)).astype("float32"), np.full(3, 0.1, "float32")]
    )
    mask = np.zeros((SIZE, SIZE, 3), "float32")
    mask[REGION] = 1.0
    kernel = rng.uniform(0.2, 1.0, (SIZE * SIZE * 3, 3)).astype("float32") * mask.reshape(-1, 1)
    model.get_layer("predictions").set_weights([kernel, np.zeros(3, "float32")])
    return model


def grown_region_mask() -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), bool)
    mask[REGION[0].start - 1 : REGION[0].stop + 1, REGION[1].start - 1 : REGION[1].stop + 1] = True
    return mask


def small_cnn(seed: int = 0) -> keras.Model:
    """16x16 -> conv1 (4, ReLU) -> max-pool 2 -> conv2 (6, linear) -> average-pool 2 -> 3 classes."""
    return tiny_cnn(seed, input_shape=(SIZE, SIZE, 1), classes=3, filters=(4, 6), pools=(2, 2))


def faces(count: int = 2, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, SIZE, SIZE), dtype=np.uint8)


@pytest.fixture(params=["as built", "saved and reloaded"])
def loaded(request, tmp_path):
    """A function giving the model as built, or the same model after a .keras round trip."""
    if request.param == "as built":
        return lambda model: model
    return lambda model: saved_and_reloaded(model, tmp_path)


@pytest.mark.parametrize("method", ["vanilla", "smoothgrad", "integrated_gradients"])
def test_saliency_points_at_the_only_region_the_model_reads(method, loaded):
    model = loaded(region_model())
    maps = explain.make_saliency_method(method, model, smooth_samples=8, integration_steps=8)(faces(), [0, 2])
    assert maps.shape == (2, SIZE, SIZE) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and np.allclose(maps.max(axis=(1, 2)), 1.0)
    inside = grown_region_mask()
    for saliency in maps:
        peak = np.unravel_index(saliency.argmax(), saliency.shape)
        assert inside[peak], f"{method} peaks at {peak}, outside the region the model reads"
        assert saliency[~inside].max() == 0.0


def test_gradcam_points_at_the_bright_patch_a_pooled_detector_responds_to(loaded):
    """Conv (positive weights, no bias) -> global average -> dense: only the patch activates the conv."""
    inputs = keras.Input((SIZE, SIZE, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="predictions")(x), name="detector")
    model.get_layer("conv").set_weights([np.full((3, 3, 1, 2), 0.5, "float32"), np.zeros(2, "float32")])
    dense = [np.array([[1.0, -1.0], [0.5, -0.5]], "float32"), np.zeros(2, "float32")]
    model.get_layer("predictions").set_weights(dense)
    model = loaded(model)
    image = np.zeros((SIZE, SIZE), np.uint8)
    image[REGION] = 255
    saliency = explain.GradCAM(model, "conv")(image, 0)[0]
    peak = np.unravel_index(saliency.argmax(), saliency.shape)
    assert grown_region_mask()[peak]
    assert saliency[grown_region_mask()].mean() > 5 * saliency[~grown_region_mask()].mean()


def test_gradcam_is_48x48_in_unit_range_on_every_spatial_layer():
    model = tiny_cnn(seed=3)
    for layer_name in explain.spatial_layer_names(model):
        maps = explain.GradCAM(model, layer_name)(np.zeros((3, 48, 48), np.uint8) + 120, [0, 1, 2])
        assert maps.shape == (3, 48, 48)
        assert maps.min() >= 0.0 and maps.max() <= 1.0
    assert explain.default_gradcam_layer(model) == "conv2"


def test_a_residual_network_is_explained_at_its_blocks_outputs_not_its_shortcuts():
    from fer import nets

    model = nets.build_resnet_narrow()
    # The last convolution in layer order is stage 4's 1x1 shortcut; the block's output is its Add.
    assert explain.conv_layer_names(model)[-1] == "stage4_shortcut"
    assert explain.default_gradcam_layer(model) == "stage4_add"
    names = explain.feature_map_layer_names(model)
    assert [name for name in names if name.endswith("_add")] == [f"stage{stage}_add" for stage in (1, 2, 3, 4)]
    assert explain.default_gradcam_layer(nets.build_vgg_narrow()) == "block4_conv2"  # no Add: the last conv


def test_integrated_gradients_add_up_to_the_score_difference(loaded):
    model = loaded(region_model())
    batch = base.as_model_batch(faces(1))
    method = explain.IntegratedGradients(model, steps=64)
    credits = method.attributions(batch, np.array([1]))
    logits = np.asarray(method.scores(np.concatenate([batch, np.zeros_like(batch)])))[:, 1]
    np.testing.assert_allclose(credits.sum(), logits[0] - logits[1], rtol=0.03)


def test_smoothgrad_is_deterministic_from_its_seed():
    model = small_cnn()  # random ReLUs switch on and off with the noise, so the seed matters
    first = explain.Saliency(model, smooth_samples=4, seed=7)(faces(), 0)
    again = explain.Saliency(model, smooth_samples=4, seed=7)(faces(), 0)
    other = explain.Saliency(model, smooth_samples=4, seed=8)(faces(), 0)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_activation_maximisation_raises_every_filter_on_average():
    model = small_cnn()
    settings = explain.AscentSettings(steps=30, learning_rate=0.1, seed=0)
    gallery = explain.maximise_activations(model, "conv2", settings=settings)
    assert gallery.images.shape == (6, SIZE, SIZE)
    assert gallery.images.min() >= 0.0 and gallery.images.max() <= 1.0
    assert np.mean(gallery.activations - gallery.start_activations) > 0
    assert np.mean(gallery.activations > gallery.start_activations) >= 5 / 6
    thirds = [chunk.mean() for chunk in np.array_split(gallery.history.mean(axis=1), 3)]
    assert thirds[0] < thirds[1] < thirds[2], thirds


@pytest.mark.parametrize("regulariser,fourier", [("total variation", False), ("none", True)])
def test_other_regularisers_and_the_fourier_parametrisation_also_climb(regulariser, fourier):
    settings = explain.AscentSettings(steps=20, learning_rate=0.1, regulariser=regulariser, fourier=fourier)
    gallery = explain.maximise_activations(small_cnn(), "conv1", units=[0, 1, 2], settings=settings)
    assert np.mean(gallery.activations - gallery.start_activations) > 0


def test_what_makes_the_network_say_class_one_raises_its_logit():
    model = small_cnn()
    settings = explain.AscentSettings(steps=20, learning_rate=0.1)
    gallery = explain.maximise_activations(model, "predictions", units=[1, 1], settings=settings)
    assert np.all(gallery.activations > gallery.start_activations)
    assert not np.array_equal(gallery.images[0], gallery.images[1])  # two different starting noises


def test_activation_maximisation_is_deterministic_and_honours_the_step_cap(monkeypatch):
    model = small_cnn()
    settings = explain.AscentSettings(steps=50, seed=4)
    monkeypatch.setenv(base.STEP_CAP_VARIABLE, "5")
    seen = []
    first = explain.maximise_activations(
        model, "conv1", settings=settings, progress=lambda done, total: seen.append((done, total))
    )
    again = explain.maximise_activations(model, "conv1", settings=settings)
    assert seen == [(step, 5) for step in range(1, 6)]
    assert first.history.shape == (5, 4)
    np.testing.assert_array_equal(first.images, again.images)
    other = explain.maximise_activations(model, "conv1", settings=explain.AscentSettings(steps=5, seed=5))
    assert not np.array_equal(first.images, other.images)


def test_filter_galleries_are_cached_by_model_file(tmp_path):
    model = small_cnn()
    model_file = tmp_path / "model.keras"
    model.save(model_file)
    from fer.explain.cache import ResultCache

    cache = ResultCache(tmp_path / "cache")
    settings = explain.AscentSettings(steps=4)
    gallery, cached = explain.cached_maximise_activations(model, model_file, "conv1", [0, 1], settings, cache=cache)
    again, cached_again = explain.cached_maximise_activations(
        model, model_file, "conv1", [0, 1], settings, cache=cache
    )
    assert (cached, cached_again) == (False, True)
    np.testing.assert_array_equal(gallery.images, again.images)
    np.testing.assert_array_equal(gallery.activations, again.activations)
    _, different_layer = explain.cached_maximise_activations(model, model_file, "conv2", [0, 1], settings, cache=cache)
    assert not different_layer


def test_feature_maps_of_every_conv_and_pooling_layer(loaded):
    model = loaded(small_cnn())
    maps = explain.feature_maps(model, faces(1)[0])
    assert [(layer.name, layer.kind, layer.maps.shape) for layer in maps] == [
        ("conv1", "Conv2D", (16, 16, 4)),
        ("pool1", "MaxPooling2D", (8, 8, 4)),
        ("conv2", "Conv2D", (8, 8, 6)),
        ("pool2", "AveragePooling2D", (4, 4, 6)),
    ]
    tiles = explain.maps_as_tiles(maps[0].maps)
    assert tiles.shape == (4, 16, 16) and tiles.dtype == np.uint8
    pooled = maps[1].maps
    np.testing.assert_allclose(pooled[0, 0], maps[0].maps[:2, :2].max(axis=(0, 1)), rtol=1e-6)


def test_masking_and_overlay():
    image = np.arange(16, dtype=np.uint8).reshape(4, 4) * 10 + 5
    saliency = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    masked, kept = explain.keep_salient_pixels(image, saliency, 0.5)
    assert kept == 0.5
    np.testing.assert_array_equal(masked[saliency < 0.5], 0)
    np.testing.assert_array_equal(masked[saliency >= 0.5], image[saliency >= 0.5])
    np.testing.assert_array_equal(explain.overlay(image, saliency, 0.0)[..., 0], image)
    grid = explain.tile_grid(np.zeros((5, 4, 4), np.uint8), columns=3)
    assert grid.shape == (2 * 4 + 1, 3 * 4 + 2)


def test_the_default_filter_layer_is_the_first_non_linear_conv_output():
    inputs = keras.Input((SIZE, SIZE, 1))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="conv_batchnorm")(x)
    x = keras.layers.ReLU(name="conv_relu")(x)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    assert explain.default_filter_layer(model) == "conv_relu"
    assert explain.default_filter_layer(small_cnn()) == "conv1"  # its conv has a built-in ReLU


def test_a_read_only_cache_costs_the_cache_not_the_gallery(tmp_path):
    from fer.explain.cache import ResultCache

    model = small_cnn()
    model_file = tmp_path / "model.keras"
    model.save(model_file)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    gallery, cached = explain.cached_maximise_activations(
        model, model_file, "conv1", [0], explain.AscentSettings(steps=2), cache=ResultCache(blocked)
    )
    assert not cached and gallery.images.shape == (1, SIZE, SIZE)


@pytest.mark.parametrize("method_id,label", list(explain.SALIENCY_METHODS.items()))
def test_each_method_is_built_by_its_id_and_carries_its_label(method_id, label):
    method = explain.make_saliency_method(method_id, small_cnn(), smooth_samples=2, integration_steps=2)
    assert (method.method_id, method.name) == (method_id, label)
    assert method.description.endswith(".")


@pytest.mark.parametrize("method_id", list(explain.SALIENCY_METHODS))
def test_every_method_gives_the_same_maps_after_a_save_and_reload(method_id, tmp_path):
    model = small_cnn()
    reloaded = saved_and_reloaded(model, tmp_path)
    options = {"smooth_samples": 3, "integration_steps": 4, "layer_name": "conv1" if method_id == "gradcam" else None}
    original = explain.make_saliency_method(method_id, model, **options)(faces(3), [0, 1, 2])
    again = explain.make_saliency_method(method_id, reloaded, **options)(faces(3), [0, 1, 2])
    assert original.max() > 0
    np.testing.assert_allclose(again, original, atol=1e-5)


def test_feature_maps_and_filter_pictures_are_the_same_after_a_save_and_reload(tmp_path):
    model = small_cnn()
    reloaded = saved_and_reloaded(model, tmp_path)
    for before, after in zip(explain.feature_maps(model, faces(1)[0]), explain.feature_maps(reloaded, faces(1)[0])):
        assert (before.name, before.kind) == (after.name, after.kind)
        np.testing.assert_allclose(after.maps, before.maps, atol=1e-5)
    settings = explain.AscentSettings(steps=5, seed=2)
    first = explain.maximise_activations(model, "conv2", units=[0, 5], settings=settings)
    again = explain.maximise_activations(reloaded, "conv2", units=[0, 5], settings=settings)
    np.testing.assert_allclose(again.images, first.images, atol=1e-5)


def _dense_only() -> keras.Model:
    return flat_softmax(input_shape=(SIZE, SIZE, 1), classes=3)


def _call(method_id, images, classes, **options):
    return explain.make_saliency_method(method_id, small_cnn(), **options)(images, classes)


RGB_FACES = np.zeros((2, SIZE, SIZE, 3), np.float32)
SALIENCY = np.linspace(0, 1, SIZE * SIZE, dtype=np.float32).reshape(SIZE, SIZE)

# (what a caller might do wrong, a fragment of the one sentence that must explain it)
case = pytest.param
BAD_INPUTS = [
    case(lambda: _call("Vanilla gradient", faces(), 0), "by its id 'vanilla'", id="a label for an id"),
    case(lambda: _call("sobel", faces(), 0), "choose one of: vanilla, smoothgrad", id="unknown method"),
    case(lambda: _call("vanilla", RGB_FACES, 0), "Expected grayscale faces", id="colour faces"),
    case(lambda: _call("vanilla", np.zeros((2, 2, 2, 2, 1)), 0), "got shape (2, 2, 2, 2, 1)", id="5-D batch"),
    case(lambda: _call("vanilla", faces(), 3), "between 0 and 2; got [3, 3]", id="class too large"),
    case(lambda: _call("smoothgrad", faces(), [0, -1]), "between 0 and 2; got [0, -1]", id="negative class"),
    case(lambda: _call("gradcam", faces(), [0, 1, 2]), "one class per face; got 3 classes", id="classes != faces"),
    case(lambda: _call("vanilla", faces(), 1.5), "whole numbers; got 1.5", id="fractional class"),
    case(lambda: _call("gradcam", faces(), 0, layer_name="flatten"), "'flatten' is not one", id="flat layer"),
    case(lambda: _call("gradcam", faces(), 0, layer_name="conv9"), "Choose one of: conv1, pool1", id="no layer"),
    case(lambda: explain.default_gradcam_layer(_dense_only()), "Grad-CAM cannot apply", id="no spatial layer"),
    case(lambda: explain.Saliency(small_cnn(), smooth_samples=-1), "smooth_samples must be 0", id="samples<0"),
    case(lambda: explain.Saliency(small_cnn(), noise_level=-0.1), "noise_level must be 0 or more", id="noise<0"),
    case(lambda: explain.IntegratedGradients(small_cnn(), steps=0), "at least 1; got 0", id="no steps"),
    case(lambda: explain.AscentSettings(steps=0), "steps must be at least 1", id="ascent without steps"),
    case(lambda: explain.AscentSettings(learning_rate=0), "learning_rate must be positive", id="rate 0"),
    case(lambda: explain.AscentSettings(regulariser="sharpen"), "blur, total variation, none", id="regulariser"),
    case(lambda: explain.AscentSettings(scale_range=1.0), "scale_range must be in [0, 1)", id="scale 1"),
    case(lambda: explain.AscentSettings(jitter_pixels=-1), "jitter_pixels must be 0 or more", id="jitter<0"),
    case(lambda: explain.AscentSettings(blur_every=0), "blur_every must be at least 1", id="blur_every 0"),
    case(lambda: explain.maximise_activations(small_cnn(), "conv1", units=[4]), "units 0..3; got [4]", id="unit"),
    case(lambda: explain.maximise_activations(small_cnn(), "conv1", units=[]), "units 0..3; got []", id="none"),
    case(lambda: explain.maximise_activations(small_cnn(), "conv9"), "no layer called 'conv9'", id="layer"),
    case(lambda: explain.feature_maps(small_cnn(), faces(2)), "one face at a time; got 2", id="two faces"),
    case(lambda: explain.feature_maps(_dense_only(), faces(1)), "no convolution or pooling", id="no maps"),
    case(lambda: explain.keep_salient_pixels(faces(1)[0], SALIENCY, 1.5), "between 0 and 1; got 1.5", id="mask"),
    case(lambda: explain.overlay(faces(1)[0], SALIENCY, 2.0), "Opacity is between 0 and 1", id="opacity"),
    case(lambda: explain.overlay(faces(1)[0], SALIENCY[:8], 0.5), "must both be (H, W)", id="sizes differ"),
    case(lambda: explain.tile_grid(np.zeros((0, 4, 4), np.uint8)), "non-empty stack", id="no tiles"),
]


@pytest.mark.parametrize("bad_call,fragment", BAD_INPUTS)
def test_a_bad_input_is_refused_with_one_sentence_that_names_it(bad_call, fragment):
    with pytest.raises(explain.ExplainError) as refused:
        bad_call()
    assert isinstance(refused.value, ValueError)  # a mistake a person can fix, not a crash
    message = str(refused.value)
    assert fragment in message and message.endswith("."), message


def test_an_unreadable_step_cap_is_refused_with_a_sentence(monkeypatch):
    monkeypatch.setenv(base.STEP_CAP_VARIABLE, "a few")
    with pytest.raises(explain.ExplainError, match=r"FER_EXPLAIN_MAX_STEPS must be a whole number; got 'a few'"):
        explain.IntegratedGradients(small_cnn(), steps=8)
