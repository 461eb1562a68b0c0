"""The Train page, the CNN-versus-DNN lesson and the training command line in Traditional Chinese.

Real worker processes train the tiny CNN on the synthetic faces (a few dozen faces, a few
epochs): the page's live view is read in Chinese while a training waits in the queue, after it
finished, after 'N more epochs', after its worker was killed (-9) and after Stop. Sentences a
worker keeps in the run folder (status.json, events, metrics.json) are stored in English with
their message id and parameters, and shown in the reader's language; a run written before that
(plain English) still shows its English.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fer import i18n, jobs, registry, worker
from fer.accounts import LAPTOP_NAME
from fer.events import english, shown
from fer.jobs import JobManager
from fer.train import TrainConfig, TrainConfigError
from tests.i18n_checks import HAN, charts
from tests.models import save_tiny_run
from tests.test_i18n_pages import assert_chinese, open_page

REPO = Path(__file__).resolve().parent.parent
TRAIN_PAGE, CNN_VS_DNN = "lessons/train.py", "lessons/cnn_vs_dnn.py"
TINY = dict(architecture="tiny_cnn", dataset="synthetic", batch_size=32, max_train_images=64, seed=3)
# Names a Chinese page keeps as they are: run names and ids the test made.
# "test" is the synthetic data set's test split: split names stay as the data set names them.
NAMES = frozenset({"tiny", "tiny_cnn", "synthetic", "ben-long", "zh-run", "report_b_cnn", "report_b_dnn", "test"})


def wait_for(condition, timeout: float = 240, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def manager(monkeypatch):
    """One training at a time on this 'server' (the page and the test share it)."""
    fresh = JobManager(max_running=1)
    monkeypatch.setattr(jobs, "_MANAGER", fresh)
    yield fresh
    for job in fresh.jobs():
        fresh.stop(job.id)
    for job in fresh.jobs():
        fresh.wait(job.id, timeout=120)


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def set_tiny_settings(app, epochs: int) -> None:
    app.selectbox(key="train_field_architecture").set_value("tiny_cnn")
    app.number_input(key="train_field_epochs").set_value(epochs)
    app.number_input(key="train_field_max_train_images").set_value(64)
    app.select_slider(key="train_field_batch_size").set_value(32)
    app.text_input(key="train_run_name").set_value("zh-run")
    app.run()


def click(app, label: str | None = None, key: str | None = None):
    button = next(b for b in app.button if (key is not None and b.key == key) or (label and b.label == label))
    button.click().run()
    assert not app.exception, [exception.value for exception in app.exception]
    return app


# ------------------------------------------------------------------------------ the Train page, live


def test_the_train_page_follows_a_training_in_chinese_queue_finish_more_kill_continue_stop(manager):
    other = manager.submit(TrainConfig(**TINY, epochs=300), owner="ben", name="ben-long")
    wait_for(lambda: other.state == jobs.RUNNING, what="ben's training to start")

    app = open_page(TRAIN_PAGE)
    assert app.title[0].value == "訓練網路"
    assert_chinese(app, NAMES)
    set_tiny_settings(app, epochs=2)
    click(app, label="訓練")
    assert texts(app.info)[0].startswith("排隊等待中：第 **1** 位。"), texts(app.info)
    assert any(caption.startswith("這台伺服器上還有其他學生的訓練") for caption in texts(app.caption))
    assert_chinese(app, NAMES)

    manager.stop(other.id)
    job = manager.jobs(owner=LAPTOP_NAME)[0]
    manager.wait(job.id, timeout=300)
    assert job.state == jobs.FINISHED, job.message
    app.run()
    assert texts(app.success)[0].startswith("已完成。以第"), texts(app.success)
    assert "在 test 上的準確率" in texts(app.success)[0]
    assert any(caption.startswith("目前保留：第") for caption in texts(app.caption))
    assert len(charts(app)) >= 2 and app.dataframe  # the live view, and the saved run below
    assert_chinese(app, NAMES)

    # N more epochs from the saved run's checkpoint, killed with -9 in the middle of training: the
    # sentence the worker leaves, in Chinese. (More epochs that finish read "已完成" as above.)
    app.selectbox(key="train_chosen_run").set_value(job.run_name)
    app.number_input(key="train_more_epochs").set_value(200).run()
    more_button = next(b for b in app.button if b.key == "train_more_button")
    assert more_button.label == "再訓練 200 個週期"
    click(app, key="train_more_button")
    killed = manager.get(job.run_name)
    wait_for(lambda: any(e["kind"] == "epoch" and e["epoch"] >= 3 for e in killed.events.since()), what="epoch 3")
    os.kill(killed.status["pid"], signal.SIGKILL)
    wait_for(lambda: killed.state == jobs.FAILED, what="the kill to be noticed")
    assert "out of memory in epoch" in killed.message  # this thread reads English: the page's language is its own
    app.run()
    errors = texts(app.error)
    assert errors and errors[0].startswith("已停止：在第") and "記憶體不足" in errors[0], errors
    assert "已保留最好的週期" in errors[0]
    assert any(warning.startswith(f"**{job.run_name}**：已停止") for warning in texts(app.warning)), texts(app.warning)
    assert_chinese(app, NAMES)
    # what the worker stored is English, with the message id and its parameters
    status = worker.read_status(killed.folder)
    assert status["message"].startswith("stopped: out of memory in epoch") and not HAN.search(json.dumps(status))
    assert status["sentence"]["msgid"].startswith("stopped: out of memory in epoch {epoch}")

    # Continue it from the warning's button, then Stop it from the page.
    click(app, key=f"train_continue_{job.run_name}")
    again = manager.get(job.run_name)

    def training_again() -> bool:
        """Running, with a batch or an epoch after the Continue's "queued" event. On a quiet machine an
        epoch of 64 faces is shorter than the half second between batch events: there may be no batch."""
        events = again.events.since()
        resumed = max(index for index, event in enumerate(events) if event["kind"] == "queued")
        return again.state == jobs.RUNNING and any(event["kind"] in ("batch", "epoch") for event in events[resumed:])

    def diagnosis() -> str:
        kinds = [event["kind"] for event in again.events.since()[-8:]]
        return (f"the continued training: {again.state} ({again.message}), a new job: {again is not killed}, "
                f"last events {kinds}, the page's errors {texts(app.error)}")

    assert again is not killed, diagnosis()
    wait_for(lambda: training_again() or again.state in (jobs.FAILED, jobs.FINISHED, jobs.STOPPED),
             what="the continued training")
    assert training_again(), diagnosis()
    app.run()
    assert_chinese(app, NAMES)
    click(app, label="停止")
    manager.wait(again.id, timeout=300)
    assert again.state == jobs.STOPPED, again.message
    app.run()
    assert texts(app.success)[0].startswith("已停止。以第"), texts(app.success)
    assert_chinese(app, NAMES)


# ------------------------------------------------------------------------------ the Train page, saved runs


def test_saved_runs_rename_delete_and_bad_names_are_explained_in_chinese():
    history = [{"epoch": e, "loss": 2.0 - 0.1 * e, "accuracy": 0.2 + 0.05 * e, "val_loss": 2.1 - 0.1 * e,
                "val_accuracy": 0.18 + 0.05 * e} for e in (1, 2, 3)]
    save_tiny_run("zh-run", history_rows=history, metrics={"chosen_epoch": 3, "test_accuracy": 0.4})
    app = open_page(TRAIN_PAGE)
    assert app.selectbox(key="train_chosen_run").value == "zh-run"
    assert_chinese(app, NAMES)
    app.text_input(key="train_new_name").set_value("../escape")
    click(app, key="train_rename_button")
    assert texts(app.error) == ["'../escape' 不是有效的模型名稱：請使用 1 到 64 個字母、數字、「.」、「_」或「-」，"
                                "並以字母或數字開頭。"]
    assert_chinese(app, NAMES)
    app.text_input(key="train_run_name").set_value("a/b").run()
    assert any("不是有效的模型名稱" in error for error in texts(app.error))
    assert next(b for b in app.button if b.label == "訓練").disabled
    app.text_input(key="train_run_name").set_value("pretrained-mine").run()
    assert "以 'pretrained-' 開頭的名稱保留給隨附的模型：請換一個。" in texts(app.error)
    app.text_input(key="train_run_name").set_value("").run()
    app.checkbox(key="train_confirm_delete").check().run()
    click(app, key="train_delete_button")
    assert registry.list_runs() == []
    assert texts(app.info)[-1].startswith("還沒有已儲存的模型")
    assert_chinese(app, NAMES)


def test_a_stored_sentence_is_shown_in_the_readers_language_and_an_old_runs_english_stays(tmp_path):
    for name, status in (
        ("new-run", worker.message_fields(worker.death_sentence(Path("unused"), -signal.SIGKILL))),
        ("old-run", {"message": "stopped: out of memory in epoch 7; the best epoch, 5, is kept", "sentence": None}),
    ):
        folder = registry.models_dir() / name
        (folder / "checkpoint").mkdir(parents=True)
        (folder / "checkpoint" / "state.json").write_text("{}")
        worker.write_request(folder, TrainConfig(**TINY).to_dict(), owner=LAPTOP_NAME, resume=False)
        worker.write_status(folder, worker.FAILED, **status)
    app = open_page(TRAIN_PAGE)
    warnings = texts(app.warning)
    killed = "**new-run**：已停止：在第 1 個週期中記憶體不足"
    assert any(w.startswith(killed) and "沒有任何週期完成" in w for w in warnings), warnings
    assert "**old-run**：stopped: out of memory in epoch 7; the best epoch, 5, is kept" in warnings
    english_page = open_page(TRAIN_PAGE, {"lang": "en"})
    assert any(w.startswith("**new-run**: stopped: out of memory in epoch 1 (the operating system killed the "
                            "training); no epoch had finished, so there is nothing to keep.")
               for w in texts(english_page.warning))


def test_kept_sentences_read_as_the_english_files_always_held_and_translate_when_shown():
    kept = worker.death_sentence(Path("unused"), None)
    assert english(kept) == ("stopped: interrupted in epoch 1 (the server or the computer stopped); no epoch had "
                             "finished, so there is nothing to keep. Press Continue to go on from the last complete "
                             "epoch.")
    with i18n.language("zh-TW"):
        assert shown(kept).startswith("已停止：在第 1 個週期中被中斷")
        assert shown("Taken out of the queue before it started.") == "在開始之前就已從佇列中移除。"
        assert shown("an English sentence nobody translated") == "an English sentence nobody translated"
        problems = "^這個訓練無法開始：週期數至少要是 1，而不是 0；暖身必須比整次訓練短：0 到 -1 個週期，而不是 0。$"
        with pytest.raises(TrainConfigError, match=problems):
            TrainConfig(epochs=0)


# ------------------------------------------------------------------------------ CNN versus DNN


def test_cnn_vs_dnn_reads_in_chinese_with_two_runs_and_a_started_comparison(manager):
    from tests.test_analysis_pages import save_tiny

    save_tiny("cnn-run", seed=1, architecture="report_b_cnn")
    save_tiny("dnn-run", seed=0, architecture="report_b_dnn")
    app = open_page(CNN_VS_DNN)
    assert app.title[0].value == "CNN 與 DNN 的比較"
    assert any("CNN 以 1,015 個參數在 test 上達到 **40.0%**" in text for text in texts(app.markdown))
    allowed = NAMES | {"cnn-run", "dnn-run"}
    assert_chinese(app, allowed)
    click(app, key="cnn_vs_dnn_train")
    assert_chinese(app, allowed)
    for job in manager.jobs():
        manager.stop(job.id)
    for job in manager.jobs():
        manager.wait(job.id, timeout=300)
    app.run()
    assert_chinese(app, allowed | {f"{name}-synthetic-quick" for name in ("report_b_cnn", "report_b_dnn")})


# ------------------------------------------------------------------------------ the command line


def cli(*arguments: str, language: str = "zh_TW.UTF-8") -> subprocess.CompletedProcess:
    environment = {**os.environ, "LANG": language, "LC_ALL": "", "LANGUAGE": "", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "fer", *arguments], cwd=REPO, env=environment, capture_output=True,
                          text=True, timeout=300)


def test_the_training_command_speaks_the_terminals_language():
    helped = cli("train", "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("用法：python -m fer train") and "\n選項:\n" in helped.stdout, helped.stdout[:300]
    assert "顯示這份說明並結束" in helped.stdout and "從一份配方開始" in helped.stdout
    assert "show this help" not in helped.stdout and "start from a preset" not in helped.stdout

    trained = cli("train", "--arch", "tiny_cnn", "--epochs", "2", "--batch-size", "32", "--max-train-images", "64",
                  "--name", "zh-run")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    lines = trained.stdout.splitlines()
    assert lines[0].startswith("模型資料夾：")
    assert any(line.startswith("在 synthetic 上訓練 tiny_cnn（") and "核心" in line for line in lines), lines
    epochs = [line for line in lines if line.startswith("週期 ")]
    assert len(epochs) == 2 and epochs[0].startswith("週期   1  損失 ") and epochs[1].startswith("週期   2  損失 ")
    assert any(line.startswith("已完成；已保留最好的週期（第") for line in lines), lines
    assert "每秒" in lines[-1] and "之後可以這樣接著訓練：python -m fer train --resume zh-run" in lines[-1]
    listing = cli("models")
    assert listing.stdout.startswith("名稱") and "已完成" in listing.stdout, listing.stdout
    refused = cli("train", "--resume", "ghost")
    assert refused.returncode == 2 and "中沒有名為 'ghost' 的模型" in refused.stderr, refused.stderr
    english_help = cli("train", "--help", language="C")
    assert english_help.stdout.startswith("usage: python -m fer train") and "start from a preset" in english_help.stdout
