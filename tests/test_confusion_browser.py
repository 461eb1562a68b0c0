"""In a real browser: clicking a cell of the confusion heatmap opens the gallery of that cell and
puts the cell into the page's link; opening that link shows the same cell."""

from urllib.parse import parse_qs, urlparse

from tests.browser import streamlit_exceptions, wait_for_streamlit_page
from tests.models import pooled_softmax, registry_folder, save_tiny_run

MODEL_NAME = "browser-confusion"


def save_tiny_model(models_dir) -> None:
    """A tiny real model, saved into the running server's own registry."""
    with registry_folder(models_dir):
        if not (models_dir / MODEL_NAME).exists():
            save_tiny_run(MODEL_NAME, pooled_softmax(seed=3))


def read_cells(page) -> dict[tuple[str, str], int]:
    """(true, predicted) -> count, read from the heatmap's own accessible labels."""
    cells = {}
    for label in page.eval_on_selector_all(
        '[data-testid="stVegaLiteChart"] path[aria-roledescription="rect mark"]',
        "paths => paths.map(path => path.getAttribute('aria-label'))",
    ):
        fields = dict(part.split(": ", 1) for part in label.split("; "))
        cells[(fields["true"], fields["predicted"])] = int(fields["count"])
    return cells


def test_clicking_a_cell_shows_exactly_its_faces(app_server, browser):
    save_tiny_model(app_server.models_dir)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(app_server.page_url("lessons/confusion.py"))
        wait_for_streamlit_page(page)
        assert streamlit_exceptions(page) == [], app_server.log()[-3000:]
        page.wait_for_selector('[data-testid="stVegaLiteChart"] path[aria-roledescription="rect mark"]')
        cells = read_cells(page)
        assert len(cells) == 49 and sum(cells.values()) == 350  # the synthetic test split

        # the smallest non-empty mistake cell, so the gallery shows every one of its faces
        mistakes = {cell: count for cell, count in cells.items() if cell[0] != cell[1] and count > 0}
        (true_name, predicted_name), count = min(mistakes.items(), key=lambda item: (item[1], item[0]))
        assert count <= 36
        assert count < max(mistakes.values()), "the page opens on the biggest mistake: click another cell"
        rect = page.locator(
            f'[data-testid="stVegaLiteChart"] path[aria-label*="True expression: {true_name};"]'
            f'[aria-label*="Predicted expression: {predicted_name};"]'
        )
        rect.scroll_into_view_if_needed()
        box = rect.bounding_box()
        # a corner of the cell, away from the number drawn in its middle
        page.mouse.click(box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.2)
        page.wait_for_function(
            "text => document.querySelector('[data-testid=\"stMain\"]').innerText.includes(text)",
            arg=f"{count} {true_name} faces the model called {predicted_name}",
            timeout=60_000,
        )
        wait_for_streamlit_page(page)
        assert streamlit_exceptions(page) == [], app_server.log()[-3000:]
        gallery = page.locator(".st-key-confusion_gallery img")
        gallery.first.wait_for(timeout=30_000)
        assert gallery.count() == count
        captions = page.inner_text(".st-key-confusion_gallery")
        assert captions.count("%") == 3 * count  # each face with its three likeliest expressions
        # the link now names the clicked cell: a teacher can share it
        page.wait_for_function(
            "cell => window.location.search.includes(cell)", arg=f"true={true_name}", timeout=30_000
        )
        query = parse_qs(urlparse(page.url).query)
        assert (query["true"], query["predicted"], query["model"]) == ([true_name], [predicted_name], [MODEL_NAME])
        link = page.url
    finally:
        context.close()

    # a student opens that link in a fresh browser: the same cell, the same faces
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(link)
        wait_for_streamlit_page(page)
        assert streamlit_exceptions(page) == [], app_server.log()[-3000:]
        page.wait_for_function(
            "text => document.querySelector('[data-testid=\"stMain\"]').innerText.includes(text)",
            arg=f"{count} {true_name} faces the model called {predicted_name}",
            timeout=60_000,
        )
        gallery = page.locator(".st-key-confusion_gallery img")
        gallery.first.wait_for(timeout=30_000)
        assert gallery.count() == count
    finally:
        context.close()
