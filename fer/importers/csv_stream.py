"""FER2013's CSV, streamed: Kaggle's fer2013.csv (emotion,pixels,Usage), train.csv, icml_face_data.csv.

The file is read in blocks and its lines checked as they come (label, Usage, field count);
pixels are parsed many rows at a time by numpy's C parser, and only a batch with an odd row
goes through the slow path that finds and explains that row.
"""

from __future__ import annotations

import csv
import io
import re
import warnings

import numpy as np

from fer.face_dataset import EMOTIONS, IMAGE_SIZE, NUM_CLASSES, DataError
from fer.i18n import _, expression, format_integer, format_percent
from fer.importers.found import USAGES, BadRows, FoundFaces, Progress, hold_out_test_split, normalise_usage

PIXELS_PER_FACE = IMAGE_SIZE * IMAGE_SIZE
# Rows parsed per vectorised batch: big enough to be fast, small enough to keep memory low.
CSV_BATCH_ROWS = 2048
# FER2013's lines are about 9 kB (a label, 2,304 pixel values, the Usage); a longer one is not a face.
MAX_LINE_BYTES = 1 << 20
# Values quoted back from a bad row of a FER2013 CSV are cut to this many characters.
SHOWN_CHARACTERS = 20


def read_header(source: str, opener) -> list[str] | None:
    """The first line's fields, or None for an empty file: enough to tell which CSV is FER2013's."""
    lines = csv_lines(source, opener)
    try:
        return next(lines, (0, None, 0))[1]
    finally:
        lines.close()


def read_csv(
    source: str, opener, skip_bad_rows: bool, progress: Progress | None, size: int | None = None
) -> FoundFaces:
    """Every face in a FER2013 CSV; `opener()` opens the file afresh (a path, an upload, a zip member)."""
    problems = BadRows(source, skip_bad_rows)
    lines = csv_lines(source, opener)
    try:
        line_number, header, _bytes_read = next(lines)
    except StopIteration:
        raise DataError(
            _("{source} is empty: FER2013's fer2013.csv has a header line and {faces} faces.").format(
                source=source, faces=format_integer(35_887)
            )
        ) from None
    columns, first_row = csv_columns(source, header)
    faces = CsvBatches(source, columns, problems)
    rows_read = 0
    if first_row is not None:
        faces.add(1, first_row)
        rows_read += 1
    for line_number, row, bytes_read in lines:
        rows_read += 1
        faces.add(line_number, row)
        if progress and rows_read % 2000 == 0:
            fraction = bytes_read / size if size else rows_read / 35_887
            progress(min(0.99, fraction), _read_rows(rows_read, source))
    faces.flush()
    if progress:
        progress(1.0, _read_rows(rows_read, source))
    images = np.concatenate(faces.images) if faces.images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    labels = np.array(faces.labels, dtype=np.uint8)
    notes = []
    if "usage" in columns:
        usage = np.array(faces.usage, dtype="<U11")
    else:
        usage = hold_out_test_split(labels)
        notes.append(_(
            "The CSV has no Usage column: a stratified {share} of the faces was held out as the test split."
        ).format(share=format_percent(0.1)))
    if first_row is not None:
        notes.append(_("The CSV has no header line; its columns were read as emotion,pixels[,Usage]."))
    return FoundFaces("csv", images, labels, usage, rows_read, problems.in_order(), notes)


def _read_rows(rows: int, source: str) -> str:
    return _("Read {rows} rows of {source}").format(rows=format_integer(rows), source=source)


def csv_lines(source: str, opener):
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
                    if len(carry) > MAX_LINE_BYTES:
                        raise _line_too_long(source, line_number + 1)
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
                if len(line) > MAX_LINE_BYTES:
                    raise _line_too_long(source, line_number)
                line = line.rstrip("\r")
                if not line.strip():
                    continue
                fields = next(csv.reader([line])) if '"' in line else line.split(",")
                yield line_number, fields, bytes_read
            if block.endswith(b"\n"):
                line_number -= 1  # the empty piece after the final newline is not a line


def _line_too_long(source: str, line_number: int) -> DataError:
    if line_number == 1:
        return DataError(
            _(
                "{source} is not FER2013: its first line is over {megabytes} MB long, but fer2013.csv's "
                "lines are about 9 kB (emotion,pixels,Usage). Give the Kaggle fer2013.csv (or train.csv)."
            ).format(source=source, megabytes=MAX_LINE_BYTES >> 20)
        )
    return DataError(
        _(
            "{source}, line {line}: longer than {megabytes} MB, where a FER2013 line is about 9 kB "
            "(emotion,pixels,Usage). Fix or delete that line."
        ).format(source=source, line=line_number, megabytes=MAX_LINE_BYTES >> 20)
    )


