"""Any query string opens any page: random keys and values, the pages' own keys with garbage in them.

A link is the one thing every visitor of a class server can type. Each page of the app (as
streamlit_app.py lists them, plus the sign-in page of a class server) is opened under AppTest
with random query strings: the keys the pages read (found in their source) with values that are
too long, too big, not numbers, not UTF-8-looking, repeated, empty; and keys no page knows.
Nothing may raise; the page still shows its title. The registry holds a really trained tiny CNN,
so the pages that need a model go all the way through their link handling.
(The shape page has its own, deeper test: test_shapes_query_strings.py.)
"""

import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from fer import registry
from tests.conftest import REPO_ROOT, TRAINED_RUN

APP = REPO_ROOT / "streamlit_app.py"
PAGES = re.findall(r'st\.Page\("(lessons/[a-z_]+\.py)"', APP.read_text())
CLASS_ONLY_PAGES = {"lessons/sign_in.py", "lessons/teacher.py"}
LAPTOP_PAGES = [page for page in PAGES if page not in CLASS_ONLY_PAGES]


def keys_in(*sources) -> set[str]:
    """The query parameters these source files name: UrlState fields and direct st.query_params use."""
    keys = set()
    for source in sources:
        text = source.read_text()
        keys.update(re.findall(r'Field\.\w+\(\s*"(\w+)"', text))
        keys.update(re.findall(r'(?:query_params|query)(?:\.get\(|\[)\s*"(\w+)"', text))
        keys.update(re.findall(r'^QUERY_PARAMETER\s*=\s*"(\w+)"', text, re.MULTILINE))  # lessons/_language: ?lang=
    return keys


SHARED_SOURCES = [*(REPO_ROOT / "lessons").glob("_*.py"), REPO_ROOT / "fer" / "shapes" / "url.py"]
SHARED_KEYS = keys_in(*SHARED_SOURCES)
PAGE_KEYS = {page: sorted(keys_in(REPO_ROOT / page) | SHARED_KEYS) for page in PAGES}
EXAMPLES_PER_PAGE = 3  # about 0.6 s each, more under load; every run draws new ones
SHIPPED_NAMES = sorted(path.name for path in (REPO_ROOT / "models").glob("pretrained-*"))

plausible = st.sampled_from([
    "0", "1", "2", "-1", "3", "99999", "100000", "test", "train", "val", "none", "flip", "ten-crop", "counts",
    "shares", "happy", "angry", "disgust", "vanilla", "smoothgrad", "gradcam", "conv1", "conv2", "pool1",
    TRAINED_RUN, *SHIPPED_NAMES, "true", "false", "0.5", "1,2,3", "0.1,-0.2,0.3", "1e-8", "en", "zh-TW",
])
hostile = st.one_of(
    st.sampled_from(["", " ", "nan", "-nan", "inf", "-inf", "1e309", "9" * 400, "-" + "9" * 40, "0x10", "١٢", "²",
                     "../../etc/passwd", "/etc/passwd", "%00", "\x00", "a\nb", "<script>alert(1)</script>",
                     "x" * 5000, ",".join(["1"] * 5000), "1," * 10, "🙂", "null", "[]", "{}"]),
    st.text(max_size=30),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
values = st.one_of(plausible, plausible, hostile)
one_or_many = st.one_of(values, values, st.lists(values, min_size=1, max_size=3))


def queries(keys: list[str]):
    """The page's own keys (and the shared ones) with random values, and now and then a key no page reads."""
    return st.fixed_dictionaries({}, optional={key: one_or_many for key in keys}).flatmap(
        lambda known: st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=2).map(
            lambda unknown: {**unknown, **known}
        )
    )


@pytest.fixture(scope="module")
def registry_with_a_model(trained_tiny_run, tmp_path_factory):
    """A registry folder holding the trained tiny run (copied once for the module)."""
    folder = tmp_path_factory.mktemp("query-registry") / "models"
    folder.mkdir()
    shutil.copytree(trained_tiny_run, folder / TRAINED_RUN)
    return folder


@pytest.fixture
def with_a_model(registry_with_a_model, monkeypatch):
    monkeypatch.setenv("FER_MODELS_DIR", str(registry_with_a_model))
    assert [run.name for run in registry.list_runs()] == [TRAINED_RUN]


def open_with_query(page: str | None, query: dict) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in query.items():
        app.query_params[key] = value
    if page is not None:
        app.switch_page(page)
    app.run()
    return app


def test_the_pages_read_keys_worth_trying():
    """The keys come from the sources: if the patterns stopped matching, the tests below would try little."""
    assert {"model", "split", "tta", "view", "true", "predicted"} <= set(PAGE_KEYS["lessons/confusion.py"])
    assert {"method", "expression", "face"} <= set(PAGE_KEYS["lessons/saliency.py"])
    assert {"stack", "input", "exact"} <= set(PAGE_KEYS["lessons/shapes.py"])
    assert {"job", "lang"} <= set(PAGE_KEYS["lessons/train.py"])
    assert len(LAPTOP_PAGES) >= 12


@pytest.mark.parametrize("page", LAPTOP_PAGES)
@settings(max_examples=EXAMPLES_PER_PAGE, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_any_query_string_opens_every_page(with_a_model, page, data):
    query = data.draw(queries(PAGE_KEYS[page]), label="query")
    app = open_with_query(page, query)
    assert not app.exception, f"{page} with {query!r}: {[element.value for element in app.exception]}"
    assert app.title, f"{page} with {query!r} showed no title"


@settings(max_examples=EXAMPLES_PER_PAGE, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(query=queries(sorted(set().union(*PAGE_KEYS.values()))))
def test_any_query_string_opens_the_sign_in_page_of_a_class_server(monkeypatch, query):
    monkeypatch.setenv("FER_CLASS_MODE", "1")
    app = open_with_query(None, query)
    assert not app.exception, f"sign-in with {query!r}: {[element.value for element in app.exception]}"
    assert [title.value for title in app.title] in (["Sign in"], ["登入"])  # ?lang= may ask for Chinese
