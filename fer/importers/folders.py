"""A folder on disk as a `Tree`, walked within bounds and never led outside it by a link.

The walk stops with a sentence when the folder is deeper or holds more files than FER2013 could
(`ImportLimits`). Symbolic links are read only when they lead to a file inside the folder: a link
out of it (to /etc, to another student's folder) is refused, a broken link is named, and links to
folders are not followed (they could loop).
"""

from __future__ import annotations

import os
from pathlib import Path

from fer.face_dataset import DataError
from fer.i18n import _, format_integer
from fer.importers.limits import ImportLimits
from fer.importers.tree import Tree, is_hidden


def tree_from_folder(root: Path, limits: ImportLimits) -> Tree:
    """Every file below `root` (hidden ones left out), checked against `limits` as the walk goes."""
    label = root.name or root.as_posix()  # "/" has no name
    root = root.resolve()
    files, folders, sizes = {}, set(), {}
    seen = 0
    waiting = [(root, 0)]  # folders still to list, with their depth below root
    while waiting:
        folder, depth = waiting.pop()
        for entry in _entries(folder, root, label):
            if is_hidden(entry.name):
                continue
            relative = Path(entry.path).relative_to(root).as_posix()
            seen += 1
            if seen > limits.max_files:
                raise DataError(
                    _(
                        "{folder} holds more than {limit} files and folders: FER2013's image folders "
                        "hold about 35,900. Give the folder that holds train/ and test/, not one above it."
                    ).format(folder=label, limit=format_integer(limits.max_files))
                )
            path = Path(entry.path)
            if entry.is_symlink():
                path = _link_inside(root, label, relative, path)
            elif entry.is_dir(follow_symlinks=False):
                if depth + 1 > limits.max_depth:
                    raise DataError(
                        _(
                            "{folder} goes deeper than {levels} folder levels ({path}): FER2013's "
                            "layout is train/<emotion>/*.png. Give the folder that holds train/ and test/."
                        ).format(folder=label, levels=limits.max_depth, path=relative)
                    )
                folders.add(relative)
                waiting.append((path, depth + 1))
                continue
            if not path.is_file():
                continue  # sockets, pipes, devices: nothing a data set is made of, and reading one may never end
            files[relative] = lambda path=path: open(path, "rb")
            sizes[relative] = path.stat().st_size
    return Tree(files, folders, sizes)


def _entries(folder: Path, root: Path, label: str) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError as error:
        where = label if folder == root else _inside(label, folder.relative_to(root).as_posix())
        raise DataError(
            _("{folder} cannot be listed ({reason}): check that the app may read that folder.").format(
                folder=where, reason=error.strerror or error
            )
        ) from None


def _link_inside(root: Path, label: str, relative: str, link: Path) -> Path:
    """Where a symbolic link leads, if that is a file inside `root`; otherwise a sentence saying why not."""
    try:
        target = link.resolve()  # follows every link in the chain; does not fail on a missing end
        missing = not target.exists()
    except (OSError, RuntimeError):  # a loop of links
        missing = True
    if missing:
        raise DataError(
            _(
                "{path} is a broken symbolic link (what it points to is missing): remove it, or put "
                "the file itself there."
            ).format(path=_inside(label, relative))
        )
    if not target.is_relative_to(root):
        raise DataError(
            _(
                "{path} is a symbolic link leading out of {folder}: only files inside the folder are "
                "imported. Copy the file into the folder instead of linking to it."
            ).format(path=_inside(label, relative), folder=label)
        )
    if target.is_dir():
        raise DataError(
            _(
                "{path} is a symbolic link to a folder, and links to folders are not followed: move "
                "or copy that folder there instead."
            ).format(path=_inside(label, relative))
        )
    return target


def _inside(label: str, relative: str) -> str:
    """How a sentence names a file in the folder: `archive/train/happy/1.png` (`/bin` for the root folder)."""
    return f"{label.rstrip('/')}/{relative}"
