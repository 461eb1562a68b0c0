"""Evaluation: confusion matrix and metrics against hand-computed cases, ensemble weights where
the best combination is known, test-time augmentation on models whose symmetry is known,
and registry ensembles through load_predictor."""

import numpy as np
import pytest

from fer import ensemble, evaluate, registry
from fer.data import FaceDataset, to_model_input

# --- tiny real Keras models ---------------------------------------------------------------------


def mirror_symmetric_model(seed: int = 0):
    """Conv with left-right symmetric kernels, then global average pooling: flip cannot change it."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((48, 48, 1)),
            keras.layers.Conv2D(3, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(7, activation="softmax"),
        ]
    )
    conv = model.layers[0]
    kernel, bias = conv.get_weights()
    conv.set_weights([(kernel + kernel[:, ::-1]) / 2, bias + 0.1])
    return model


def position_sensitive_model(seed: int = 1):
    """A dense layer on the raw pixels: it sees where things are, so a mirror image changes it."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((48, 48, 1)),
            keras.layers.AveragePooling2D(4),
            keras.layers.Flatten(),
            keras.layers.Dense(7, activation="softmax", kernel_initializer=keras.initializers.RandomNormal(stddev=2.0)),
        ]
    )


def random_faces(count: int = 12, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, 48, 48), dtype=np.uint8)


def crop_reader(crop: int, seed: int = 2, layer: str = "Cropping2D"):
    """Centre crop -> flatten -> dense softmax: every pixel of the crop counts, so any wrong crop
    position changes its answer. The crop is a Cropping2D, as fer.nets builds it, or a CenterCrop,
    as runs trained before that began."""
    import keras

    keras.utils.set_random_seed(seed)
    margin = (48 - crop) // 2
    return keras.Sequential(
        [
            keras.Input((48, 48, 1)),
            keras.layers.Cropping2D(margin) if layer == "Cropping2D" else keras.layers.CenterCrop(crop, crop),
            keras.layers.Flatten(),
            keras.layers.Dense(7, activation="softmax", kernel_initializer=keras.initializers.RandomNormal(stddev=0.3)),
        ]
    )


def numpy_crop_reader(model, crops: np.ndarray) -> np.ndarray:
    """What crop_reader's dense layer says about (N, c, c, 1) crops, computed with NumPy alone."""
    kernel, bias = model.layers[-1].get_weights()
    logits = crops.reshape(len(crops), -1).astype(np.float64) @ kernel + bias
    logits -= logits.max(axis=1, keepdims=True)
    return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def ten_crops(x: np.ndarray, crop: int) -> list[np.ndarray]:
    """The centre and four corner crops of (N, 48, 48, 1) faces, each also mirrored: by slicing."""
    far = 48 - crop
    centre = far // 2
    corners = [(centre, centre), (0, 0), (0, far), (far, 0), (far, far)]
    crops = [x[:, top : top + crop, left : left + crop] for top, left in corners]
    return crops + [view[:, :, ::-1] for view in crops]


def shifted_by_hand(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """(N, 48, 48, 1) faces moved by (dy, dx), the border repeated: np.pad, not the app's code."""
    pad = max(abs(dy), abs(dx), 1)
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    return padded[:, pad - dy : pad - dy + 48, pad - dx : pad - dx + 48]


def keras_proba(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x), dtype=np.float64)


def tiny_dataset(count_per_split: int = 14) -> FaceDataset:
    labels = np.tile(np.arange(7, dtype=np.uint8), 3 * count_per_split // 7)
    splits = np.repeat(np.array(["train", "val", "test"]), count_per_split)
    return FaceDataset("tiny", random_faces(len(labels)), labels, splits, True, "random pixels")


# --- confusion matrix and metrics, by hand ------------------------------------------------------

TRUE = [0, 0, 1, 1, 1, 2]
PREDICTED = [0, 1, 1, 1, 0, 2]


def test_confusion_matrix_has_true_labels_down_and_predictions_across():
    matrix = evaluate.confusion_matrix(TRUE, PREDICTED, num_classes=3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [1, 2, 0], [0, 0, 1]])
    assert evaluate.accuracy(matrix) == pytest.approx(4 / 6)


