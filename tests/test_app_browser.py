"""Every page of the running app in a real browser, against a registry that holds a trained model.

The app's registry holds a tiny CNN really trained on the synthetic faces (conftest's
`trained_tiny_run`, saved once per session) as its newest run, and the app serves that run's
TF.js bundle, so every page that needs a model renders its real content. Each page is checked
for what it exists to show, against answers worked out here with Keras on the same faces: the
confusion page's 49 cells and accuracy, saliency's four pictures and prediction, every feature
map layer, the drawn filters, the ensemble controls, the webcam demo and its download.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from fer import export, preprocessing, registry, synth
from fer.data import EMOTIONS
from tests.browser import streamlit_exceptions, wait_for_streamlit_page
from tests.models import registry_folder

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
NO_MODEL_SENTENCES = ("no trained model", "nothing to explain", "nothing to export", "train one")
BUNDLE_READY = "() => window.ferDebug && (window.ferDebug.ready || /failed/.test(window.ferDebug.state))"


@dataclass(frozen=True)
class TrainedRun:
    name: str
    model: object
    test_images: np.ndarray
    test_labels: np.ndarray
    test_probabilities: np.ndarray
    test_accuracy: float


@pytest.fixture(scope="module")
def trained(app_server, trained_tiny_run: Path) -> TrainedRun:
    """The trained run in the app's registry, as its newest run (every page's default), with its bundle served."""
    name = trained_tiny_run.name
    target = app_server.models_dir / name
    if not target.exists():
        shutil.copytree(trained_tiny_run, target)
    os.utime(target / registry.CONFIG_FILE)  # the registry's newest run is the pages' default
    with registry_folder(app_server.models_dir):
        served = app_server.exports_dir / export.served_name(name)
        if not (served / export.METADATA_JSON).exists():
            export.export_bundle(name, served)
        model = registry.load_model(name)
        test_accuracy = registry.read_run(name).metrics["test_accuracy"]
    images, labels = synth.default_dataset().split("test")
    probabilities = model.predict(preprocessing.to_model_input(images), verbose=0)
    assert np.mean(probabilities.argmax(axis=1) == labels) == pytest.approx(test_accuracy)
    assert test_accuracy > 0.3  # really trained: chance is 1/7
    return TrainedRun(name, model, images, labels, probabilities, test_accuracy)


@pytest.fixture(scope="module")
def page(app_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def open_lesson(app_server, page, lesson: str) -> str:
    """Open a page, wait for its script to finish, and return its main text (after checking for exceptions)."""
    page.goto(app_server.page_url(lesson) if lesson else app_server.url)
    wait_for_streamlit_page(page)
    assert streamlit_exceptions(page) == [], app_server.log()[-3000:]
    return page.inner_text('[data-testid="stMain"]')


def main_text_with(page, *needles: str, timeout_ms: int = 30_000) -> str:
    """The page's main text once it holds every needle (widgets appear a moment after the script ends)."""
    try:
        page.wait_for_function(
            """needles => {
                const main = document.querySelector('[data-testid="stMain"]');
                return main && needles.every(needle => main.innerText.includes(needle));
            }""",
            arg=list(needles),
            timeout=timeout_ms,
        )
    except Exception:  # noqa: BLE001 - say which needle is missing, and what the page said instead
        text = page.inner_text('[data-testid="stMain"]')
        missing = [needle for needle in needles if needle not in text]
        raise AssertionError(f"the page never showed {missing}; it shows:\n{text[-2000:]}") from None
    return page.inner_text('[data-testid="stMain"]')


def metric(page, label: str) -> str:
    for element in page.query_selector_all('[data-testid="stMetric"]'):
        if element.query_selector('[data-testid="stMetricLabel"]').inner_text().strip() == label:
            return element.query_selector('[data-testid="stMetricValue"]').inner_text().strip()
    raise AssertionError(f"no metric labelled {label!r}")


def image_sizes(page) -> list[tuple[int, int]]:
    """(width, height) of every picture on the page, once each has loaded.

    A picture whose load failed is also `complete`, with no size: CI once saw all four saliency
    pictures at 0x0 just after the page's text appeared. So wait for a size, and name any that never get one.
    """
    try:
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=\"stMain\"] img')]"
            ".every(img => img.complete && img.naturalWidth > 0)",
            timeout=30_000,
        )
    except Exception:  # noqa: BLE001 - say which pictures never loaded
        broken = page.eval_on_selector_all(
            '[data-testid="stMain"] img', "images => images.filter(img => !img.naturalWidth).map(img => img.src)"
        )
        raise AssertionError(f"these pictures never loaded: {broken}") from None
    return [
        tuple(size)
        for size in page.eval_on_selector_all(
            '[data-testid="stMain"] [data-testid="stImageContainer"] img',
            "images => images.map(img => [img.naturalWidth, img.naturalHeight])",
        )
    ]


