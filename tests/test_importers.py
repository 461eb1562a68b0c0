"""FER2013 comes in as a CSV, image folders, an .npz or a zip; every bad input gets a sentence."""

import io
import zipfile

import numpy as np
import pytest

from fer import data, importers
from fer.__main__ import main
from fer.data import DataError

HEADER = "emotion,pixels,Usage"


def _faces(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 48, 48), dtype=np.uint8)
    labels = (np.arange(count) % 7).astype(np.uint8)
    usage = np.where(np.arange(count) < count - 4, "Training", "PublicTest").astype("<U11")
    usage[-1] = "PrivateTest"
    return images, labels, usage


def _line(label, pixels, usage="Training") -> str:
    pixels = pixels if isinstance(pixels, str) else " ".join(map(str, np.ravel(pixels)))
    return f"{label},{pixels},{usage}"


def _csv_text(images, labels, usage, header=HEADER) -> str:
    return "\n".join([header] + [_line(label, x, u) for x, label, u in zip(images, labels, usage)]) + "\n"


def _write_csv(tmp_path, lines: list[str], name="fer2013.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _good_lines(count=6):
    images, labels, usage = _faces(count)
    return [_line(label, x, u) for x, label, u in zip(images, labels, usage)]


# --- CSV ----------------------------------------------------------------------------------


def test_csv_round_trip_keeps_every_pixel_label_and_usage(tmp_path):
    images, labels, usage = _faces(30)
    path = tmp_path / "fer2013.csv"
    path.write_text(_csv_text(images, labels, usage))
    report = importers.import_path(path)
    assert report.dataset_name == "fer2013" and report.rows_read == 30 and report.rows_skipped == 0
    assert report.usage_counts == {"Training": 26, "PublicTest": 3, "PrivateTest": 1}
    assert sum(report.split_counts.values()) == 30
    assert "fer2013" in data.available_datasets()
    loaded = data.load_dataset("fer2013")
    assert np.array_equal(loaded.images, images)
    assert np.array_equal(loaded.labels, labels)
    # FER2013's two test halves keep their names; neither is merged into a "test" split.
    assert np.array_equal(loaded.splits[usage != "Training"], usage[usage != "Training"])
    assert loaded.split_names[-2:] == ("PublicTest", "PrivateTest") and loaded.test_split == "PublicTest"


def test_csv_with_windows_line_ends_a_bom_and_a_quoted_field_imports(tmp_path):
    images, labels, usage = _faces(3)
    lines = [HEADER] + [_line(label, x, u) for x, label, u in zip(images, labels, usage)]
    lines[2] = f'{labels[1]},"{" ".join(map(str, images[1].ravel()))}",{usage[1]}'
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    importers.import_path(path)
    assert np.array_equal(data.load_dataset("excel").images, images)


def test_csv_without_usage_holds_out_a_test_split(tmp_path):
    images, labels, _ = _faces(70)
    lines = ["emotion,pixels"] + [f"{label},{' '.join(map(str, x.ravel()))}" for x, label in zip(images, labels)]
    report = importers.import_path(_write_csv(tmp_path, lines, "train.csv"))
    assert report.usage_counts == {"Training": 63, "HeldOutTest": 7}  # not FER2013's PublicTest: held out here
    assert any("no Usage column" in note for note in report.notes)


@pytest.mark.parametrize(
    "bad_line, message",
    [
        (_line(3, " ".join(["7"] * 2303)), "line 4: the pixels field has 2,303 numbers"),
        (_line(3, " ".join(["7"] * 2303 + ["12.5"])), "line 4: pixel 2,304 is '12.5', not a whole number"),
        (_line(3, " ".join(["7"] * 9 + ["abc"] + ["7"] * 2294)), "line 4: pixel 10 is 'abc'"),
        (_line(3, " ".join(["256"] + ["7"] * 2303)), "line 4: pixel 1 is 256, outside 0-255"),
        (_line(3, " ".join(["7"] * 5 + ["-1"] + ["7"] * 2298)), "line 4: pixel 6 is -1, outside 0-255"),
        (_line(7, " ".join(["7"] * 2304)), "line 4: the emotion label 7 is outside 0-6"),
        (_line("happy", " ".join(["7"] * 2304)), "line 4: the emotion 'happy' is not a whole number"),
        (_line(3, " ".join(["7"] * 2304), "Validation"), "line 4: the Usage 'Validation' is unknown"),
        ("3," + " ".join(["7"] * 2304), "line 4: it has 2 fields, the header has 3"),
    ],
    ids=["short", "decimal", "word", "too-bright", "negative", "label-7", "label-word", "usage", "no-usage"],
)
def test_a_bad_row_names_the_file_the_line_and_the_fix(tmp_path, bad_line, message):
    lines = [HEADER] + _good_lines(2) + [bad_line] + _good_lines(3)
    with pytest.raises(DataError) as error:
        importers.import_path(_write_csv(tmp_path, lines))
    text = str(error.value)
    assert text.startswith("fer2013.csv, ")
    assert message.replace("pixel 2,304", "pixel 2304") in text
    assert "skip bad rows" in text
    assert data.available_datasets() == [data.SYNTHETIC]  # nothing half-imported


def test_the_first_bad_line_is_reported_even_across_kinds_of_problem(tmp_path):
    lines = [HEADER] + _good_lines(2) + [_line(3, "1 2 3"), _line(9, " ".join(["7"] * 2304))]
    with pytest.raises(DataError, match="line 4: the pixels field has 3 numbers"):
        importers.import_path(_write_csv(tmp_path, lines))


def test_skip_bad_rows_keeps_the_good_ones_and_counts_the_rest(tmp_path):
    good = _good_lines(8)
    lines = [HEADER, good[0], _line(3, "1 2 3"), *good[1:5], _line(8, " ".join(["7"] * 2304)), *good[5:]]
    report = importers.import_path(_write_csv(tmp_path, lines), skip_bad_rows=True)
    assert report.rows_read == 10 and report.rows_imported == 8 and report.rows_skipped == 2
    assert report.skipped_examples[0].startswith("line 3: the pixels field has 3 numbers")
    assert report.skipped_examples[1].startswith("line 8: the emotion label 8")
    assert "First skipped: line 3" in str(report)
    expected, labels, _ = _faces(8)
    assert np.array_equal(data.load_dataset("fer2013").images, expected)


def test_all_rows_bad_is_an_error_even_when_skipping(tmp_path):
    lines = [HEADER, _line(3, "1 2 3"), _line(4, "5")]
    with pytest.raises(DataError, match="no usable faces.*all 2 rows were bad"):
        importers.import_path(_write_csv(tmp_path, lines), skip_bad_rows=True)


def test_a_headerless_csv_is_read_as_emotion_pixels_usage(tmp_path):
    images, labels, usage = _faces(5)
    path = _write_csv(tmp_path, [_line(label, x, u) for x, label, u in zip(images, labels, usage)], "nohead.csv")
    report = importers.import_path(path)
    assert report.rows_imported == 5 and any("no header" in note for note in report.notes)
    assert np.array_equal(data.load_dataset("nohead").images, images)


# --- npz and zips -------------------------------------------------------------------------


def test_npz_round_trip(tmp_path):
    images, labels, usage = _faces(12)
    np.savez(tmp_path / "mine.npz", x=images, y=labels, usage=usage)
    report = importers.import_path(tmp_path / "mine.npz", name="copy")
    assert report.format == "npz" and report.dataset_name == "copy"
    assert np.array_equal(data.load_dataset("copy").images, images)
    assert np.array_equal(data.load_dataset("copy").labels, labels)


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_uploaded_zip_of_the_kaggle_challenge_files_picks_the_labelled_csv(tmp_path):
    images, labels, usage = _faces(9)
    upload = _zip_bytes(
        {
            "fer2013/fer2013.csv": _csv_text(images, labels, usage).encode(),
            "fer2013/test.csv": b"pixels\n1 2 3\n",
            "__MACOSX/fer2013/._fer2013.csv": b"\x00\x05",
        }
    )
    report = importers.import_bytes(upload, "challenge.zip")
    assert report.dataset_name == "challenge" and report.source == "challenge.zip/fer2013/fer2013.csv"
    assert np.array_equal(data.load_dataset("challenge").images, images)


def test_the_shared_fer2013_copy_imports_with_its_official_split(fer2013_npz):
    report = importers.import_path(fer2013_npz, name="fer2013")
    assert report.usage_counts == {"Training": 28_709, "PublicTest": 3_589}
    loaded = data.load_dataset("fer2013")
    assert (loaded.splits == "PublicTest").sum() == 3_589 and loaded.test_split == "PublicTest"
    assert np.isin(loaded.splits, ("train", "val")).sum() == 28_709


# --- whole inputs that are refused, and the sentence that says so ---------------------------


def _csv_file(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    return importers.import_path(tmp_path / name)


def _npz_file(tmp_path, name, **arrays):
    images, labels, usage = _faces(12)
    arrays = {"x": images, "y": labels, "usage": usage, **arrays}
    np.savez(tmp_path / name, **{key: value for key, value in arrays.items() if value is not None})
    return importers.import_path(tmp_path / name)


def _good_csv_named(tmp_path, name):
    images, labels, usage = _faces(3)
    (tmp_path / "x.csv").write_text(_csv_text(images, labels, usage))
    return importers.import_path(tmp_path / "x.csv", name=name)


REFUSED = {
    "other-csv": (
        lambda tmp: _csv_file(tmp, "other.csv", "id,name,price\n1,2,3\n"),
        "other.csv is not FER2013",
    ),
    "pixels-without-emotion": (
        lambda tmp: _csv_file(tmp, "test.csv", "id,pixels\n1,2 3\n"),
        "test.csv has a pixels column but no emotion column, so its faces have no labels",
    ),
    "empty-csv": (lambda tmp: _csv_file(tmp, "empty.csv", ""), "empty.csv is empty"),
    "pdf-upload": (
        lambda tmp: importers.import_bytes(b"%PDF-1.4", "holiday.pdf"),
        "holiday.pdf is not a format FER2013 comes in: give fer2013.csv",
    ),
    "missing-path": (
        lambda tmp: importers.import_path(tmp / "nowhere.csv"),
        "nowhere.csv does not exist: give the path of fer2013.csv",
    ),
    "built-in-name": (lambda tmp: _good_csv_named(tmp, "synthetic"), "'synthetic' is the built-in data set's name"),
    "odd-name": (lambda tmp: _good_csv_named(tmp, "my data!"), "'my data!' cannot name a data set: use up to 64"),
    "npz-label": (
        lambda tmp: _npz_file(tmp, "bad.npz", y=_faces(12)[1] + 3),
        "bad.npz: entry 5 has label 7, outside 0-6",
    ),
    "npz-without-x": (
        lambda tmp: _npz_file(tmp, "faces.npz", x=None, faces=_faces(12)[0]),
        "faces.npz is not a FER data cache",
    ),
    "npz-shape": (
        lambda tmp: _npz_file(tmp, "small.npz", x=np.zeros((12, 32, 32), np.uint8)),
        "small.npz: x has shape (12, 32, 32), but faces must be (N, 48, 48)",
    ),
    "npz-dtype": (
        lambda tmp: _npz_file(tmp, "float.npz", x=np.zeros((12, 48, 48))),
        "float.npz: x is float64, but faces must be uint8 0-255",
    ),
    "npz-usage": (
        lambda tmp: _npz_file(tmp, "usage.npz", usage=np.array(["Validation"] * 12)),
        "usage.npz: usage must give Training, PublicTest or PrivateTest for every face",
    ),
    "npz-not-an-archive": (
        lambda tmp: importers.import_bytes(b"hello", "cache.npz"),
        "cache.npz cannot be read as an .npz archive",
    ),
    "zip-two-npz": (
        lambda tmp: importers.import_bytes(_zip_bytes({"a.npz": b"1", "b.npz": b"2"}), "two.zip"),
        "two.zip holds several .npz files (a.npz, b.npz): import one of them",
    ),
    "zip-csv-without-labels": (
        lambda tmp: importers.import_bytes(_zip_bytes({"test.csv": b"pixels\n1 2\n"}), "kaggle.zip"),
        "kaggle.zip has CSV files (test.csv) but none with emotion and pixels columns",
    ),
}


@pytest.mark.parametrize("make_and_import, message", REFUSED.values(), ids=REFUSED.keys())
def test_an_input_that_is_not_fer2013_is_one_sentence(tmp_path, make_and_import, message):
    with pytest.raises(DataError) as error:
        make_and_import(tmp_path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert data.available_datasets() == [data.SYNTHETIC]  # nothing half-imported


# --- command line -------------------------------------------------------------------------


def test_command_line_import_list_and_info(tmp_path, capsys):
    images, labels, usage = _faces(14)
    (tmp_path / "fer2013.csv").write_text(_csv_text(images, labels, usage))
    assert main(["data", "import", str(tmp_path / "fer2013.csv"), "--name", "class-a"]) == 0
    assert "Imported 14 faces" in capsys.readouterr().out
    assert main(["data", "list"]) == 0
    assert "class-a" in capsys.readouterr().out
    assert main(["data", "info", "class-a"]) == 0
    assert "Disgust" in capsys.readouterr().out


def test_command_line_error_is_one_sentence_and_exit_code_2(tmp_path, capsys):
    _write_csv(tmp_path, [HEADER, _line(9, " ".join(["7"] * 2304))])
    assert main(["data", "import", str(tmp_path / "fer2013.csv")]) == 2
    error = capsys.readouterr().err
    assert "fer2013.csv, line 2: the emotion label 9 is outside 0-6" in error
    assert "Traceback" not in error


def test_command_line_list_skips_a_data_set_deleted_while_listing(tmp_path, capsys, monkeypatch):
    images, labels, usage = _faces(14)
    (tmp_path / "fer2013.csv").write_text(_csv_text(images, labels, usage))
    importers.import_path(tmp_path / "fer2013.csv")
    monkeypatch.setattr(data, "available_datasets", lambda: [data.SYNTHETIC, "deleted-meanwhile", "fer2013"])
    assert main(["data", "list"]) == 0
    listed = capsys.readouterr().out
    assert "fer2013" in listed and "deleted-meanwhile" not in listed
