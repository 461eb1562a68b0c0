"""Trainings in the background: one worker process each, a first-come-first-served queue, a limit.

The Train page submits a job and gets back its id (the run's name); the job's worker process
(`fer.worker`) trains and writes everything into the run folder, which the page follows. At
most `max_running` trainings run at once (`$FER_MAX_TRAININGS`, else a quarter of the cores,
at least 1); the others wait in a FIFO queue and know their position. A worker that crashes or
is killed takes nothing else with it: the manager writes what happened into the run's status
and starts the next job. After a server restart, runs left queued or running without a live
worker are found (`interrupted_runs`) and can be continued.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fer import permissions, registry, worker
from fer.accounts import User
from fer.events import EventFile, sentence
from fer.i18n import N_, _
from fer.train import TrainConfig, TrainConfigError, default_run_stem
from fer.worker import (  # noqa: F401  (states re-exported for pages and tests)
    CANCELLED,
    DONE_STATES,
    FAILED,
    FINISHED,
    INTERRUPTED,
    QUEUED,
    RUNNING,
    STOPPED,
)

POLL_SECONDS = 0.25


def default_max_running() -> int:
    configured = os.environ.get("FER_MAX_TRAININGS", "").strip()
    if configured:
        try:
            value = int(configured)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(_("FER_MAX_TRAININGS must be a whole number of at least 1, not {value}.").format(
                value=repr(configured)))
        return value
    return max(1, (os.cpu_count() or 1) // 4)


@dataclass
class Job:
    """One training as the server sees it; everything it knows lives in the run folder."""

    id: str  # the run's name in the registry
    owner: str
    config: TrainConfig
    folder: Path
    submitted: float = field(default_factory=time.time)
    process: object = None  # subprocess.Popen while this server runs it; None for a worker found after a restart

    def __post_init__(self) -> None:
        self._events = EventFile(self.folder / worker.EVENTS_FILE)

    @property
    def run_name(self) -> str:
        return self.id

    @property
    def events(self) -> EventFile:
        return self._events

    @property
    def status(self) -> dict:
        status = worker.read_status(self.folder)
        if self.process is None and status.get("state") == RUNNING and not worker.worker_alive(status):
            status = worker.settle_dead_run(self.folder)  # a worker nobody here started has died
        return status

    @property
    def state(self) -> str:
        return self.status.get("state", QUEUED)

    @property
    def error(self) -> str | None:
        status = self.status
        return worker.status_message(status) if status.get("state") in (FAILED, INTERRUPTED) else None

    @property
    def message(self) -> str | None:
        """What happened, in the reader's language (status.json keeps it as a sentence to translate)."""
        return worker.status_message(self.status)

    @property
    def metrics(self) -> dict:
        return worker.read_json(self.folder / registry.METRICS_FILE)

    @property
    def stop_requested(self) -> bool:
        return (self.folder / worker.STOP_FILE).exists()

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES

    @property
    def active(self) -> bool:
        return not self.done


class ResumeError(ValueError):
    """A run that cannot be continued; the message names it and says what to do."""


def prepare_resume(name: str, more_epochs: int = 0, epochs: int | None = None) -> tuple[Path, TrainConfig]:
    """Check that `name` can be continued and return its folder and the config to continue with.

    Nothing is written: a refused resume leaves the run exactly as it was.
    """
    import json

    try:
        folder = registry.run_path(name)
    except registry.RegistryError as error:
        raise ResumeError(str(error)) from None
    if not folder.is_dir():
        raise ResumeError(_("There is no run called {name} in {folder}: `python -m fer models` lists the runs.")
                          .format(name=repr(name), folder=registry.models_dir()))
    status = worker.read_status(folder)
    if status.get("state") == RUNNING and worker.worker_alive(status):
        raise ResumeError(_("{name} is still training (process {pid}): wait for it, or stop it first.").format(
            name=name, pid=status.get("pid")))
    state_file = folder / "checkpoint" / "state.json"
    if not state_file.exists():
        raise ResumeError(_("{name} has no checkpoint to continue from (it was trained before checkpoints "
                            "existed, or no epoch finished): train it again instead.").format(name=name))
    try:
        state = json.loads(state_file.read_text())
        config = TrainConfig.from_dict(state["config"])
        done = int(state["epochs_done"])
    except (ValueError, KeyError, TypeError) as error:
        raise ResumeError(_("The checkpoint of {name} is damaged ({error}): it cannot be continued; train it "
                            "again.").format(name=name, error=f"{type(error).__name__}: {error}")) from None
    asked = _epochs_last_asked(folder, status, config.epochs)
    target = epochs if epochs is not None else max(asked, done) + more_epochs
    if target <= done:
        raise ResumeError(_("{name} has already trained {done} epochs of {epochs}: ask for more epochs "
                            "(--more-epochs N, or 'N more epochs' on the Train page).").format(
            name=name, done=done, epochs=asked))
    try:
        config = config.replace(epochs=target)
    except TrainConfigError as error:
        raise ResumeError(_("{name} cannot continue to {epochs} epochs: {problem}").format(
            name=name, epochs=target, problem=error)) from None
    return folder, config