def test_row_normalisation_gives_shares_of_each_true_class_and_zeros_for_empty_classes():
    matrix = evaluate.confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], num_classes=3)
    shares = evaluate.normalise_rows(matrix)
    np.testing.assert_allclose(shares, [[0.5, 0.5, 0], [1 / 3, 2 / 3, 0], [0, 0, 0]])


def test_per_class_precision_recall_f1_support():
    matrix = evaluate.confusion_matrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 0], num_classes=3)
    rows = evaluate.per_class_metrics(matrix, class_names=["a", "b", "c"])
    # a: 2 of 3 found (recall 2/3); 3 faces called a, 2 right (precision 2/3)
    assert (rows[0].precision, rows[0].recall, rows[0].support) == pytest.approx((2 / 3, 2 / 3, 3))
    assert rows[0].f1 == pytest.approx(2 / 3)
    # b: recall 1/2, precision 1/2
    assert (rows[1].precision, rows[1].recall) == pytest.approx((0.5, 0.5))
    # c: never right: precision 0 (1 face called c), recall 0, F1 0 rather than a division by zero
    assert (rows[2].precision, rows[2].recall, rows[2].f1, rows[2].support) == (0.0, 0.0, 0.0, 1)


def test_most_confused_pairs_are_ranked_by_count_then_share():
    matrix = np.array([[5, 3, 0], [1, 9, 0], [0, 1, 1]])
    pairs = evaluate.most_confused_pairs(matrix, top=None)
    assert [(pair.true_label, pair.predicted_label, pair.count) for pair in pairs] == [
        (0, 1, 3),
        (2, 1, 1),  # 1 of 2 faces: a bigger share than 1 of 10
        (1, 0, 1),
    ]
    assert pairs[0].share_of_true == pytest.approx(3 / 8)


def test_cell_indices_are_exactly_the_faces_in_that_cell():
    np.testing.assert_array_equal(evaluate.cell_indices(TRUE, PREDICTED, 1, 0), [4])
    np.testing.assert_array_equal(evaluate.cell_indices(TRUE, PREDICTED, 1, 1), [2, 3])
    assert evaluate.cell_indices(TRUE, PREDICTED, 2, 0).size == 0


def test_evaluation_from_probabilities_agrees_with_argmax():
    probabilities = np.eye(3)[PREDICTED] * 0.7 + 0.1
    result = evaluate.evaluate_probabilities(probabilities, np.array(TRUE))
    np.testing.assert_array_equal(result.matrix, evaluate.confusion_matrix(TRUE, PREDICTED, 3))
    assert "accuracy 0.6667" in evaluate.format_report(result, class_names=["a", "b", "c"])


def test_confusion_matrix_rejects_labels_out_of_range():
    with pytest.raises(ValueError, match="outside 0..6"):
        evaluate.confusion_matrix([0, 7], [0, 1])


# --- ensemble weights where the answer is known -------------------------------------------------


def _confident(labels, correct_mask, confidence=0.88):
    probabilities = np.full((len(labels), 7), 1 / 7)
    probabilities[correct_mask] = (1 - confidence) / 6
    probabilities[np.flatnonzero(correct_mask), labels[correct_mask]] = confidence
    return probabilities


def test_weights_go_all_to_a_perfect_model_over_noise():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, 200)
    perfect = _confident(labels, np.ones(200, bool))
    noise = rng.dirichlet(np.ones(7), 200)
    fitted = (ensemble.fit_weights([noise, perfect], labels), ensemble.fit_weights_grid([noise, perfect], labels))
    for weights in fitted:
        np.testing.assert_allclose(weights, [0, 1], atol=1e-3)


