"""The analysis pages (confusion matrix, ensembles, the class competition) and their command lines
in Traditional Chinese: with tiny real models in the registry, through their main interactions,
nothing left in English but names (runs, layers, TTA modes), charts drawn with a CJK font, dates
written as Chinese writes them, and fer/'s refusals in Chinese."""

from __future__ import annotations

import contextvars
import datetime
import re

import pytest
from streamlit.testing.v1 import AppTest

from fer import competition, i18n
from fer.__main__ import main
from fer.data import EMOTIONS
from tests.i18n_checks import charts, shown_texts
from tests.models import pooled_softmax, save_tiny_run
from tests.test_competition import write_kaggle_cache
from tests.test_i18n_pages import APP, button
from tests.test_i18n_pages import assert_chinese as assert_all_chinese

CONFUSION, ENSEMBLES, COMPETITION = "lessons/confusion.py", "lessons/ensembles.py", "lessons/competition.py"
# Names, not words: runs, data sets, the splits as FER2013 names them, the TTA modes (ids the command line takes).
NAMES = frozenset({
    "tiny-a", "tiny-b", "mine", "kaggle", "synthetic", "practice-kaggle", "fer-term",
    "train", "test", "PublicTest", "PrivateTest",
    "flip", "crops", "ten-crop",
})


def open_page(page: str, query: dict | None = None, dataset: str | None = None) -> AppTest:
    """The page inside the app (its links to other pages need the app's navigation), in Chinese by default."""
    app = AppTest.from_file(APP, default_timeout=120)
    if dataset:
        app.session_state["sidebar_dataset"] = dataset
    app.run()
    app.switch_page(page)
    app.query_params.update(query if query is not None else {"lang": "zh-TW"})
    app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


class MainArea:
    """What a page draws itself, without the app's sidebar (its own lesson's translation)."""

    def __init__(self, app: AppTest):
        self._tree = app.main


def assert_chinese(app: AppTest, allowed: frozenset[str] = frozenset()) -> None:
    assert_all_chinese(MainArea(app), allowed)


# A moment as Chinese writes it (Babel's short form): 2026/11/24 下午6:00
MOMENT = r"\d{4}/\d{1,2}/\d{1,2} (凌晨|清晨|早上|上午|中午|下午|晚上|半夜)\d{1,2}:\d{2}"


@pytest.fixture
def two_runs():
    save_tiny_run("tiny-a", pooled_softmax(0))
    save_tiny_run("tiny-b", pooled_softmax(1))


def chart_titles(app) -> list[str]:
    titles = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "title" and isinstance(item, str):
                    titles.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for spec in charts(MainArea(app)):
        walk(spec)
    return titles


# ------------------------------------------------------------------------------ the confusion matrix


def test_without_a_model_the_analysis_pages_say_what_to_do_in_chinese():
    for page in (CONFUSION, ENSEMBLES):
        app = open_page(page)
        assert app.info[0].value.startswith("目前還沒有訓練好的模型")
        assert_chinese(app)


def test_confusion_page_reads_in_chinese_through_views_splits_tta_and_cells(two_runs):
    app = open_page(CONFUSION)
    assert app.title[0].value == "混淆矩陣"
    assert app.metric[0].label == "在 test 上的準確率"
    assert {"預測的表情", "真實的表情"} <= set(chart_titles(app))
    shown = shown_texts(MainArea(app))  # the heatmap's cells among them
    assert "開心" in shown and "Happy" not in shown
    assert_chinese(app, NAMES)
    assert app.selectbox(key="confusion_true").format_func("Happy") == "開心"

    app.radio(key="confusion_view").set_value("shares").run()
    app.radio(key="confusion_split").set_value("val").run()
    app.selectbox(key="confusion_tta").set_value("flip").run()
    assert not app.exception
    assert app.radio(key="confusion_split").options == ["train", "驗證集（Training 的 10%）", "test"]  # names stay
    assert app.metric[0].delta.startswith("TTA 帶來")
    app.selectbox(key="confusion_true").set_value("Sad").run()
    app.selectbox(key="confusion_predicted").set_value("Sad").run()
    assert any(markdown.value.endswith("張「難過」的臉。") for markdown in app.markdown)
    assert_chinese(app, NAMES)
    assert app.query_params["lang"] == "zh-TW" and app.query_params["true"] == "Sad"  # ids stay English


