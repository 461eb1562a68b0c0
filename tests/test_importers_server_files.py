"""A path on the server names only what it holds: walks are bounded, links never lead out, nothing hangs or crashes."""

import os
import threading

import numpy as np
import pytest

from fer import data, importers
from fer.__main__ import main
from fer.data import DataError
from fer.importers import ImportLimits
from tests.test_importers_folders import TRAIN_COUNTS, face_for, write_folders


def _nest_deeper(tmp):
    (tmp / "archive" / "a" / "b" / "c" / "d").mkdir(parents=True)
    return tmp / "archive", ImportLimits(max_depth=3)


def _many_files(tmp):
    return tmp / "archive", ImportLimits(max_files=20)


def _link_a_face_out(tmp):
    (tmp / "elsewhere").mkdir()
    (tmp / "elsewhere" / "secret.png").write_bytes(b"not for students")
    (tmp / "archive" / "train" / "happy" / "9.png").symlink_to(tmp / "elsewhere" / "secret.png")
    return tmp / "archive", ImportLimits()


def _link_a_folder_out(tmp):
    (tmp / "elsewhere").mkdir()
    (tmp / "archive" / "notes").symlink_to(tmp / "elsewhere", target_is_directory=True)
    return tmp / "archive", ImportLimits()


def _link_a_folder_in(tmp):
    (tmp / "archive" / "test" / "more").symlink_to(tmp / "archive" / "train" / "happy", target_is_directory=True)
    return tmp / "archive", ImportLimits()


def _break_a_link(tmp):
    (tmp / "archive" / "train" / "sad" / "9.png").symlink_to(tmp / "archive" / "gone.png")
    return tmp / "archive", ImportLimits()


def _loop_links(tmp):
    folder = tmp / "archive" / "train" / "FEAR"
    (folder / "a.png").symlink_to(folder / "b.png")
    (folder / "b.png").symlink_to(folder / "a.png")
    return tmp / "archive", ImportLimits()


def _link_the_root_to_nothing(tmp):
    (tmp / "dataset").symlink_to(tmp / "gone")
    return tmp / "dataset", ImportLimits()


def _a_pipe(tmp):
    os.mkfifo(tmp / "fer2013.csv")
    return tmp / "fer2013.csv", ImportLimits()


REFUSED = {
    "too-deep": (_nest_deeper, "archive goes deeper than 3 folder levels (a/b/c/d): FER2013's layout is"),
    "too-many-files": (_many_files, "archive holds more than 20 files and folders: FER2013's image folders hold"),
    "file-link-out": (_link_a_face_out, "archive/train/happy/9.png is a symbolic link leading out of archive"),
    "folder-link-out": (_link_a_folder_out, "archive/notes is a symbolic link leading out of archive"),
    "folder-link-in": (_link_a_folder_in, "archive/test/more is a symbolic link to a folder, and links to folders"),
    "broken-link": (_break_a_link, "archive/train/sad/9.png is a broken symbolic link (what it points to is missing)"),
    "link-loop": (_loop_links, "archive/train/FEAR/a.png is a broken symbolic link"),
    "root-broken-link": (_link_the_root_to_nothing, "dataset is a broken symbolic link"),
    "pipe": (_a_pipe, "fer2013.csv is not a regular file (a device, a pipe or a socket)"),
}


@pytest.mark.parametrize("arrange, message", REFUSED.values(), ids=REFUSED.keys())
def test_a_server_path_that_reaches_too_far_is_one_sentence(tmp_path, arrange, message):
    write_folders(tmp_path / "archive")
    path, limits = arrange(tmp_path)
    outcome = {}

    def attempt():
        try:
            importers.import_path(path, limits=limits)
        except Exception as error:  # noqa: BLE001  (the test checks which)
            outcome["error"] = error

    worker = threading.Thread(target=attempt, daemon=True)  # a pipe opened for reading would wait for ever
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the import hung"
    assert isinstance(outcome.get("error"), DataError), outcome
    assert message in str(outcome["error"])
    assert "not for students" not in str(outcome["error"])
    assert data.available_datasets() == [data.SYNTHETIC]


