"""Trainings in the background: worker threads, a first-come-first-served queue, a limit.

The Train page submits a job and gets back its id; the job runs in a worker thread that only
writes to the job's `EventLog` (Streamlit must never be called from it). The manager lives
as long as the server process (`manager()` is a module-level singleton), so switching pages
or reloading the browser finds the job again by its id or its owner's token.

On a shared server at most `max_running` trainings run at once (`$FER_MAX_TRAININGS`, else a
quarter of the cores, at least 1); the others wait in a FIFO queue and know their position.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Callable

from fer.events import EventLog
from fer.train import TrainConfig, save_result, train

QUEUED, RUNNING, FINISHED, STOPPED, FAILED, CANCELLED = (
    "queued", "running", "finished", "stopped", "failed", "cancelled")
DONE_STATES = (FINISHED, STOPPED, FAILED, CANCELLED)
KEEP_FINISHED_JOBS = 100


def default_max_running() -> int:
    configured = os.environ.get("FER_MAX_TRAININGS", "").strip()
    if configured:
        try:
            value = int(configured)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"FER_MAX_TRAININGS must be a whole number of at least 1, not {configured!r}.")
        return value
    return max(1, (os.cpu_count() or 1) // 4)


@dataclass
class Job:
    id: str
    owner: str
    config: TrainConfig
    requested_name: str | None = None
    events: EventLog = field(default_factory=EventLog)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    state: str = QUEUED
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    run_name: str | None = None
    metrics: dict | None = None
    error: str | None = None
    options: dict = field(default_factory=dict)  # extra arguments for the runner (tests: dataset, build_model)

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES

    @property
    def active(self) -> bool:
        return not self.done


def run_training(job: Job) -> None:
    """The default runner: train, then save into the registry under a name nobody else has."""
    result = train(job.config, events=job.events, stop=job.stop_requested, **job.options)
    save_result(result, job.requested_name)
    job.run_name, job.metrics = result.name, result.metrics
    job.events.append("saved", run_name=result.name, path=str(result.path), stopped_by=result.stopped_by)
    if result.stopped_by == "user":
        job.state = STOPPED


class JobManager:
    def __init__(self, max_running: int | None = None, runner: Callable[[Job], None] = run_training):
        self.max_running = max_running if max_running is not None else default_max_running()
        if self.max_running < 1:
            raise ValueError(f"At least one training must be allowed to run, not {self.max_running}.")
        self.runner = runner
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._queue: list[str] = []
        self._running: set[str] = set()
        self._threads: dict[str, threading.Thread] = {}
        self._counter = itertools.count(1)

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

    def submit(self, config: TrainConfig, owner: str, name: str | None = None, **options) -> Job:
        job = Job(
            id=f"{next(self._counter)}-{uuid.uuid4().hex[:8]}",
            owner=owner, config=config, requested_name=name or None, options=options,
        )
        job.events.append("queued", owner=owner)
        with self._lock:
            self._jobs[job.id] = job
            self._queue.append(job.id)
            self._forget_old_jobs()
            self._start_waiting_jobs()
        return job

    def stop(self, job_id: str) -> Job | None:
        """Stop a running job after its current batch, or take a waiting one out of the queue."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.done:
                return job
            job.stop_requested.set()
            if job.id in self._queue:
                self._queue.remove(job.id)
                job.state, job.ended = CANCELLED, time.time()
                job.events.append("cancelled")
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job is done (tests and the command line use this)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        job = self.get(job_id)
        if job is None:
            raise ValueError(f"No training job {job_id!r} on this server.")
        while job.active:
            thread = self._threads.get(job_id)
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0)
            if thread is not None:
                thread.join(timeout=0.05 if remaining is None else min(0.05, remaining))
            else:
                time.sleep(0.02)
            if deadline is not None and time.monotonic() >= deadline:
                break
        return job

    # --- inside

    def _start_waiting_jobs(self) -> None:
        with self._lock:
            while self._queue and len(self._running) < self.max_running:
                job = self._jobs[self._queue.pop(0)]
                job.state, job.started = RUNNING, time.time()
                self._running.add(job.id)
                thread = threading.Thread(target=self._work, args=(job,), name=f"training-{job.id}", daemon=True)
                self._threads[job.id] = thread
                job.events.append("running")
                thread.start()

    def _work(self, job: Job) -> None:
        try:
            self.runner(job)
            if job.state == RUNNING:
                job.state = FINISHED
        except ValueError as error:  # our errors are sentences meant for people
            job.state, job.error = FAILED, str(error)
        except Exception as error:  # noqa: BLE001 - a worker must never die silently
            job.state, job.error = FAILED, f"The training failed: {type(error).__name__}: {error}"
            traceback.print_exc()
        finally:
            job.ended = time.time()
            if job.state == FAILED:
                job.events.append("error", message=job.error)
            job.events.append("done", state=job.state, run_name=job.run_name)
            with self._lock:
                self._running.discard(job.id)
                self._threads.pop(job.id, None)
                self._start_waiting_jobs()

    def _forget_old_jobs(self) -> None:
        finished = sorted((job for job in self._jobs.values() if job.done), key=lambda job: job.submitted)
        for job in finished[: max(0, len(finished) - KEEP_FINISHED_JOBS)]:
            del self._jobs[job.id]


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def manager() -> JobManager:
    """The one job manager of this server process (created on first use)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = JobManager()
        return _MANAGER
