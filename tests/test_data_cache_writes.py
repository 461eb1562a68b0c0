"""Imports under one name at once: each writes its own temporary file and the last rename wins whole."""

import subprocess
import sys
import threading

import numpy as np
import pytest

from fer import data, importers
from fer.data import DataError
from tests.conftest import REPO_ROOT

HEADER = "emotion,pixels,Usage"


def write_csv(path, count: int, brightness: int) -> np.ndarray:
    """`count` faces all of one brightness, so each writer's import is recognisable in the cache."""
    images = np.full((count, 48, 48), brightness, dtype=np.uint8)
    images[:, 0, 0] = np.arange(count) % 256
    lines = [HEADER] + [
        f"{index % 7},{' '.join(map(str, image.ravel()))},{'Training' if index < count - 7 else 'PublicTest'}"
        for index, image in enumerate(images)
    ]
    path.write_text("\n".join(lines) + "\n")
    return images


def assert_one_whole_import_and_no_leftovers(candidates: list[np.ndarray]) -> None:
    loaded = data.load_dataset("fer2013")  # a torn or interleaved write would not load, or would mix faces
    assert any(np.array_equal(loaded.images, images) for images in candidates), "the cache mixes two imports"
    leftovers = sorted(path.name for path in data.data_dir().iterdir() if path.name != "fer2013.npz")
    assert leftovers == []
    assert data.available_datasets() == [data.SYNTHETIC, "fer2013"]


def test_threads_writing_the_same_cache_at_the_same_moment_all_succeed(tmp_path, monkeypatch):
    writers = 4
    sources = []
    for index in range(writers):
        (tmp_path / f"student{index}").mkdir()
        sources.append(write_csv(tmp_path / f"student{index}" / "fer2013.csv", 40 + index, 30 + 50 * index))
    # Hold every writer at the start of its write until all are there: the moment two students collide.
    together = threading.Barrier(writers, timeout=60)
    real_savez = np.savez

    def savez_together(file, **arrays):
        together.wait()
        real_savez(file, **arrays)

    monkeypatch.setattr(np, "savez", savez_together)
    errors = []

    def student(index):
        try:
            importers.import_path(tmp_path / f"student{index}" / "fer2013.csv")
        except Exception as error:  # noqa: BLE001  (collected, then shown)
            errors.append(repr(error))

    threads = [threading.Thread(target=student, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert_one_whole_import_and_no_leftovers(sources)


STUDENT = """
import os, sys, time
from pathlib import Path
import numpy as np
from fer import importers

source, rounds, meeting, students = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
real_savez = np.savez
round_number = 0

def savez_together(file, **arrays):
    # Every student process waits at the start of its write until all have arrived (at most a minute).
    here = meeting / str(round_number)
    here.mkdir(parents=True, exist_ok=True)
    (here / str(os.getpid())).touch()
    deadline = time.monotonic() + 60
    while len(list(here.iterdir())) < students and time.monotonic() < deadline:
        time.sleep(0.005)
    real_savez(file, **arrays)

np.savez = savez_together
for round_number in range(rounds):
    importers.import_path(source)
"""


def test_processes_importing_the_same_name_at_the_same_moment_never_clobber(tmp_path):
    count = 3
    sources = []
    for index in range(count):
        (tmp_path / f"student{index}").mkdir()
        sources.append(write_csv(tmp_path / f"student{index}" / "fer2013.csv", 300, 40 + 60 * index))
    students = [
        subprocess.Popen(
            [sys.executable, "-c", STUDENT, str(tmp_path / f"student{index}" / "fer2013.csv"), "3",
             str(tmp_path / "meeting"), str(count)],
            cwd=REPO_ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(count)
    ]  # fmt: skip
    failures = [student.communicate(timeout=300)[1] for student in students]
    assert [student.returncode for student in students] == [0] * count, failures
    assert_one_whole_import_and_no_leftovers(sources)


def test_a_write_that_fails_leaves_the_old_cache_and_no_partial_file(tmp_path, monkeypatch):
    first = write_csv(tmp_path / "fer2013.csv", 20, 100)
    importers.import_path(tmp_path / "fer2013.csv")
    write_csv(tmp_path / "fer2013.csv", 30, 200)

    def disk_full(file, **arrays):
        file.write(b"PK\x03\x04 half a file")
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch, pytest.raises(DataError, match="could not be saved in .* \\(No space left"):
        patch.setattr(np, "savez", disk_full)
        importers.import_path(tmp_path / "fer2013.csv")
    assert_one_whole_import_and_no_leftovers([first])
