"""A folder on disk or a zip, seen the same way: relative paths, each with a way to open the file.

`fer.importers.folders` builds one from a folder and `fer.importers.zips` from an archive; the
readers (CSV, npz, image folders) never need to know which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO


@dataclass
class Tree:
    files: dict[str, Callable[[], BinaryIO]]  # "train/happy/1.png" -> opens it for reading
    folders: set[str]  # "train", "train/happy", ...
    sizes: dict[str, int]  # bytes of each file, for progress


def is_hidden(path: str) -> bool:
    """Dot files and macOS's __MACOSX copies are not part of a data set."""
    return any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(path).parts)
