"""The measured results on the pages: CNN versus DNN's "Same network, better recipe" and the Train page's
recipe chooser, in English and in Traditional Chinese, with results folders in tmp_path (FER_RESULTS_DIR)."""

from __future__ import annotations

import json

import pytest

from fer import measured
from tests.i18n_checks import charts
from tests.test_i18n_pages import assert_chinese, open_page
from tests.test_measured import _no_public_test, diagonal_matrix, write_result

CNN_VS_DNN, TRAIN_PAGE = "lessons/cnn_vs_dnn.py", "lessons/train.py"
ENGLISH = {"lang": "en"}
# Names a Chinese page keeps: presets, networks, the synthetic data set's name and split.
NAMES = frozenset({"report-a", "report-b", "report-a-better", "report-b-better", "synthetic", "test", "tiny_cnn"})


@pytest.fixture(autouse=True)
def results(tmp_path, monkeypatch):
    folder = tmp_path / "results"
    monkeypatch.setenv(measured.RESULTS_DIR_VARIABLE, str(folder))
    return folder


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def metrics(app, label: str) -> list[tuple[str, str]]:
    """(value, delta) of every metric called `label`, in the page's order."""
    return [(metric.value, metric.proto.delta) for metric in app.metric if metric.label == label]


def chart_protos(app) -> list:
    """Every chart's element on the page: its Vega-Lite spec, with its data sets beside it (Arrow)."""
    found = []

    def walk(node) -> None:
        if type(node).__name__ == "UnknownElement" and hasattr(getattr(node, "proto", None), "spec"):
            found.append(node.proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app._tree)
    return found


def rules_at(app) -> list[float]:
    """The heights of the horizontal rules drawn in the page's charts (the accuracy in their data)."""
    import pyarrow

    heights = []
    for proto in chart_protos(app):
        spec = json.loads(proto.spec)
        data = {dataset.name: pyarrow.ipc.open_stream(dataset.data.data).read_pandas() for dataset in proto.datasets}
        for layer in spec.get("layer", []):
            mark = layer.get("mark")
            if (mark.get("type") if isinstance(mark, dict) else mark) == "rule":
                heights.extend(data[layer["data"]["name"]]["accuracy"].tolist())
    return heights


def choose_preset(app, name: str):
    app.selectbox(key="train_field_preset").set_value(name).run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


# ------------------------------------------------------------------------------ CNN versus DNN


def test_without_results_the_page_says_how_to_measure_them_and_what_the_recipe_changes():
    app = open_page(CNN_VS_DNN, ENGLISH)
    assert "Same network, better recipe" in texts(app.header)
    assert [text for text in texts(app.subheader) if "'s CNN" in text] == [
        "Report A's CNN (report_a_cnn)", "Report B's CNN (report_b_cnn)"]
    assert metrics(app, "The report's own figure") == [("60%", ""), ("65%", "")]
    assert metrics(app, "Better recipe, on PublicTest") == []
    assert len([text for text in texts(app.info) if text.startswith("Not measured on this installation yet")]) == 2
    assert [block.value for block in app.code] == ["python -m fer train --preset report-a-better",
                                                   "python -m fer train --preset report-b-better"]
    recipes = [text for text in texts(app.markdown) if text.startswith("What changed, with the network left as it")]
    assert len(recipes) == 2
    assert "| setting | the report's recipe | the better recipe |" in recipes[0]
    assert "| optimizer | Adam at 0.001 | SGD with Nesterov momentum at 0.02 |" in recipes[0]
    assert "| epochs | 50 | 60 |" in recipes[1] and "| epochs |" not in recipes[0]
    assert rules_at(app) == []


