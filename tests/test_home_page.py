"""The Home page on a fresh machine and with a model in the registry."""

import shutil

import keras
import numpy as np
from streamlit.testing.v1 import AppTest

from fer import data, registry
from tests.conftest import REPO_ROOT
from tests.models import registry_folder


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


def shipped_model_in(models_dir) -> registry.RunInfo:
    """A copy of the default shipped network (an ensemble may ship beside it)."""
    with registry_folder(REPO_ROOT / "models"):
        name = registry.best_shipped()
    shutil.copytree(REPO_ROOT / "models" / name, models_dir / name)
    return registry.read_run(name)


def test_shows_the_shipped_models_numbers_recall_and_cost(isolated_folders):
    run = shipped_model_in(isolated_folders[0])
    app = run_home()
    metrics = {metric.label: metric.value for metric in app.metric}
    public = run.metrics["public_test"]
    assert metrics["FER2013 PublicTest accuracy"] == f"{public['accuracy']:.1%}"
    best = max(public["accuracy_by_tta"], key=public["accuracy_by_tta"].get)
    assert metrics[f"best TTA: {best}"] == f"{public['accuracy_by_tta'][best]:.1%}"
    recall_chart = next(chart for chart in app.get("vega_lite_chart") if "(recall)" in chart.proto.spec)
    assert "Disgust" in str(recall_chart.proto)
    cost = run.config["cost"]
    captions = " ".join(caption.value for caption in app.caption)
    assert f"{cost['epochs']} epochs, {cost['quiet_hours']:.1f} hours on an idle 2-core CPU" in captions


def test_shows_the_shipped_models_cost_in_chinese(isolated_folders):
    run = shipped_model_in(isolated_folders[0])
    app = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=60)
    app.query_params["lang"] = "zh-TW"
    app.run()
    assert not app.exception
    captions = " ".join(caption.value for caption in app.caption)
    assert f"{run.config['cost']['quiet_cpu_hours']:.1f}" in captions
    assert "2-core" not in captions and "epochs" not in captions


def shipped_ensemble_in(models_dir) -> registry.RunInfo:
    """The shipped network, a copy of it as a second member, and an ensemble of the two (its numbers made up)."""
    from fer import ensemble

    network = shipped_model_in(models_dir)
    shutil.copytree(models_dir / network.name, models_dir / "pretrained-second")
    public = network.metrics["public_test"]
    ensemble.save_ensemble("pretrained-pair", [network.name, "pretrained-second"], [0.4, 0.6], dataset="fer2013",
                           metrics={"public_test": {**public, "accuracy": 0.7321,
                                                    "accuracy_by_tta": {"none": 0.7321, "flip": 0.7404}}})
    return network


def test_a_shipped_ensemble_shows_its_members_weights_and_their_summed_cost(isolated_folders):
    network = shipped_ensemble_in(isolated_folders[0])
    app = run_home()
    assert not app.exception
    headings = [element.value for element in app.subheader]
    assert "Shipped with the app: pretrained-pair" in headings
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["best TTA: flip"] == "74.0%"
    text = " ".join(element.value for element in app.markdown)
    assert f"`{network.name}` and `pretrained-second`" in text and "0.40 and 0.60" in text
    assert text.count("It is the model every page uses until you train your own.") == 1
    cost = network.config["cost"]
    captions = " ".join(caption.value for caption in app.caption)
    assert f"{2 * cost['quiet_cpu_hours']:.1f} CPU-hours in all" in captions
    parameters = [metric.value for metric in app.metric if metric.label == "parameters"]
    assert f"{2 * network.config['parameters']:,}" in parameters
