"""Bring FER2013 in from the forms people get it in, once, into the cache the app reads.

Accepted: Kaggle's `fer2013.csv` (emotion,pixels,Usage; also `train.csv` without Usage and
`icml_face_data.csv`), Kaggle's image folders (ROOT/train/<emotion>/*.png, ROOT/test/...),
our own `.npz` cache, and a `.zip` holding any of them. `import_path` reads a file or folder
on disk, `import_bytes` an upload. Every problem is a `DataError` naming the file, the line or
image, and the fix; with `skip_bad_rows=True` bad rows are left out and counted instead.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import cv2
import numpy as np

from fer.data import (
    EMOTIONS,
    IMAGE_SIZE,
    NUM_CLASSES,
    SPLITS,
    SYNTHETIC,
    USAGE_TO_SPLIT,
    DataError,
    save_cache,
    splits_from_usage,
)

PIXELS_PER_FACE = IMAGE_SIZE * IMAGE_SIZE
USAGES = tuple(USAGE_TO_SPLIT)  # Training, PublicTest, PrivateTest
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
# Kaggle's image-folder release names its split folders train/ and test/.
SPLIT_FOLDERS = {
    "train": "Training",
    "training": "Training",
    "test": "PublicTest",
    "publictest": "PublicTest",
    "privatetest": "PrivateTest",
}
# Class folder names, lower case; the common spellings of other releases map to the same class.
CLASS_FOLDERS = {
    "angry": 0, "anger": 0,
    "disgust": 1, "disgusted": 1,
    "fear": 2, "fearful": 2,
    "happy": 3, "happiness": 3,
    "sad": 4, "sadness": 4,
    "surprise": 5, "surprised": 5,
    "neutral": 6,
}  # fmt: skip
SKIP_HINT = "or import again with skip bad rows on (`--skip-bad-rows`) to leave such rows out"
# Rows parsed per vectorised batch: big enough to be fast, small enough to keep memory low.
CSV_BATCH_ROWS = 2048
SHOWN_PROBLEMS = 5

Progress = Callable[[float, str], None]


@dataclass
class ImportReport:
    source: str
    dataset_name: str
    cache_path: Path
    format: str  # "csv", "image folders" or "npz"
    rows_read: int  # data rows (CSV lines, image files, npz entries) looked at
    rows_imported: int
    rows_skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)  # the first few, "line 7: ..."
    usage_counts: dict[str, int] = field(default_factory=dict)  # FER2013 Usage -> faces
    split_counts: dict[str, int] = field(default_factory=dict)  # train/val/test as the app uses them
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [
            f"Imported {self.rows_imported:,} faces from {self.source} ({self.format}) as data set "
            f"{self.dataset_name!r}.",
            f"Rows read: {self.rows_read:,}; skipped: {self.rows_skipped:,}.",
        ]
        if self.rows_skipped:
            lines.append("First skipped: " + "; ".join(self.skipped_examples) + ".")
        lines.append("FER2013 Usage: " + ", ".join(f"{k} {v:,}" for k, v in self.usage_counts.items()) + ".")
        lines.append(
            "Splits the app uses: " + ", ".join(f"{k} {v:,}" for k, v in self.split_counts.items())
            + " (validation is a stratified 10% of Training)."
        )
        lines.extend(self.notes)
        lines.append(f"Cache: {self.cache_path}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())


def import_path(
    path: str | os.PathLike,
    name: str | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV, an .npz, a .zip or a folder on disk into the data cache."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path} does not exist: give the path of fer2013.csv, a .zip, an .npz or a folder.")
    if path.is_dir():
        tree = _Tree.from_folder(path)
        return _import_tree(tree, path.name, name, skip_bad_rows, progress)
    return _import_file(path.name, lambda: open(path, "rb"), path.stat().st_size, name, skip_bad_rows, progress)


def import_bytes(
    content: bytes,
    filename: str,
    name: str | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an upload (its bytes and original file name) into the data cache."""
    return _import_file(filename, lambda: io.BytesIO(content), len(content), name, skip_bad_rows, progress)


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
        raise DataError(f"{name!r} is the built-in data set's name: choose another name for the import.")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise DataError(
            f"{name!r} cannot name a data set: use up to 64 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit."
        )
    return name


# --- dispatch ------------------------------------------------------------------------------