def test_weights_split_evenly_between_two_complementary_experts():
    labels = np.random.default_rng(1).integers(0, 7, 300)
    first_half = np.arange(300) % 2 == 0
    expert_a, expert_b = _confident(labels, first_half), _confident(labels, ~first_half)
    useless = np.full((300, 7), 1 / 7)
    weights = ensemble.fit_weights([expert_a, useless, expert_b], labels)
    np.testing.assert_allclose(weights, [0.5, 0, 0.5], atol=1e-3)
    np.testing.assert_allclose(ensemble.fit_weights_grid([expert_a, expert_b], labels), [0.5, 0.5])


def test_projection_onto_the_simplex():
    np.testing.assert_allclose(ensemble.project_to_simplex(np.array([2.0, 0.0, -1.0])), [1, 0, 0])
    np.testing.assert_allclose(ensemble.project_to_simplex(np.array([0.5, 0.5, 0.5])), [1 / 3] * 3)
    assert len(ensemble.simplex_grid(3, 0.5)) == 6  # (0,0,1) (0,.5,.5) (0,1,0) (.5,0,.5) (.5,.5,0) (1,0,0)


def test_comparison_reports_gain_over_best_single_and_averaging():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 7, 400)
    val, test = labels[:200], labels[200:]
    good = _confident(labels, rng.random(400) < 0.8)
    bad = rng.dirichlet(np.ones(7), 400)
    result = ensemble.compare(["good", "bad"], [good[:200], bad[:200]], val, [good[200:], bad[200:]], test)
    assert result.best_single[0] == "good"
    assert result.weights[0] > 0.9
    # all weight on the good model: the ensemble is that model, no gain, no loss
    assert result.weighted_test_accuracy == result.single_test_accuracy["good"]
    assert result.gain_over_best_single == 0
    averaged = (good[200:] + bad[200:]) / 2
    assert result.averaging_test_accuracy == pytest.approx(np.mean(averaged.argmax(axis=1) == test))
    assert result.as_metrics()["best_single_model"] == "good"
    # the fitted mixture is at least as good on validation as the better model alone
    single_val_losses = [ensemble.log_loss(p[:200], val) for p in (good, bad)]
    assert result.weighted_val_log_loss <= min(single_val_losses) + 1e-12


# --- test-time augmentation ---------------------------------------------------------------------


def test_flip_tta_leaves_a_mirror_symmetric_model_unchanged():
    base = evaluate.KerasPredictor(mirror_symmetric_model(), "symmetric")
    x = to_model_input(random_faces())
    plain = base.predict_proba(x)
    np.testing.assert_allclose(evaluate.with_tta(base, "flip").predict_proba(x), plain, atol=1e-6)
    np.testing.assert_allclose(base.predict_proba(evaluate.flip_images(x)), plain, atol=1e-6)


def test_flip_tta_changes_a_position_sensitive_model():
    base = evaluate.KerasPredictor(position_sensitive_model(), "dense")
    x = to_model_input(random_faces())
    plain = base.predict_proba(x)
    flipped = evaluate.with_tta(base, "flip").predict_proba(x)
    assert np.abs(flipped - plain).max() > 1e-3
    np.testing.assert_allclose(flipped.sum(axis=1), 1, atol=1e-5)
    # and it is exactly the mean of the two looks
    np.testing.assert_allclose(flipped, (plain + base.predict_proba(evaluate.flip_images(x))) / 2, atol=1e-6)


def test_crop_tta_on_a_blank_face_sees_the_same_face_ten_times():
    base = evaluate.KerasPredictor(position_sensitive_model(), "dense")
    blank = np.full((2, 48, 48, 1), 0.4, dtype=np.float32)
    tta = evaluate.with_tta(base, "flip+crops")
    assert len(tta.views(blank)) == 10
    np.testing.assert_allclose(tta.predict_proba(blank), base.predict_proba(blank), atol=1e-6)


