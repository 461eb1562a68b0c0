"""A zip archive as a `Tree`: Kaggle's downloads, or a student's own zip of the image folders.

Before anything is extracted, the archive's listing is held to `ImportLimits`: how many members,
how much they unpack into together, how many times its packed size the whole unpacks into (a
zip bomb of a few kB can unpack into terabytes), and how deep its folders go. Python's zipfile
never unpacks more than a member's listed size, so checking the listing is enough.
"""

from __future__ import annotations

import zipfile
from pathlib import PurePosixPath

from fer.face_dataset import DataError
from fer.i18n import _, format_integer
from fer.importers.limits import RATIO_FLOOR_BYTES, ImportLimits, in_megabytes
from fer.importers.tree import Tree, is_hidden

ENCRYPTED = 0x1  # general purpose flag bit of a member that needs a password


def tree_from_zip(archive: zipfile.ZipFile, source: str, limits: ImportLimits) -> Tree:
    members = archive.infolist()
    check_members(members, source, limits)
    files, folders, sizes = {}, set(), {}
    for info in members:
        path = info.filename.rstrip("/")
        if not path or is_hidden(path):
            continue
        if len(PurePosixPath(path).parts) - 1 > limits.max_depth:
            raise DataError(
                _(
                    "{source} goes deeper than {levels} folder levels: FER2013's layout is "
                    "train/<emotion>/*.png. Zip the folder that holds train/ and test/."
                ).format(source=source, levels=limits.max_depth)
            )
        if info.is_dir():
            folders.add(path)
        else:
            files[path] = lambda info=info: archive.open(info)
            sizes[path] = info.file_size
        folders.update(parent.as_posix() for parent in PurePosixPath(path).parents if str(parent) != ".")
        if not info.is_dir():
            folders.discard(path)
    return Tree(files, folders, sizes)


def check_members(members: list[zipfile.ZipInfo], source: str, limits: ImportLimits, max_members: int | None = None):
    """Refuse, with a sentence, an archive whose listing says it would unpack into more than FER2013 could be."""
    max_members = limits.max_files if max_members is None else max_members
    if len(members) > max_members:
        raise DataError(
            _(
                "{source} holds {members} members, more than the {limit} an import reads: FER2013's "
                "image folders hold about 35,900 files. Zip only the folder that holds train/ and test/."
            ).format(source=source, members=format_integer(len(members)), limit=format_integer(max_members))
        )
    unpacked = sum(info.file_size for info in members)
    if unpacked > limits.max_unpacked_bytes:
        raise DataError(
            _(
                "{source} would unpack into {size}, more than the {limit} an import unpacks: FER2013's CSV "
                "is 290 MB. Give FER2013 itself, or import its CSV from a path."
            ).format(source=source, size=in_megabytes(unpacked), limit=in_megabytes(limits.max_unpacked_bytes))
        )
    # The whole archive's ratio, not each member's: an array of repeated "Training" packs 300 times, but
    # FER2013 as a whole packs at most about 4 times (its CSV), while a bomb packs a thousand times or more.
    packed = sum(info.compress_size for info in members)
    if unpacked > RATIO_FLOOR_BYTES and unpacked > limits.max_ratio * max(packed, 1):
        raise DataError(
            _(
                "{source} would unpack into {ratio} times its packed size, more than {limit} (FER2013 packs "
                "at most about 4 times): it is not FER2013. Zip the data set again."
            ).format(
                source=source, ratio=format_integer(round(unpacked / max(packed, 1))),
                limit=format_integer(round(limits.max_ratio)),
            )
        )
    if any(info.flag_bits & ENCRYPTED for info in members):
        raise DataError(
            _("{source} is protected by a password: zip the data set again without one.").format(source=source)
        )

