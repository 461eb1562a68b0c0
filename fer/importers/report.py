"""The import report: what was read, what was kept and left out, and where the cache went."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fer.data import data_dir, save_cache
from fer.face_dataset import SPLIT_NAMES, DataError, split_label, splits_from_usage, test_label_from_usage
from fer.i18n import _, format_integer, format_percent
from fer.importers.found import USAGES, FoundFaces
from fer.importers.names import check_dataset_name

SHOWN_PROBLEMS = 5  # skipped rows quoted in the report; the rest are only counted


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
    usage_counts: dict[str, int] = field(default_factory=dict)  # Usage (FER2013's, MixedTest, HeldOutTest) -> faces
    split_counts: dict[str, int] = field(default_factory=dict)  # split (fer.face_dataset.SPLIT_NAMES) -> faces
    notes: list[str] = field(default_factory=list)
    test_label: str = "test"  # what the data set's test split is called

    def lines(self) -> list[str]:
        """The report, one sentence a line, in the reader's language (made when asked, not at import time)."""
        lines = [
            _("Imported {faces} faces from {source} ({format}) as data set {name}.").format(
                faces=format_integer(self.rows_imported), source=self.source, format=_(self.format),
                name=repr(self.dataset_name),
            ),
            _("Rows read: {read}; skipped: {skipped}.").format(
                read=format_integer(self.rows_read), skipped=format_integer(self.rows_skipped)
            ),
        ]
        if self.rows_skipped:
            lines.append(_("First skipped: {rows}.").format(rows=_("; ").join(self.skipped_examples)))
        lines.append(_("Usage: {counts}.").format(
            counts=_(", ").join(f"{k} {format_integer(v)}" for k, v in self.usage_counts.items())
        ))
        lines.append(_("Splits: {counts} (validation is a stratified {share} of Training).").format(
            share=format_percent(0.1), counts=_(", ").join(
                f"{split_label(k, self.test_label)} {format_integer(v)}" for k, v in self.split_counts.items()
            )
        ))
        lines.extend(self.notes)
        lines.append(_("Cache: {path}").format(path=self.cache_path))
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())


def cache_and_report(faces: FoundFaces, source: str, name: str) -> ImportReport:
    """Write what a reader found into the data cache under `name`, and say what happened."""
    check_dataset_name(name)
    if len(faces.labels) == 0:
        if faces.problems:
            raise DataError(
                _("{source} holds no usable faces (all {rows} rows were bad; first: {first}): "
                  "check that it is FER2013.").format(
                    source=source, rows=format_integer(faces.rows_read), first=faces.problems[0]
                )
            )
        raise DataError(_("{source} holds no usable faces: check that it is FER2013.").format(source=source))
    try:
        path = save_cache(name, faces.images, faces.labels, faces.usage)
    except OSError as error:
        raise DataError(
            _(
                "{source} was read, but data set {name} could not be saved in {folder} "
                "({reason}): free some disk space, or check that the app may write there."
            ).format(source=source, name=repr(name), folder=data_dir(), reason=error.strerror or error)
        ) from error
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
        split_counts={split: int(np.sum(splits == split)) for split in SPLIT_NAMES if np.any(splits == split)},
        notes=faces.notes,
        test_label=test_label_from_usage(faces.usage),
    )
