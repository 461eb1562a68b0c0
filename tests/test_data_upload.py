"""Uploads on the Your data page wait for their import on disk, never in the session's memory.

A class uploading fer2013.csv at once would otherwise hold one copy per student in the server
until each session ends. The page copies an upload into a temporary folder, tells Streamlit to
drop its bytes, empties the uploader, and imports from the copy; the copy goes once imported.
"""

import io
import tempfile

import numpy as np
import pytest
from streamlit import config
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.testing.v1 import AppTest

from fer import data
from tests.test_data_page import open_data_page, write_csv


@pytest.fixture
def temporary_folder(tmp_path, monkeypatch):
    """Where the page's temporary upload folders go (tempfile's folder, as TMPDIR would set it)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def dropped_file_ids(monkeypatch) -> list[str]:
    """The uploads the page asked Streamlit to forget."""
    dropped = []
    real_remove = MemoryUploadedFileManager.remove_file

    def remove_file(self, session_id, file_id):
        dropped.append(file_id)
        real_remove(self, session_id, file_id)

    monkeypatch.setattr(MemoryUploadedFileManager, "remove_file", remove_file)
    return dropped


def upload(app: AppTest, name: str, content: bytes) -> AppTest:
    (uploader,) = app.get("file_uploader")
    uploader.set_value((name, content, "text/csv")).run()
    assert not app.exception, [element.value for element in app.exception]
    return app


def session_values(app: AppTest) -> list:
    return [app.session_state[key] for key in app.session_state]


def holds_bytes(value, size: int) -> bool:
    """Whether a session-state value holds `size` bytes or more of file content, however nested."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value) >= size
    if isinstance(value, io.BytesIO):
        return len(value.getbuffer()) >= size
    if isinstance(value, dict):
        return any(holds_bytes(item, size) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_bytes(item, size) for item in value)
    return False


def test_an_upload_waits_on_disk_and_is_imported_from_there(tmp_path, temporary_folder, dropped_file_ids):
    images = write_csv(tmp_path / "fer2013.csv", 30)
    content = (tmp_path / "fer2013.csv").read_bytes()
    app = upload(open_data_page(), "class-upload.csv", content)

    (uploader,) = app.get("file_uploader")
    assert uploader.value is None, "the uploader should start empty again"
    assert len(dropped_file_ids) == 1, "the page did not ask Streamlit to forget the upload's bytes"
    assert not any(holds_bytes(value, len(content) // 2) for value in session_values(app))
    assert "Ready to import: **class-upload.csv**" in " ".join(element.value for element in app.markdown)
    (waiting,) = [path for path in temporary_folder.rglob("*") if path.is_file()]
    assert waiting.name == "class-upload.csv" and waiting.read_bytes() == content

    app.button(key="data_import_upload").click().run()
    assert not app.exception, [element.value for element in app.exception]
    assert "class-upload" in data.available_datasets()
    assert np.array_equal(np.sort(data.load_dataset("class-upload").images, axis=0), np.sort(images, axis=0))
    assert list(temporary_folder.iterdir()) == [], "the copy should go once imported"
    assert app.button(key="data_import_upload").disabled


def test_a_failed_import_keeps_the_copy_for_the_retry_skipping_bad_rows(tmp_path, temporary_folder):
    write_csv(tmp_path / "bad.csv", 20, bad_line="3,1 2 3,Training")
    app = upload(open_data_page(), "bad.csv", (tmp_path / "bad.csv").read_bytes())
    app.button(key="data_import_upload").click().run()
    assert "skip bad rows" in " ".join(element.value for element in app.error)
    assert len([path for path in temporary_folder.rglob("*") if path.is_file()]) == 1

    app.button(key="data_retry_skipping").click().run()
    assert not app.exception
    assert "bad" in data.available_datasets()
    assert list(temporary_folder.iterdir()) == []


def test_an_upload_over_the_limit_is_a_sentence_and_leaves_nothing(tmp_path, temporary_folder, dropped_file_ids):
    previous = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 1)  # megabytes
    try:
        app = upload(open_data_page(), "huge.csv", b"emotion,pixels,Usage\n" + b"0" * 1_600_000)
    finally:
        config.set_option("server.maxUploadSize", previous)
    sentences = " ".join(element.value for element in app.error)
    assert "huge.csv is 2 MB, over this server's upload limit of 1 MB" in sentences
    assert list(temporary_folder.iterdir()) == []
    assert len(dropped_file_ids) == 1
    assert app.button(key="data_import_upload").disabled
