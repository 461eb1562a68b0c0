"""Fixtures shared by every test.

Every test gets its own empty models/, data/ and exports/ folders (through FER_MODELS_DIR,
FER_DATA_DIR and FER_EXPORTS_DIR), so nothing a test does touches the repository's registry,
a user's imports or the bundles in static/exports.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parent.parent
FER2013_NPZ = REPO_ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.npz"


# The files that take a minute or more (`pytest --durations=0`, summed per file, 2 cores), longest
# first. `make test` hands whole files to its workers in collection order (--dist loadfile
# --no-loadscope-reorder); starting these first lets the workers end together, where xdist's own
# order (most tests first) left one worker alone with a minute-long browser test at the end.
STARTED_FIRST = (
    "test_worker.py", "test_classroom_load.py", "test_query_strings_all_pages.py", "test_class_mode_pages.py",
    "test_train_page_browser.py", "test_app_browser.py", "test_i18n_pages_train.py", "test_class_browser.py",
    "test_backends.py", "test_i18n_pages.py", "test_pretrained.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: index for index, name in enumerate(STARTED_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(autouse=True)
def isolated_folders(tmp_path, monkeypatch):
    models = tmp_path / "models"
    data = tmp_path / "data"
    models.mkdir()
    data.mkdir()
    monkeypatch.setenv("FER_MODELS_DIR", str(models))
    monkeypatch.setenv("FER_DATA_DIR", str(data))
    return models, data


@pytest.fixture(autouse=True)
def isolated_exports(tmp_path, monkeypatch) -> Path:
    """Bundles the app would serve (fer.export.export_for_app) go here, not into static/exports."""
    exports = tmp_path / "exports"
    exports.mkdir()
    monkeypatch.setenv("FER_EXPORTS_DIR", str(exports))
    return exports


@pytest.fixture
def fer2013_npz() -> Path:
    """The development copy of FER2013; tests that need it skip cleanly when it is absent."""
    if not FER2013_NPZ.exists():
        pytest.skip(f"FER2013 not found at {FER2013_NPZ}")
    return FER2013_NPZ


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """One `streamlit run` of the app for the whole session, with its own models/ and data/."""
    from tests.browser import run_streamlit

    with run_streamlit(REPO_ROOT, tmp_path_factory.mktemp("app")) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright. `make test` installs Chromium."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, launch_chromium

    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make test`, which installs it.")
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


TRAINED_RUN = "browser-trained-tiny"


@pytest.fixture(scope="session")
def trained_tiny_run(tmp_path_factory) -> Path:
    """A tiny CNN really trained on the synthetic faces, saved once per session; returns its run folder.

    tests.models.tiny_cnn with 4 and 8 filters (2,359 weights), Adam 0.005, six epochs of batch
    32 on the 2,800 training faces: about 50 % on the test split (chance: 14 %), in ten seconds on
    two cores. The run (model.keras, config, history, metrics) lives in a registry folder of its
    own; copy the folder into the registry that needs it (the app server's, a test's).
    """
    import keras

    from fer import preprocessing, synth
    from tests.models import registry_folder, save_tiny_run, tiny_cnn

    dataset = synth.default_dataset()
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = (dataset.split(s) for s in ("train", "val", "test"))
    model = tiny_cnn(seed=0, filters=(4, 8), pools=(4, 2))
    model.compile(optimizer=keras.optimizers.Adam(0.005), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fitted = model.fit(
        preprocessing.to_model_input(train_x), train_y, batch_size=32, epochs=6, verbose=0,
        validation_data=(preprocessing.to_model_input(val_x), val_y),
    )
    history = [
        {"epoch": epoch + 1, **{key: float(values[epoch]) for key, values in fitted.history.items()}}
        for epoch in range(len(fitted.history["loss"]))
    ]
    _, test_accuracy = model.evaluate(preprocessing.to_model_input(test_x), test_y, verbose=0)
    with registry_folder(tmp_path_factory.mktemp("trained") / "models"):
        return save_tiny_run(
            TRAINED_RUN, model, dataset_synthetic=True, parameters=model.count_params(), epochs=len(history),
            history_rows=history, metrics={"test_accuracy": float(test_accuracy), "chosen_epoch": len(history)},
        )
