"""Reading the registry while another session deletes or renames runs under it.

A class shares one models/ folder: while one student's page lists the runs and loads a model,
another renames or deletes one. Whatever moment that happens at, a read gives either the whole
run or a sentence (RegistryError), never a traceback and never a run with half its files.

First deterministically: the run is pulled away just before each file-system step a read makes,
one step after another, until the read finishes untouched. Then for real: a process renames and
deletes runs in a loop while threads read them.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from fer import registry
from fer.registry import RegistryError
from tests.conftest import REPO_ROOT
from tests.models import registry_folder, tiny_cnn

CONFIG = {"architecture": "tiny", "dataset": "synthetic", "epochs": 2}
HISTORY = [{"epoch": 1, "loss": 1.5}, {"epoch": 2, "loss": 1.25}]
METRICS = {"test_accuracy": 0.5}
# Another run saved under the same name once the first has gone: its config and metrics differ.
REPLACEMENT_EPOCHS, REPLACEMENT_METRICS = 3, {"test_accuracy": 0.75}
WHOLE_RUNS = [(CONFIG["epochs"], METRICS), (REPLACEMENT_EPOCHS, REPLACEMENT_METRICS)]
PARAMETERS = 1_203  # tiny_cnn(seed=0)'s weights
# What a read may say when the run went away under it. "not saved completely" or "could not be
# loaded" would send the student to retrain a run that is fine, only gone.
GONE = ("deleted or renamed", "No run called")


@pytest.fixture(scope="module")
def template_run(tmp_path_factory) -> Path:
    """One saved tiny run, copied into each test's registry."""
    with registry_folder(tmp_path_factory.mktemp("template") / "models"):
        model = tiny_cnn(seed=0)
        assert model.count_params() == PARAMETERS
        registry.save_run("template", model, CONFIG, HISTORY, METRICS)
        return registry.run_path("template")


@pytest.fixture(scope="module")
def replacement_run(template_run, tmp_path_factory) -> Path:
    """The template with another config and other metrics, as if a different run had been saved."""
    replacement = tmp_path_factory.mktemp("replacement") / "template"
    shutil.copytree(template_run, replacement)
    config = json.loads((replacement / registry.CONFIG_FILE).read_text())
    (replacement / registry.CONFIG_FILE).write_text(json.dumps({**config, "epochs": REPLACEMENT_EPOCHS}))
    (replacement / registry.METRICS_FILE).write_text(json.dumps(REPLACEMENT_METRICS))
    return replacement


def place(template: Path, name: str) -> Path:
    target = registry.models_dir() / name
    shutil.copytree(template, target)
    return target


class PullAway:
    """Counts the file-system steps the registry takes; just before step number `at`, moves the run away.

    Steps are the Path calls fer.registry makes (exists, is_dir, read_text, open, iterdir) and the
    zip check Keras makes before it opens a .keras file.
    """

    def __init__(self, run: Path, at: int, how: str, replacement: Path | None = None):
        self.run, self.at, self.how, self.replacement = run, at, how, replacement
        self.steps = 0
        self.done = False
        self._inside = False

    def step(self) -> None:
        if self._inside:
            return
        self.steps += 1
        if self.how == "replaced" and self.done and self.steps == self.at + 1:
            shutil.copytree(self.replacement, self.run)  # one step later, another run under the same name
        if self.steps == self.at and not self.done:
            self._inside = True
            try:
                if self.how in ("renamed", "replaced"):
                    os.rename(self.run, self.run.with_name(self.run.name + "-renamed"))
                else:  # as registry.delete_run does it: out of the way in one step, then removed
                    trash = self.run.with_name(f".{self.run.name}.deleting")
                    os.replace(self.run, trash)
                    shutil.rmtree(trash)
                self.done = True
            finally:
                self._inside = False

    def install(self, patch) -> None:
        for method in ("exists", "is_dir", "read_text", "open", "iterdir"):
            real = getattr(Path, method)

            def counted(path, *args, _real=real, **kwargs):
                self.step()
                return _real(path, *args, **kwargs)

            patch.setattr(Path, method, counted)
        real_is_zipfile = zipfile.is_zipfile

        def counted_is_zipfile(filename):
            self.step()
            return real_is_zipfile(filename)

        patch.setattr(zipfile, "is_zipfile", counted_is_zipfile)


