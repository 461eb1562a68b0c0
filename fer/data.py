"""Where data sets come from: the built-in drawn faces, or a FER2013 import cached on disk.

What a data set is (`FaceDataset`, the emotions, the splits) lives in `fer.face_dataset` and is
re-exported here, so `fer.data.EMOTIONS` and friends keep working. Reading FER2013 from the
forms people bring it in (Kaggle CSV, image folders, zips) lives in `fer.importers`.
"""

from __future__ import annotations

import functools
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from fer import REPO_ROOT, synth
from fer.face_dataset import (  # noqa: F401  (re-exported for callers)
    EMOTIONS,
    IMAGE_SIZE,
    NUM_CLASSES,
    PRIVATE_TEST,
    PUBLIC_TEST,
    SPLIT_NAMES,
    SPLITS,
    SYNTHETIC,
    TEST,
    TRAIN,
    USAGE_TO_SPLIT,
    VALIDATION,
    ClassSample,
    DataError,
    FaceDataset,
    shown_split_label,
    split_label,
    splits_from_usage,
    test_label_from_usage,
)
from fer.i18n import N_, _
from fer.preprocessing import to_model_input  # noqa: F401  (re-exported for callers)


def data_dir() -> Path:
    return Path(os.environ.get("FER_DATA_DIR", REPO_ROOT / "data"))


def cache_path(name: str) -> Path:
    """Where an imported data set called `name` is cached."""
    return data_dir() / f"{name}.npz"


def available_datasets() -> list[str]:
    """The built-in synthetic set first, then every imported cache in `data_dir()`."""
    folder = data_dir()
    # Hidden files are half-written imports (see save_cache), not data sets.
    if not folder.is_dir():
        return [SYNTHETIC]
    return [SYNTHETIC, *sorted(path.stem for path in folder.glob("*.npz") if not path.name.startswith("."))]


def delete_dataset(name: str) -> None:
    """Remove an imported data set from `data_dir()`; the runs trained on it keep their files.

    The synthetic set is built in and stays. Pages holding it in a `DatasetCache` reload on their
    next `get` and find it gone (the cache key is the file's version).
    """
    if name == SYNTHETIC:
        raise DataError(_("The synthetic data set is built in: it cannot be deleted."))
    if name not in available_datasets():
        raise DataError(
            _("There is no data set called {name} in {folder}: nothing was deleted.").format(
                name=repr(name), folder=data_dir()
            )
        )
    try:
        cache_path(name).unlink()
    except FileNotFoundError:
        raise DataError(_("{name} was deleted by someone else a moment ago.").format(name=name)) from None


def load_dataset(name: str) -> FaceDataset:
    if name == SYNTHETIC:
        return synth.default_dataset()
    path = cache_path(name)
    if not path.exists():
        raise DataError(
            _(
                "No data set called {name} in {folder}: import one with "
                "`python -m fer data import PATH` or on the Your data page."
            ).format(name=repr(name), folder=data_dir())
        )
    return load_npz(path, name=name)