def _epochs_last_asked(folder: Path, status: dict, saved: int) -> int:
    """The epochs the last continue that started asked for, else those the checkpoint was saved with.

    A checkpoint records its target only at the end of an epoch: "200 more" stopped or killed in
    its first epoch must not come back as "already trained 3 of 3". A continue taken out of the
    queue before it started asked for nothing.
    """
    request = worker.read_json(folder / worker.REQUEST_FILE)
    if status.get("state") in (QUEUED, CANCELLED) or not request.get("resume"):
        return saved
    asked = request.get("config", {}).get("epochs")
    return asked if isinstance(asked, int) and asked > saved else saved


def create_run_folder(config: TrainConfig, name: str | None) -> Path:
    """A fresh folder under a name nobody has (name, name-2, ...), claimed atomically."""
    stem = registry.validate_name(name) if name else default_run_stem(config)
    for _attempt in range(100):
        folder = registry.run_path(registry.unique_name(stem[:52]))
        registry.models_dir().mkdir(parents=True, exist_ok=True)
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue  # another process took it between our look and our mkdir
    raise registry.RegistryError(_("Could not find a free run name starting with {stem}: pick another name.").format(
        stem=repr(stem)))


class JobManager:
    def __init__(self, max_running: int | None = None, nice: int = 0):
        self.max_running = max_running if max_running is not None else default_max_running()
        if self.max_running < 1:
            raise ValueError(_("At least one training must be allowed to run, not {count}.").format(
                count=self.max_running))
        self.nice = nice
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._queue: list[str] = []
        self._running: dict[str, Job] = {}
        self._watcher: threading.Thread | None = None

    # --- asking

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def jobs(self, owner: str | None = None) -> list[Job]:
        """Newest first; only `owner`'s when given."""
        with self._lock:
            chosen = [job for job in self._jobs.values() if owner is None or job.owner == owner]
        return sorted(chosen, key=lambda job: job.submitted, reverse=True)

    def queue_position(self, job: Job) -> int:
        """1 for the next job to start, 2 for the one after...; 0 when the job is not waiting."""
        with self._lock:
            return self._queue.index(job.id) + 1 if job.id in self._queue else 0

    def running_count(self) -> int:
        with self._lock:
            return len(self._running)

    def queued_count(self) -> int:
        with self._lock:
            return len(self._queue)

    # --- acting

    def submit(self, config: TrainConfig, owner: str, name: str | None = None) -> Job:
        folder = create_run_folder(config, name)
        return self._enqueue(folder, config, owner, resume=False)

    def resume(self, name: str, owner: str, more_epochs: int = 0, by: User | None = None) -> Job:
        """Continue a stopped, failed, interrupted or finished run from its last checkpoint.

        With `by`, only the run's owner or the teacher may (fer.permissions); else NotAllowed.
        """
        if by is not None:
            try:
                recorded = registry.run_owner(name)
            except registry.RegistryError as error:
                raise ResumeError(str(error)) from None
            permissions.check(by, permissions.CONTINUE, name, recorded)
        with self._lock:
            if name in self._queue or (name in self._running and self._still_running(self._running[name])):
                raise ResumeError(_("{name} is already queued or training.").format(name=name))
            folder, config = prepare_resume(name, more_epochs=more_epochs)
            (folder / worker.STOP_FILE).unlink(missing_ok=True)
            return self._enqueue(folder, config, owner, resume=True)

    def stop(self, job_id: str, by: User | None = None) -> Job | None:
        """Stop a running job after its current batch, or take a waiting one out of the queue.

        With `by`, only the job's owner or the teacher may (fer.permissions); else NotAllowed.
        """
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.done:
                return job
            if by is not None:
                permissions.check(by, permissions.STOP, job.id, job.owner)
            if job.id in self._queue:
                self._queue.remove(job.id)
                worker.write_status(job.folder, CANCELLED, **worker.message_fields(
                    sentence(N_("Taken out of the queue before it started."))))
                job.events.append("cancelled")
                job.events.append("done", state=CANCELLED, run_name=job.id)
            else:
                worker.request_stop(job.folder)
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job is done (tests and the command line use this)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        job = self.get(job_id)
        if job is None:
            raise ValueError(_("No training job {job} on this server.").format(job=repr(job_id)))
        while (job.active or self._still_running(job)) and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)
        return job

    def _still_running(self, job: Job | None) -> bool:
        """True while the job's worker process has not exited (it writes its state just before)."""
        with self._lock:
            if job is None or job.id not in self._running:
                return False
            if job.process.poll() is None:
                return True
            return False

    def interrupted_runs(self, owner: str | None = None) -> list[Job]:
        """Runs that can be continued: left behind by a server or worker that is gone, or failed.

        Workers still running after a server restart are adopted on the way, so `jobs()` and
        `get()` find them and Stop works (through their stop file).
        """
        found = []
        root = registry.models_dir()
        if not root.is_dir():
            return found
        for folder in root.iterdir():
            if not registry.NAME_PATTERN.match(folder.name) or not (folder / worker.REQUEST_FILE).exists():
                continue
            with self._lock:
                if folder.name in self._queue or self._still_running(self._jobs.get(folder.name)):
                    continue
                known = self._jobs.get(folder.name)
            request = worker.read_json(folder / worker.REQUEST_FILE)
            if owner is not None and request.get("owner") != owner:
                continue
            status = worker.read_status(folder)
            alive = status.get("state") == RUNNING and worker.worker_alive(status)
            if not alive and status.get("state") in (QUEUED, RUNNING):
                status = worker.settle_dead_run(folder)
            if not alive and status.get("state") not in (INTERRUPTED, FAILED):
                continue
            job = known or Job(folder.name, request.get("owner", ""), TrainConfig.from_dict(request.get("config", {})),
                               folder, submitted=request.get("requested", 0.0))
            if alive:
                with self._lock:
                    self._jobs.setdefault(job.id, job)
            elif (folder / "checkpoint" / "state.json").exists():
                found.append(job)
        return sorted(found, key=lambda job: job.submitted, reverse=True)

    # --- inside

    def _enqueue(self, folder: Path, config: TrainConfig, owner: str, resume: bool) -> Job:
        self._running.pop(folder.name, None)  # a finished process the watcher has not collected yet
        worker.write_request(folder, config.to_dict(), owner, resume)
        (folder / worker.STOP_FILE).unlink(missing_ok=True)
        worker.write_status(folder, QUEUED, server_pid=os.getpid(), pid=None, pid_started=None, message=None)
        job = Job(folder.name, owner, config, folder)
        job.events.append("queued", owner=owner, resume=resume)
        with self._lock:
            self._jobs[job.id] = job
            self._queue.append(job.id)
            self._start_waiting_jobs()
            if self._watcher is None or not self._watcher.is_alive():
                self._watcher = threading.Thread(target=self._watch, name="training-watcher", daemon=True)
                self._watcher.start()
        return job

    def _start_waiting_jobs(self) -> None:
        with self._lock:
            while self._queue and len(self._running) < self.max_running:
                job = self._jobs[self._queue.pop(0)]
                job.process = worker.start_worker(job.folder, nice=self.nice)
                self._running[job.id] = job

    def _watch(self) -> None:
        while True:
            with self._lock:
                for job in list(self._running.values()):
                    code = job.process.poll()
                    if code is None:
                        continue
                    del self._running[job.id]
                    try:
                        if job.folder.exists() and job.state in (QUEUED, RUNNING):  # ended without saying how
                            status = worker.settle_dead_run(job.folder, returncode=code)
                            job.events.append("error", message=status.get("message"),
                                              sentence=status.get("sentence"))
                            job.events.append("done", state=job.state, run_name=job.id)
                    except OSError:
                        pass  # the run was deleted meanwhile: nothing left to report into
                self._start_waiting_jobs()
                if not self._running and not self._queue:
                    self._watcher = None
                    return
            time.sleep(POLL_SECONDS)


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def manager() -> JobManager:
    """The one job manager of this server process (created on first use)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = JobManager()
        return _MANAGER
