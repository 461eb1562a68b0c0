"""Both gradient lessons render, showing a mistake turns the three-way verdict from pass to fail,
a link opens each page in the state it names (a bad one is a warning), and the quiz keeps its
answer off the page until the student has answered."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fer import gradient_quiz
from fer.data import EMOTIONS
from lessons._gradient_tables import numbers

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


# --- the page's state in its link -----------------------------------------------------------------


def open_with_link(page: str, query: dict) -> AppTest:
    """The page as a student opens it from a teacher's link."""
    app_test = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    app_test.run()
    app_test.switch_page(page)
    app_test.query_params.update(query)
    app_test.run()
    assert not app_test.exception, [exception.value for exception in app_test.exception]
    return app_test


def latex_text(app_test) -> str:
    return "\n".join(element.value for element in app_test.latex)


def test_softmax_link_opens_the_page_in_its_state():
    logits = np.array([0.5, -1.0, 2.0, 0.0, 1.5, -2.0, 3.0])
    query = {
        "logits": "0.5,-1,2,0,1.5,-2,3", "temperature": "2.5", "true": "Sad", "smoothing": "0.1",
        "mistake": "temperature_forgotten", "shift": "0", "quiz": "4",
    }
    app_test = open_with_link("lessons/softmax.py", query)
    assert [app_test.slider(key=f"sm_logit_{i}").value for i in range(7)] == logits.tolist()
    assert app_test.slider(key="sm_temperature").value == 2.5
    assert app_test.selectbox(key="sm_true").value == EMOTIONS.index("Sad")
    assert app_test.toggle(key="sm_mistake_on").value and app_test.selectbox(key="sm_mistake").value == query["mistake"]
    # the numbers on the page are those of the link: softmax(z / 2.5) by hand, smoothed targets
    exponentials = np.exp(logits / 2.5)
    assert numbers(exponentials / exponentials.sum(), digits=3) in latex_text(app_test)
    targets = np.full(7, 0.1 / 7)
    targets[EMOTIONS.index("Sad")] += 0.9
    assert numbers(targets, digits=3) in latex_text(app_test)
    assert [message.startswith("Verdict: the check FAILS") for message in verdicts(app_test)] == [True]
    assert any("no overflow" in element.value for element in app_test.success)  # shift 0
    assert "Question 4." in "\n".join(element.value for element in app_test.markdown)
    assert app_test.query_params == query  # the page keeps its link as it is


def test_batchnorm_link_opens_the_page_with_its_batch():
    query = {"x": "1,2,4", "dy": "0.5,-1,0.25", "gamma": "2", "beta": "-0.5", "eps": "0.01"}
    app_test = open_with_link("lessons/batchnorm.py", query)
    assert app_test.number_input(key="bn_m").value == 3
    assert (app_test.number_input(key="bn_gamma").value, app_test.number_input(key="bn_beta").value) == (2.0, -0.5)
    assert app_test.select_slider(key="bn_eps").value == 0.01
    text = latex_text(app_test)
    assert r"\mu_B = \frac{1}{m}\sum_i x_i = 2.333" in text  # (1 + 2 + 4) / 3
    assert r"(x_i-\mu_B)^2 = 1.556" in text  # (16/9 + 1/9 + 25/9) / 3
    x = np.array([1.0, 2.0, 4.0])
    x_hat = (x - x.mean()) / np.sqrt(x.var() + 0.01)
    y = 2 * x_hat - 0.5
    (forward_table,) = [frame.value for frame in app_test.dataframe if "x_hat" in frame.value.columns]
    np.testing.assert_allclose(forward_table["y"], y)
    assert not app_test.warning and app_test.query_params == query
    # a new batch keeps m and goes into the link
    app_test.button(key="bn_new_batch").click().run()
    assert len(app_test.query_params["x"].split(",")) == 3 and app_test.query_params["x"] != query["x"]


BAD_LINKS = [
    (
        "lessons/softmax.py",
        {"temperature": "abc", "logits": "1,2", "true": "Angy", "shift": "99999"},
        ["temperature='abc' must be a number", "logits='1,2' must hold exactly 7", "true='Angy' must be one of",
         "shift='99999' must lie between"],
        {"sm_temperature": 1.0, "sm_true": EMOTIONS.index("Happy"), "sm_shift": 1000},
    ),
    (
        "lessons/batchnorm.py",
        {"x": "1,2", "dy": "1,2,3", "eps": "5", "gamma": "1e9", "quiz": "-1"},
        ["eps='5' must be one of", "gamma='1e9' must lie between -100 and 100", "x has 2 numbers but its dy has 3",
         "quiz='-1' must lie between 0 and"],
        {"bn_m": 5, "bn_gamma": 1.5},
    ),
]


