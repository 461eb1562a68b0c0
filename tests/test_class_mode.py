"""Who may do what on a class server, outside the pages: the permission table, server paths below the
teacher's folders only, the registry's shipped models read-only, owners in config.json, Stop and Continue
checked in the job manager (where the pages and the command line both go through)."""

import json
import os
import subprocess
import sys

import pytest

from fer import jobs, permissions, registry, worker
from fer.accounts import LAPTOP_USER, STUDENT, TEACHER_USER, User
from fer.permissions import CONTINUE, DELETE, RENAME, STOP, NotAllowed
from fer.registry import RegistryError
from fer.train import TrainConfig
from tests.models import save_tiny_run

ANA, BEN = User("Ana", STUDENT), User("Ben", STUDENT)
SHIPPED = "pretrained-tiny"  # a tiny run standing in for the shipped model

# who, action, run, its recorded owner -> None (allowed) or a piece of the sentence
PERMISSIONS = [
    (ANA, action, "ana-run", "Ana", None) for action in (RENAME, DELETE, STOP, CONTINUE)
] + [
    (BEN, action, "ana-run", "Ana", f"ana-run is Ana's run: only its owner or the teacher may {action} it.")
    for action in (RENAME, DELETE, STOP, CONTINUE)
] + [
    (TEACHER_USER, action, "ana-run", "Ana", None) for action in (RENAME, DELETE, STOP, CONTINUE)
] + [
    (LAPTOP_USER, action, "old-run", None, None) for action in (RENAME, DELETE, STOP, CONTINUE)
] + [
    (ANA, RENAME, "cli-run", None, "no recorded owner"),
    (ANA, DELETE, "cli-run", "command line", "command line's run"),
    (TEACHER_USER, DELETE, "cli-run", None, None),
    (User("ana", STUDENT), DELETE, "ana-run", "Ana", "Ana's run"),  # names are compared exactly
] + [
    (who, action, SHIPPED, None, "shipped model and read-only for everyone")
    for who in (ANA, TEACHER_USER, LAPTOP_USER) for action in (RENAME, DELETE, CONTINUE)
]


@pytest.mark.parametrize("who, action, run, owner, expected", PERMISSIONS)
def test_permission_table(who, action, run, owner, expected):
    said = permissions.refusal(who, action, run, owner)
    if expected is None:
        assert said is None
        permissions.check(who, action, run, owner)
    else:
        assert said is not None and expected in said
        with pytest.raises(NotAllowed, match="."):
            permissions.check(who, action, run, owner)


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown action 'train'"):
        permissions.refusal(ANA, "train", "ana-run", "Ana")


# ----------------------------------------------------------------------------- server paths


@pytest.fixture
def folders(tmp_path):
    allowed = tmp_path / "class-data"
    (allowed / "sub").mkdir(parents=True)
    (allowed / "fer2013.csv").write_text("emotion,pixels,Usage\n")
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.csv").write_text("nothing for students\n")
    (allowed / "link-out").symlink_to(outside / "secret.csv")
    (allowed / "link-in").symlink_to(allowed / "fer2013.csv")
    (tmp_path / "class-data-2").mkdir()
    return allowed.resolve(), outside.resolve()


@pytest.mark.parametrize(
    "typed, inside",
    [
        ("{allowed}/fer2013.csv", True),
        ("{allowed}", True),
        ("{allowed}/sub", True),
        ("fer2013.csv", True),  # relative: read from the first folder
        ("{allowed}/link-in", True),
        ("{allowed}/not-there-yet.zip", True),  # the import itself says it is missing
        ("/etc/passwd", False),
        ("/etc", False),
        ("{allowed}/../private/secret.csv", False),
        ("../private/secret.csv", False),
        ("{allowed}/link-out", False),  # a link leading out of the folder
        ("{allowed}-2", False),  # a sibling whose name starts like the folder's
        ("~", False),
        ("", False),
        ("{allowed}/fer2013.csv\x00", False),
    ],
)
def test_server_paths_only_below_the_teachers_folders(folders, typed, inside):
    allowed, _ = folders
    text = typed.format(allowed=allowed)
    if inside:
        real = permissions.allowed_server_path(text, (allowed,))
        assert real == real.resolve() and (real == allowed or real.is_relative_to(allowed))
    else:
        with pytest.raises(NotAllowed) as refused:
            permissions.allowed_server_path(text, (allowed,))
        assert "upload" in str(refused.value) or "below" in str(refused.value)
        assert "nothing for students" not in str(refused.value)


