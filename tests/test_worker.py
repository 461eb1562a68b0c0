"""Trainings in worker processes: queue, determinism beside another run, kill and resume, crashes, bad resumes.

Real processes (`python -m fer.worker`), real files, the synthetic faces and a small network.
"""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fer import registry, worker
from fer.jobs import CANCELLED, FAILED, FINISHED, INTERRUPTED, QUEUED, STOPPED, JobManager, ResumeError, prepare_resume
from fer.train import TrainConfig

REPO_ROOT = Path(__file__).resolve().parent.parent


def small_config(**changes) -> TrainConfig:
    settings = dict(architecture="small_cnn", dataset="synthetic", epochs=3, batch_size=32, max_train_images=600,
                    crop_size=44, augment_flip=True, random_erasing=0.3, ema=True, ema_momentum=0.99,
                    optimizer="sgd_nesterov", learning_rate=0.05, weight_decay=5e-4, warmup_epochs=1,
                    schedule="cosine", seed=7)
    settings["warmup_epochs"] = 1 if changes.get("epochs", 3) > 1 else 0
    return TrainConfig(**{**settings, **changes})


def history_of(folder: Path) -> list[dict]:
    with (folder / registry.HISTORY_FILE).open() as handle:
        return [{key: row[key] for key in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr")}
                for row in csv.DictReader(handle)]


def wait_for(condition, timeout: float = 120, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.1)


def cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fer", *arguments], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))


@pytest.fixture(scope="module")
def two_runs_side_by_side(tmp_path_factory):
    """Two trainings with the same config and seed, at the same time, plus a third afterwards."""
    models = tmp_path_factory.mktemp("models")
    saved = os.environ.get("FER_MODELS_DIR")
    os.environ["FER_MODELS_DIR"] = str(models)
    try:
        jobs = JobManager(max_running=2)
        first = jobs.submit(small_config(), owner="ana", name="twin")
        second = jobs.submit(small_config(), owner="ben", name="twin")
        assert jobs.running_count() == 2
        for job in (first, second):
            jobs.wait(job.id, timeout=300)
        alone = JobManager(max_running=1)
        third = alone.submit(small_config(), owner="cho", name="alone")
        alone.wait(third.id, timeout=300)
        yield first, second, third
    finally:
        if saved is None:
            os.environ.pop("FER_MODELS_DIR", None)
        else:
            os.environ["FER_MODELS_DIR"] = saved


def test_same_seed_same_history_also_beside_another_training(two_runs_side_by_side):
    first, second, third = two_runs_side_by_side
    assert [job.state for job in (first, second, third)] == [FINISHED] * 3, [j.message for j in (first, second)]
    assert {first.run_name, second.run_name} == {"twin", "twin-2"}  # same name asked: never clobbered
    assert history_of(first.folder) == history_of(second.folder) == history_of(third.folder)
    assert [row["epoch"] for row in history_of(first.folder)] == ["1", "2", "3"]


def test_a_finished_worker_leaves_a_complete_registry_run(two_runs_side_by_side):
    first, _, _ = two_runs_side_by_side
    files = {path.name for path in first.folder.iterdir()}
    assert {"model.keras", "config.json", "history.csv", "metrics.json", "checkpoint", "events.jsonl"} <= files
    kinds = [event["kind"] for event in first.events.since()]
    assert kinds[0] == "queued" and kinds[-1] == "done" and kinds.count("epoch") == 3
    assert "finished" in first.message.lower() or "best epoch" in first.message


def test_kill_minus_nine_then_resume_gives_every_epoch_once_and_the_same_history(two_runs_side_by_side):
    _, _, uninterrupted = two_runs_side_by_side
    jobs = JobManager(max_running=1)
    job = jobs.submit(small_config(), owner="ana", name="killed")
    wait_for(lambda: any(e["kind"] == "batch" and e["epoch"] == 3 for e in job.events.since()), message="epoch 3")
    os.kill(job.status["pid"], signal.SIGKILL)
    wait_for(lambda: job.state == FAILED, message="the crash to be noticed")
    assert "out of memory in epoch 3" in job.message and "the best epoch" in job.message
    assert registry.read_run("killed").metrics["epochs_run"] == 2  # the epochs before the kill are kept
    listing = cli("models")
    assert "Can be continued: killed: stopped: out of memory in epoch 3" in listing.stdout, listing.stdout
    assert "python -m fer train --resume killed" in listing.stdout
    again = jobs.resume("killed", owner="ana")
    jobs.wait(again.id, timeout=300)
    assert again.state == FINISHED, again.message
    assert history_of(again.folder) == history_of(uninterrupted.folder)


def test_queue_positions_cancel_and_limit():
    jobs = JobManager(max_running=1)
    a = jobs.submit(small_config(epochs=2), owner="teacher", name="a")
    b = jobs.submit(small_config(epochs=1), owner="student", name="b")
    c = jobs.submit(small_config(epochs=1), owner="student", name="c")
    assert [jobs.queue_position(job) for job in (a, b, c)] == [0, 1, 2]
    assert b.state == QUEUED and jobs.running_count() == 1
    jobs.stop(b.id)  # a waiting job leaves the queue at once
    assert b.state == CANCELLED and jobs.queue_position(c) == 1
    jobs.wait(c.id, timeout=300)
    assert a.state == FINISHED and c.state == FINISHED, (a.message, c.message)
    # c started only after a had finished: never more than one at once.
    a_done = [e for e in a.events.since() if e["kind"] == "done"][0]["time"]
    c_running = [e for e in c.events.since() if e["kind"] == "running"][0]["time"]
    assert c_running >= a_done
    assert [job.id for job in jobs.jobs(owner="teacher")] == ["a"]
    assert "b" not in {run.name for run in registry.list_runs()}


def test_stop_keeps_the_best_epoch_and_can_continue_for_more_epochs():
    jobs = JobManager(max_running=1)
    job = jobs.submit(small_config(epochs=50), owner="ana", name="stopped")
    wait_for(lambda: any(e["kind"] == "epoch" for e in job.events.since()), message="a first epoch")
    assert "stopped" not in {run.name for run in registry.list_runs()}  # in training: not usable yet
    jobs.stop(job.id)
    jobs.wait(job.id, timeout=120)
    assert job.state == STOPPED, job.message
    run = registry.read_run("stopped")
    assert run.metrics["stopped_by"] == "user" and run.metrics["chosen_epoch"] >= 1
    assert "stopped" in {run.name for run in registry.list_runs()}
    done = worker.read_json(job.folder / "checkpoint" / "state.json")["epochs_done"]
    more = jobs.resume("stopped", owner="ana")
    wait_for(lambda: any(e["kind"] == "resumed" for e in more.events.since()), message="the resume")
    resumed = [e for e in more.events.since() if e["kind"] == "resumed"][-1]
    assert (resumed["from_epoch"], resumed["epochs"]) == (done + 1, 50)
    jobs.stop(more.id)
    jobs.wait(more.id, timeout=120)
    assert more.state == STOPPED


def test_more_epochs_killed_before_their_first_checkpoint_are_still_asked_for():
    jobs = JobManager(max_running=1)
    # Epochs long enough (3,000 faces) that the kill lands in the first continued one.
    first = jobs.submit(small_config(epochs=1, max_train_images=3000), owner="ana", name="asked")
    jobs.wait(first.id, timeout=300)
    assert first.state == FINISHED, first.message
    more = jobs.resume("asked", owner="ana", more_epochs=5)
    wait_for(lambda: any(e["kind"] == "resumed" for e in more.events.since()), message="the resume")
    os.kill(more.status["pid"], signal.SIGKILL)  # in epoch 2: the checkpoint still says 1 of 1
    wait_for(lambda: more.state == FAILED, message="the kill to be noticed")
    assert worker.read_json(more.folder / "checkpoint" / "state.json")["config"]["epochs"] == 1
    _, config = prepare_resume("asked")
    assert config.epochs == 6
    _, config = prepare_resume("asked", more_epochs=2)
    assert config.epochs == 8
    # A continue taken out of the queue before it started asked for nothing.
    blocker = jobs.submit(small_config(epochs=50), owner="ben", name="blocker")
    wait_for(lambda: blocker.state != QUEUED, message="the blocker to start")
    queued = jobs.resume("asked", owner="ana", more_epochs=100)
    jobs.stop(queued.id)
    jobs.stop(blocker.id)
    assert queued.state == CANCELLED
    with pytest.raises(ResumeError, match="already trained 1 epochs of 1"):
        prepare_resume("asked")
    jobs.wait(blocker.id, timeout=120)


def test_a_failing_training_leaves_a_sentence_and_the_server_goes_on():
    jobs = JobManager(max_running=1)
    bad = jobs.submit(small_config(dataset="no-such-data"), owner="ana", name="bad")
    good = jobs.submit(small_config(epochs=1), owner="ben", name="good")
    jobs.wait(good.id, timeout=300)
    assert bad.state == FAILED and "no-such-data" in bad.message, bad.message
    assert good.state == FINISHED


def test_a_run_left_running_by_a_dead_server_is_offered_for_continue(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for name in ("orphan", "orphan-in-epoch-1"):
        folder = registry.models_dir() / name
        folder.mkdir(parents=True)
        worker.write_request(folder, small_config().to_dict(), owner="ana", resume=False)
        worker.write_status(folder, "running", pid=dead.pid, pid_started=12345.0)
    # Only a run with an epoch saved has something to continue from (the file's contents are read at resume).
    (registry.models_dir() / "orphan" / "checkpoint").mkdir()
    (registry.models_dir() / "orphan" / "checkpoint" / "state.json").write_text("{}")
    found = JobManager(max_running=1).interrupted_runs(owner="ana")
    assert [job.id for job in found] == ["orphan"]
    assert found[0].state == INTERRUPTED and "interrupted" in found[0].message
    assert JobManager(max_running=1).interrupted_runs(owner="ben") == []


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        ("missing", "no run called 'ghost'"),
        ("no-checkpoint", "no checkpoint to continue from"),
        ("damaged", "is damaged"),
        ("running", "still training"),
        ("bad-name", "not a valid run name"),
    ],
)
def test_bad_resumes_get_a_sentence_and_overwrite_nothing(prepare, expected):
    name = {"missing": "ghost", "bad-name": "../etc"}.get(prepare, "victim")
    if prepare in ("no-checkpoint", "damaged", "running"):
        folder = registry.models_dir() / "victim"
        (folder / "checkpoint").mkdir(parents=True)
        (folder / "config.json").write_text('{"kind": "keras"}')
        if prepare == "damaged":
            (folder / "checkpoint" / "state.json").write_text("{not json")
        if prepare == "running":
            (folder / "checkpoint" / "state.json").write_text("{}")
            import psutil

            worker.write_status(folder, "running", pid=os.getpid(), pid_started=psutil.Process().create_time())
    before = {p: p.read_bytes() for p in registry.models_dir().rglob("*") if p.is_file()}
    with pytest.raises(ResumeError, match=expected):
        JobManager(max_running=1).resume(name, owner="ana")
    result = cli("train", "--resume", name)
    assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr
    after = {p: p.read_bytes() for p in registry.models_dir().rglob("*") if p.is_file()}
    assert after == before


