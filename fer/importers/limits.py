"""How much an import may read before it stops with a sentence: one server serves a whole class.

FER2013 in any of its forms fits well inside these: its image folders hold about 35,900 files
three levels deep, its CSV is 290 MB (about 80 MB zipped, a ratio under 4), its .npz 85 MB.
A folder walk that finds more, or a zip that would unpack into more, is not FER2013; it is
refused before anything is extracted, so a zip bomb costs nothing but its listing.
"""

from __future__ import annotations

from dataclasses import dataclass

from fer.i18n import _, format_integer

# Archives that unpack into less than this are not held to the ratio: small files can compress very well.
RATIO_FLOOR_BYTES = 1 << 20


@dataclass(frozen=True)
class ImportLimits:
    max_depth: int = 8  # folder levels below the folder (or zip) given
    max_files: int = 100_000  # files and folders in a walk, members in a zip
    max_unpacked_bytes: int = 1 << 30  # all of a zip's or an .npz's members together, unpacked
    max_ratio: float = 100.0  # unpacked / packed size of a whole zip (CSV ~4, PNGs ~1, a bomb 1000+)
    max_npz_arrays: int = 8  # a FER cache holds x, y and usage


DEFAULT_LIMITS = ImportLimits()


def in_megabytes(count: int) -> str:
    """A size as a sentence gives it: `290 MB`, or `2,048 bytes` below a megabyte."""
    if count >= 1e6:
        return _("{count} MB").format(count=format_integer(round(count / 1e6)))
    return _("{count} bytes").format(count=format_integer(count))
