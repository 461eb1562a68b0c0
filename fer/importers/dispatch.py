"""Which reader a file, a folder or an upload goes to, and the cache and report at the end."""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from fer.face_dataset import DataError
from fer.i18n import _
from fer.importers.csv_stream import read_csv, read_header
from fer.importers.folders import tree_from_folder
from fer.importers.found import Progress
from fer.importers.image_folders import has_image_folders, read_image_folders
from fer.importers.limits import DEFAULT_LIMITS, ImportLimits
from fer.importers.names import dataset_name_for
from fer.importers.npz import read_npz
from fer.importers.report import ImportReport, cache_and_report
from fer.importers.tree import Tree
from fer.importers.zips import tree_from_zip


def import_path(
    path: str | os.PathLike,
    name: str | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ImportReport:
    """Import a CSV, an .npz, a .zip or a folder on disk into the data cache."""
    path = Path(path).expanduser()
    try:
        if not path.exists():
            if path.is_symlink():
                raise DataError(
                    _("{path} is a broken symbolic link (what it points to is missing): give the file.").format(
                        path=path
                    )
                )
            raise DataError(
                _("{path} does not exist: give the path of fer2013.csv, a .zip, an .npz or a folder.").format(path=path)
            )
        if path.is_dir():
            label = path.name or path.as_posix()
            return _import_tree(tree_from_folder(path, limits), label, name, skip_bad_rows, progress, limits)
        if not path.is_file():
            raise DataError(
                _(
                    "{path} is not a regular file (a device, a pipe or a socket): give fer2013.csv, a .zip, an .npz "
                    "or a folder."
                ).format(path=path)
            )
        size = path.stat().st_size
        return _import_file(path.name, lambda: open(path, "rb"), size, name, skip_bad_rows, progress, limits)
    except OSError as error:
        raise DataError(
            _("{path} cannot be read ({reason}): check the path and that the app may read it.").format(
                path=path, reason=error.strerror or error
            )
        ) from None


def import_bytes(
    content: bytes,
    filename: str,
    name: str | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ImportReport:
    """Import an upload (its bytes and original file name) into the data cache."""
    return _import_file(filename, lambda: io.BytesIO(content), len(content), name, skip_bad_rows, progress, limits)


def _import_file(filename, opener, size, name, skip_bad_rows, progress, limits) -> ImportReport:
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix == ".npz":
        faces = read_npz(filename, opener, size, limits)
        return cache_and_report(faces, filename, name or dataset_name_for(filename))
    with opener() as stream:
        is_zip = zipfile.is_zipfile(stream)
    if is_zip:
        try:
            with opener() as stream, zipfile.ZipFile(stream) as archive:
                tree = tree_from_zip(archive, filename, limits)
                return _import_tree(tree, filename, name, skip_bad_rows, progress, limits)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
            raise DataError(
                _("{file} is a damaged zip (or packed in a way Python cannot unpack): zip the data set again.").format(
                    file=filename
                )
            ) from error
    if suffix in ("", ".csv", ".txt"):
        faces = read_csv(filename, opener, skip_bad_rows, progress, size)
        return cache_and_report(faces, filename, name or dataset_name_for(filename))
    raise DataError(
        _(
            "{file} is not a format FER2013 comes in: give fer2013.csv, a .zip of it or of the "
            "train/ and test/ image folders, or an .npz cache."
        ).format(file=filename)
    )


def _import_tree(tree: Tree, label: str, name, skip_bad_rows, progress, limits) -> ImportReport:
    name = name or dataset_name_for(label)
    csv_path = _choose_csv(tree, label)
    if csv_path is not None:
        source = f"{label}/{csv_path}"
        faces = read_csv(source, tree.files[csv_path], skip_bad_rows, progress, tree.sizes.get(csv_path))
        return cache_and_report(faces, source, name)
    npz_paths = sorted(path for path in tree.files if path.lower().endswith(".npz"))
    if len(npz_paths) == 1:
        source = f"{label}/{npz_paths[0]}"
        faces = read_npz(source, tree.files[npz_paths[0]], tree.sizes.get(npz_paths[0]), limits)
        return cache_and_report(faces, label, name)
    if len(npz_paths) > 1:
        raise DataError(
            _("{source} holds several .npz files ({files}): import one of them.").format(
                source=label, files=", ".join(npz_paths)
            )
        )
    return cache_and_report(read_image_folders(tree, label, skip_bad_rows, progress), label, name)


def _choose_csv(tree: Tree, label: str) -> str | None:
    """The labelled FER2013 CSV in a folder or zip, if any; None when there is no CSV at all."""
    csv_paths = sorted(path for path in tree.files if path.lower().endswith(".csv"))
    if not csv_paths:
        return None
    labelled = []
    for path in csv_paths:
        header = [column.strip().lower() for column in (read_header(f"{label}/{path}", tree.files[path]) or [])]
        if "emotion" in header and "pixels" in header:
            # Prefer a CSV with a Usage column, then one called fer2013.csv.
            labelled.append((("usage" not in header), PurePosixPath(path).name.lower() != "fer2013.csv", path))
    if not labelled:
        if has_image_folders(tree):
            return None
        raise DataError(
            _(
                "{source} has CSV files ({files}) but none with emotion and pixels columns: "
                "FER2013's fer2013.csv starts with the line emotion,pixels,Usage."
            ).format(source=label, files=", ".join(csv_paths))
        )
    return sorted(labelled)[0][2]
