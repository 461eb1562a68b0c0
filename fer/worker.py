"""One training in its own process, followed and steered through the files of its run folder.

    python -m fer.worker models/<name>        (started by `fer.jobs` or `python -m fer train`)

A run folder (`models/<name>/`) holds, besides the registry's files (model.keras of the chosen
epoch so far, config.json, history.csv, metrics.json, written after every epoch):

- `request.json`  what to train: the config, the owner, whether to resume;
- `status.json`   queued | running | finished | stopped | failed, the worker's pid, a sentence;
- `events.jsonl`  every batch and epoch (`fer.events.EventFile`), read by the page and the CLI;
- `stop`          present = please stop after the current batch (a page, the CLI or a teacher);
- `checkpoint/`   weights, optimizer state and loop state after the last complete epoch.

Because everything is in files, a training survives its page being closed, the server being
restarted (the worker goes on, or is found dead and offered for Continue) and a crash of the
worker (the server writes what happened and keeps the best epoch). The worker is a fresh Python
(`subprocess`, never a fork of a server that has TensorFlow loaded), so its random seed is its
own and another backend than the server's can run in it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from fer.events import english, error_sentence, is_sentence, sentence, shown
from fer.i18n import N_

REQUEST_FILE = "request.json"
STATUS_FILE = "status.json"
EVENTS_FILE = "events.jsonl"
STOP_FILE = "stop"
LOG_FILE = "worker.log"

QUEUED, RUNNING, FINISHED, STOPPED, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "finished", "stopped", "failed", "cancelled", "interrupted")
ACTIVE_STATES = (QUEUED, RUNNING)
DONE_STATES = (FINISHED, STOPPED, FAILED, CANCELLED, INTERRUPTED)


# ----------------------------------------------------------------------------- the folder's files


def write_json(path: Path, values: dict) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(values, indent=1, default=str))
    os.replace(partial, path)


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_request(folder: Path, config: dict, owner: str, resume: bool) -> None:
    write_json(folder / REQUEST_FILE, {"config": config, "owner": owner, "resume": resume, "requested": time.time()})


def read_status(folder: Path) -> dict:
    return read_json(Path(folder) / STATUS_FILE)


def write_status(folder: Path, state: str, **fields) -> dict:
    if "message" in fields and "sentence" not in fields:
        fields["sentence"] = None  # a new message replaces the kept sentence too
    status = {**read_status(folder), "state": state, "updated": time.time(), **fields}
    write_json(Path(folder) / STATUS_FILE, status)
    return status


def process_identity(pid: int) -> float | None:
    """The start time of process `pid` (None if there is none): a pid alone may be reused."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process.create_time()
    except psutil.Error:
        return None


def worker_alive(status: dict) -> bool:
    pid, started = status.get("pid"), status.get("pid_started")
    return bool(pid) and started is not None and process_identity(int(pid)) == started


def request_stop(folder: Path) -> None:
    (Path(folder) / STOP_FILE).touch()


class StopRequest:
    """`is_set()` is true once a signal arrived or the stop file appeared (looked at every 0.25 s)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / STOP_FILE
        self.signalled = threading.Event()
        self._checked, self._seen = 0.0, False

    def set(self) -> None:
        self.signalled.set()

    def is_set(self) -> bool:
        if self.signalled.is_set() or self._seen:
            return True
        now = time.monotonic()
        if now - self._checked > 0.25:
            self._checked, self._seen = now, self.path.exists()
        return self._seen


def kept_epoch_sentence(folder: Path) -> dict:
    """"the best epoch, 5, is kept" (or that nothing could be kept), from the folder's metrics."""
    from fer import registry

    metrics = read_json(Path(folder) / registry.METRICS_FILE)
    if (Path(folder) / registry.MODEL_FILE).exists() and metrics.get("chosen_epoch"):
        return sentence(N_("the best epoch, {epoch}, is kept"), epoch=metrics["chosen_epoch"])
    return sentence(N_("no epoch had finished, so there is nothing to keep"))


def last_epoch(folder: Path) -> int:
    """The epoch the worker was in when it stopped writing events."""
    from fer.events import EventFile

    last = EventFile(Path(folder) / EVENTS_FILE).last("batch")
    return int(last["epoch"]) if last else 1


def death_sentence(folder: Path, returncode: int | None) -> dict:
    """What to tell people when a worker ended without saying how (crash, kill, power cut)."""
    epoch = last_epoch(folder)
    kept = kept_epoch_sentence(folder)
    if returncode is None:
        return sentence(N_("stopped: interrupted in epoch {epoch} (the server or the computer stopped); {kept}. "
                           "Press Continue to go on from the last complete epoch."), epoch=epoch, kept=kept)
    if returncode in (-signal.SIGKILL, 137):
        return sentence(N_("stopped: out of memory in epoch {epoch} (the operating system killed the training); "
                           "{kept}. Try a smaller batch or network, or Continue when the machine is less busy."),
                        epoch=epoch, kept=kept)
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.Signals._value2member_map_ else returncode
        return sentence(N_("stopped: the training process was ended by signal {signal} in epoch {epoch}; {kept}."),
                        signal=name, epoch=epoch, kept=kept)
    return sentence(N_("stopped: the training process crashed (exit code {code}) in epoch {epoch}; {kept}. "
                       "Its log is {log}."), code=returncode, epoch=epoch, kept=kept, log=str(Path(folder) / LOG_FILE))


