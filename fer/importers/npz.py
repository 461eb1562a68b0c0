"""An .npz of faces: our own cache format (x, y, usage), as `python -m fer data` writes it.

An .npz is a zip of .npy arrays, so it is held to the same `ImportLimits` as any zip, and
each array's header is read before numpy allocates what it announces.
"""

from __future__ import annotations

import io
import zipfile
import zlib

import numpy as np

from fer.face_dataset import IMAGE_SIZE, NUM_CLASSES, DataError
from fer.i18n import _, format_integer, format_percent
from fer.importers.found import USAGES, FoundFaces, hold_out_test_split, normalise_usage
from fer.importers.limits import ImportLimits, in_megabytes
from fer.importers.zips import check_members


def read_npz(source: str, opener, size: int | None, limits: ImportLimits) -> FoundFaces:
    """The faces in an .npz; `size` (its bytes, when known) lets a huge file be refused before it is read."""
    if size is not None and size > limits.max_unpacked_bytes:
        raise DataError(
            _(
                "{source} is {size}, more than the {limit} an import reads: FER2013's own cache is 85 MB. "
                "Import the CSV or the image folders instead."
            ).format(source=source, size=in_megabytes(size), limit=in_megabytes(limits.max_unpacked_bytes))
        )
    try:
        with opener() as raw:
            content = io.BytesIO(raw.read(limits.max_unpacked_bytes + 1))
        _check_arrays_fit(content, source, limits)
        with np.load(content, allow_pickle=False) as archive:
            keys = set(archive.files)
            if not {"x", "y"} <= keys:
                raise DataError(
                    _(
                        "{source} is not a FER data cache: it has no {arrays} array, but a cache holds x (N,48,48) "
                        "uint8 faces, y labels 0-6 and usage. Import the CSV or image folders instead."
                    ).format(source=source, arrays=_(" and no ").join(sorted({"x", "y"} - keys)))
                )
            images, labels = archive["x"], archive["y"]
            usage = archive["usage"] if "usage" in keys else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        if isinstance(error, DataError):
            raise
        # numpy's own message may quote the file's header: the sentence says what was expected instead.
        raise DataError(
            _(
                "{source} cannot be read as an .npz archive: it is damaged or not an .npz. Export it again, or "
                "import the CSV or the image folders."
            ).format(source=source)
        ) from error
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(
            _("{source}: x has shape {shape}, but faces must be (N, 48, 48); export it again.").format(
                source=source, shape=images.shape
            )
        )
    if images.dtype != np.uint8:
        raise DataError(
            _("{source}: x is {dtype}, but faces must be uint8 0-255; export it again.").format(
                source=source, dtype=images.dtype
            )
        )
    if labels.shape != (len(images),):
        raise DataError(
            _("{source}: {faces} faces but y has shape {shape}; export it again.").format(
                source=source, faces=format_integer(len(images)), shape=labels.shape
            )
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            _("{source}: y is {dtype}, but labels must be whole numbers 0-6; export it again.").format(
                source=source, dtype=labels.dtype
            )
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        bad = int(np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))[0])
        raise DataError(
            _("{source}: entry {entry} has label {label}, outside 0-6; export it again with labels 0-6.").format(
                source=source, entry=bad + 1, label=labels[bad]
            )
        )
    notes = []
    if usage is None:
        usage = hold_out_test_split(labels)
        notes.append(_(
            "The .npz has no usage array: a stratified {share} of the faces was held out as the test split."
        ).format(share=format_percent(0.1)))
    else:
        usage = np.array([normalise_usage(value) for value in np.asarray(usage).astype(str)], dtype="<U11")
        unknown = sorted(set(np.unique(usage)) - set(USAGES))
        if usage.shape != labels.shape or unknown:
            found = ", ".join(value[:20] for value in unknown[:3]) or _("{values} values for {faces} faces").format(
                values=len(usage), faces=len(labels)
            )
            raise DataError(
                _("{source}: usage must give Training, PublicTest or PrivateTest for every face; found {found}. "
                  "Export it again.").format(source=source, found=found)
            )
    return FoundFaces("npz", images, labels.astype(np.uint8), usage, len(labels), [], notes)


def _check_arrays_fit(content: io.BytesIO, source: str, limits: ImportLimits) -> None:
    """Refuse an .npz whose listing or array headers promise more than its bytes or the limits allow.

    numpy allocates what an array's header announces before reading its data, so a few bytes
    announcing (10**9, 48, 48) would cost 2 TB of address space: the headers are read first.
    """
    with zipfile.ZipFile(content) as archive:
        members = archive.infolist()
        check_members(members, source, limits, max_members=limits.max_npz_arrays)
        for info in members:
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version not in ((1, 0), (2, 0), (3, 0)):
                    raise ValueError("unknown .npy version")
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else (
                    np.lib.format.read_array_header_2_0
                )
                shape, _fortran_order, dtype = read_header(member)
            announced = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if announced > info.file_size:
                raise DataError(
                    _(
                        "{source} is damaged: one of its arrays announces {announced} bytes but holds "
                        "{holds}. Export it again, or import the CSV or the image folders."
                    ).format(source=source, announced=format_integer(announced), holds=format_integer(info.file_size))
                )
    content.seek(0)
