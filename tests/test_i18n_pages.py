"""The translated pages in Traditional Chinese under AppTest: no English sentence left on them
(layer names, code and formulas excepted), the language from a link, the browser, the switch,
and the choice kept when the student moves to another page."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fer.explain.base import STEP_CAP_VARIABLE
from tests.i18n_checks import charts, shown_texts, untranslated_on_page
from tests.models import save_tiny_run, tiny_cnn

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")


def open_page(page: str, query: dict | None = None, context: dict | None = None, timeout: float = 120) -> AppTest:
    """The page alone, as its script runs inside the app, with a query string and a browser context."""
    app = AppTest.from_file(str(REPO / page), default_timeout=timeout)
    app.query_params.update(query if query is not None else {"lang": "zh-TW"})
    app.context.update(context or {})
    app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def assert_chinese(app: AppTest, allowed: frozenset[str] = frozenset()) -> None:
    """Nothing left in English, and every chart draws its text with a CJK font first."""
    left = untranslated_on_page(app, allowed)
    assert left == [], "\n".join(f"{text[:120]!r}: {words}" for text, words in left)
    for spec in charts(app):
        assert spec.get("config", {}).get("font", "").startswith('"Noto Sans CJK TC"'), spec.get("title")


def button(app: AppTest, key: str | None = None, label: str | None = None):
    return next(b for b in app.button if (key is not None and b.key == key) or (label is not None and b.label == label))


# ------------------------------------------------------------------------------ shapes


def test_shapes_page_reads_in_chinese_from_start_to_quiz():
    app = open_page("lessons/shapes.py")
    assert app.title[0].value == "形狀計算"
    assert_chinese(app)
    button(app, label="用 Keras 檢查").click().run()
    assert [message.value for message in app.success][0].startswith("一致：")
    assert_chinese(app)
    button(app, label="換一題").click().run()
    assert_chinese(app)
    app.text_input[0].input("banana")
    button(app, label="檢查答案").click().run()
    assert_chinese(app)
    assert any(message.value.startswith("請先輸入") for message in [*app.success, *app.error])


def test_a_broken_shapes_link_is_explained_in_chinese():
    app = open_page("lessons/shapes.py", {"lang": "zh-TW", "input": "8x8x1", "stack": "conv4-k3_conv4-k9_flatten"})
    assert [error.value for error in app.error][0].startswith("**conv2**（Conv2D）無法運作：視窗")
    assert_chinese(app)
    app = open_page("lessons/shapes.py", {"lang": "zh-TW", "stack": "conv4-k3_banana"})
    assert any(warning.value.startswith("無法讀取連結中的堆疊") for warning in app.warning)
    assert_chinese(app)


# ------------------------------------------------------------------------------ the gradient lessons


@pytest.mark.parametrize(
    ("page", "prefix", "mistake"),
    [("lessons/batchnorm.py", "bn", "variance_sign_flipped"), ("lessons/softmax.py", "sm", "jacobian_diagonal_only")],
)
def test_gradient_lessons_read_in_chinese_with_a_mistake_and_the_quiz(page, prefix, mistake):
    app = open_page(page)
    assert_chinese(app)
    assert any(success.value.startswith("結果：三者一致") for success in app.success)
    app.toggle(key=f"{prefix}_mistake_on").set_value(True).run()
    app.selectbox(key=f"{prefix}_mistake").set_value(mistake).run()
    assert any(error.value.startswith("結果：檢查失敗") for error in app.error)
    assert_chinese(app)
    app.button(key=f"{prefix}_quiz_check").click().run()  # nothing typed: a sentence says what to do
    assert "請先輸入一個數字（例如 -0.391），再檢查。" in [warning.value for warning in app.warning]
    app.number_input(key=f"{prefix}_quiz_answer").set_value(0.5).run()
    app.button(key=f"{prefix}_quiz_check").click().run()
    assert any(message.value.startswith(("答對了", "不太對")) for message in [*app.success, *app.error])
    assert_chinese(app)


def test_the_softmax_lesson_names_the_seven_expressions_in_chinese():
    app = open_page("lessons/softmax.py", {"lang": "zh-TW", "true": "Sad", "quiz": "1"})
    assert [slider.label for slider in app.slider][:7] == ["生氣", "厭惡", "恐懼", "開心", "難過", "驚訝", "中性"]
    assert app.selectbox(key="sm_true").options[4] == "難過"
    assert any(r"\text{" in latex.value and "J_{" in latex.value for latex in app.latex)  # the Jacobian question
    assert not any("Happy" in latex.value or "Sad" in latex.value for latex in app.latex)


def test_a_bad_gradient_link_is_explained_in_chinese():
    app = open_page("lessons/softmax.py", {"lang": "zh-TW", "temperature": "abc", "logits": "1,2"})
    warnings = [warning.value for warning in app.warning]
    assert "連結中的 temperature='abc' 必須是數字，因此本頁改從 '1' 開始。" in warnings
    assert_chinese(app)


# ------------------------------------------------------------------------------ the explanation pages

PHOTO = REPO / "tests" / "assets" / "explain" / "drawn_face_400x300.png"


@pytest.fixture
def tiny_model(monkeypatch):
    """The tiny CNN as the registry's only run, explanations capped at 3 steps; its names are allowed."""
    monkeypatch.setenv(STEP_CAP_VARIABLE, "3")
    model = tiny_cnn()
    save_tiny_run("tiny", model)
    return frozenset({layer.name for layer in model.layers} | {"tiny", "synthetic"})


