"""The daily limit holds when one student's submissions race each other, in threads and in processes.

Every racer submits through `fer.competition.submit` with a scorer that takes a moment (as a
real model does), so many submissions are in flight at once; the store must count them one
after the other and accept exactly the limit.
"""

import multiprocessing
import threading
import time
from datetime import datetime, timedelta, timezone

from fer import competition
from fer.competition import CompetitionError, Person
from fer.competition_scoring import Scores
from fer.competition_store import CompetitionStore

# The racing processes import this module: it loads no Keras (tests.models) at the top, so they start fast.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
ANA = Person("Ana")


def slow_scorer(run, faces, halves, tta) -> Scores:
    time.sleep(0.05)
    return Scores(0.5, 0.5)


def open_race(store: CompetitionStore, limit: int) -> None:
    from tests.models import save_tiny_run
    from tests.test_competition import TEACHER, write_kaggle_cache

    write_kaggle_cache()
    save_tiny_run("a1")
    competition.open_competition("race", "kaggle", by=TEACHER, deadline=NOW + timedelta(days=1), daily_limit=limit,
                                 store=store, now=NOW, reference_model=None)


def submit_once(store_path: str, offset_ms: int) -> str:
    """One racer: 'ok', or the sentence it was refused with."""
    try:
        competition.submit("race", "a1", by=ANA, store=CompetitionStore(store_path), scorer=slow_scorer,
                           now=NOW + timedelta(milliseconds=offset_ms))
    except CompetitionError as refused:
        return str(refused)
    return "ok"


def test_racing_threads_get_exactly_the_daily_limit(tmp_path):
    store = CompetitionStore(tmp_path / "race.sqlite3")
    open_race(store, limit=3)
    start, outcomes = threading.Barrier(12), []

    def racer(number: int) -> None:
        start.wait()
        outcomes.append(submit_once(str(store.path), number))

    threads = [threading.Thread(target=racer, args=(number,)) for number in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 3
    refusals = [outcome for outcome in outcomes if outcome != "ok"]
    assert all("You have made 3 of your 3 submissions to race today" in refusal for refusal in refusals)
    assert competition.boards("race", store, now=NOW).public[0].submissions == 3


def racing_process(store_path: str, data_dir: str, models_dir: str, first: int, start, results) -> None:
    import os

    os.environ["FER_DATA_DIR"], os.environ["FER_MODELS_DIR"] = data_dir, models_dir
    start.wait()
    for number in range(first, first + 2):
        results.put(submit_once(store_path, number))


def test_racing_processes_get_exactly_the_daily_limit(tmp_path, isolated_folders):
    models, data_folder = isolated_folders
    store = CompetitionStore(tmp_path / "race.sqlite3")
    open_race(store, limit=3)
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(4), context.Queue()  # four processes, eight submissions
    processes = [
        context.Process(target=racing_process,
                        args=(str(store.path), str(data_folder), str(models), 10 * number, start, results))
        for number in range(4)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in range(8)]
    for process in processes:
        process.join(timeout=60)
    assert outcomes.count("ok") == 3, outcomes
    assert competition.boards("race", store, now=NOW).public[0].submissions == 3
