"""Deleting an imported data set: from fer, from the command line, and who may (permissions)."""

import subprocess
import sys

import numpy as np
import pytest

from fer import data, permissions
from fer.accounts import LAPTOP_USER, TEACHER_USER, User
from tests.conftest import REPO_ROOT

ANA = User("Ana Lima", "student")


def import_small(name: str) -> None:
    images = np.zeros((10, 48, 48), np.uint8)
    labels = np.arange(10, dtype=np.uint8) % 7
    data.save_cache(name, images, labels, np.array(["Training"] * 8 + ["PublicTest"] * 2))


def test_a_deleted_data_set_is_gone_and_the_others_stay(isolated_folders):
    import_small("mine")
    import_small("theirs")
    cache = data.DatasetCache()
    assert len(cache.get("mine")) == 10
    data.delete_dataset("mine")
    assert data.available_datasets() == [data.SYNTHETIC, "theirs"]
    assert not data.cache_path("mine").exists()
    with pytest.raises(data.DataError, match="No data set called 'mine'"):
        cache.get("mine")  # a page holding it in memory finds it gone, not a stale copy


@pytest.mark.parametrize(("name", "sentence"), [
    (data.SYNTHETIC, "built in: it cannot be deleted"),
    ("missing", "no data set called 'missing'"),
    ("../models/x", "no data set called"),
])
def test_what_cannot_be_deleted_is_a_sentence_and_nothing_moves(isolated_folders, name, sentence):
    import_small("kept")
    with pytest.raises(data.DataError, match=sentence):
        data.delete_dataset(name)
    assert data.available_datasets() == [data.SYNTHETIC, "kept"]


def test_the_command_line_deletes_and_refuses_in_sentences(isolated_folders):
    import_small("old")
    run = subprocess.run([sys.executable, "-m", "fer", "data", "delete", "old"], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Deleted the data set old" in run.stdout
    assert data.available_datasets() == [data.SYNTHETIC]
    again = subprocess.run([sys.executable, "-m", "fer", "data", "delete", "old"], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 2
    assert "no data set called 'old'" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.parametrize(("user", "owner", "allowed"), [
    (ANA, "Ana Lima", True),
    (ANA, "Ben Okafor", False),
    (ANA, None, False),  # imported from the command line or by the teacher
    (TEACHER_USER, "Ben Okafor", True),
    (LAPTOP_USER, None, True),
])
def test_who_may_delete_a_data_set(user, owner, allowed):
    refusal = permissions.dataset_refusal(user, "fer2013", owner)
    assert (refusal is None) == allowed
    if not allowed:
        assert "fer2013" in refusal and "teacher" in refusal
        with pytest.raises(permissions.NotAllowed):
            permissions.check_dataset(user, "fer2013", owner)