def test_a_bad_confusion_link_and_a_broken_model_are_explained_in_chinese(two_runs, isolated_folders):
    app = open_page(CONFUSION, {"lang": "zh-TW", "tta": "rotate", "true": "Angy"})
    assert len(app.warning) == 2
    link_values = frozenset(EMOTIONS) | {"none"}  # the warning lists what a link may hold: English ids
    assert_chinese(app, NAMES | link_values)
    models, _data = isolated_folders
    (models / "tiny-a" / "model.keras").write_bytes(b"not a zip")
    app = open_page(CONFUSION, {"lang": "zh-TW", "model": "tiny-a"})
    assert app.error and "tiny-a" in app.error[0].value


# ------------------------------------------------------------------------------ ensembles


def test_ensembles_page_fits_measures_and_refuses_a_bad_name_in_chinese(two_runs):
    app = open_page(ENSEMBLES)
    assert app.title[0].value == "集成與測試時資料增強"
    assert_chinese(app, NAMES)
    button(app, key="ensemble_fit").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    assert app.header[0].value == "在 test 上的結果"
    assert [metric.label for metric in app.metric][1:] == ["單純平均", "擬合的權重"]
    assert list(app.dataframe[0].value.columns) == ["模型", "權重", "單獨在 test 上的準確率"]
    assert_chinese(app, NAMES)

    app.text_input(key="ensemble_name").set_value("tiny-a").run()
    button(app, key="ensemble_save").click().run()
    refusal = "集成模型不能叫做 'tiny-a'，那是它其中一個成員的名稱。"  # fer.ensemble's sentence
    assert [error.value for error in app.error] == [refusal]
    button(app, key="ensemble_tta_measure").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    assert "增益（ten-crop）" in list(app.dataframe[-1].value.columns)
    assert_chinese(app, NAMES)


# ------------------------------------------------------------------------------ the class competition


@pytest.fixture
def competition_file(monkeypatch, tmp_path):
    monkeypatch.setenv("FER_COMPETITIONS_FILE", str(tmp_path / "zh.sqlite3"))
    write_kaggle_cache()
    save_tiny_run("mine", pooled_softmax(seed=3), dataset="kaggle")


def test_competition_page_practice_round_submission_and_reveal_in_chinese(competition_file):
    app = open_page(COMPETITION)
    assert app.title[0].value == "班級競賽"
    assert app.info[0].value == "目前還沒有進行中的競賽。請在上面開始一場。"
    assert_chinese(app, NAMES)
    app.session_state["sidebar_dataset"] = "kaggle"
    button(app, key="competition_practice").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    caption = next(caption.value for caption in app.caption if "隨機切成兩半" in caption.value)
    assert caption.startswith("kaggle 的 PublicTest 臉隨機切成兩半（種子 0）：35 張公開、35 張私人。")
    assert re.search(f"每位學生每天可提交 5 次；進行到 {MOMENT}。這是練習賽。$", caption), caption  # not "Tue 01 Dec"
    assert_chinese(app, NAMES)

    app.selectbox(key="competition_run").set_value("mine")
    app.selectbox(key="competition_tta").set_value("flip")
    button(app, key="competition_submit").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    score = competition.boards("practice-kaggle").public[0].best_score
    assert [success.value for success in app.success] == [
        f"mine（TTA flip）的公開分數：**{i18n.format_percent(score, 2)}**（PublicTest 的公開那一半）。"
        "今天已用掉 1 次提交（上限 5 次）。"
    ]
    public = app.dataframe[0].value
    assert list(public.columns) == ["名次", "學生", "最佳分數", "提交次數", "最佳成績提交時間"]
    assert list(public["學生"]) == ["你"]  # the laptop's user, "you" on the board
    assert re.fullmatch(MOMENT, public["最佳成績提交時間"][0])
    assert {"提交時間", "公開分數", "學生"} <= set(chart_titles(app))
    assert_chinese(app, NAMES)

    button(app, key="competition_reveal").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    assert "私人排行榜（PublicTest 的私人那一半）" in [subheader.value for subheader in app.subheader]
    assert any(markdown.value.startswith("**你**：私人分數") for markdown in app.markdown)
    assert_chinese(app, NAMES)