def _import_file(filename, opener, size, name, skip_bad_rows, progress) -> ImportReport:
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix == ".npz":
        return _finish(_read_npz(filename, opener), filename, name or dataset_name_for(filename))
    with opener() as stream:
        is_zip = zipfile.is_zipfile(stream)
    if is_zip:
        with opener() as stream, zipfile.ZipFile(stream) as archive:
            return _import_tree(_Tree.from_zip(archive), filename, name, skip_bad_rows, progress)
    if suffix in ("", ".csv", ".txt"):
        faces = _read_csv(filename, opener, skip_bad_rows, progress, size)
        return _finish(faces, filename, name or dataset_name_for(filename))
    raise DataError(
        f"{filename} is not a format FER2013 comes in: give fer2013.csv, a .zip of it or of the "
        "train/ and test/ image folders, or an .npz cache."
    )


def _import_tree(tree: _Tree, label: str, name, skip_bad_rows, progress) -> ImportReport:
    name = name or dataset_name_for(label)
    csv_path = _choose_csv(tree, label)
    if csv_path is not None:
        faces = _read_csv(
            f"{label}/{csv_path}", tree.files[csv_path], skip_bad_rows, progress, tree.sizes.get(csv_path)
        )
        return _finish(faces, f"{label}/{csv_path}", name)
    npz_paths = sorted(path for path in tree.files if path.lower().endswith(".npz"))
    if len(npz_paths) == 1:
        return _finish(_read_npz(f"{label}/{npz_paths[0]}", tree.files[npz_paths[0]]), label, name)
    if len(npz_paths) > 1:
        raise DataError(f"{label} holds several .npz files ({', '.join(npz_paths)}): import one of them.")
    faces = _read_image_folders(tree, label, skip_bad_rows, progress)
    return _finish(faces, label, name)


@dataclass
class _Faces:
    """What a reader found, before it is cached."""

    format: str
    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray
    rows_read: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _finish(faces: _Faces, source: str, name: str) -> ImportReport:
    check_dataset_name(name)
    if len(faces.labels) == 0:
        detail = f" (all {faces.rows_read:,} rows were bad; first: {faces.problems[0]})" if faces.problems else ""
        raise DataError(f"{source} holds no usable faces{detail}: check that it is FER2013.")
    path = save_cache(name, faces.images, faces.labels, faces.usage)
    splits = splits_from_usage(faces.usage, faces.labels)
    return ImportReport(
        source=source,
        dataset_name=name,
        cache_path=path,
        format=faces.format,
        rows_read=faces.rows_read,
        rows_imported=len(faces.labels),
        rows_skipped=len(faces.problems),
        skipped_examples=faces.problems[:SHOWN_PROBLEMS],
        usage_counts={usage: int(np.sum(faces.usage == usage)) for usage in USAGES if np.any(faces.usage == usage)},
        split_counts={split: int(np.sum(splits == split)) for split in SPLITS},
        notes=faces.notes,
    )