@pytest.mark.parametrize("page", ["lessons/saliency.py", "lessons/filters.py", "lessons/feature_maps.py"])
def test_without_a_model_the_explanation_pages_say_what_to_do_in_chinese(page):
    app = open_page(page)
    assert app.info[0].value.startswith("目前還沒有訓練好的模型")
    assert_chinese(app)


def test_saliency_page_reads_in_chinese_for_one_face_a_mistake_a_photo_and_the_grid(tiny_model):
    app = open_page("lessons/saliency.py", {"lang": "zh-TW", "method": "smoothgrad", "expression": "sad"})
    assert_chinese(app, tiny_model)
    captions = [image.caption for element in app.get("image") for image in element.proto.imgs]
    assert captions[0].endswith("：難過") and captions[1].endswith("的SmoothGrad")  # "<predicted>的SmoothGrad"
    app.radio(key="saliency_source").set_value("A misclassified image").run()
    assert_chinese(app, tiny_model)
    app.radio(key="saliency_source").set_value("Upload a photo").run()
    app.file_uploader(key="saliency_upload").set_value(("face.png", PHOTO.read_bytes(), "image/png")).run()
    assert not app.exception
    assert_chinese(app, tiny_model)
    app.selectbox(key="saliency_method").set_value("gradcam").run()
    app.radio(key="saliency_mode").set_value("Grid: several faces per class").run()
    assert not app.exception
    assert_chinese(app, tiny_model)


def test_filters_page_reads_in_chinese_for_filters_and_for_a_class(tiny_model):
    app = open_page("lessons/filters.py")
    assert_chinese(app, tiny_model)
    app.slider(key="filters_count").set_value(2).run()
    app.button(key="filters_draw").click().run()
    assert not app.exception
    assert_chinese(app, tiny_model)
    app.radio(key="filters_mode").set_value("class").run()
    app.slider(key="filters_variants").set_value(2).run()
    app.button(key="filters_draw").click().run()
    assert not app.exception
    captions = [image.caption for element in app.get("image") for image in element.proto.imgs]
    assert [caption.split(":")[0] for caption in captions] == ["開心 #1", "開心 #2"]
    assert_chinese(app, tiny_model)


def test_feature_maps_page_reads_in_chinese_with_plural_headings(tiny_model):
    app = open_page("lessons/feature_maps.py")
    assert [header.value for header in app.main.subheader][0] == "conv1（Conv2D）：4 張 48x48 的特徵圖"
    assert_chinese(app, tiny_model)
    blank = cv2.imencode(".jpg", np.full((240, 320, 3), 128, np.uint8))[1].tobytes()
    app.radio(key="feature_maps_source").set_value("Camera snapshot").run()
    app.camera_input(key="feature_maps_camera").set_value(("snapshot.jpg", blank, "image/jpeg")).run()
    assert app.warning[0].value.startswith("在這張 320x240 的照片裡找不到臉")
    assert not app.exception
    assert_chinese(app, tiny_model)


# ------------------------------------------------------------------------------ the webcam lesson


def iframe_sources(app: AppTest) -> list[str]:
    sources = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "src") and proto.src:
            sources.append(proto.src)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app._tree)
    return sources


def test_webcam_lesson_reads_in_chinese_before_and_after_an_export():
    from fer import export
    from tests.models import batchnorm_cnn

    app = open_page("lessons/webcam.py")
    assert app.info[0].value.startswith("目前還沒有訓練好的模型可以匯出")
    assert_chinese(app)

    save_tiny_run("tiny", batchnorm_cnn(seed=0), parameters=123)
    export.export_for_app("tiny", "float16")
    app = open_page("lessons/webcam.py")
    names = frozenset({"tiny", "float16", "float32", "tfjs"})
    assert_chinese(app, names)
    labels = [metric.label for metric in app.metric]
    assert labels == ["模型（權重 + 計算圖）", "整個匯出套件", "權重", "在 test 上的準確率"]
    assert any(caption.value.startswith("匯出時間 20") and "年" in caption.value for caption in app.caption)
    assert [source.split("?")[1].split("&")[-1] for source in iframe_sources(app)] == ["lang=zh-TW"]
    english = open_page("lessons/webcam.py", {"lang": "en"})
    assert [source.split("&")[-1] for source in iframe_sources(english)] == ["lang=en"]  # the demo speaks English


