"""The server's cache of loaded data sets: bounded in entries and bytes, one entry per data set, safe across threads."""

import threading

import numpy as np
import pytest

from fer import data
from fer.data import DataError, DatasetCache


def save(name: str, count: int, brightness: int = 100) -> None:
    images = np.full((count, 48, 48), brightness, dtype=np.uint8)
    labels = (np.arange(count) % 7).astype(np.uint8)
    data.save_cache(name, images, labels, np.array(["Training"] * (count - 7) + ["PublicTest"] * 7))


def test_a_re_import_replaces_its_entry_instead_of_adding_a_copy():
    cache = DatasetCache()
    save("fer2013", 70, brightness=10)
    first = cache.get("fer2013")
    assert cache.get("fer2013") is first  # from memory, not read again
    save("fer2013", 140, brightness=20)  # imported again under the same name
    second = cache.get("fer2013")
    assert len(second) == 140 and second.images[0, 0, 0] == 20
    assert len(cache) == 1 and cache.nbytes == second.nbytes


def test_at_most_max_entries_are_kept_the_least_recently_used_go_first():
    cache = DatasetCache(max_entries=2)
    for name in ("a", "b", "c"):
        save(name, 14)
    cache.get("a")
    cache.get("b")
    cache.get("a")  # a is now the more recent
    cache.get("c")
    assert len(cache) == 2
    assert cache.is_loaded("a") and cache.is_loaded("c") and not cache.is_loaded("b")


def test_at_most_max_bytes_are_kept_but_the_one_asked_for_always_stays():
    save("small", 14)
    save("large", 700)
    one_small = data.load_dataset("small").nbytes
    cache = DatasetCache(max_entries=10, max_bytes=2 * one_small)
    cache.get("small")
    large = cache.get("large")  # alone over the budget: kept (it is in use), everything else goes
    assert len(large) == 700
    assert len(cache) == 1 and cache.is_loaded("large") and not cache.is_loaded("small")
    cache.get("small")
    assert len(cache) == 1 and cache.is_loaded("small")


def test_the_built_in_set_is_cached_like_any_other():
    cache = DatasetCache()
    assert cache.get(data.SYNTHETIC) is cache.get(data.SYNTHETIC)
    assert cache.is_loaded(data.SYNTHETIC)


def test_a_data_set_deleted_from_disk_is_a_sentence_and_leaves_the_cache():
    cache = DatasetCache()
    save("gone", 14)
    cache.get("gone")
    data.cache_path("gone").unlink()
    with pytest.raises(DataError, match="No data set called 'gone'"):
        cache.get("gone")
    assert len(cache) == 0


def test_many_sessions_asking_at_once_share_one_loaded_copy(monkeypatch):
    save("fer2013", 70)
    loads = []
    real_load = data.load_npz

    another_loader = threading.Event()

    def counted_load(*args, **kwargs):
        loads.append(1)
        if len(loads) > 1:
            another_loader.set()
        # The first load lingers so that, without the cache's lock, a second session would start its own;
        # with the lock the second waits for this one, and this wait simply runs out.
        another_loader.wait(timeout=1)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(data, "load_npz", counted_load)
    cache = DatasetCache()
    start = threading.Barrier(8, timeout=60)
    answers = []

    def session():
        start.wait()
        answers.append(cache.get("fer2013"))

    threads = [threading.Thread(target=session) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 8 and all(answer is answers[0] for answer in answers)
    assert len(loads) == 1


@pytest.mark.parametrize("entries, size", [(0, 100), (2, 0)])
def test_a_cache_with_no_room_is_refused(entries, size):
    with pytest.raises(ValueError, match="needs room for one entry"):
        DatasetCache(max_entries=entries, max_bytes=size)
