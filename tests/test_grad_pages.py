"""Both gradient lessons render, and showing a mistake turns the three-way verdict from pass to fail."""

import pytest
from streamlit.testing.v1 import AppTest

LESSONS = [
    ("lessons/batchnorm.py", "bn_mistake_on", "bn_mistake", "variance_sign_flipped"),
    ("lessons/softmax.py", "sm_mistake_on", "sm_mistake", "sign_flipped"),
]


def verdicts(app_test) -> list[str]:
    messages = [element.value for element in [*app_test.success, *app_test.error]]
    return [message for message in messages if message.startswith("Verdict")]


@pytest.mark.parametrize(("page", "toggle_key", "mistake_key", "mistake"), LESSONS)
def test_mistakes_toggle_turns_the_verdict_to_fail(page, toggle_key, mistake_key, mistake):
    app_test = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    app_test.run()
    app_test.switch_page(page)
    app_test.run()
    assert not app_test.exception
    assert [message.startswith("Verdict: all three agree") for message in verdicts(app_test)] == [True]

    app_test.toggle(key=toggle_key).set_value(True).run()
    app_test.selectbox(key=mistake_key).set_value(mistake).run()
    assert not app_test.exception
    assert [message.startswith("Verdict: the check FAILS") for message in verdicts(app_test)] == [True]


def test_softmax_overflow_demo_reports_the_naive_nan():
    app_test = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    app_test.run()
    app_test.switch_page("lessons/softmax.py")
    app_test.run()
    assert any("Naive loss: nan" in element.value for element in app_test.error)
    app_test.slider(key="sm_shift").set_value(0).run()
    assert not any("Naive loss" in element.value for element in app_test.error)
    assert any("no overflow" in element.value for element in app_test.success)


def test_batchnorm_harmless_mistake_still_passes_and_new_batch_draws():
    app_test = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    app_test.run()
    app_test.switch_page("lessons/batchnorm.py")
    app_test.run()
    app_test.toggle(key="bn_mistake_on").set_value(True).run()
    app_test.selectbox(key="bn_mistake").set_value("mean_missing_variance_path").run()
    assert not app_test.exception
    assert any("harmless" in message for message in verdicts(app_test))
    app_test.button(key="bn_new_batch").click().run()
    assert not app_test.exception
