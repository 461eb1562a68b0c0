"""The pretrained model shipped in models/: complete, loadable, honest about its accuracy, exported."""

import json
import shutil

import numpy as np
import pytest

from fer import REPO_ROOT, data, evaluate, export, preprocessing, registry, synth

SHIPPED_MODELS = REPO_ROOT / "models"
SHIPPED_BUNDLES = export.DEFAULT_EXPORTS_DIR
CLAIM_TOLERANCE = 0.005


def shipped_names() -> list[str]:
    return sorted(path.name for path in SHIPPED_MODELS.glob(f"{registry.PRETRAINED_PREFIX}*") if path.is_dir())


@pytest.fixture
def shipped(monkeypatch) -> str:
    """The shipped single network every page starts with (an ensemble may ship beside it)."""
    monkeypatch.setenv("FER_MODELS_DIR", str(SHIPPED_MODELS))
    assert shipped_names(), f"no shipped model in {SHIPPED_MODELS}"
    name = registry.default_model_name()
    assert registry.read_run(name).kind == "keras"
    return name


def test_the_shipped_model_loads_and_predicts_probabilities(shipped):
    model = registry.load_model(shipped)
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, 7)
    faces = synth.draw_faces(np.arange(14) % 7, seed=3)
    probabilities = np.asarray(model.predict(data.to_model_input(faces), verbose=0))
    assert probabilities.shape == (len(faces), 7)
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_the_shipped_model_states_its_recipe_and_its_public_test_numbers(shipped):
    run = registry.read_run(shipped)
    for key in ("architecture", "dataset", "epochs", "batch_size", "optimizer", "learning_rate", "schedule",
                "augment_flip", "augment_shift", "seed", "train_images", "library_versions"):
        assert key in run.config, key
    assert run.config["dataset"] == "fer2013" and not run.config["dataset_synthetic"]
    public = run.metrics["public_test"]
    assert public["faces"] == 3589
    matrix = np.array(public["confusion_matrix"])
    assert matrix.shape == (7, 7) and matrix.sum() == 3589
    assert public["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
    assert [row["emotion"] for row in public["per_class"]] == list(data.EMOTIONS)
    assert set(public["accuracy_by_tta"]) >= {"none", "flip"}


def test_the_shipped_model_is_what_the_shipped_model_preset_trains(shipped):
    """Home and the README tell everyone to rerun it with `--preset shipped-model`: that must be its recipe."""
    from fer.presets import PRESETS

    config = registry.read_run(shipped).config
    assert config.get("preset") == "shipped-model"
    changed = {key: (config.get(key), value) for key, value in PRESETS["shipped-model"].settings.items()
               if config.get(key) != value}
    assert not changed, f"{shipped} was trained with other settings than shipped-model's now: {changed}"


def test_every_shipped_model_fits_in_git(shipped):
    for name in shipped_names():
        model_bytes = sum(path.stat().st_size for path in (SHIPPED_MODELS / name).rglob("*") if path.is_file())
        bundle = SHIPPED_BUNDLES / name
        model_files = [path for path in bundle.glob("*") if path.is_file() and path.suffix in (".bin", ".json")]
        bundle_bytes = sum(path.stat().st_size for path in model_files)
        assert model_bytes + bundle_bytes < 20_000_000, f"{name}: {(model_bytes + bundle_bytes) / 1e6:.1f} MB"


def test_the_shipped_bundle_is_the_shipped_model(shipped):
    bundle = SHIPPED_BUNDLES / shipped
    metadata = export.read_bundle_metadata(bundle)
    assert metadata["model_name"] == shipped
    assert metadata["labels"] == list(data.EMOTIONS)
    model_json = json.loads((bundle / "model.json").read_text())
    shards = [path for group in model_json["weightsManifest"] for path in group["paths"]]
    assert shards and all((bundle / shard).is_file() for shard in shards)
    # `make` puts the page beside it, so the webcam demo works on a fresh checkout.
    assert (bundle / "index.html").is_file() and (bundle / "vendor" / "tf.min.js").is_file()


# How far a bundle's probabilities may stray from Keras's: conversion alone moves them ~1e-6
# (float32) or ~1e-3 (float16 weights); a bundle of another model is off by tenths.
BUNDLE_TOLERANCE = {"float32": 1e-4, "float16": 5e-3}


def shipped_faces() -> np.ndarray:
    """Our drawn faces, four of each expression (nothing from FER2013)."""
    return synth.draw_faces(np.repeat(np.arange(7), 4), seed=5)


def public_test_faces(fer2013_npz, per_class: int = 10) -> np.ndarray:
    images, labels = data.load_npz(fer2013_npz, name="fer2013").split("test")
    chosen = np.concatenate([np.flatnonzero(labels == emotion)[:per_class] for emotion in range(7)])
    return images[chosen]


def assert_bundle_agrees(bundle_probabilities, keras_probabilities, weights_dtype: str) -> None:
    tolerance = BUNDLE_TOLERANCE[weights_dtype]
    assert np.ptp(keras_probabilities, axis=1).min() > 0.05  # confident answers, not a flat model
    difference = np.abs(np.asarray(bundle_probabilities) - keras_probabilities)
    assert difference.max() < tolerance, (
        f"the bundle and the model differ by up to {difference.max():.3g}: a stale bundle? export the model again"
    )
    top_two = np.sort(keras_probabilities, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 2 * tolerance
    np.testing.assert_array_equal(
        np.argmax(bundle_probabilities, axis=1)[clear], np.argmax(keras_probabilities, axis=1)[clear]
    )


def bundle_against_model(shipped: str, faces: np.ndarray) -> None:
    bundle = SHIPPED_BUNDLES / shipped
    weights_dtype = export.read_bundle_metadata(bundle)["weights"]["dtype"]
    inputs = preprocessing.to_model_input(faces)
    keras_probabilities = registry.load_model(shipped).predict(inputs, verbose=0)
    assert_bundle_agrees(export.bundle_predictor(bundle)(inputs), keras_probabilities, weights_dtype)


def test_the_shipped_bundle_computes_what_the_shipped_model_computes(shipped):
    """The graph in model.json with its weight shards, run by TensorFlow in Python, against Keras."""
    bundle_against_model(shipped, shipped_faces())


def test_the_shipped_bundle_computes_what_the_shipped_model_computes_on_public_test(shipped, fer2013_npz):
    bundle_against_model(shipped, public_test_faces(fer2013_npz))


def test_pages_default_to_the_shipped_model_until_the_student_trains_one(shipped, tmp_path, monkeypatch):
    models = tmp_path / "models"
    shutil.copytree(SHIPPED_MODELS / shipped, models / shipped)
    monkeypatch.setenv("FER_MODELS_DIR", str(models))
    assert registry.default_model_name() == shipped
    registry.save_run("my-first-run", registry.load_model(shipped), {"architecture": "quick_cnn"})
    assert registry.default_model_name() == "my-first-run"


@pytest.fixture(scope="module")
def public_test_probabilities():
    """Each shipped network's PublicTest probabilities per TTA mode, computed once for the whole module.

    Flip averaging is the mean of the faces' and their mirror images' probabilities, so it reuses the
    plain ones (fer.evaluate's own TTA is held to the same mean in tests/test_evaluate.py).
    """
    from tests.conftest import FER2013_NPZ

    if not FER2013_NPZ.exists():
        pytest.skip(f"FER2013 not found at {FER2013_NPZ}")
    images, labels = data.load_npz(FER2013_NPZ, name="fer2013").split("test")
    inputs = data.to_model_input(images)
    predictors, computed = {}, {}

    def predictor(name: str):
        if name not in predictors:
            predictors[name] = evaluate.load_predictor(name)
        return predictors[name]

    def probabilities(name: str, tta: str) -> np.ndarray:
        if (name, tta) not in computed:
            if tta == "flip":
                mirrored = predictor(name).predict_proba(evaluate.flip_images(inputs))
                computed[name, tta] = (probabilities(name, "none") + mirrored) / 2
            else:
                computed[name, tta] = evaluate.with_tta(predictor(name), tta).predict_proba(inputs)
        return computed[name, tta]

    return probabilities, labels


RECALL_FLOOR = 0.40  # issue 13: every expression, Disgust included, found at least this often


def test_the_shipped_model_claims_every_expression_found_at_least_40_percent_of_the_time(shipped):
    per_class = registry.read_run(shipped).metrics["public_test"]["per_class"]
    weak = {row["emotion"]: round(row["recall"], 3) for row in per_class if row["recall"] < RECALL_FLOOR}
    assert not weak, f"recall under {RECALL_FLOOR:.0%} on PublicTest: {weak}"


SHIPPED_TARGET = 0.70  # issue 13: the default network, PublicTest, test-time augmentation allowed


def test_the_shipped_model_claims_at_least_70_percent_on_public_test(shipped):
    """The claims themselves are held to a fresh evaluation by the tests below (plain and flip)."""
    by_tta = registry.read_run(shipped).metrics["public_test"]["accuracy_by_tta"]
    best = max(by_tta, key=by_tta.get)
    assert by_tta[best] >= SHIPPED_TARGET, f"{shipped}: best {by_tta[best]:.2%} ({best}), under {SHIPPED_TARGET:.0%}"


def test_the_shipped_model_scores_what_it_claims_on_public_test(shipped, public_test_probabilities):
    probabilities, labels = public_test_probabilities
    public = registry.read_run(shipped).metrics["public_test"]
    result = evaluate.evaluate_probabilities(probabilities(shipped, "none"), labels)
    assert result.accuracy >= public["accuracy"] - CLAIM_TOLERANCE, (
        f"claimed {public['accuracy']:.4f}, measured {result.accuracy:.4f}")
    for claimed, measured in zip(public["per_class"], result.per_class(), strict=True):
        assert measured.recall >= claimed["recall"] - CLAIM_TOLERANCE, (
            f"{claimed['emotion']}: claimed recall {claimed['recall']:.4f}, measured {measured.recall:.4f}")
    np.testing.assert_allclose(result.matrix, public["confusion_matrix"], atol=len(labels) * CLAIM_TOLERANCE)


def test_the_shipped_model_scores_what_it_claims_with_flip_averaging(shipped, public_test_probabilities):
    probabilities, labels = public_test_probabilities
    claimed = registry.read_run(shipped).metrics["public_test"]["accuracy_by_tta"]["flip"]
    measured = evaluate.evaluate_probabilities(probabilities(shipped, "flip"), labels).accuracy
    assert measured >= claimed - CLAIM_TOLERANCE, f"claimed {claimed:.4f} with flips, measured {measured:.4f}"


def test_the_readme_names_the_shipped_model_and_gives_its_own_numbers(shipped):
    readme = (REPO_ROOT / "README.md").read_text()
    assert f"models/{shipped}" in readme and f"static/exports/{shipped}" in readme
    public = registry.read_run(shipped).metrics["public_test"]
    for mode, accuracy in public["accuracy_by_tta"].items():
        if mode != "crops":
            assert f"{accuracy * 100:.1f} %" in readme, f"the README lacks {mode}'s {accuracy:.1%}"
    cost = registry.read_run(shipped).config["cost"]
    assert f"{cost['quiet_hours']:.1f} hours ({cost['quiet_cpu_hours']:.1f} CPU-hours)" in readme


# ------------------------------------------------------------------------------ the shipped ensemble

@pytest.fixture
def shipped_ensemble(monkeypatch) -> str:
    monkeypatch.setenv("FER_MODELS_DIR", str(SHIPPED_MODELS))
    ensembles = [name for name in shipped_names() if registry.read_run(name).kind == "ensemble"]
    assert len(ensembles) == 1, f"expected one shipped ensemble in {SHIPPED_MODELS}, found {ensembles}"
    return ensembles[0]


def test_the_shipped_ensemble_mixes_shipped_networks_with_weights_fitted_on_validation(shipped_ensemble):
    run = registry.read_run(shipped_ensemble)
    members, weights = run.config["members"], np.array(run.config["weights"])
    assert len(members) >= 2 and all(registry.read_run(member).kind == "keras" for member in members)
    assert all(member in shipped_names() for member in members)
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0)
    assert run.metrics["validation"]["faces"] == 2872  # fitted on validation faces, never on PublicTest
    by_tta = run.metrics["public_test"]["accuracy_by_tta"]
    singles = [registry.read_run(member).metrics["public_test"]["accuracy_by_tta"] for member in members]
    for mode in ("none", "flip"):  # it adds something to its best member, mode for mode
        assert by_tta[mode] > max(single[mode] for single in singles), mode


ENSEMBLE_TARGET = 0.715  # issue 13: past the 2013 Kaggle winner (71.16 %), from CPU-trained networks


def test_the_shipped_ensemble_claims_at_least_71_5_percent_on_public_test(shipped_ensemble):
    """Its claims are held to a fresh evaluation below (plain and flip), its weights to validation above."""
    by_tta = registry.read_run(shipped_ensemble).metrics["public_test"]["accuracy_by_tta"]
    best = max(by_tta, key=by_tta.get)
    assert by_tta[best] >= ENSEMBLE_TARGET, f"best {by_tta[best]:.2%} ({best}), under {ENSEMBLE_TARGET:.1%}"


@pytest.mark.parametrize("tta", ["none", "flip"])
def test_the_shipped_ensemble_scores_what_it_claims_on_public_test(shipped_ensemble, public_test_probabilities, tta):
    """Measured afresh from its members (the mix is linear, so mixing each member's TTA is the ensemble's TTA)."""
    from fer import ensemble

    probabilities, labels = public_test_probabilities
    run = registry.read_run(shipped_ensemble)
    mixed = ensemble.combine([probabilities(member, tta) for member in run.config["members"]], run.config["weights"])
    result = evaluate.evaluate_probabilities(mixed, labels)
    public = run.metrics["public_test"]
    claimed = public["accuracy_by_tta"][tta]
    assert result.accuracy >= claimed - CLAIM_TOLERANCE, (
        f"claimed {claimed:.4f} ({tta}), measured {result.accuracy:.4f}")
    if tta == "none":
        for claim, measured in zip(public["per_class"], result.per_class(), strict=True):
            assert measured.recall >= claim["recall"] - CLAIM_TOLERANCE, claim["emotion"]
            assert claim["recall"] >= RECALL_FLOOR, claim["emotion"]
        np.testing.assert_allclose(result.matrix, public["confusion_matrix"], atol=len(labels) * CLAIM_TOLERANCE)


def test_the_readme_gives_the_shipped_ensembles_own_numbers(shipped_ensemble):
    readme = (REPO_ROOT / "README.md").read_text()
    assert f"models/{shipped_ensemble}" in readme
    table = readme.split("| FER2013 PublicTest | the ensemble |")[1].split("\n\n")[0]
    rows = {cells[0].strip(): cells[1] for cells in (line.strip("|").split("|") for line in table.splitlines()[2:])}
    for mode, accuracy in registry.read_run(shipped_ensemble).metrics["public_test"]["accuracy_by_tta"].items():
        if mode != "crops":
            label = "plain" if mode == "none" else mode
            assert f"{accuracy * 100:.1f} %" in rows[label], f"README: {rows[label]} for {mode}, not {accuracy:.1%}"