@pytest.mark.parametrize(("page", "query", "sentences", "defaults"), BAD_LINKS)
def test_a_bad_link_is_a_warning_and_the_page_opens_with_defaults(page, query, sentences, defaults):
    app_test = open_with_link(page, query)
    warnings = "\n".join(element.value for element in app_test.warning)
    for sentence in sentences:
        assert sentence in warnings
    for key, value in defaults.items():
        assert app_test.session_state[key] == value, key
    assert app_test.query_params == {}  # the page rewrote its link: only what differs from the defaults
    app_test.run()
    assert not app_test.warning and not app_test.exception


# --- the quiz: one term hidden until the student answers ------------------------------------------

QUIZZES = [
    ("lessons/batchnorm.py", "bn", gradient_quiz.batchnorm_question, 0),  # dl/dsigma^2
    ("lessons/batchnorm.py", "bn", gradient_quiz.batchnorm_question, 2),  # dl/dx_i
    ("lessons/softmax.py", "sm", gradient_quiz.softmax_question, 0),  # dL/dz_t
    ("lessons/softmax.py", "sm", gradient_quiz.softmax_question, 1),  # a Jacobian entry
]


def rendered(app_test) -> bytes:
    """Everything the server sent for the page: every element's protobuf, text and table bytes alike."""
    parts = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app_test._tree)
    return b"\n".join(parts)


def forms_of(value: float) -> list[bytes]:
    """The ways a number can reach a page: as text at any usual precision, or inside a table's bytes."""
    texts = {f"{value:.4g}", f"{value:.5g}", f"{value:.6g}", f"{value:.3f}", repr(value)}
    return [text.encode() for text in texts] + [np.float64(value).tobytes(), np.float32(value).tobytes()]


@pytest.mark.parametrize(("page", "prefix", "build", "number"), QUIZZES)
def test_quiz_hides_its_answer_until_the_student_answers(page, prefix, build, number):
    question = build(number)
    answer = question.check(0).expected
    app_test = open_with_link(page, {"quiz": str(number)})
    before = rendered(app_test)
    assert question.asked.encode() in before  # the question is on the page...
    for form in forms_of(answer):
        assert form not in before, form  # ...and its answer nowhere in it

    close_enough = float(f"{answer * 1.004:.4g}")  # three or four figures, not the page's own string
    app_test.number_input(key=f"{prefix}_quiz_answer").set_value(close_enough).run()
    assert f"{answer:.5g}".encode() not in rendered(app_test)  # typing is not checking
    app_test.button(key=f"{prefix}_quiz_check").click().run()
    assert not app_test.exception
    assert [element.value for element in app_test.success if element.value.startswith("Right")]
    after = rendered(app_test)
    assert f"{answer:.5g}".encode() in after
    working = latex_text(app_test)
    assert all(line in working for line in question.check(close_enough).working)


def test_quiz_says_so_when_the_answer_is_wrong_or_missing_and_new_question_moves_on():
    question = gradient_quiz.softmax_question(0)
    answer = question.check(0).expected
    app_test = open_with_link("lessons/softmax.py", {})
    app_test.button(key="sm_quiz_check").click().run()
    assert any("Type a number first" in element.value for element in app_test.warning)
    assert f"{answer:.5g}".encode() not in rendered(app_test)
    app_test.number_input(key="sm_quiz_answer").set_value(-answer).run()
    app_test.button(key="sm_quiz_check").click().run()
    assert [element.value for element in app_test.error if element.value.startswith("Not quite")]
    assert f"{answer:.5g}".encode() in rendered(app_test)

    app_test.button(key="sm_quiz_new").click().run()
    assert app_test.query_params.get("quiz") == "1"
    assert app_test.number_input(key="sm_quiz_answer").value is None
    following = gradient_quiz.softmax_question(1).check(0).expected
    assert not [element for element in app_test.error if element.value.startswith("Not quite")]
    for form in forms_of(following):
        assert form not in rendered(app_test)
