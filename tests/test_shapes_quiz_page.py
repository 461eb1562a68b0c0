"""The shape quiz keeps its answer hidden everywhere on the page until the student answers or asks for it."""

import random

import pytest
from streamlit.testing.v1 import AppTest

from fer import shapes
from tests.test_shapes_page import PAGE, _button, _metrics

# conv64-k5 on 48x48x1 has exactly two possible questions, and each answer shows in several places
ANSWERS = {"output_shape": ("(44, 44, 64)", "44"), "params": ("1,664", "1664")}


def _visible_texts(at) -> str:
    """Everything the page shows, in every tab and expander: values, labels, table cells."""
    texts = []

    def walk(node):
        if type(node).__name__ == "Dataframe":
            texts.append(node.value.to_string())
        else:
            for attribute in ("value", "label", "body", "placeholder", "help"):
                try:
                    texts.append(str(getattr(node, attribute, "") or ""))
                except Exception:  # some elements have no value to read
                    pass
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(texts)


def _asked(at) -> str:
    question = [markdown.value for markdown in at.markdown if markdown.value.startswith(("**What", "**How"))]
    assert len(question) == 1
    return "output_shape" if "output shape" in question[0] else "params"


def _open_question(at) -> str:
    _button(at, "New question").click().run()
    assert not at.exception
    return _asked(at)


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["input"] = "48x48x1"
    at.query_params["stack"] = "conv64-k5"
    at.run()
    assert not at.exception
    return at


def test_an_open_question_hides_its_answer_in_every_tab():
    at = _page()
    before = _visible_texts(at)
    assert all(answers[0] in before for answers in ANSWERS.values())  # with no question open, the page shows both
    seen = set()
    for _ in range(12):  # the question is drawn at random: ask until both kinds have been seen
        field = _open_question(at)
        seen.add(field)
        texts = _visible_texts(at)
        for answer in ANSWERS[field]:
            assert answer not in texts, f"the answer {answer!r} to the {field} question shows on the page"
        assert _metrics(at) == []
        assert "Check with Keras" not in [button.label for button in at.button]
        assert sum("A question is waiting" in message.value for message in at.info) == 2
        if seen == set(ANSWERS):
            break
    assert seen == set(ANSWERS)


def test_answering_brings_the_tables_back():
    at = _page()
    field = _open_question(at)
    at.text_input(key="shapes_quiz_answer").input("1x1x1" if field == "output_shape" else "1")
    _button(at, "Check my answer").click().run()
    assert not at.exception
    assert [message.value for message in at.error][0].startswith("Not quite: you said ")
    assert ANSWERS[field][0] in at.error[0].value
    assert _metrics(at) == ["(44, 44, 64)", "1,664", "1,664"]
    assert "Check with Keras" in [button.label for button in at.button]
    assert not [message for message in at.info if "A question is waiting" in message.value]

    _open_question(at)  # the next question hides again, with an empty answer box
    assert _metrics(at) == [] and at.text_input(key="shapes_quiz_answer").value == ""


def test_asking_for_the_answer_shows_it_and_the_tables():
    at = _page()
    field = _open_question(at)
    _button(at, "Show me the answer").click().run()
    assert not at.exception
    answer = ANSWERS[field][0]
    assert at.error[0].value.startswith(f"The answer is {answer}. Working: ")
    assert _metrics(at) == ["(44, 44, 64)", "1,664", "1,664"]


@pytest.mark.parametrize("seed", range(40))
def test_the_quiz_table_stops_at_the_question_so_the_next_row_cannot_give_it_away(seed):
    rows = shapes.compute_table((48, 48, 1), list(shapes.EXAMPLE_NETWORKS["report_b_cnn"].stack))
    quiz = shapes.make_quiz(rows, random.Random(seed))
    shown = shapes.table_records(shapes.question_rows(rows, quiz), quiz.hidden_cells)
    hidden_row = shown[-1]
    assert hidden_row[quiz.field] == "?"
    assert hidden_row["shape_formula" if quiz.field == "output_shape" else "params_formula"] == "?"
    assert [record["name"] for record in shown] == [row.name for row in rows[: quiz.row_index + 1]]