def load_npz(path: Path, name: str | None = None, validation_fraction: float = 0.1) -> FaceDataset:
    """Read our cache format (keys x, y, usage; the shared FER2013 copy has the same keys)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = {"x", "y"} - set(archive.files)
            if missing:
                raise DataError(
                    _(
                        "{file} has no {arrays} array: a FER data cache "
                        "holds x (N,48,48) uint8 faces, y labels 0-6 and usage; re-import the source."
                    ).format(file=path.name, arrays=_(" or ").join(sorted(missing)))
                )
            images = archive["x"]
            labels = archive["y"]
            usage = archive["usage"] if "usage" in archive.files else None
            splits = archive["split"] if "split" in archive.files else None
    except (OSError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(
            _("{path} cannot be read as a .npz archive ({reason}): re-import the source.").format(
                path=path, reason=error
            )
        ) from error
    images, labels = _check_arrays(path, images, labels)
    if splits is None:
        splits = splits_from_usage(usage, labels, validation_fraction=validation_fraction)
    return FaceDataset(
        name=name or path.stem,
        images=images,
        labels=labels,
        splits=np.asarray(splits).astype(str),
        synthetic=False,
        description=N_("FER2013 imported from {file}: {faces} faces."),
        description_values={"file": path.name, "faces": len(labels)},
        test_label=test_label_from_usage(usage),
    )


def _check_arrays(path: Path, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(
            _("{file}: faces have shape {shape}, expected (N, 48, 48).").format(file=path.name, shape=images.shape)
        )
    if len(images) != len(labels):
        raise DataError(
            _("{file}: {faces} faces but {labels} labels.").format(
                file=path.name, faces=len(images), labels=len(labels)
            )
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(
            _("{file}: labels must be 0-6, found {low}..{high}.").format(
                file=path.name, low=labels.min(), high=labels.max()
            )
        )
    return images.astype(np.uint8, copy=False), labels.astype(np.uint8, copy=False)


def save_cache(dataset_name: str, images: np.ndarray, labels: np.ndarray, usage: np.ndarray) -> Path:
    """Write an imported data set where `available_datasets` finds it, atomically.

    Each write goes to its own hidden temporary file, renamed into place when complete, so two
    imports under one name at once never write into the same file: the last rename wins whole.
    """
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = cache_path(dataset_name)
    handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{dataset_name}.", suffix=".partial.npz")
    try:
        with os.fdopen(handle, "wb") as file:
            # Uncompressed: FER2013 faces shrink only ~4% with zlib, which costs ~5 s per write and slows loads.
            np.savez(file, x=images, y=labels, usage=np.asarray(usage).astype(str))
        os.chmod(partial, 0o644)  # mkstemp makes it private; a cache is as readable as any other file
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return target


class DatasetCache:
    """Loaded data sets kept in memory for every page and session of one server, within bounds.

    At most `max_entries` data sets and about `max_bytes` of arrays are kept; the least recently
    used go first (the one just asked for always stays). One entry per data set: when its cache
    file changes (a re-import), the next `get` reloads it in place of the old copy.
    """

    def __init__(self, max_entries: int = 4, max_bytes: int = 1 << 30):
        if max_entries < 1 or max_bytes < 1:
            raise ValueError(
            _("A data set cache needs room for one entry; got {entries} entries, {size} B.").format(
                entries=max_entries, size=max_bytes
            )
        )
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._entries: OrderedDict[str, tuple[tuple, FaceDataset]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str) -> FaceDataset:
        key, version = _cache_key(name)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                self._entries.move_to_end(key)
                return entry[1]
            self._entries.pop(key, None)  # stale or absent: never hold the old copy beside the new one
            dataset = load_dataset(name)
            self._entries[key] = (version, dataset)
            self._evict()
            return dataset

    def is_loaded(self, name: str) -> bool:
        """Whether `get(name)` would answer from memory, without reading the disk."""
        key, version = _cache_key(name)
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and entry[0] == version

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return sum(dataset.nbytes for _, dataset in self._entries.values())

    def _evict(self) -> None:
        while len(self._entries) > 1 and (len(self._entries) > self.max_entries or self.nbytes > self.max_bytes):
            self._entries.popitem(last=False)


def _cache_key(name: str) -> tuple[str, tuple]:
    """One key per data set (its cache file), and a version that changes when the file is replaced."""
    if name == SYNTHETIC:
        return SYNTHETIC, ()
    path = cache_path(name)
    try:
        stat = path.stat()
    except OSError:
        return str(path), ()
    return str(path), (stat.st_mtime_ns, stat.st_size, stat.st_ino)


# ----------------------------------------------------------------------------- which split a run measured

FER2013_TEST_HALF = 3_589  # faces in each of FER2013's PublicTest and PrivateTest
BOTH_TEST_HALVES = f"{PUBLIC_TEST} + {PRIVATE_TEST}"


def test_accuracy_split(config: dict, metrics: dict | None = None) -> str:
    """What the split a run's `test_accuracy` was measured on is called, from the run's config and metrics.

    A run measures its data set's `test_split`; runs trained before the splits had their FER2013
    names measured PublicTest and PrivateTest together. Unless the run names its split
    (`test_split`), the number of test faces it records (`test_images`) tells which, matched
    against its data set's splits.
    """
    for record in (config, metrics or {}):
        if record.get("test_split") in SPLIT_NAMES:
            return split_label(record["test_split"], record.get("test_label", TEST))
    name, faces = config.get("dataset"), config.get("test_images")
    if name == SYNTHETIC or config.get("dataset_synthetic"):
        return TEST
    counts = _test_counts(name) if isinstance(name, str) else None
    if counts is None:  # the data set is not here: FER2013's sizes are known
        known = {FER2013_TEST_HALF: PUBLIC_TEST, 2 * FER2013_TEST_HALF: BOTH_TEST_HALVES}
        return known.get(faces, TEST)
    test_label, per_split = counts
    if faces == per_split.get(PUBLIC_TEST):
        return PUBLIC_TEST
    if faces == per_split.get(TEST):
        return test_label
    if PRIVATE_TEST in per_split and faces == per_split.get(PUBLIC_TEST, 0) + per_split[PRIVATE_TEST]:
        return BOTH_TEST_HALVES
    return TEST


def _test_counts(name: str) -> tuple[str, dict[str, int]] | None:
    """(test label, faces per test split) of an imported data set, reading only its Usage."""
    try:
        stat = cache_path(name).stat()
    except (OSError, ValueError):
        return None
    return _test_counts_of_version(str(cache_path(name)), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _test_counts_of_version(path: str, modified: int, size: int) -> tuple[str, dict[str, int]] | None:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "usage" not in archive.files:
                return None
            usage = archive["usage"].astype(str)
    except (OSError, ValueError):
        return None
    values, counts = np.unique(usage, return_counts=True)
    per_split: dict[str, int] = {}
    for value, count in zip(values.tolist(), counts.tolist()):
        split = USAGE_TO_SPLIT.get(value)
        if split is not None and split != TRAIN:
            per_split[split] = per_split.get(split, 0) + count
    return test_label_from_usage(usage), per_split
