"""A folder on disk as a `Tree`."""

from __future__ import annotations

import os
from pathlib import Path

from fer.importers.tree import Tree, is_hidden


def tree_from_folder(root: Path) -> Tree:
    files, folders, sizes = {}, set(), {}
    for folder, subfolders, names in os.walk(root):
        relative = Path(folder).relative_to(root).as_posix()
        subfolders[:] = sorted(name for name in subfolders if not is_hidden(name))
        if relative != "." and not is_hidden(relative):
            folders.add(relative)
        for name in names:
            path = (Path(folder) / name).relative_to(root).as_posix()
            if not is_hidden(path):
                files[path] = lambda full=Path(folder) / name: open(full, "rb")
                sizes[path] = (Path(folder) / name).stat().st_size
    return Tree(files, folders, sizes)