def message_fields(message: dict | str | None) -> dict:
    """status.json's `message` (English, as older versions read it) and `sentence` (shown translated)."""
    return {"message": None if message is None else english(message),
            "sentence": message if is_sentence(message) else None}


def status_message(status: dict) -> str | None:
    """The status's sentence in the reader's language (old runs: the English they stored)."""
    stored = status.get("sentence") or status.get("message")
    return shown(stored) if stored else None


def settle_dead_run(folder: Path, returncode: int | None = None) -> dict:
    """A run whose status says queued/running but whose worker is gone: write what happened."""
    status = read_status(folder)
    if status.get("state") not in ACTIVE_STATES:
        return status
    if status.get("state") == QUEUED and returncode is None:
        return write_status(folder, INTERRUPTED, **message_fields(sentence(
            N_("Waiting in the queue when the server stopped: press Continue to queue it again."))))
    state = FAILED if returncode is not None else INTERRUPTED
    return write_status(folder, state, **message_fields(death_sentence(folder, returncode)))


# `make run` starts the server with these to bound what it keeps in memory (see the Makefile); a
# training wants TensorFlow's oneDNN kernels (about 3 times faster on the CPU) and glibc's defaults.
SERVER_ONLY_VARIABLES = frozenset({"TF_ENABLE_ONEDNN_OPTS", "MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"})


def start_worker(folder: Path, nice: int = 0) -> subprocess.Popen:
    """Start `python -m fer.worker FOLDER` in a fresh interpreter; its output goes to worker.log."""
    from fer import REPO_ROOT

    environment = {name: value for name, value in os.environ.items() if name not in SERVER_ONLY_VARIABLES}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), environment.get("PYTHONPATH")]))
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    log = open(Path(folder) / LOG_FILE, "ab")  # noqa: SIM115 - the child owns it
    try:
        # -X faulthandler: a crash in native code (SIGSEGV) leaves every thread's Python stack in worker.log.
        process = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", "fer.worker", str(folder)], stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment, cwd=str(REPO_ROOT),
        )
    finally:
        log.close()
    if nice:  # not preexec_fn: a callback between fork and exec is unsafe in a server full of threads
        with contextlib.suppress(AttributeError, OSError):  # no priorities on Windows
            os.setpriority(os.PRIO_PROCESS, process.pid, os.getpriority(os.PRIO_PROCESS, 0) + nice)
    return process


# ----------------------------------------------------------------------------- inside the worker


def save_progress(folder: Path, result) -> None:
    """The registry's files for the chosen epoch so far, each replaced atomically."""
    from fer import registry

    registry.write_run_files(Path(folder), result.model, result.run_config, result.history, result.metrics)


def run(folder: Path) -> int:
    from fer import backends
    from fer.events import EventFile

    folder = Path(folder)
    request = read_json(folder / REQUEST_FILE)
    events = EventFile(folder / EVENTS_FILE)
    settings = request.get("config", {})
    try:  # before anything imports Keras: the backend and the visible devices are chosen here
        backends.apply_environment(settings.get("backend", "tensorflow"), settings.get("device", "auto"))
    except backends.BackendError as error:
        fields = message_fields(error_sentence(error))
        write_status(folder, FAILED, **fields)
        events.append("error", **fields)
        events.append("done", state=FAILED, run_name=folder.name)
        return 1
    from fer.train import TrainConfig, train

    stop = StopRequest(folder)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    import psutil

    write_status(folder, RUNNING, pid=os.getpid(), pid_started=psutil.Process().create_time(), message=None)
    events.append("running", pid=os.getpid())
    state = FAILED
    try:
        config = TrainConfig.from_dict(request["config"])
        result = train(config, events=events, stop=stop, run_dir=folder, resume=bool(request.get("resume")),
                       batch_event_seconds=0.5, on_epoch=lambda partial: save_progress(folder, partial))
        save_progress(folder, result)
        state = STOPPED if result.stopped_by == "user" else FINISHED
        kept = kept_epoch_sentence(folder)
        message = (sentence(N_("Stopped by request after epoch {epoch}; {kept}."), epoch=len(result.history),
                            kept=kept)
                   if state == STOPPED else sentence(N_("Finished; {kept}."), kept=kept))
        write_status(folder, state, **message_fields(message))
        events.append("saved", run_name=folder.name, path=str(folder), stopped_by=result.stopped_by)
    except ValueError as error:  # our errors are sentences meant for people
        fields = message_fields(error_sentence(error))
        write_status(folder, FAILED, **fields)
        events.append("error", **fields)
    except Exception as error:  # noqa: BLE001 - report every failure, then exit non-zero
        traceback.print_exc()
        fields = message_fields(sentence(N_("The training failed in epoch {epoch}: {error}; {kept}."),
                                         epoch=last_epoch(folder), error=f"{type(error).__name__}: {error}",
                                         kept=kept_epoch_sentence(folder)))
        write_status(folder, FAILED, **fields)
        events.append("error", **fields)
    finally:
        events.append("done", state=state if state != FAILED else read_status(folder).get("state", FAILED),
                      run_name=folder.name)
    return 0 if read_status(folder).get("state") in (FINISHED, STOPPED) else 1


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
