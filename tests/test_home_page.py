"""The Home page on a fresh machine and with a model in the registry."""

import keras
import numpy as np
from streamlit.testing.v1 import AppTest

from fer import data, registry
from tests.conftest import REPO_ROOT


def run_home() -> AppTest:
    app = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=60)
    app.run()
    assert not app.exception
    return app


def test_fresh_machine_says_synthetic_and_how_to_get_a_model():
    app = run_home()
    warnings = " ".join(element.value for element in app.warning)
    assert "synthetic faces" in warnings
    assert "Your data" in warnings
    infos = " ".join(element.value for element in app.info)
    assert "No trained model yet" in infos


def test_shows_eight_sample_faces_of_every_expression():
    app = run_home()
    rows = app.get("image")
    assert len(rows) == data.NUM_CLASSES
    assert [len(row.proto.imgs) for row in rows] == [8] * data.NUM_CLASSES
    labels = [element.value for element in app.markdown if element.value.endswith(" faces")]
    assert labels == [f"**{emotion}**  \n400 faces" for emotion in data.EMOTIONS]


def test_lists_models_with_their_accuracy():
    inputs = keras.Input((48, 48, 1))
    outputs = keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inputs))
    registry.save_run(
        "tiny-run",
        keras.Model(inputs, outputs),
        config={"architecture": "tiny", "dataset": "synthetic"},
        metrics={"test_accuracy": 0.42},
    )
    app = run_home()
    table = app.dataframe[0].value
    assert list(table["model"]) == ["tiny-run"]
    assert np.isclose(table["accuracy"].iloc[0], 0.42)
    assert table["measured on"].iloc[0] == "test"  # the synthetic faces' test split
    assert app.sidebar.selectbox[1].value == "tiny-run"
