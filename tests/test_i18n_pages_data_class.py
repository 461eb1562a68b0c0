"""Home, Your data, Sign in, Your class and the sidebar in Traditional Chinese (AppTest, ?lang=zh-TW):
no English sentence left through their main interactions, and the sentences from fer/ they show
(an import's bad row, a refused sign-in, the import report) in Chinese. English stays the default:
tests/test_home_page.py, test_data_page.py and test_class_mode_pages.py check it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from fer import i18n, importers
from fer.accounts import Accounts
from tests.i18n_checks import WORD, untranslated_on_page
from tests.models import save_tiny_run
from tests.test_data_page import write_csv
from tests.test_i18n_pages import assert_chinese

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(REPO, "streamlit_app.py")
PASSWORD = "a long class passphrase"
# FER2013's split names stay as FER2013 writes them; run, architecture and data set names are names too,
# and the sidebar's language switch names each language in itself (English, 繁體中文).
NAMES = frozenset({"train", "test", "PublicTest", "PrivateTest", "tiny", "synthetic", "tiny-run", "broken", "class",
                   "English"})
def open_in_app(page: str, language: str = "zh-TW") -> AppTest:
    """A page as the app runs it (Home's links need the navigation), sidebar included, in `language`."""
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["lang"] = language
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


def sidebar_texts(app: AppTest) -> list[str]:
    texts = [element.value for kind in ("markdown", "caption", "subheader") for element in app.sidebar.get(kind)]
    return texts + [box.label for box in app.sidebar.selectbox] + [button.label for button in app.sidebar.button]


# ------------------------------------------------------------------------------ Home


def test_home_reads_in_chinese_with_its_chart_table_and_sample_faces():
    save_tiny_run("tiny-run", metrics={"test_accuracy": 0.42})
    app = open_in_app("lessons/home.py")
    assert app.title[0].value == "用卷積網路辨識臉部表情"
    assert_chinese(app, NAMES)
    labels = [element.value for element in app.markdown if element.value.endswith("張臉")]
    assert labels[:2] == ["**生氣**  \n400 張臉", "**厭惡**  \n400 張臉"]
    table = app.dataframe[0].value
    assert list(table.columns)[:2] == ["模型", "使用中"] and table.iloc[0, 5] == "test"  # measured on
    assert any("卷積（convolution）" in element.value for element in app.markdown)


def test_home_without_a_model_says_what_to_do_in_chinese():
    app = open_in_app("lessons/home.py")
    assert app.info[0].value.startswith("`")  # the models folder, then the sentence
    assert "還沒有訓練好的模型" in app.info[0].value
    assert_chinese(app, NAMES)


def test_home_shows_a_shipped_ensemble_in_chinese(isolated_folders):
    from tests.test_home_page import shipped_ensemble_in

    network = shipped_ensemble_in(isolated_folders[0])
    app = open_in_app("lessons/home.py")
    names = NAMES | {network.name, "pretrained-second", "pretrained-pair", "fer2013", "vgg_narrow", "ensemble",
                     network.config["preset"], "flip"}
    assert_chinese(app, names)
    assert any("集成模型" in element.value and "0.40和0.60" in element.value for element in app.markdown), [
        element.value for element in app.markdown]


# ------------------------------------------------------------------------------ Your data


def test_your_data_reads_in_chinese_and_explains_a_bad_row_of_a_csv_in_chinese(tmp_path):
    app = open_in_app("lessons/data.py")
    assert app.title[0].value == "你的資料"
    assert_chinese(app, NAMES)
    counts = app.dataframe[0].value
    assert list(counts.index) == ["生氣", "厭惡", "恐懼", "開心", "難過", "驚訝", "中性"]
    assert list(counts.columns)[::2] == ["train", "test"] and counts.columns[1].startswith("驗證")

    write_csv(tmp_path / "broken.csv", 14, bad_line="3,1 2 3,Training")
    app.text_input(key="data_path").input(str(tmp_path / "broken.csv")).run()
    app.button(key="data_import_path").click().run()
    assert not app.exception
    error = app.error[0].value
    assert error.startswith("broken.csv，第 4 行：pixels 欄位有 3 個數字，但一張 48x48 的臉需要 2,304 個。"), error
    assert "`--skip-bad-rows`" in error
    assert_chinese(app, NAMES)

    app.button(key="data_retry_skipping").click().run()  # offered although the sentence is not English
    assert not app.exception and not app.error
    assert app.warning[0].value.startswith("15 列中有 1 列有問題，已排除。最前面幾列：第 4 行：pixels 欄位有 3 個數字")
    assert app.success[0].value.startswith("已從 broken.csv（csv）匯入 14 張臉")
    assert_chinese(app, NAMES)

    app.button(key="data_use_imported").click().run()
    assert not app.exception
    assert app.header[-1].value == "目前使用的資料集：broken"
    assert "從 broken.npz 匯入的 FER2013：14 張臉。" in [caption.value for caption in app.caption]
    assert_chinese(app, NAMES)

    app.checkbox(key="data_delete_dataset_confirm").check().run()
    app.button(key="data_delete_dataset_button").click().run()
    assert not app.exception and not app.error
    assert "這裡沒有你可以刪除的已匯入資料集。" in [caption.value for caption in app.caption]
    assert_chinese(app, NAMES)


def test_a_file_that_is_not_fer2013_is_refused_in_chinese(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\nworld\n")
    app = open_in_app("lessons/data.py")
    app.text_input(key="data_path").input(str(tmp_path / "notes.txt")).run()
    app.button(key="data_import_path").click().run()
    assert app.error[0].value.startswith("notes.txt 不是 FER2013：它的第一行既不是標題列")
    assert "data_retry_skipping" not in [button.key for button in app.button]  # not a row problem: no retry
    assert_chinese(app, NAMES)


def test_import_errors_from_fer_name_the_file_and_row_in_chinese(tmp_path):
    write_csv(tmp_path / "labels.csv", 10, bad_line="9," + " ".join(["0"] * 2304) + ",Training")
    with i18n.language("zh-TW"), pytest.raises(importers.BadRowError) as raised:
        importers.import_path(tmp_path / "labels.csv")
    sentence = str(raised.value)
    assert sentence.startswith("labels.csv，第 4 行：emotion 標籤 9 不在 0-6 之間（0 生氣，1 厭惡，"), sentence
    assert "請修正標籤" in sentence
    with i18n.language("en"), pytest.raises(importers.BadRowError) as raised:
        importers.import_path(tmp_path / "labels.csv")
    assert str(raised.value).startswith("labels.csv, line 4: the emotion label 9 is outside 0-6 (0 Angry, 1 Disgust")


def test_the_data_command_speaks_the_terminals_language(tmp_path):
    write_csv(tmp_path / "broken.csv", 14, bad_line="3,1 2 3,Training")
    environment = {**os.environ, "LANG": "zh_TW.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
    done = subprocess.run([sys.executable, "-m", "fer", "data", "import", str(tmp_path / "broken.csv")],
                          cwd=REPO, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "broken.csv，第 4 行：pixels 欄位有 3 個數字" in done.stderr, done.stderr
    listed = subprocess.run([sys.executable, "-m", "fer", "data", "list"], cwd=REPO, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert listed.stdout.startswith("synthetic\t（內建：畫出來的臉，不是照片）"), listed.stdout


# ------------------------------------------------------------------------------ the sidebar and the navigation


def test_the_sidebar_and_page_titles_read_in_chinese():
    save_tiny_run("tiny-run")
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["lang"] = "zh-TW"
    app.run()
    assert not app.exception
    texts = sidebar_texts(app)
    assert "每個頁面都使用" in texts and "資料集" in texts and "模型" in texts
    left = [text for text in texts if untranslated_on_page_text(text)]
    assert left == [], left
    built_in = app.sidebar.selectbox(key="sidebar_dataset").format_func("synthetic")
    assert "內建" in built_in and not untranslated_on_page_text(built_in)
    assert app.title[0].value == "用卷積網路辨識臉部表情"


def untranslated_on_page_text(text: str) -> list[str]:
    from tests.i18n_checks import english_left

    return english_left(text, NAMES)


# ------------------------------------------------------------------------------ a class server


def class_app() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.secrets["fer"] = {"class_mode": True, "teacher_password": PASSWORD}
    app.query_params["lang"] = "zh-TW"
    app.run()
    assert not app.exception
    return app


def click(app: AppTest, label: str) -> AppTest:
    next(button for button in app.button if button.label == label).click().run()
    assert not app.exception, app.exception
    return app


def test_sign_in_reads_in_chinese_and_refuses_in_chinese(isolated_folders):
    Accounts.default().add_students(["王小明"])
    app = class_app()
    assert [title.value for title in app.title] == ["登入"]
    assert_chinese(app)
    app.text_input(key="sign_in_password").input("wrong")
    click(app, "以老師身分登入")
    assert [error.value for error in app.error] == ["這不是這台伺服器的老師密碼。"]
    app.text_input(key="sign_in_name").input("王小明")
    app.text_input(key="sign_in_code").input("aaaa-bbbb-cccc")
    click(app, "登入")
    assert app.error[0].value.startswith("這個名字和代碼不符合本班任何一位學生")
    assert_chinese(app)


def test_your_class_reads_in_chinese_from_the_roster_to_the_trainings(isolated_folders):
    save_tiny_run("tiny-run", owner="王小明", metrics={"test_accuracy": 0.5})
    app = class_app()
    app.text_input(key="sign_in_password").input(PASSWORD)
    click(app, "以老師身分登入")
    app.switch_page("lessons/teacher.py")
    app.run()
    assert not app.exception
    assert app.title[0].value == "你的班級"
    assert_chinese(app, NAMES)
    app.text_area(key="teacher_names").input("王小明\n陳美玲\n").run()
    click(app, "新增並產生他們的代碼")
    assert app.success[0].value.startswith("新的代碼，只顯示這一次。")
    codes = next(frame.value for frame in app.dataframe if "代碼" in frame.value.columns)
    assert list(codes["名稱"]) == ["王小明", "陳美玲"]
    code_words = frozenset(word for code in codes["代碼"] for word in WORD.findall(code))  # k7qm-x2fp-9hdt
    assert_chinese(app, NAMES | code_words)
    app.text_area(key="teacher_names").input("王小明\n").run()
    click(app, "新增並產生他們的代碼")  # already there: the sentence comes back in Chinese
    assert any(error.value.startswith("名單上的每個人都已經在名冊中了") for error in app.error), [
        (element.value, type(element).__name__) for element in [*app.error, *app.success, *app.warning]
    ]
    assert_chinese(app, NAMES)
    sidebar = sidebar_texts(app)
    assert "已登入：**teacher**（老師）" in sidebar and "登出" in sidebar


def test_the_checker_sees_english_on_these_pages():
    """The same pages in English: the checker finds their sentences, so the Chinese tests above can fail."""
    app = open_in_app("lessons/data.py", "en")
    assert untranslated_on_page(app)