def test_the_command_line_trains_in_a_worker_and_resumes():
    result = cli("train", "--arch", "small_cnn", "--epochs", "2", "--batch-size", "32", "--max-train-images", "300",
                 "--name", "cli-run", "--crop", "44", "--ema", "--erasing", "0.2", "--warmup", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "epoch   2" in result.stdout and "Saved to" in result.stdout
    config = registry.read_run("cli-run").config
    assert (config["crop_size"], config["ema"], config["random_erasing"], config["warmup_epochs"]) == (44, True, 0.2, 1)
    longer = cli("train", "--resume", "cli-run", "--more-epochs", "1")
    assert longer.returncode == 0, longer.stdout + longer.stderr
    assert "Continuing from epoch 3 of 3" in longer.stdout
    assert [row["epoch"] for row in history_of(registry.run_path("cli-run"))] == ["1", "2", "3"]


def test_a_worker_trains_without_the_servers_memory_settings_at_its_own_priority(monkeypatch):
    import psutil

    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")  # what `make run` gives the server
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    monkeypatch.setenv("FER_SOMETHING_OF_THE_USER", "kept")
    jobs = JobManager(max_running=1, nice=3)
    job = jobs.submit(small_config(epochs=1), owner="ana", name="niced")
    try:
        child = psutil.Process(job.process.pid)  # after Popen returns, the worker has been exec'd
        environment = child.environ()
        assert "TF_ENABLE_ONEDNN_OPTS" not in environment and "MALLOC_ARENA_MAX" not in environment
        assert environment["FER_SOMETHING_OF_THE_USER"] == "kept"
        assert child.nice() == os.getpriority(os.PRIO_PROCESS, 0) + 3
        assert child.cmdline()[1:3] == ["-X", "faulthandler"]  # a native crash leaves its stacks in worker.log
    finally:
        jobs.wait(job.id, timeout=300)
    assert job.state == FINISHED, job.message
