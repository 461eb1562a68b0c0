"""The shape-arithmetic page: renders, follows presets, restores a shared link, checks with Keras."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from fer import shapes

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = str(REPO_ROOT / "streamlit_app.py")
PAGE = str(REPO_ROOT / "lessons" / "shapes.py")


def _metrics(at) -> list[str]:
    return [metric.value for metric in at.metric]


def _button(at, label):
    return next(button for button in at.button if button.label == label)


def test_page_renders_in_the_app_with_the_default_preset():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("lessons/shapes.py")
    at.run()
    assert not at.exception
    default = shapes.EXAMPLE_NETWORKS["report_b_cnn"]
    total = shapes.total_params(shapes.compute_table(default.input_shape, list(default.stack)))[0]
    assert _metrics(at) == ["(7,)", f"{total:,}", f"{total:,}"]
    assert at.query_params["stack"] == shapes.encode_stack(default.stack)


def test_choosing_a_preset_changes_table_and_url():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("lessons/shapes.py")
    at.run()
    at.selectbox(key="shapes_network").set_value("report_a_cnn").run()
    assert not at.exception
    assert _metrics(at) == ["(7,)", "1,584,199", "1,582,343"]
    assert at.query_params["stack"] == shapes.encode_stack(shapes.EXAMPLE_NETWORKS["report_a_cnn"].stack)


def test_a_shared_link_restores_the_stack_and_keras_agrees():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["input"] = "12x10x3"
    at.query_params["stack"] = "conv4-k3-psame-s2_bn_maxpool2_flatten_dense5-softmax"
    at.run()
    assert not at.exception
    # 12x10 -> same/2 -> 6x5 -> pool 2 -> 3x2 -> flatten 24 -> dense 5
    conv, batchnorm, dense = 3 * 3 * 3 * 4 + 4, 4 * 4, (3 * 2 * 4 + 1) * 5
    assert _metrics(at) == ["(5,)", f"{conv + batchnorm + dense:,}", f"{conv + batchnorm // 2 + dense:,}"]
    assert at.selectbox(key="shapes_network").value == "custom"
    assert (at.number_input(key="shapes_height").value, at.number_input(key="shapes_width").value) == (12, 10)

    _button(at, "Check with Keras").click().run()
    assert not at.exception
    assert [message.value for message in at.success] == [
        "Equal: all 6 rows have the same type, output shape and parameter count in Keras."
    ]


def test_a_link_to_a_broken_stack_explains_the_row():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["input"] = "8x8x1"
    at.query_params["stack"] = "conv4-k3_conv4-k9_flatten"
    at.run()
    assert not at.exception
    errors = [message.value for message in at.error]
    assert len(errors) == 1 and errors[0].startswith("**conv2** (Conv2D) cannot work") and "larger than" in errors[0]


def test_an_unreadable_link_falls_back_with_a_warning():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["stack"] = "conv4-k3_banana"
    at.run()
    assert not at.exception
    assert any("could not be read" in message.value for message in at.warning)
    assert _metrics(at)[1] == "4,087,323"


def test_quiz_asks_and_checks_an_answer():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["input"] = "48x48x1"
    at.query_params["stack"] = "conv64-k5"
    at.run()
    _button(at, "New question").click().run()
    question = [markdown.value for markdown in at.markdown if markdown.value.startswith(("**What", "**How"))]
    assert len(question) == 1
    answer = "44x44x64" if "output shape" in question[0] else "1,664"
    at.text_input[0].input(answer)
    _button(at, "Check my answer").click().run()
    assert not at.exception
    assert [message.value for message in at.success][0].startswith("Right")
