"""The name an import gets in the app: from its file name, or chosen, and never the built-in one."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from fer.face_dataset import SYNTHETIC, DataError
from fer.i18n import _


def dataset_name_for(filename: str) -> str:
    """A cache name from a file name: `fer2013.csv` -> `fer2013`, odd characters -> `-`."""
    stem = PurePosixPath(filename.replace("\\", "/")).name
    for suffix in (".zip", ".csv", ".npz"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "imported"
    return cleaned if cleaned != SYNTHETIC else "synthetic-import"


def check_dataset_name(name: str) -> str:
    if name == SYNTHETIC:
        raise DataError(
            _("{name} is the built-in data set's name: choose another name for the import.").format(name=repr(name))
        )
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise DataError(
            _(
                "{name} cannot name a data set: use up to 64 letters, digits, '-', '_' or '.', "
                "starting with a letter or digit."
            ).format(name=repr(name))
        )
    return name
