"""Every page of the running app renders in a real browser without a Streamlit exception."""

import pytest

from tests.browser import streamlit_exceptions, wait_for_streamlit_page

PAGES = [
    "lessons/data.py",
    "lessons/shapes.py",
    "lessons/batchnorm.py",
    "lessons/softmax.py",
    "lessons/train.py",
    "lessons/cnn_vs_dnn.py",
    "lessons/confusion.py",
    "lessons/ensembles.py",
    "lessons/saliency.py",
    "lessons/filters.py",
    "lessons/feature_maps.py",
    "lessons/webcam.py",
]


@pytest.fixture(scope="module")
def page(app_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def test_home_page_renders(app_server, page):
    page.goto(app_server.url)
    wait_for_streamlit_page(page)
    assert "Facial expressions" in page.inner_text('[data-testid="stMain"]')
    assert streamlit_exceptions(page) == []


@pytest.mark.parametrize("lesson", PAGES)
def test_lesson_renders_without_exception(app_server, page, lesson):
    page.goto(app_server.page_url(lesson))
    wait_for_streamlit_page(page)
    title = page.inner_text("h1")
    assert title.strip(), f"{lesson} has no title"
    assert streamlit_exceptions(page) == [], app_server.log()[-3000:]