def csv_columns(source: str, header: list[str]) -> tuple[dict[str, int], list[str] | None]:
    """Column positions from the header; a headerless emotion,pixels[,Usage] file also works."""
    names = [cell.strip().lower() for cell in header]
    if "pixels" in names and "emotion" in names:
        columns = {name: names.index(name) for name in ("emotion", "pixels", "usage") if name in names}
        return {**columns, "count": len(names)}, None
    if "pixels" in names:
        raise DataError(
            _(
                "{source} has a pixels column but no emotion column, so its faces have no labels (Kaggle's "
                "test.csv is like that): import fer2013.csv or train.csv, which have the emotion labels."
            ).format(source=source)
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
    # Not a word of the file is quoted back: a path on the server may name any file, and its first line
    # (/etc/passwd's, say) is nobody's business.
    raise DataError(
        _(
            "{source} is not FER2013: its first line is neither the header emotion,pixels,Usage nor a face "
            "(a label 0-6, then 2,304 pixel values). Give the Kaggle fer2013.csv (or train.csv)."
        ).format(source=source)
    )


class CsvBatches:
    """Checks each row's label and Usage as it comes, and parses pixels many rows at a time."""

    def __init__(self, source: str, columns: dict[str, int], problems: BadRows):
        self.source, self.columns, self.problems = source, columns, problems
        self.images: list[np.ndarray] = []
        self.labels: list[int] = []
        self.usage: list[str] = []
        self.pending: list[tuple[int, int, str, str]] = []  # line, label, usage, pixels

    def add(self, line: int, row: list[str]) -> None:
        where = _line(line)
        if len(row) != self.columns["count"]:
            self._problem(
                where,
                _("it has {fields} fields, the header has {header}").format(
                    fields=len(row), header=self.columns["count"]
                ),
                _("Each line is emotion,pixels,Usage with the pixels in one field; fix that line"),
                line,
            )
            return
        label_text = row[self.columns["emotion"]].strip()
        if not (label_text.isascii() and label_text.isdigit()):
            shown = label_text[:SHOWN_CHARACTERS]
            self._problem(
                where, _("the emotion {value} is not a whole number 0-6").format(value=repr(shown)), _("Fix the label"),
                line,
            )
            return
        label = int(label_text)
        if label >= NUM_CLASSES:
            self._problem(
                where,
                _("the emotion label {label} is outside 0-6 ({labels})").format(
                    label=label, labels=_(", ").join(f"{i} {expression(i)}" for i in range(len(EMOTIONS)))
                ),
                _("Fix the label"),
                line,
            )
            return
        usage = ""
        if "usage" in self.columns:
            usage = normalise_usage(row[self.columns["usage"]])
            if usage not in USAGES:
                shown = row[self.columns["usage"]].strip()[:SHOWN_CHARACTERS]
                self._problem(
                    where,
                    _("the Usage {value} is unknown; FER2013 uses Training, PublicTest or PrivateTest").format(
                        value=repr(shown)
                    ),
                    _("Fix the Usage"),
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
        images, clean = parse_pixel_fields([pixels for _, _, _, pixels in pending])
        kept = []
        for index, (line, label, usage, pixels) in enumerate(pending):
            if not clean[index]:
                face, reason = diagnose_pixels(pixels)
                if face is None:
                    self.problems.add(
                        _line(line),
                        reason,
                        _("Fix or delete that line (48x48 = 2,304 numbers 0-255, spaces between)"),
                        order=line,
                    )
                    continue
                images[index] = face
            kept.append(index)
            self.labels.append(label)
            self.usage.append(usage)
        self.images.append(images[kept])


def _line(number: int) -> str:
    """How a sentence names a row of the CSV: "line 7"."""
    return _("line {line}").format(line=number)


def parse_pixel_fields(fields: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse many pixel fields at once: faces (n, 48, 48) and which rows parsed cleanly.

    numpy's C text parser reads a batch in one go; if any row in it is odd (wrong count, a
    non-integer, a value outside 0-255, stray spaces) every row is marked unclean and left to
    `diagnose_pixels`, which explains or accepts each one.
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


def diagnose_pixels(text: str) -> tuple[np.ndarray | None, str]:
    """One pixel field the fast parser refused: the face if it is fine after all, else why not."""
    tokens = text.split()
    values = []
    for position, token in enumerate(tokens, start=1):
        if re.fullmatch(r"[+-]?[0-9]+", token) is None:
            return None, _("pixel {position} is {value}, not a whole number").format(
                position=position, value=repr(token[:SHOWN_CHARACTERS])
            )
        value = int(token)
        if not 0 <= value <= 255:
            return None, _("pixel {position} is {value}, outside 0-255").format(position=position, value=value)
        values.append(value)
    if len(values) != PIXELS_PER_FACE:
        return None, _("the pixels field has {count} numbers, but a 48x48 face needs 2,304").format(
            count=format_integer(len(values))
        )
    return np.array(values, dtype=np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE), ""

