"""Traditional Chinese in real headless Chromium: the exported webcam page (its sentences from the
bundle's i18n/zh-TW.json, chosen by ?lang= or by the browser's language) and a lesson of the app,
with Noto Sans CJK installed so the characters are drawn, not boxes."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from fer import export, registry
from tests.browser import wait_for_streamlit_page
from tests.i18n_checks import english_left
from tests.models import batchnorm_cnn, registry_folder

READY = "() => window.ferDebug && (window.ferDebug.ready || /failed/.test(window.ferDebug.state))"
CHINESE_NAMES = ["生氣", "厭惡", "恐懼", "開心", "難過", "驚訝", "中性"]
# What the page may show in English: the run's name, the weight type, backends, units.
PAGE_NAMES = frozenset({"tiny", "float32", "wasm", "webgl", "cpu", "ms", "MB", "fps"})


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def bundle_url(tmp_path_factory):
    """A tiny model's bundle, exported as the app exports it, served by http.server."""
    root = tmp_path_factory.mktemp("webcam-zh")
    with registry_folder(root / "models"):
        registry.save_run("tiny", batchnorm_cnn(seed=0, spread=20), {"architecture": "toy"},
                          metrics={"test_accuracy": 0.5})
        folder = export.export_bundle("tiny", root / "bundle", "float32").folder
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


def open_demo(browser, url: str, locale: str = "en-US"):
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(READY, timeout=90_000)
    return context, page


def test_the_bundle_carries_the_pages_chinese_sentences(bundle_url, tmp_path):
    import json
    import urllib.request

    with urllib.request.urlopen(bundle_url.replace("index.html", "i18n/zh-TW.json")) as response:
        document = json.load(response)
    assert document["language"] == "zh-TW"
    assert document["messages"]["Start camera"] == "開啟攝影機"
    assert [document["messages"][name] for name in ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise",
                                                     "Neutral")] == CHINESE_NAMES


@pytest.mark.parametrize(("query", "locale"), [("?lang=zh-TW&camera=0", "en-US"), ("?camera=0", "zh-TW")])
def test_the_webcam_page_reads_in_chinese_from_the_link_or_the_browser(browser, bundle_url, query, locale):
    context, page = open_demo(browser, bundle_url + query, locale)
    try:
        assert page.evaluate("window.ferDebug.state") == "ready"
        assert page.evaluate("document.documentElement.lang") == "zh-TW"
        assert page.inner_text("h1") == "你的模型看你的臉" and page.title() == "你的模型看你的臉"
        assert page.inner_text("#status") == "模型準備好了：請開啟攝影機，或拖入一張照片。"
        assert [label.strip() for label in page.eval_on_selector_all(
            "#bars .bar span:first-child", "spans => spans.map(span => span.textContent)")] == CHINESE_NAMES
        left = [(line, english_left(line, PAGE_NAMES)) for line in page.inner_text("body").splitlines()]
        assert [item for item in left if item[1]] == []
        # Noto Sans CJK is installed (make test), so the browser draws these characters with it.
        assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK TC\"', '你的模型')")
    finally:
        context.close()


def test_the_webcam_page_stays_in_english_for_an_english_reader(browser, bundle_url):
    context, page = open_demo(browser, bundle_url + "?camera=0", "en-US")
    try:
        assert page.inner_text("h1") == "Your model on your face"
        assert page.inner_text("#status") == "Model ready: start the camera, or drop a photo."
        assert page.evaluate("document.documentElement.lang") == "en"
    finally:
        context.close()


def test_a_photo_is_explained_in_chinese(browser, bundle_url):
    from tests.test_explain_pages import ASSET

    context, page = open_demo(browser, bundle_url + "?lang=zh-TW&camera=0")
    try:
        page.set_input_files("#file", str(ASSET))
        page.wait_for_function("() => ferDebug.last !== null", timeout=30_000)
        assert page.inner_text("#status") == f"在 {ASSET.name} 中找到臉了。"
        label, percent = page.inner_text("#prediction").rsplit(" ", 1)
        assert label in CHINESE_NAMES and percent.endswith("%")
    finally:
        context.close()


def test_a_lesson_of_the_app_renders_in_chinese_in_chromium(app_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    try:
        page.goto(app_server.page_url("lessons/softmax.py") + "?lang=zh-TW")
        wait_for_streamlit_page(page)
        page.wait_for_selector("h1:has-text('Softmax 與交叉熵')", timeout=60_000)
        # The charts' categories are the expressions in Chinese, drawn with the CJK font the spec names.
        page.wait_for_selector('[data-testid="stVegaLiteChart"] [aria-label*="開心"]', timeout=60_000)
        assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK TC\"', '交叉熵')")
    finally:
        context.close()