def chart_marks(page, wait_for: str) -> list[dict]:
    """Every mark of every Vega-Lite chart, as the fields of its accessible label, once one says `wait_for`."""
    page.wait_for_selector(f'[data-testid="stVegaLiteChart"] [aria-label*="{wait_for}"]', timeout=30_000)
    marks = []
    for label in page.eval_on_selector_all(
        '[data-testid="stVegaLiteChart"] [aria-roledescription]:not([aria-roledescription$="container"])',
        "marks => marks.map(mark => mark.getAttribute('aria-label') || '')",
    ):
        fields = dict(part.split(": ", 1) for part in label.split("; ") if ": " in part)
        if fields:
            marks.append(fields)
    return marks


def test_home_page_renders(app_server, page, trained):
    text = open_lesson(app_server, page, "")
    assert "Facial expressions" in text
    assert "No trained model yet" not in text


@pytest.mark.parametrize("lesson", PAGES)
def test_every_page_renders_its_content_with_a_trained_model(app_server, page, trained, lesson):
    text = open_lesson(app_server, page, lesson)
    assert page.inner_text("h1").strip(), f"{lesson} has no title"
    said = [sentence for sentence in NO_MODEL_SENTENCES if sentence in text.lower()]
    assert said == [], f"{lesson} asks for a model although the registry holds {trained.name}: {said}"


def test_train_page_lists_the_run_and_draws_its_history(app_server, page, trained):
    open_lesson(app_server, page, "lessons/train.py")
    chosen = page.locator('[data-testid="stSelectbox"]').filter(has_text="Look at, rename or delete a run")
    chosen.locator("input").wait_for(timeout=30_000)
    assert chosen.locator("input").input_value() == trained.name  # the newest run comes first
    marks = chart_marks(page, wait_for="series: validation")
    epochs = {mark.get("epoch") for mark in marks if mark.get("series") == "validation"}
    assert epochs >= {str(epoch) for epoch in range(1, 7)}, epochs


def test_cnn_vs_dnn_plots_the_run_by_its_parameters_and_accuracy(app_server, page, trained):
    open_lesson(app_server, page, "lessons/cnn_vs_dnn.py")
    points = [mark for mark in chart_marks(page, wait_for=f"run: {trained.name}") if mark.get("run") == trained.name]
    assert points, "the run is not on the accuracy-against-parameters chart"
    assert points[0]["parameters"] == f"{trained.model.count_params():,}"
    assert float(points[0]["accuracy"]) == pytest.approx(trained.test_accuracy, abs=5e-3)


def test_confusion_page_shows_the_models_matrix_and_accuracy(app_server, page, trained):
    open_lesson(app_server, page, "lessons/confusion.py")
    cells = {
        (mark["true"], mark["predicted"]): int(mark["count"])
        for mark in chart_marks(page, wait_for="Predicted expression: ")
        if "true" in mark and "predicted" in mark and "count" in mark
    }
    expected = np.zeros((7, 7), int)
    for true, predicted in zip(trained.test_labels, trained.test_probabilities.argmax(axis=1)):
        expected[true, predicted] += 1
    assert cells == {(EMOTIONS[i], EMOTIONS[j]): int(expected[i, j]) for i in range(7) for j in range(7)}
    assert metric(page, "Accuracy on test") == f"{trained.test_accuracy:.1%}"
    assert metric(page, "Mistakes") == f"{int(expected.sum() - np.trace(expected)):,}"


def test_saliency_page_shows_four_pictures_and_the_models_answer(app_server, page, trained):
    open_lesson(app_server, page, "lessons/saliency.py")
    # The page opens on the first Angry face of the test split.
    first_angry = int(np.flatnonzero(trained.test_labels == EMOTIONS.index("Angry"))[0])
    probabilities = trained.test_probabilities[first_angry]
    predicted = int(probabilities.argmax())
    main_text_with(page, f"The model says {EMOTIONS[predicted]} ({probabilities[predicted]:.0%})")
    # The face, its saliency map, the overlay and the masked face, each 48x48 enlarged four times.
    assert image_sizes(page) == [(192, 192)] * 4


def test_feature_maps_page_shows_every_conv_and_pooling_layer(app_server, page, trained):
    open_lesson(app_server, page, "lessons/feature_maps.py")
    kinds = ("Conv", "Pool")
    layers = [layer for layer in trained.model.layers if any(kind in type(layer).__name__ for kind in kinds)]
    assert len(layers) == 4
    main_text_with(
        page,
        *(
            f"{layer.name} ({type(layer).__name__}): {layer.output.shape[3]} maps of "
            f"{layer.output.shape[1]}x{layer.output.shape[2]}"
            for layer in layers
        ),
    )
    assert len(image_sizes(page)) == 1 + len(layers)  # the face, then one grid of maps per layer