def _usage_without_column(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """No Usage given: hold out a stratified tenth as PublicTest so there is a test split."""
    usage = np.full(len(labels), "Training", dtype="<U11")
    rng = np.random.default_rng(seed)
    for label in range(NUM_CLASSES):
        index = rng.permutation(np.flatnonzero(labels == label))
        usage[index[: int(round(len(index) * 0.1))]] = "PublicTest"
    return usage


class _Problems:
    """Collects bad rows in skip mode; otherwise the first one stops the import."""

    def __init__(self, source: str, skip: bool):
        self.source, self.skip, self.found = source, skip, []

    def add(self, where: str, what: str, fix: str, order: int = 0) -> None:
        """`order` (the line number) keeps the list in file order when problems are found out of order."""
        if not self.skip:
            raise DataError(f"{self.source}, {where}: {what}. {fix}, {SKIP_HINT}.")
        self.found.append((order, f"{where}: {what}"))

    def in_order(self) -> list[str]:
        return [text for _, text in sorted(self.found, key=lambda found: found[0])]


# --- CSV -------------------------------------------------------------------------------------


def _read_header(opener) -> list[str] | None:
    lines = _csv_lines(opener)
    try:
        return next(lines, (0, None, 0))[1]
    finally:
        lines.close()


def _choose_csv(tree: _Tree, label: str) -> str | None:
    """The labelled FER2013 CSV in a folder or zip, if any; None when there is no CSV at all."""
    csv_paths = sorted(path for path in tree.files if path.lower().endswith(".csv"))
    if not csv_paths:
        return None
    labelled = []
    for path in csv_paths:
        header = [column.strip().lower() for column in (_read_header(tree.files[path]) or [])]
        if "emotion" in header and "pixels" in header:
            labelled.append((("usage" not in header), PurePosixPath(path).name.lower() != "fer2013.csv", path))
    if not labelled:
        if _has_image_folders(tree):
            return None
        raise DataError(
            f"{label} has CSV files ({', '.join(csv_paths)}) but none with emotion and pixels columns: "
            "FER2013's fer2013.csv starts with the line emotion,pixels,Usage."
        )
    return sorted(labelled)[0][2]


def _read_csv(source: str, opener, skip_bad_rows: bool, progress: Progress | None, size: int | None = None) -> _Faces:
    problems = _Problems(source, skip_bad_rows)
    lines = _csv_lines(opener)
    try:
        line_number, header, _ = next(lines)
    except StopIteration:
        raise DataError(f"{source} is empty: FER2013's fer2013.csv has a header line and 35,887 faces.")
    columns, first_row = _csv_columns(source, header)
    faces = _CsvBatches(source, columns, problems)
    rows_read = 0
    if first_row is not None:
        faces.add(1, first_row)
        rows_read += 1
    for line_number, row, bytes_read in lines:
        rows_read += 1
        faces.add(line_number, row)
        if progress and rows_read % 2000 == 0:
            fraction = bytes_read / size if size else rows_read / 35_887
            progress(min(0.99, fraction), f"Read {rows_read:,} rows of {source}")
    faces.flush()
    if progress:
        progress(1.0, f"Read {rows_read:,} rows of {source}")
    images = np.concatenate(faces.images) if faces.images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    labels = np.array(faces.labels, dtype=np.uint8)
    notes = []
    if "usage" in columns:
        usage = np.array(faces.usage, dtype="<U11")
    else:
        usage = _usage_without_column(labels)
        notes.append("The CSV has no Usage column: a stratified 10% of the faces was held out as the test split.")
    if first_row is not None:
        notes.append("The CSV has no header line; its columns were read as emotion,pixels[,Usage].")
    return _Faces("csv", images, labels, usage, rows_read, problems.in_order(), notes)


def _csv_lines(opener):
    """(line number, fields, bytes read so far) for each non-blank line, streaming.

    FER2013's lines need no CSV quoting, so plain splitting is used (it is several times
    faster than the csv module); a line with quotes goes through the csv module.
    """
    line_number = 0
    bytes_read = 0
    carry = b""
    with opener() as raw:
        while True:
            block = raw.read(1 << 23)
            bytes_read += len(block)
            if block:
                block = carry + block
                cut = block.rfind(b"\n") + 1
                if cut == 0:
                    carry = block
                    continue
                block, carry = block[:cut], block[cut:]
            else:
                block, carry = carry, b""
                if not block:
                    return
            if line_number == 0 and block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
            for line in block.decode("utf-8", errors="replace").split("\n"):
                line_number += 1
                line = line.rstrip("\r")
                if not line.strip():
                    continue
                fields = next(csv.reader([line])) if '"' in line else line.split(",")
                yield line_number, fields, bytes_read
            if block.endswith(b"\n"):
                line_number -= 1  # the empty piece after the final newline is not a line


def _csv_columns(source: str, header: list[str]) -> tuple[dict[str, int], list[str] | None]:
    """Column positions from the header; a headerless emotion,pixels[,Usage] file also works."""
    names = [cell.strip().lower() for cell in header]
    if "pixels" in names and "emotion" in names:
        columns = {name: names.index(name) for name in ("emotion", "pixels", "usage") if name in names}
        return {**columns, "count": len(names)}, None
    if "pixels" in names:
        raise DataError(
            f"{source} has a pixels column but no emotion column, so its faces have no labels (Kaggle's "
            "test.csv is like that): import fer2013.csv or train.csv, which have the emotion labels."
        )
    looks_like_data = (
        len(header) in (2, 3)
        and header[0].strip().isdigit()
        and len(header[1].split()) > 100
    )
    if looks_like_data:
        columns = {"emotion": 0, "pixels": 1, "count": len(header)}
        if len(header) == 3:
            columns["usage"] = 2
        return columns, header
    shown = ",".join(header)[:80]
    raise DataError(
        f"{source} is not FER2013: its first line is {shown!r}, but fer2013.csv starts with "
        "emotion,pixels,Usage. Give the Kaggle fer2013.csv (or train.csv)."
    )


class _CsvBatches:
    """Checks each row's label and Usage as it comes, and parses pixels many rows at a time."""

    def __init__(self, source: str, columns: dict[str, int], problems: _Problems):
        self.source, self.columns, self.problems = source, columns, problems
        self.images: list[np.ndarray] = []
        self.labels: list[int] = []
        self.usage: list[str] = []
        self.pending: list[tuple[int, int, str, str]] = []  # line, label, usage, pixels

    def add(self, line: int, row: list[str]) -> None:
        where = f"line {line}"
        if len(row) != self.columns["count"]:
            self._problem(
                where,
                f"it has {len(row)} fields, the header has {self.columns['count']}",
                "Each line is emotion,pixels,Usage with the pixels in one field; fix that line",
                line,
            )
            return
        label_text = row[self.columns["emotion"]].strip()
        if not (label_text.isascii() and label_text.isdigit()):
            self._problem(where, f"the emotion {label_text!r} is not a whole number 0-6", "Fix the label", line)
            return
        label = int(label_text)
        if label >= NUM_CLASSES:
            self._problem(
                where,
                f"the emotion label {label} is outside 0-6 ({', '.join(f'{i} {e}' for i, e in enumerate(EMOTIONS))})",
                "Fix the label",
                line,
            )
            return
        usage = ""
        if "usage" in self.columns:
            usage = _normalise_usage(row[self.columns["usage"]])
            if usage not in USAGES:
                self._problem(
                    where,
                    f"the Usage {row[self.columns['usage']].strip()!r} is unknown; FER2013 uses Training, "
                    "PublicTest or PrivateTest",
                    "Fix the Usage",
                    line,
                )
                return
        self.pending.append((line, label, usage, row[self.columns["pixels"]]))
        if len(self.pending) >= CSV_BATCH_ROWS:
            self.flush()

    def _problem(self, where: str, what: str, fix: str, line: int) -> None:
        # Earlier lines waiting in the batch are checked first, so the first bad line is reported.
        if not self.problems.skip:
            self.flush()
        self.problems.add(where, what, fix, order=line)

    def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        images, clean = _parse_pixel_fields([pixels for _, _, _, pixels in pending])
        kept = []
        for index, (line, label, usage, pixels) in enumerate(pending):
            if not clean[index]:
                face, reason = _diagnose_pixels(pixels)
                if face is None:
                    self.problems.add(
                        f"line {line}",
                        reason,
                        "Fix or delete that line (48x48 = 2,304 numbers 0-255, spaces between)",
                        order=line,
                    )
                    continue
                images[index] = face
            kept.append(index)
            self.labels.append(label)
            self.usage.append(usage)
        self.images.append(images[kept])


def _normalise_usage(text: str) -> str:
    by_lower = {usage.lower(): usage for usage in USAGES}
    return by_lower.get(text.strip().lower(), text.strip())


def _parse_pixel_fields(fields: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse many pixel fields at once: faces (n, 48, 48) and which rows parsed cleanly.

    numpy's C text parser reads a batch in one go; if any row in it is odd (wrong count, a
    non-integer, a value outside 0-255, stray spaces) every row is marked unclean and left to
    `_diagnose_pixels`, which explains or accepts each one.
    """
    count = len(fields)
    images = np.zeros((count, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "1.5" parses via float with only a warning
            values = np.loadtxt(io.StringIO("\n".join(fields)), dtype=np.int32, delimiter=" ", ndmin=2)
    except (ValueError, OverflowError, DeprecationWarning):
        return images, np.zeros(count, dtype=bool)
    if values.shape != (count, PIXELS_PER_FACE):
        return images, np.zeros(count, dtype=bool)
    clean = (values.min(axis=1) >= 0) & (values.max(axis=1) <= 255)
    images[clean] = values[clean].astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    return images, clean


def _diagnose_pixels(text: str) -> tuple[np.ndarray | None, str]:
    """One pixel field the fast parser refused: the face if it is fine after all, else why not."""
    tokens = text.split()
    values = []
    for position, token in enumerate(tokens, start=1):
        if re.fullmatch(r"[+-]?[0-9]+", token) is None:
            return None, f"pixel {position} is {token[:20]!r}, not a whole number"
        value = int(token)
        if not 0 <= value <= 255:
            return None, f"pixel {position} is {value}, outside 0-255"
        values.append(value)
    if len(values) != PIXELS_PER_FACE:
        return None, f"the pixels field has {len(values):,} numbers, but a 48x48 face needs 2,304"
    return np.array(values, dtype=np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE), ""


# --- npz -------------------------------------------------------------------------------------


def _read_npz(source: str, opener) -> _Faces:
    try:
        with opener() as raw:
            content = io.BytesIO(raw.read())
        with np.load(content, allow_pickle=False) as archive:
            keys = set(archive.files)
            if not {"x", "y"} <= keys:
                raise DataError(
                    f"{source} is not a FER data cache: it has arrays {', '.join(sorted(keys)) or 'none'}, "
                    "but a cache holds x (N,48,48) uint8 faces, y labels 0-6 and usage. Import the CSV "
                    "or image folders instead."
                )
            images, labels = archive["x"], archive["y"]
            usage = archive["usage"] if "usage" in keys else None
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"{source} cannot be read as an .npz archive ({error}): export it again.")
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
        usage = _usage_without_column(labels)
        notes.append("The .npz has no usage array: a stratified 10% of the faces was held out as the test split.")
    else:
        usage = np.array([_normalise_usage(value) for value in np.asarray(usage).astype(str)], dtype="<U11")
        unknown = sorted(set(np.unique(usage)) - set(USAGES))
        if usage.shape != labels.shape or unknown:
            raise DataError(
                f"{source}: usage must give Training, PublicTest or PrivateTest for every face; found "
                f"{', '.join(unknown[:3]) or f'{len(usage)} values for {len(labels)} faces'}. Export it again."
            )
    return _Faces("npz", images, labels.astype(np.uint8), usage, len(labels), [], notes)


# --- image folders ---------------------------------------------------------------------------


class _Tree:
    """A folder or a zip seen the same way: relative paths -> a way to open each file."""

    def __init__(self, files: dict[str, Callable[[], BinaryIO]], folders: set[str], sizes: dict[str, int]):
        self.files, self.folders, self.sizes = files, folders, sizes

    @staticmethod
    def _hidden(path: str) -> bool:
        return any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(path).parts)

    @classmethod
    def from_folder(cls, root: Path) -> _Tree:
        files, folders, sizes = {}, set(), {}
        for folder, subfolders, names in os.walk(root):
            relative = Path(folder).relative_to(root).as_posix()
            subfolders[:] = sorted(name for name in subfolders if not cls._hidden(name))
            if relative != "." and not cls._hidden(relative):
                folders.add(relative)
            for name in names:
                path = (Path(folder) / name).relative_to(root).as_posix()
                if not cls._hidden(path):
                    files[path] = lambda full=Path(folder) / name: open(full, "rb")
                    sizes[path] = (Path(folder) / name).stat().st_size
        return cls(files, folders, sizes)

    @classmethod
    def from_zip(cls, archive: zipfile.ZipFile) -> _Tree:
        files, folders, sizes = {}, set(), {}
        for info in archive.infolist():
            path = info.filename.rstrip("/")
            if not path or cls._hidden(path):
                continue
            if info.is_dir():
                folders.add(path)
            else:
                files[path] = lambda info=info: archive.open(info)
                sizes[path] = info.file_size
            folders.update(parent.as_posix() for parent in PurePosixPath(path).parents if str(parent) != ".")
            if not info.is_dir():
                folders.discard(path)
        return cls(files, folders, sizes)


def _has_image_folders(tree: _Tree) -> bool:
    return any(PurePosixPath(folder).name.lower() in SPLIT_FOLDERS for folder in tree.folders)


def _read_image_folders(tree: _Tree, label: str, skip_bad_rows: bool, progress: Progress | None) -> _Faces:
    layout = "ROOT/train/<emotion>/*.png and ROOT/test/<emotion>/*.png, emotions " + ", ".join(
        emotion.lower() for emotion in EMOTIONS
    )
    split_folders = [folder for folder in tree.folders if PurePosixPath(folder).name.lower() in SPLIT_FOLDERS]
    if not split_folders:
        raise DataError(
            f"{label} has no fer2013.csv, no .npz and no train/ or test/ folder: the image layout is {layout}."
        )
    shallowest = min(len(PurePosixPath(folder).parts) for folder in split_folders)
    split_folders = sorted(f for f in split_folders if len(PurePosixPath(f).parts) == shallowest)
    if len({PurePosixPath(folder).parent for folder in split_folders}) > 1:
        raise DataError(
            f"{label} has train/test folders in several places ({', '.join(split_folders)}): keep one "
            f"copy laid out as {layout}."
        )

    work: list[tuple[str, int, str]] = []  # image path, label, usage
    for split_folder in split_folders:
        usage = SPLIT_FOLDERS[PurePosixPath(split_folder).name.lower()]
        class_folders = {
            PurePosixPath(folder).name: folder
            for folder in tree.folders
            if PurePosixPath(folder).parent == PurePosixPath(split_folder)
        }
        unknown = sorted(name for name in class_folders if name.lower() not in CLASS_FOLDERS)
        if unknown:
            raise DataError(
                f"{label}/{split_folder} has folder(s) {', '.join(unknown)} that name no FER2013 class: "
                f"rename or remove them; the layout is {layout}."
            )
        present = {CLASS_FOLDERS[name.lower()] for name in class_folders}
        missing = [EMOTIONS[index].lower() for index in range(NUM_CLASSES) if index not in present]
        if missing:
            raise DataError(
                f"{label}/{split_folder} lacks the class folder(s) {', '.join(missing)}: FER2013 has all "
                f"seven; the layout is {layout}."
            )
        for name, folder in sorted(class_folders.items()):
            images = sorted(
                path
                for path in tree.files
                if PurePosixPath(path).parent == PurePosixPath(folder)
                and PurePosixPath(path).suffix.lower() in IMAGE_SUFFIXES
            )
            if not images:
                raise DataError(
                    f"{label}/{folder} is empty: put that class's face images (.png or .jpg) in it."
                )
            work.extend((path, CLASS_FOLDERS[name.lower()], usage) for path in images)

    problems = _Problems(label, skip_bad_rows)
    faces = np.zeros((len(work), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    kept = np.zeros(len(work), dtype=bool)
    from_colour = resized = 0
    for index, (path, _, _) in enumerate(work):
        with tree.files[path]() as stream:
            content = np.frombuffer(stream.read(), dtype=np.uint8)
        image = cv2.imdecode(content, cv2.IMREAD_UNCHANGED) if len(content) else None
        if image is None:
            problems.add(path, "the file cannot be read as an image", "Delete or replace that file", order=index)
            continue
        image, was_colour = _to_gray_uint8(image)
        from_colour += was_colour
        if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
            resized += 1
            shrinking = image.shape[0] > IMAGE_SIZE or image.shape[1] > IMAGE_SIZE
            image = cv2.resize(
                image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
            )
        faces[index] = image
        kept[index] = True
        if progress and (index + 1) % 500 == 0:
            progress((index + 1) / len(work), f"Read {index + 1:,} of {len(work):,} images")
    if progress:
        progress(1.0, f"Read {len(work):,} images")
    notes = []
    if from_colour:
        notes.append(f"{from_colour:,} colour images were converted to grayscale.")
    if resized:
        notes.append(f"{resized:,} images were not 48x48 and were resized to 48x48 (the aspect ratio was not kept).")
    if not any(usage == "PublicTest" for _, _, usage in work) and not any(
        usage == "PrivateTest" for _, _, usage in work
    ):
        notes.append("There is no test/ folder: a stratified 10% of the faces was held out as the test split.")
    labels = np.array([label_ for _, label_, _ in work], dtype=np.uint8)[kept]
    usage = np.array([usage for _, _, usage in work], dtype="<U11")[kept]
    if not np.any(usage != "Training"):
        usage = _usage_without_column(labels)
    return _Faces("image folders", faces[kept], labels, usage, len(work), problems.in_order(), notes)


def _to_gray_uint8(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """Any decoded image -> (48x48-or-not) grayscale uint8, and whether it had real colour."""
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 2:
        return image, False
    if image.shape[2] == 1:
        return image[:, :, 0], False
    colour = image[:, :, :3]
    was_colour = not (np.array_equal(colour[:, :, 0], colour[:, :, 1]) and np.array_equal(colour[:, :, 1], colour[:, :, 2]))
    return cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY), was_colour