def test_measured_results_show_against_the_reports_own_figures():
    write_result("report-a-better", matrix=diagonal_matrix(correct=13, wrong=7), flip=0.6612,
                 curve=((1, 0.41), (2, 0.58), (3, 0.64)), minutes=30.0, figure=464.9)
    app = open_page(CNN_VS_DNN, ENGLISH)
    assert [metric.value for metric in app.metric] == ["60%", "65.0%", "66.1%", "65%"]
    assert metrics(app, "Better recipe, on PublicTest") == [("65.0%", "+5.0 points")]
    assert metrics(app, "With flip averaging") == [("66.1%", "+6.1 points")]
    captions = texts(app.caption)
    assert any(caption.startswith("Report A's figure is its validation accuracy after 30 epochs") and
               "Measured when we ran it: 65.0% on PublicTest (66.1% with flip averaging), after 30 minutes" in caption
               for caption in captions), captions
    assert rules_at(app) == [0.6]
    y_titles = [layer.get("encoding", {}).get("y", {}).get("title") for spec in charts(app)
                for layer in spec.get("layer", [])]
    assert y_titles.count("validation accuracy") == 1
    # report B has none yet: it still says how to make it
    assert len([text for text in texts(app.info) if text.startswith("Not measured on this installation yet")]) == 1


def test_the_section_reads_in_chinese_with_and_without_results():
    app = open_page(CNN_VS_DNN)
    assert "同一個網路，更好的配方" in texts(app.header)
    assert_chinese(app, NAMES)

    write_result("report-a-better")
    write_result("report-b-better", matrix=diagonal_matrix(correct=14, wrong=6))
    app = open_page(CNN_VS_DNN)
    assert metrics(app, "更好的配方，在 PublicTest 上") == [("65.0%", "+5.0 個百分點"), ("70.0%", "+5.0 個百分點")]
    assert any(caption.startswith("報告 B 的數字是它在 Kaggle 的 public 分數") for caption in texts(app.caption))
    assert rules_at(app) == [0.6, 0.65]
    assert_chinese(app, NAMES)


def test_a_broken_result_is_named_on_the_page_in_chinese_and_the_rest_still_shows():
    _no_public_test(write_result("report-a-better"))
    app = open_page(CNN_VS_DNN)
    errors = texts(app.error)
    assert len(errors) == 1 and "report-a-better/metrics.json 沒有 PublicTest 的數字" in errors[0], errors
    assert len(app.code) == 2
    assert_chinese(app, NAMES)


# ------------------------------------------------------------------------------ the Train page's recipe chooser


def test_the_recipe_chooser_says_what_a_measured_preset_measured():
    write_result("classroom-real-faces", matrix=diagonal_matrix(correct=12, wrong=8), flip=0.612, minutes=9.0,
                 figure=464.9)
    app = open_page(TRAIN_PAGE, ENGLISH)
    assert not [caption for caption in texts(app.caption) if caption.startswith("Measured when we ran it")]
    choose_preset(app, "classroom-real-faces")
    measured_lines = [caption for caption in texts(app.caption) if caption.startswith("Measured when we ran it")]
    assert measured_lines == [
        "Measured when we ran it: 60.0% on PublicTest (61.2% with flip averaging), after 9.0 minutes of training "
        "on a machine whose bare loop trains the report-A CNN at 465 images/s (about 10 minutes at 400 images/s)."]
    choose_preset(app, "report-a")  # not measured: nothing said
    assert not [caption for caption in texts(app.caption) if caption.startswith("Measured when we ran it")]


def test_the_recipe_chooser_reads_in_chinese_and_names_a_broken_result():
    write_result("classroom-real-faces")
    app = choose_preset(open_page(TRAIN_PAGE), "classroom-real-faces")
    assert any(caption.startswith("我們執行時的實測：在 PublicTest 上 65.0%") for caption in texts(app.caption))
    assert_chinese(app, NAMES)

    (measured.results_dir() / "classroom-real-faces" / "history.csv").unlink()
    app.run()
    warnings = texts(app.warning)
    assert any("classroom-real-faces/history.csv 不存在" in warning for warning in warnings), warnings
    assert_chinese(app, NAMES)