def test_the_teachers_form_and_the_daily_limit_answer_in_chinese(competition_file):
    app = open_page(COMPETITION)
    app.text_input(key="competition_new_name").set_value("fer-term")
    app.selectbox(key="competition_new_dataset").set_value("kaggle")
    app.date_input(key="competition_new_day").set_value(datetime.date.today() - datetime.timedelta(days=1))
    button(app, label="開始競賽").click().run()
    refusal = [error.value for error in app.error]
    assert len(refusal) == 1 and refusal[0].endswith("已經過了：請給一個未來的時間。")
    assert refusal[0].startswith("截止時間 ")
    assert "年" in refusal[0]  # the deadline as Chinese writes dates (fer.competition, through format_datetime)
    assert_chinese(app, NAMES)

    app.date_input(key="competition_new_day").set_value(datetime.date.today() + datetime.timedelta(days=30))
    app.number_input(key="competition_new_limit").set_value(1)
    button(app, label="開始競賽").click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    app.selectbox(key="competition_run").set_value("mine")
    button(app, key="competition_submit").click().run()
    button(app, key="competition_submit").click().run()
    assert [error.value for error in app.error][0].startswith("你今天已經向 fer-term 提交了 1 次（上限 1 次）")
    assert_chinese(app, NAMES)


def test_the_competition_page_in_english_is_unchanged(competition_file):
    app = open_page(COMPETITION, {"lang": "en"})
    assert app.title[0].value == "Class competition"
    assert app.info[0].value == "No competition is open yet. Open one above."


# ------------------------------------------------------------------------------ the command line


def run_in_chinese(monkeypatch, capsys, *arguments) -> tuple[int, str, str]:
    """`python -m fer ...` under LANG=zh_TW.UTF-8, its language kept inside the call."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "zh_TW.UTF-8")
    code = contextvars.copy_context().run(main, list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_competition_and_evaluate_commands_speak_chinese_under_lang(competition_file, monkeypatch, capsys):
    code, out, _err = run_in_chinese(monkeypatch, capsys, "competition", "open", "cli-class", "--data", "kaggle",
                                     "--days", "3", "--per-day", "2", "--no-reference")
    assert code == 0
    assert out.startswith("已開始 cli-class：kaggle 的 PublicTest（70 張臉）給公開排行榜，"
                          "PrivateTest（70 張）給私人排行榜。")
    assert "截止時間 " in out and "年" in out
    code, out, _err = run_in_chinese(monkeypatch, capsys, "competition", "submit", "cli-class", "--run", "mine",
                                     "--student", "Ana")
    assert code == 0 and "提交者 Ana：在 PublicTest 上的公開分數" in out
    code, out, _err = run_in_chinese(monkeypatch, capsys, "competition", "list", "cli-class")
    assert out.startswith("cli-class 的公開排行榜，以 PublicTest 計分：") and "私人排行榜會保持隱藏" in out
    code, _out, err = run_in_chinese(monkeypatch, capsys, "competition", "submit", "nowhere", "--run", "mine")
    assert code == 2 and "沒有叫做 'nowhere' 的競賽（現有的：cli-class）。" in err

    code, out, _err = run_in_chinese(monkeypatch, capsys, "evaluate", "--model", "mine", "--data", "kaggle")
    assert code == 0
    assert "準確率 " in out and "混淆矩陣（列：真實，欄：預測）" in out and "開心" in out and "Happy" not in out
    assert i18n.current_language() == "en"  # the command's language stayed inside it


def test_the_commands_help_is_chinese(monkeypatch, capsys):
    with pytest.raises(SystemExit):
        run_in_chinese(monkeypatch, capsys, "competition", "open", "--help")
    assert "從現在起算幾天後截止" in capsys.readouterr().out


# ------------------------------------------------------------------------------ terms as Taiwanese courses write them

FIRST_USES = {
    CONFUSION: ["混淆矩陣**（confusion matrix）", "準確率（accuracy）", "精確率**（precision）", "召回率**（recall）",
                "測試時資料增強（test-time augmentation）"],
    ENSEMBLES: ["集成**（ensemble）", "交叉熵（cross-entropy）", "測試時資料增強**（test-time augmentation，TTA）"],
    COMPETITION: [
        "公開排行榜**（public leaderboard）", "私人排行榜**（private leaderboard）", "名次大洗牌**（shake-up）",
    ],
}


@pytest.mark.parametrize("page", list(FIRST_USES))
def test_each_analysis_page_gives_the_english_term_once_beside_the_taiwanese_one(page, two_runs, competition_file):
    text = "\n".join(shown_texts(MainArea(open_page(page, dataset="kaggle" if page == COMPETITION else None))))
    for term in FIRST_USES[page]:
        assert text.count(term) == 1, (term, text.count(term))
