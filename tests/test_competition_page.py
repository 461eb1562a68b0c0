"""The Competition page through AppTest, in laptop mode: a practice round, a submission, the boards, the reveal."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from fer import competition
from tests.models import pooled_softmax, save_tiny_run
from tests.test_competition import write_kaggle_cache

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
PAGE = "lessons/competition.py"


def open_competition_page(dataset: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    if dataset:
        app.session_state["sidebar_dataset"] = dataset
    app.run()
    app.switch_page(PAGE)
    app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def texts(app: AppTest) -> str:
    parts = [e.value for e in (*app.markdown, *app.info, *app.caption, *app.success, *app.error, *app.subheader)]
    return "\n".join(str(part) for part in parts)


def test_without_a_competition_the_page_says_how_to_open_one():
    app = open_competition_page()
    assert "No competition is open yet. Open one above." in texts(app)
    assert app.button(key="competition_practice").label == "Open a practice round"


def test_a_laptop_user_opens_a_practice_round_on_public_test_and_submits(monkeypatch, tmp_path):
    monkeypatch.setenv("FER_COMPETITIONS_FILE", str(tmp_path / "page.sqlite3"))
    write_kaggle_cache()
    save_tiny_run("mine", pooled_softmax(seed=3), dataset="kaggle")
    app = open_competition_page(dataset="kaggle")
    app.button(key="competition_practice").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    assert app.selectbox(key="competition_choice").value == "practice-kaggle"
    assert "kaggle's PublicTest faces cut in two at random (seed 0): 35 public, 35 private" in texts(app)

    app.selectbox(key="competition_run").set_value("mine")
    app.selectbox(key="competition_tta").set_value("flip")
    app.button(key="competition_submit").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    boards = competition.boards("practice-kaggle")
    score = boards.public[0].best_score
    assert f"mine with TTA flip: **{score:.2%}** on PublicTest's public half. 1 of 5 submissions used today." in texts(
        app)
    public = app.dataframe[0].value
    assert list(public["student"]) == ["you"] and list(public["submissions"]) == [1]
    assert "Private board" not in texts(app) and len(app.dataframe) == 1
    assert "stays on the server until the teacher reveals it" in texts(app)

    app.button(key="competition_reveal").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    private = app.dataframe[1].value
    assert list(private["student"]) == ["you"] and private["private score"][0] == competition.boards(
        "practice-kaggle").private[0].score
    assert "Private board (PublicTest's private half)" in texts(app)


def test_the_teacher_opens_a_competition_with_the_form_and_bad_input_gets_a_sentence(monkeypatch, tmp_path):
    import datetime

    monkeypatch.setenv("FER_COMPETITIONS_FILE", str(tmp_path / "form.sqlite3"))
    write_kaggle_cache()
    app = open_competition_page()
    app.text_input(key="competition_new_name").set_value("fer-term")
    app.selectbox(key="competition_new_dataset").set_value("kaggle")
    app.date_input(key="competition_new_day").set_value(datetime.date.today() - datetime.timedelta(days=1))
    app.button(key="FormSubmitter:competition_open-Open the competition").click().run()
    assert "has already passed: give one in the future" in texts(app)
    assert competition.list_competitions() == []

    app.date_input(key="competition_new_day").set_value(datetime.date.today() + datetime.timedelta(days=30))
    app.time_input(key="competition_new_time").set_value(datetime.time(17, 30))
    app.number_input(key="competition_new_limit").set_value(2)
    app.button(key="FormSubmitter:competition_open-Open the competition").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    opened = competition.get_competition("fer-term")
    assert (opened.dataset, opened.halves.public_split, opened.halves.private_split) == (
        "kaggle", "PublicTest", "PrivateTest")
    day = datetime.date.today() + datetime.timedelta(days=30)
    assert (opened.deadline.strftime("%Y-%m-%d %H:%M"), opened.daily_limit) == (f"{day:%Y-%m-%d} 17:30", 2)
    assert app.selectbox(key="competition_choice").value == "fer-term"