def check_read_run(name):
    run = registry.read_run(name)
    assert run.config.get("architecture") == "tiny", "a run with files missing"
    assert (run.config.get("epochs"), run.metrics) in WHOLE_RUNS, "a run with files missing, or two runs' mixed"


def check_read_history(name):
    assert registry.read_history(name) in (HISTORY, [])


def check_load_model(name):
    assert registry.load_model(name).count_params() == PARAMETERS


def check_list_runs(name):
    for run in registry.list_runs():
        assert run.config.get("architecture") == "tiny", "a run with files missing"
        assert (run.config.get("epochs"), run.metrics) in WHOLE_RUNS, "a run with files missing, or two runs' mixed"


READS = {
    "read_run": check_read_run,
    "read_history": check_read_history,
    "load_model": check_load_model,
    "list_runs": check_list_runs,
}


@pytest.mark.parametrize("how", ["renamed", "deleted", "replaced"])
@pytest.mark.parametrize("read", list(READS))
def test_a_run_pulled_away_before_any_step_of_a_read_gives_the_run_or_a_sentence(
    template_run, replacement_run, monkeypatch, read, how
):
    import keras  # noqa: F401  (imported before steps are counted)
    outcomes = []
    for at in range(1, 60):
        run = place(template_run, "student-run")
        pull = PullAway(run, at, how, replacement_run)
        with monkeypatch.context() as patch:
            pull.install(patch)
            try:
                READS[read]("student-run")
                outcomes.append("whole")
            except RegistryError as error:
                assert any(words in str(error) for words in GONE), f"step {at}: {error}"
                assert "student-run" in str(error)
                outcomes.append("sentence")
        for leftover in registry.models_dir().iterdir():
            shutil.rmtree(leftover)
        if not pull.done:  # the read finished before step `at`: every step has been tried
            break
    else:
        pytest.fail(f"{read} took more than 60 steps")
    assert at > 1, "the counter saw no step of the read"
    assert outcomes[-1] == "whole"


MUTATOR = """
import os, shutil, sys, time
from pathlib import Path
from fer import registry

template, rounds, seconds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
root = registry.models_dir()
deadline = time.monotonic() + seconds
done = 0
for number in range(rounds):
    if time.monotonic() > deadline:
        break
    name = f"run-{number % 3}"
    staging = root / f".{name}.{os.getpid()}.partial"
    shutil.copytree(template, staging)
    os.replace(staging, root / name)
    registry.rename_run(name, f"{name}-renamed")
    registry.delete_run(f"{name}-renamed")
    done += 1
print(done)
"""


def test_threads_reading_while_a_process_renames_and_deletes(template_run):
    for number in range(3):  # three runs that stay, among those that come and go
        place(template_run, f"kept-{number}")
    mutator = subprocess.Popen(
        [sys.executable, "-c", MUTATOR, str(template_run), "3000", "8"],
        cwd=REPO_ROOT, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    stop = threading.Event()
    counts = {"whole": 0, "sentence": 0, "loaded": 0}
    failures = []
    lock = threading.Lock()

    def reader(load: bool):
        rounds = 0
        while not stop.is_set() and rounds < 2000:
            rounds += 1
            try:
                for info in registry.list_runs():
                    assert info.config.get("architecture") == "tiny", f"listed without its config: {info}"
                    try:
                        check_read_run(info.name)
                        check_read_history(info.name)
                        if load and not info.name.startswith("kept"):
                            check_load_model(info.name)
                            with lock:
                                counts["loaded"] += 1
                        with lock:
                            counts["whole"] += 1
                    except RegistryError as error:
                        assert any(words in str(error) for words in GONE), str(error)
                        with lock:
                            counts["sentence"] += 1
            except Exception as error:  # noqa: BLE001  (collected, then shown)
                failures.append(f"{type(error).__name__}: {error}")
                return

    readers = [threading.Thread(target=reader, args=(index == 0,)) for index in range(3)]
    for thread in readers:
        thread.start()
    try:
        out, err = mutator.communicate(timeout=120)
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=60)
    assert mutator.returncode == 0, err
    assert failures == []
    assert int(out) > 10, "the mutator hardly ran"
    assert counts["whole"] > 0 and counts["loaded"] > 0
    names = sorted(path.name for path in registry.models_dir().iterdir())
    assert names == ["kept-0", "kept-1", "kept-2"], "a run left behind, or a kept run lost"
    assert all(json.loads((registry.models_dir() / name / "config.json").read_text()) for name in names)
