"""Bring FER2013 in from the forms people get it in, once, into the cache the app reads.

Accepted: Kaggle's `fer2013.csv` (emotion,pixels,Usage; also `train.csv` without Usage and
`icml_face_data.csv`), Kaggle's image folders (ROOT/train/<emotion>/*.png, ROOT/test/...),
our own `.npz` cache, and a `.zip` holding any of them. `import_path` reads a file or folder
on disk, `import_bytes` an upload. Every problem is a `DataError` naming the file, the line or
image, and the fix; with `skip_bad_rows=True` bad rows are left out and counted instead.

One module per step:
    dispatch.py       which reader a file, folder or upload goes to
    csv_stream.py     the CSV, streamed in blocks, pixels parsed in batches
    npz.py            an .npz cache
    folders.py        a folder on disk as a Tree (relative paths -> files)
    zips.py           a zip as a Tree
    image_folders.py  the train/<emotion>/*.png layout read from a Tree
    decode.py         one image file -> a 48x48 grayscale face
    found.py          what every reader returns, and the bad rows it met
    report.py         the cache write and the report of what happened
    names.py          the data set's name in the app
    limits.py         how much an import may read (depth, files, unpacked bytes)
"""

from fer.face_dataset import DataError
from fer.importers.dispatch import import_bytes, import_path
from fer.importers.found import BadRowError, Progress
from fer.importers.limits import DEFAULT_LIMITS, ImportLimits
from fer.importers.names import check_dataset_name, dataset_name_for
from fer.importers.report import ImportReport

__all__ = [
    "DEFAULT_LIMITS",
    "BadRowError",
    "DataError",
    "ImportLimits",
    "ImportReport",
    "Progress",
    "check_dataset_name",
    "dataset_name_for",
    "import_bytes",
    "import_path",
]