# ------------------------------------------------------------------------------ terms as Taiwanese courses write them

FIRST_USES = {
    "lessons/shapes.py": [
        "卷積（convolution）", "池化（pooling）", "步幅（stride）", "填補（padding）", "濾波器（filter）",
    ],
    "lessons/batchnorm.py": ["批次正規化（batch normalization）", "變異數（variance）", "梯度（gradient）"],
    "lessons/softmax.py": ["交叉熵（cross-entropy）", "標籤平滑（label smoothing）", "雅可比矩陣（Jacobian）",
                           "溢位（overflow）"],
    "lessons/saliency.py": ["顯著圖**（saliency map）", "梯度**（gradient）"],
    "lessons/filters.py": [
        "濾波器（filter）", "激活最大化**（activation maximisation）", "全變分**（total variation）",
    ],
    "lessons/feature_maps.py": ["特徵圖**（feature map）", "池化（pooling）", "卷積層（convolution layer）"],
    "lessons/webcam.py": ["匯出（export）", "Haar 串聯分類器**（Haar cascade）"],
}


@pytest.mark.parametrize("page", list(FIRST_USES))
def test_each_page_gives_the_english_term_once_beside_the_taiwanese_one(page):
    text = "\n".join(shown_texts(open_page(page)))
    for term in FIRST_USES[page]:
        assert text.count(term) == 1, (term, text.count(term))


# ------------------------------------------------------------------------------ choosing the language


def test_the_browser_language_decides_when_the_link_says_nothing():
    chinese = open_page("lessons/shapes.py", query={}, context={"locale": "zh-TW"})
    assert chinese.title[0].value == "形狀計算" and "lang" not in chinese.query_params
    english = open_page("lessons/shapes.py", query={}, context={"locale": "en-US"})
    assert english.title[0].value == "Shape arithmetic"
    unknown = open_page("lessons/shapes.py", query={}, context={"locale": "fr-FR"})
    assert unknown.title[0].value == "Shape arithmetic"


def test_a_link_beats_the_browser_and_stays_in_the_address():
    app = open_page("lessons/shapes.py", query={"lang": "en"}, context={"locale": "zh-TW"})
    assert app.title[0].value == "Shape arithmetic"
    assert app.query_params["lang"] == "en"


def test_an_unknown_language_in_a_link_is_a_warning_in_the_readers_language():
    app = open_page("lessons/shapes.py", query={"lang": "klingon"}, context={"locale": "zh-TW"})
    assert app.title[0].value == "形狀計算"
    assert [warning.value for warning in app.warning] == [
        "連結中的 lang='klingon' 不是本課程提供的語言（en, zh-TW）：本頁以繁體中文顯示。"
    ]


def test_the_choice_survives_a_page_switch():
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("lessons/shapes.py")
    app.query_params["lang"] = "zh-TW"
    app.run()
    assert app.title[0].value == "形狀計算"
    app.query_params.clear()  # moving through the sidebar's navigation drops the page's query string
    app.switch_page("lessons/softmax.py")
    app.run()
    assert not app.exception
    assert app.title[0].value == "Softmax 與交叉熵"
    assert app.query_params["lang"] == "zh-TW"  # and it goes back into the link


def switch_script():
    import streamlit as st

    from fer.i18n import _
    from lessons._language import language_switch, page_language

    page_language()
    with st.sidebar:
        language_switch()
    st.title(_("Shape arithmetic"))


def test_the_sidebar_switch_changes_the_language_and_the_link():
    app = AppTest.from_function(switch_script, default_timeout=30)
    app.context["locale"] = "en-US"
    app.run()
    assert app.title[0].value == "Shape arithmetic"
    switch = app.sidebar.selectbox(key="language_switch")
    assert switch.options == ["English", "繁體中文"]
    switch.set_value("zh-TW").run()
    assert app.title[0].value == "形狀計算"
    assert app.query_params["lang"] == "zh-TW"
    app.sidebar.selectbox(key="language_switch").set_value("en").run()
    assert app.title[0].value == "Shape arithmetic" and app.query_params["lang"] == "en"


def test_the_checker_sees_english_left_on_a_page():
    app = open_page("lessons/shapes.py", query={}, context={"locale": "en-US"})
    assert any("Shape arithmetic" == text for text in shown_texts(app))
    assert untranslated_on_page(app)


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("卷積（convolution）層", []),
        ("批次正規化 (batch normalization) 之後", []),
        ("Keras 的 `padding=\"same\"`", []),
        ("conv1 (Conv2D)", []),
        ("Shape arithmetic", ["Shape", "arithmetic"]),
        ("形狀 and parameters here", ["and parameters here"]),
        ("Happy", ["Happy"]),
        ("開心 #1", []),
    ],
)
def test_the_checker_allows_names_and_glosses_and_catches_english(text, left):
    from tests.i18n_checks import english_left

    assert english_left(text) == left
