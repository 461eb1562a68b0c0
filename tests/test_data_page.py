"""The Your data page: renders on the synthetic set, imports from a server path, explains bad input."""

import numpy as np
from streamlit.testing.v1 import AppTest

from fer import data
from tests.conftest import REPO_ROOT

HEADER = "emotion,pixels,Usage"


def open_data_page() -> AppTest:
    app = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=60)
    app.run()
    app.switch_page("lessons/data.py")
    app.run()
    assert not app.exception
    return app


def write_csv(path, count: int, bad_line: str | None = None):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(count, 48, 48), dtype=np.uint8)
    lines = [HEADER] + [
        f"{index % 7},{' '.join(map(str, image.ravel()))},{'Training' if index < count - 7 else 'PublicTest'}"
        for index, image in enumerate(images)
    ]
    if bad_line is not None:
        lines.insert(3, bad_line)
    path.write_text("\n".join(lines) + "\n")
    return images


def import_from_path(app: AppTest, path) -> AppTest:
    app.text_input(key="data_path").input(str(path)).run()
    app.button(key="data_import_path").click().run()
    assert not app.exception
    return app


def test_renders_on_the_synthetic_faces_and_says_so():
    app = open_data_page()
    assert "synthetic faces" in " ".join(warning.value for warning in app.warning)
    assert len(app.get("vega_lite_chart")) == 1  # the class counts per split
    rows = app.get("image")  # one row of sample faces per expression
    assert [len(row.proto.imgs) for row in rows] == [10] * data.NUM_CLASSES
    counts = app.dataframe[0].value
    assert list(counts.index) == list(data.EMOTIONS)
    assert counts.loc["Happy", "train"] == 400


def shown_faces(app: AppTest) -> list[list[str]]:
    return [[image.url for image in row.proto.imgs] for row in app.get("image")]


def test_another_seed_draws_other_sample_faces():
    app = open_data_page()
    first = shown_faces(app)
    app.number_input(key="data_sample_seed").set_value(1).run()
    assert not app.exception
    other = shown_faces(app)
    assert all(len(row) == 10 for row in other)
    assert all(set(before) != set(after) for before, after in zip(first, other))


def test_importing_a_csv_from_a_server_path_adds_the_data_set(tmp_path):
    images = write_csv(tmp_path / "class.csv", 21)
    app = import_from_path(open_data_page(), tmp_path / "class.csv")
    assert not app.error
    assert "Imported 21 faces" in app.success[0].value
    assert "class" in app.sidebar.selectbox[0].options
    assert np.array_equal(data.load_dataset("class").images, images)

    app.button(key="data_use_imported").click().run()
    assert not app.exception
    assert app.sidebar.selectbox[0].value == "class"
    assert "The data set in use: class" in [header.value for header in app.header]


def test_a_bad_row_is_one_sentence_and_skipping_is_offered(tmp_path):
    write_csv(tmp_path / "broken.csv", 14, bad_line="3,1 2 3,Training")
    app = import_from_path(open_data_page(), tmp_path / "broken.csv")
    assert "broken.csv, line 4: the pixels field has 3 numbers" in app.error[0].value
    assert data.available_datasets() == [data.SYNTHETIC]
    app.button(key="data_retry_skipping").click().run()
    assert not app.exception and not app.error
    assert "1 of 15 rows were bad" in app.warning[0].value
    assert "broken" in data.available_datasets()


def test_importing_again_under_the_same_name_shows_the_new_faces(tmp_path):
    from lessons._shared import DATASET_CACHE_ENTRIES, dataset_cache

    write_csv(tmp_path / "class.csv", 21)
    app = import_from_path(open_data_page(), tmp_path / "class.csv")
    app.button(key="data_use_imported").click().run()
    assert app.dataframe[0].value.to_numpy().sum() == 21
    write_csv(tmp_path / "class.csv", 42)  # the same file name, so the same data set name
    import_from_path(app, tmp_path / "class.csv")
    assert "Imported 42 faces" in app.success[0].value
    assert app.dataframe[0].value.to_numpy().sum() == 42
    cache = dataset_cache()  # the one the page used: bounded, holding the new import
    assert cache.max_entries == DATASET_CACHE_ENTRIES and len(cache) <= DATASET_CACHE_ENTRIES
    assert cache.is_loaded("class") and len(cache.get("class")) == 42