def test_shift_pads_with_the_edge_pixels():
    row = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 4, 1)
    np.testing.assert_array_equal(evaluate.shift_images(row, 0, 1).ravel(), [1, 1, 2, 3])
    np.testing.assert_array_equal(evaluate.shift_images(row, 0, -2).ravel(), [3, 4, 4, 4])


def test_unknown_tta_mode_is_refused_with_the_choices():
    base = evaluate.KerasPredictor(position_sensitive_model(), "dense")
    with pytest.raises(evaluate.EvaluationError, match="flip\\+crops"):
        evaluate.with_tta(base, "rotate")


@pytest.mark.parametrize(("crop", "layer"), [(44, "Cropping2D"), (40, "Cropping2D"), (40, "CenterCrop")])
def test_ten_crop_is_the_centre_and_four_corners_each_mirrored(crop, layer):
    model = crop_reader(crop, layer=layer)
    base = evaluate.KerasPredictor(model, "crop reader")
    assert evaluate.crop_margin(base) == (48 - crop) // 2
    x = to_model_input(random_faces(6))
    by_hand = np.mean([numpy_crop_reader(model, view) for view in ten_crops(x, crop)], axis=0)
    tta = evaluate.with_tta(base, "ten-crop")
    assert len(tta.looks) == 10
    np.testing.assert_allclose(tta.predict_proba(x), by_hand, atol=1e-5)
    # and that differs from the centre crop alone, and from flip alone
    assert np.abs(by_hand - base.predict_proba(x)).max() > 1e-3
    assert np.abs(by_hand - evaluate.with_tta(base, "flip").predict_proba(x)).max() > 1e-3


def test_ten_crop_without_a_crop_layer_uses_the_corners_of_a_44_pixel_crop():
    model = position_sensitive_model()
    base = evaluate.KerasPredictor(model, "dense")
    assert evaluate.crop_margin(base) == 2
    x = to_model_input(random_faces(6))
    corners = [(0, 0), (-2, -2), (-2, 2), (2, -2), (2, 2)]
    views = [shifted_by_hand(x, dy, dx) for dy, dx in corners]
    views += [view[:, :, ::-1] for view in views]
    by_hand = np.mean([keras_proba(model, view) for view in views], axis=0)
    np.testing.assert_allclose(evaluate.with_tta(base, "ten-crop").predict_proba(x), by_hand, atol=1e-6)


class Recording:
    """A predictor that remembers how many faces each call gave it."""

    def __init__(self, base):
        self.base, self.name, self.model, self.sizes = base, base.name, base.model, []

    def predict_proba(self, x, progress=None):
        self.sizes.append(len(x))
        return self.base.predict_proba(x)


@pytest.mark.parametrize("mode", ["flip", "flip+crops", "ten-crop"])
def test_tta_in_batches_equals_all_at_once_and_never_holds_more_than_a_batch(mode):
    base = Recording(evaluate.KerasPredictor(crop_reader(44), "crop reader"))
    faces = random_faces(23)
    x = to_model_input(faces)
    looks = len(evaluate.tta_looks(mode))
    all_at_once = np.mean([base.base.predict_proba(view) for view in evaluate.TTAPredictor(base, mode).views(x)], 0)

    base.sizes.clear()
    in_batches = evaluate.TTAPredictor(base, mode, batch_size=5).predict_proba(x)
    np.testing.assert_allclose(in_batches, all_at_once, atol=1e-6)
    assert base.sizes == [5] * (4 * looks) + [3] * looks  # 23 faces in 5 batches, every look of each

    # and from uint8 faces through predict_faces: converted a batch at a time too
    base.sizes.clear()
    progress = []
    tta = evaluate.TTAPredictor(base, mode, batch_size=64)
    from_faces = evaluate.predict_faces(tta, faces, batch_size=4, progress=progress.append)
    np.testing.assert_allclose(from_faces, all_at_once, atol=1e-6)
    assert max(base.sizes) == 4 and progress[-1] == 1.0


