"""An .npz of faces: our own cache format (x, y, usage), as `python -m fer data` writes it."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from fer.face_dataset import IMAGE_SIZE, NUM_CLASSES, DataError
from fer.importers.found import USAGES, FoundFaces, hold_out_test_split, normalise_usage


def read_npz(source: str, opener) -> FoundFaces:
    try:
        with opener() as raw:
            content = io.BytesIO(raw.read())
        with np.load(content, allow_pickle=False) as archive:
            keys = set(archive.files)
            if not {"x", "y"} <= keys:
                raise DataError(
                    f"{source} is not a FER data cache: it has no {' and no '.join(sorted({'x', 'y'} - keys))} "
                    "array, but a cache holds x (N,48,48) uint8 faces, y labels 0-6 and usage. Import the CSV "
                    "or image folders instead."
                )
            images, labels = archive["x"], archive["y"]
            usage = archive["usage"] if "usage" in keys else None
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"{source} cannot be read as an .npz archive ({error}): export it again.") from error
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"{source}: x has shape {images.shape}, but faces must be (N, 48, 48); export it again.")
    if images.dtype != np.uint8:
        raise DataError(f"{source}: x is {images.dtype}, but faces must be uint8 0-255; export it again.")
    if labels.shape != (len(images),):
        raise DataError(f"{source}: {len(images):,} faces but y has shape {labels.shape}; export it again.")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{source}: y is {labels.dtype}, but labels must be whole numbers 0-6; export it again.")
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        bad = int(np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))[0])
        raise DataError(
            f"{source}: entry {bad + 1} has label {labels[bad]}, outside 0-6; export it again with labels 0-6."
        )
    notes = []
    if usage is None:
        usage = hold_out_test_split(labels)
        notes.append("The .npz has no usage array: a stratified 10% of the faces was held out as the test split.")
    else:
        usage = np.array([normalise_usage(value) for value in np.asarray(usage).astype(str)], dtype="<U11")
        unknown = sorted(set(np.unique(usage)) - set(USAGES))
        if usage.shape != labels.shape or unknown:
            raise DataError(
                f"{source}: usage must give Training, PublicTest or PrivateTest for every face; found "
                f"{', '.join(unknown[:3]) or f'{len(usage)} values for {len(labels)} faces'}. Export it again."
            )
    return FoundFaces("npz", images, labels.astype(np.uint8), usage, len(labels), [], notes)
