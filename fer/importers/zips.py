"""A zip archive as a `Tree`: Kaggle's downloads, or a student's own zip of the image folders."""

from __future__ import annotations

import zipfile
from pathlib import PurePosixPath

from fer.importers.tree import Tree, is_hidden


def tree_from_zip(archive: zipfile.ZipFile) -> Tree:
    files, folders, sizes = {}, set(), {}
    for info in archive.infolist():
        path = info.filename.rstrip("/")
        if not path or is_hidden(path):
            continue
        if info.is_dir():
            folders.add(path)
        else:
            files[path] = lambda info=info: archive.open(info)
            sizes[path] = info.file_size
        folders.update(parent.as_posix() for parent in PurePosixPath(path).parents if str(parent) != ".")
        if not info.is_dir():
            folders.discard(path)
    return Tree(files, folders, sizes)