def test_predict_faces_refuses_an_empty_split_and_a_bad_batch_size():
    base = evaluate.KerasPredictor(position_sensitive_model(), "dense")
    with pytest.raises(evaluate.EvaluationError, match="no faces"):
        evaluate.predict_faces(base, np.zeros((0, 48, 48), np.uint8))
    with pytest.raises(ValueError, match="batch_size"):
        evaluate.predict_faces(base, random_faces(2), batch_size=0)


# --- the registry: single models, ensembles, the prediction cache, the CLI ---------------------


def _save_two_models():
    registry.save_run("sym", mirror_symmetric_model(), {"architecture": "test", "dataset": "tiny"})
    registry.save_run("dense", position_sensitive_model(), {"architecture": "test", "dataset": "tiny"})


def test_load_predictor_combines_ensemble_members_with_their_weights():
    _save_two_models()
    ensemble.save_ensemble("pair", ["sym", "dense"], [0.25, 0.75], dataset="tiny", metrics={"test_accuracy": 0.5})
    assert registry.read_run("pair").kind == "ensemble"
    x = to_model_input(random_faces(5))
    expected = 0.25 * evaluate.load_predictor("sym").predict_proba(x) + 0.75 * evaluate.load_predictor(
        "dense"
    ).predict_proba(x)
    np.testing.assert_allclose(evaluate.load_predictor("pair").predict_proba(x), expected, atol=1e-6)
    # with TTA: each member's probabilities averaged over the face and its mirror, computed here
    sym, dense = mirror_symmetric_model(), position_sensitive_model()
    mirrored = x[:, :, ::-1, :]
    by_hand = 0.25 * (keras_proba(sym, x) + keras_proba(sym, mirrored)) / 2 + 0.75 * (
        keras_proba(dense, x) + keras_proba(dense, mirrored)
    ) / 2
    np.testing.assert_allclose(evaluate.load_predictor("pair", tta="flip").predict_proba(x), by_hand, atol=1e-6)
    shifts = [(0, 0), (-3, 0), (3, 0), (0, -3), (0, 3)]
    views = [shifted_by_hand(x, dy, dx) for dy, dx in shifts]
    views += [view[:, :, ::-1] for view in views]
    by_hand = 0.25 * np.mean([keras_proba(sym, view) for view in views], axis=0) + 0.75 * np.mean(
        [keras_proba(dense, view) for view in views], axis=0
    )
    np.testing.assert_allclose(
        evaluate.load_predictor("pair", tta="flip+crops").predict_proba(x), by_hand, atol=1e-6
    )


def test_ten_crop_of_an_ensemble_crops_each_member_at_its_own_size():
    registry.save_run("crop44", crop_reader(44, seed=2), {"architecture": "test", "dataset": "tiny"})
    older = crop_reader(40, seed=3, layer="CenterCrop")  # a run from before fer.nets used Cropping2D
    registry.save_run("crop40", older, {"architecture": "test", "dataset": "tiny"})
    ensemble.save_ensemble("crops", ["crop44", "crop40"], [0.4, 0.6], dataset="tiny")
    x = to_model_input(random_faces(6))
    by_hand = 0.4 * np.mean(
        [numpy_crop_reader(crop_reader(44, seed=2), view) for view in ten_crops(x, 44)], axis=0
    ) + 0.6 * np.mean([numpy_crop_reader(crop_reader(40, seed=3), view) for view in ten_crops(x, 40)], axis=0)
    np.testing.assert_allclose(evaluate.load_predictor("crops", tta="ten-crop").predict_proba(x), by_hand, atol=1e-5)


def test_an_ensemble_with_a_missing_member_says_which():
    _save_two_models()
    ensemble.save_ensemble("pair", ["sym", "dense"], [0.5, 0.5], dataset="tiny")
    registry.delete_run("dense")
    with pytest.raises(evaluate.EvaluationError, match="'dense'"):
        evaluate.load_predictor("pair")


