"""A disk cache for slow explanations (filter galleries take seconds to minutes).

Entries are `.npz` files named by a hash of (model file contents, method, layer, settings), so
a retrained model never reuses an old picture and a renamed one still finds its own. The
default folder is `<models>/.explain-cache/` (hidden: the registry ignores it).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def default_cache_dir() -> Path:
    from fer import registry

    return registry.models_dir() / ".explain-cache"


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, remembered per (path, size, modification time)."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _FILE_HASHES[key] = digest.hexdigest()
    return _FILE_HASHES[key]


class ResultCache:
    """`.npz` entries in one folder (default `<models>/.explain-cache/`), named by `key(**parts)`."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    @staticmethod
    def key(**parts) -> str:
        encoded = json.dumps(parts, sort_keys=True, default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()[:32]

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.npz"

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        path = self.path(key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except (OSError, ValueError):  # a damaged entry is recomputed, not trusted
            return None

    def save(self, key: str, arrays: dict[str, np.ndarray]) -> Path:
        """Write-then-rename, so a reader never sees half an entry."""
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(prefix=f".{key}.", suffix=".partial", dir=self.directory)
        os.close(handle)
        try:
            with open(partial, "wb") as stream:
                np.savez_compressed(stream, **arrays)
            os.replace(partial, self.path(key))
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return self.path(key)