def test_no_folders_means_uploads_only(folders):
    allowed, _ = folders
    with pytest.raises(NotAllowed, match="uploads only"):
        permissions.allowed_server_path(str(allowed / "fer2013.csv"), ())


# ----------------------------------------------------------------------------- the registry


def test_shipped_models_cannot_be_renamed_or_deleted_and_their_prefix_is_kept(isolated_folders):
    save_tiny_run(SHIPPED)
    save_tiny_run("ana-run")
    with pytest.raises(RegistryError, match="shipped model and read-only for everyone: it cannot be renamed"):
        registry.rename_run(SHIPPED, "mine-now")
    with pytest.raises(RegistryError, match="shipped model and read-only for everyone: it cannot be deleted"):
        registry.delete_run(SHIPPED)
    with pytest.raises(RegistryError, match="kept for the shipped models"):
        registry.rename_run("ana-run", "pretrained-better")
    assert sorted(run.name for run in registry.list_runs()) == ["ana-run", SHIPPED]
    assert not (isolated_folders[0] / "pretrained-better").exists()


def test_config_json_carries_the_owner_the_training_was_requested_for(isolated_folders):
    from tests.models import tiny_cnn

    folder = isolated_folders[0] / "ana-run"
    folder.mkdir()
    worker.write_request(folder, {"epochs": 1}, owner="Ana", resume=False)
    registry.write_run_files(folder, tiny_cnn(), {"architecture": "tiny", "dataset": "synthetic"}, [], {})
    assert json.loads((folder / "config.json").read_text())["owner"] == "Ana"
    assert registry.read_run("ana-run").owner == "Ana" == registry.run_owner("ana-run")
    (folder / "request.json").unlink()  # config.json alone is enough, e.g. after a copy
    assert registry.read_run("ana-run").owner == "Ana"
    save_tiny_run("no-owner")
    assert registry.read_run("no-owner").owner is None


# ----------------------------------------------------------------------------- stop and continue


@pytest.fixture
def idle_workers(monkeypatch):
    """Workers that only wait (a real process each, no training): enough for the queue and Stop."""
    started = []

    def start_idle_worker(folder, nice=0):
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        started.append(process)
        return process

    monkeypatch.setattr(worker, "start_worker", start_idle_worker)
    yield started
    for process in started:
        process.kill()
        process.wait()


def tiny_config() -> TrainConfig:
    return TrainConfig(architecture="report_a_cnn", dataset="synthetic", epochs=1, max_train_images=64)


def test_only_the_owner_or_the_teacher_stops_a_training(isolated_folders, idle_workers):
    manager = jobs.JobManager(max_running=1)
    running = manager.submit(tiny_config(), owner="Ana", name="ana-running")
    waiting = manager.submit(tiny_config(), owner="Ana", name="ana-waiting")
    assert manager.queue_position(waiting) == 1
    for job in (running, waiting):
        with pytest.raises(NotAllowed, match=f"{job.id} is Ana's run: only its owner or the teacher may stop it"):
            manager.stop(job.id, by=BEN)
    assert not running.stop_requested and manager.queue_position(waiting) == 1  # nothing happened
    manager.stop(waiting.id, by=TEACHER_USER)
    assert waiting.state == jobs.CANCELLED
    manager.stop(running.id, by=ANA)
    assert running.stop_requested
    manager.stop(running.id)  # the command line and older callers name nobody: no check


def test_only_the_owner_or_the_teacher_continues_a_run(isolated_folders):
    save_tiny_run("ana-run", owner="Ana")
    before = {path.name: path.stat().st_mtime_ns for path in (isolated_folders[0] / "ana-run").iterdir()}
    manager = jobs.JobManager(max_running=1)
    with pytest.raises(NotAllowed, match="ana-run is Ana's run: only its owner or the teacher may continue it"):
        manager.resume("ana-run", owner="Ben", more_epochs=1, by=BEN)
    # The teacher (and Ana) get past the check, to the engine's own sentence: this run has no checkpoint.
    for who in (TEACHER_USER, ANA):
        with pytest.raises(jobs.ResumeError, match="no checkpoint"):
            manager.resume("ana-run", owner="Ana", more_epochs=1, by=who)
    after = {path.name: path.stat().st_mtime_ns for path in (isolated_folders[0] / "ana-run").iterdir()}
    assert after == before and manager.jobs() == []
    with pytest.raises(NotAllowed, match="shipped model"):
        save_tiny_run(SHIPPED)
        manager.resume(SHIPPED, owner="teacher", by=TEACHER_USER)
    assert os.path.isdir(isolated_folders[0] / SHIPPED)