def test_within_the_limits_and_with_a_link_to_a_face_inside_the_import_works(tmp_path):
    written = write_folders(tmp_path / "archive")
    # A link to another happy face inside the folder is read like a file; hidden folders are not walked.
    happy = tmp_path / "archive" / "train" / "happy"
    (happy / "link.png").symlink_to(happy / "0.png")
    (tmp_path / "archive" / ".git" / "objects").mkdir(parents=True)
    exactly = ImportLimits(max_depth=2, max_files=2 + 14 + len(written) + 1)
    report = importers.import_path(tmp_path / "archive", limits=exactly)
    assert report.rows_imported == len(written) + 1
    loaded = data.load_dataset("archive")
    happy_train = (loaded.labels == 3) & (loaded.splits != "test")
    assert happy_train.sum() == TRAIN_COUNTS[3] + 1
    assert sum(np.array_equal(face, face_for("train", 3, 0)) for face in loaded.images) == 2


def test_command_line_import_of_a_folder_with_a_broken_link_is_a_sentence(tmp_path, capsys):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "modules.conf").symlink_to(tmp_path / "etc" / "missing.conf")
    assert main(["data", "import", str(tmp_path / "etc")]) == 2
    error = capsys.readouterr().err
    assert "etc/modules.conf is a broken symbolic link" in error
    assert "Traceback" not in error


# --- a file that is not FER2013 is never quoted back -----------------------------------------

SECRET = "hunter2-do-not-show"


def _npz_with_other_arrays(path):
    np.savez(path, **{SECRET: np.zeros(3)})


NOT_FER2013 = {
    "passwd": ("passwd", f"root:x:0:0:{SECRET}:/root:/bin/bash\ndaemon:x:1:1::/:/bin/false\n"),
    "accounts-csv": ("accounts.csv", f"user,password\nana,{SECRET}\n"),
    "almost-a-face": ("faces.csv", f"3,{SECRET} {SECRET},Training\n"),
    "settings": ("settings.txt", f'{{"password": "{SECRET}"}}'),
    "binary": ("blob", bytes(range(256)) * 4 + SECRET.encode() + b"\x00" * 64),
    "one-endless-line": ("dump.csv", SECRET + "x" * (2 << 20)),
    "npz-of-other-arrays": ("keys.npz", _npz_with_other_arrays),
}


@pytest.mark.parametrize("filename, content", NOT_FER2013.values(), ids=NOT_FER2013.keys())
def test_a_file_that_is_not_fer2013_is_not_quoted_back(tmp_path, filename, content):
    path = tmp_path / filename
    if callable(content):
        content(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(DataError) as error:
        importers.import_path(path)
    sentence = str(error.value)
    assert SECRET not in sentence and "hunter2" not in sentence
    assert filename in sentence
    assert "emotion,pixels,Usage" in sentence or "x (N,48,48) uint8 faces" in sentence  # what was expected instead


@pytest.mark.parametrize(
    "lines, message",
    [
        (["x" * (3 << 20)], "big.csv is not FER2013: its first line is over 1 MB long"),
        (["emotion,pixels,Usage", "3," + "7 " * (1 << 20)], "big.csv, line 2: longer than 1 MB, where a FER2013 line"),
    ],
    ids=["first-line", "later-line"],
)
def test_a_line_longer_than_any_face_stops_the_read(tmp_path, lines, message):
    (tmp_path / "big.csv").write_text("\n".join(lines))  # no newline at the end: the line never ends
    with pytest.raises(DataError, match=message):
        importers.import_path(tmp_path / "big.csv")


class EndlessBytes:
    """A stream that never ends and never has a newline, counting what was read from it."""

    def __init__(self):
        self.read_so_far = 0

    def read(self, size):
        self.read_so_far += size
        if self.read_so_far > 64 << 20:
            raise AssertionError("read 64 MB of one line without stopping")
        return b"7" * size

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_an_endless_line_is_refused_after_a_bounded_read():
    from fer.importers.csv_stream import MAX_LINE_BYTES, csv_lines

    stream = EndlessBytes()
    with pytest.raises(DataError, match="endless.csv is not FER2013: its first line is over 1 MB long"):
        next(csv_lines("endless.csv", lambda: stream))
    assert stream.read_so_far <= MAX_LINE_BYTES + (8 << 20)  # the cap plus one block