def test_filters_page_draws_one_picture_per_filter(app_server, page, trained):
    open_lesson(app_server, page, "lessons/filters.py")
    main_text_with(page, "How many of its", "press Draw")
    page.get_by_role("button", name="Draw", exact=True).click()
    page.get_by_text("How far each one climbed").wait_for(timeout=120_000)
    wait_for_streamlit_page(page)
    assert streamlit_exceptions(page) == [], app_server.log()[-3000:]
    count = int(page.locator('[data-testid="stSlider"]').filter(has_text="How many of its").locator(
        '[data-testid="stSliderThumbValue"]').inner_text())
    assert count >= 1
    assert image_sizes(page) == [(48 * 3, 48 * 3)] * count


def test_ensembles_page_shows_its_controls(app_server, page, trained):
    open_lesson(app_server, page, "lessons/ensembles.py")
    main_text_with(
        page, "Models to combine", "How to fit the weights", "projected gradient", "try every weight",
        "Test-time augmentation for every model",
        "Pick at least two models to combine.",  # the registry holds one single model
    )
    chosen = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Models to combine")
    assert [line for line in chosen.inner_text().splitlines()[1:] if line.strip()] == [trained.name]


def test_webcam_page_serves_the_models_demo_and_its_download(app_server, page, trained):
    open_lesson(app_server, page, "lessons/webcam.py")
    main_text_with(page, "Download the bundle (.zip)", "Accuracy on test")
    assert metric(page, "Accuracy on test") == f"{trained.test_accuracy:.1%}"
    with registry_folder(app_server.models_dir):
        served = export.served_name(trained.name)
    frame_element = page.wait_for_selector(f'iframe[src*="exports/{served}/index.html"]', timeout=30_000)
    demo = frame_element.content_frame()
    demo.wait_for_function(BUNDLE_READY, timeout=120_000)
    assert demo.evaluate("ferDebug.ready"), demo.evaluate("[ferDebug.state, ferDebug.message]")
    assert trained.name in demo.inner_text("#model-info")


@pytest.fixture(scope="module")
def chinese_page(app_server, browser):
    """A reader whose browser asks for English, following a teacher's link with ?lang=zh-TW."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    yield context.new_page()
    context.close()


# What a Chinese page may show in English besides what tests/i18n_checks allows: the run's and the
# data set's names, split names as FER2013 writes them, the language switch's own entry.
CHINESE_PAGE_NAMES = frozenset({"synthetic", "train", "test", "PublicTest", "PrivateTest", "English", "flip",
                                "ten-crop", "crops", "tiny", "report", "A", "B"})


@pytest.mark.parametrize("lesson", [None, *PAGES, "lessons/competition.py"])
def test_every_page_renders_in_chinese_in_chromium(app_server, chinese_page, trained, lesson):
    from tests.i18n_checks import HAN, english_left

    url = app_server.page_url(lesson) if lesson else app_server.url
    chinese_page.goto(url + "?lang=zh-TW")
    wait_for_streamlit_page(chinese_page)
    assert streamlit_exceptions(chinese_page) == [], app_server.log()[-3000:]
    title = chinese_page.inner_text("h1").strip()
    assert HAN.search(title), f"{lesson}: the title {title!r} is not in Chinese"
    # Run names are names in every language: the trained one, the shipped one and any another test of this
    # server left (test_train_page_browser.py's "to-be-killed").
    runs = {path.name for path in app_server.models_dir.iterdir() if path.is_dir()} | {trained.name}
    names = CHINESE_PAGE_NAMES | runs | {word for run in runs for word in run.replace("-", " ").split()}
    # What the reader sees, less formulas (KaTeX) and code, which stay as they are in every language, and
    # the file uploader's own instructions ("Drag and drop file here", "Limit 100MB per file"), which
    # Streamlit writes and no app can translate (they appear a moment after the script ends, or not yet).
    text = chinese_page.evaluate("""() => ['[data-testid="stMain"]', '[data-testid="stSidebar"]'].map(selector => {
        const copy = document.querySelector(selector).cloneNode(true);
        const streamlits = '[data-testid="stFileUploaderDropzoneInstructions"], '
            + '[data-testid="stFileUploaderDropzone"] button';
        copy.querySelectorAll('.katex, code, pre, ' + streamlits).forEach(element => element.remove());
        document.body.appendChild(copy);
        const text = copy.innerText;
        copy.remove();
        return text;
    }).join('\\n')""")
    left = [(line, words) for line in text.splitlines() if (words := english_left(line, names))]
    assert left == [], f"{lesson}: English left in the browser: {left[:8]}"
    # The CJK font is there, so the characters are drawn, not boxes.
    assert chinese_page.evaluate(f"document.fonts.check('16px \"Noto Sans CJK TC\"', {title!r})")