def test_save_ensemble_refuses_missing_members_and_single_models():
    _save_two_models()
    with pytest.raises(registry.RegistryError):
        ensemble.save_ensemble("pair", ["sym", "ghost"], [0.5, 0.5], dataset="tiny")
    with pytest.raises(ValueError, match="at least two"):
        ensemble.save_ensemble("pair", ["sym"], [1.0], dataset="tiny")


def test_predict_split_is_cached_until_the_model_is_saved_again():
    _save_two_models()
    dataset = tiny_dataset()
    cache = evaluate.PredictionCache()
    first = evaluate.predict_split("dense", dataset, "test", cache=cache)
    assert evaluate.predict_split("dense", dataset, "test", cache=cache) is first
    flipped = evaluate.predict_split("dense", dataset, "test", tta="flip", cache=cache)
    assert flipped is not first and len(cache) == 2
    registry.save_run("dense", position_sensitive_model(seed=7), {"architecture": "test"}, overwrite=True)
    retrained = evaluate.predict_split("dense", dataset, "test", cache=cache)
    assert np.abs(retrained - first).max() > 1e-4


def test_a_class_asking_for_the_same_predictions_at_once_loads_the_model_once(monkeypatch):
    import threading

    _save_two_models()
    dataset = tiny_dataset()
    cache = evaluate.PredictionCache()
    loads, real_load = [], evaluate.load_predictor
    monkeypatch.setattr(evaluate, "load_predictor", lambda *args, **kwargs: loads.append(args) or real_load(
        *args, **kwargs))
    start = threading.Barrier(12)
    answers = [None] * 12

    def student(index: int) -> None:
        start.wait()
        answers[index] = evaluate.predict_split("dense", dataset, "test", cache=cache)

    threads = [threading.Thread(target=student, args=(index,)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(loads) == 1  # one model in memory and one prediction, not twelve
    assert all(answer is answers[0] for answer in answers) and answers[0].shape == (len(dataset.split("test")[1]), 7)


def test_cli_prints_accuracy_per_class_metrics_and_matrix(capsys, monkeypatch):
    from fer import data
    from fer.__main__ import main

    _save_two_models()
    dataset = tiny_dataset()
    data.save_cache("tiny", dataset.images, dataset.labels, np.array(["Training"] * len(dataset.labels)))
    images, labels = data.load_dataset("tiny").split("train")
    x = to_model_input(images)
    dense = position_sensitive_model()

    assert main(["evaluate", "--model", "dense", "--data", "tiny", "--split", "train", "--tta"]) == 0
    output = capsys.readouterr().out
    shifts = [(0, 0), (-3, 0), (3, 0), (0, -3), (0, 3)]
    views = [shifted_by_hand(x, dy, dx) for dy, dx in shifts]
    views += [view[:, :, ::-1] for view in views]
    predicted = np.mean([keras_proba(dense, view) for view in views], axis=0).argmax(axis=1)
    assert f"accuracy {np.mean(predicted == labels):.4f} on {len(labels)} faces" in output
    assert "TTA: flip+crops" in output and "confusion matrix" in output and "Surprise" in output

    assert main(["evaluate", "--model", "dense", "--data", "tiny", "--split", "train", "--tta", "ten-crop"]) == 0
    output = capsys.readouterr().out
    corners = [(0, 0), (-2, -2), (-2, 2), (2, -2), (2, 2)]  # no CenterCrop layer: the corners of 44 of 48
    views = [shifted_by_hand(x, dy, dx) for dy, dx in corners]
    views += [view[:, :, ::-1] for view in views]
    predicted = np.mean([keras_proba(dense, view) for view in views], axis=0).argmax(axis=1)
    assert "TTA: ten-crop" in output and f"accuracy {np.mean(predicted == labels):.4f}" in output
    assert main(["evaluate", "--model", "ghost", "--data", "tiny"]) == 2


def test_the_cli_offers_every_tta_mode():
    from fer.commands.evaluate import TTA_CHOICES

    assert TTA_CHOICES == evaluate.TTA_MODES
    assert set(evaluate.TTA_DESCRIPTIONS) == set(evaluate.TTA_MODES)
