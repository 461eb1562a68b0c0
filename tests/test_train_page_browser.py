"""The Train page in a real browser: start a short run, watch the charts gain points, stop it;
a worker killed by the operating system leaves a sentence and a Continue button that resumes it."""

import json
import os
import re
import shutil
import signal
import time

import pytest

from tests.browser import start_training, streamlit_exceptions, wait_for_streamlit_page

POINTS = re.compile(r"(\d+) points on the charts")


def points_on_charts(page) -> int:
    match = POINTS.search(page.inner_text('[data-testid="stMain"]'))
    return int(match.group(1)) if match else 0


@pytest.fixture(scope="module", autouse=True)
def registry_left_as_found(app_server):
    """The server is the session's (tests/conftest.py): tests in other files count the runs it lists."""
    before = {path.name for path in app_server.models_dir.iterdir()}
    yield
    for path in app_server.models_dir.iterdir():
        if path.name not in before:
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def test_train_watch_the_charts_grow_and_stop(app_server, page):
    page.goto(app_server.page_url("lessons/train.py"))
    wait_for_streamlit_page(page)
    assert streamlit_exceptions(page) == [], app_server.log()[-3000:]
    main = page.get_by_test_id("stMainBlockContainer")
    runs_before = {path.name for path in app_server.models_dir.iterdir()}
    # A small slice of the synthetic faces and many epochs: quick batches, and still running when we stop.
    main.get_by_role("spinbutton", name="Train on at most this many faces (0 = all)").fill("512")
    main.get_by_role("spinbutton", name="Train on at most this many faces (0 = all)").press("Enter")
    main.get_by_role("spinbutton", name="Epochs", exact=True).fill("50")
    main.get_by_role("spinbutton", name="Epochs", exact=True).press("Enter")
    wait_for_streamlit_page(page)
    main.get_by_role("button", name="Train", exact=True).click()

    # The fragment re-reads the event log every 1.5 s: the charts must gain points by themselves.
    page.wait_for_function(
        "() => /([1-9]\\d*) points on the charts/.test(document.querySelector('[data-testid=\"stMain\"]').innerText)",
        timeout=240_000,
    )
    first = points_on_charts(page)
    page.wait_for_function(
        f"""() => {{
            const main = document.querySelector('[data-testid="stMain"]');
            const match = /(\\d+) points on the charts/.exec(main.innerText);
            return match && Number(match[1]) > {first};
        }}""",
        timeout=60_000,
    )
    charts = main.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(1).wait_for(timeout=60_000)
    charts.first.locator("canvas, svg").first.wait_for(timeout=60_000)
    assert "images/s" in page.inner_text('[data-testid="stMain"]')
    assert main.get_by_role("button", name="Train", exact=True).is_disabled()

    main.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text(re.compile(r"Stopped\. Saved as")).wait_for(timeout=120_000)
    assert streamlit_exceptions(page) == [], app_server.log()[-3000:]
    # The app server is shared with other browser tests, which may have saved their own runs.
    saved = [
        path for path in app_server.models_dir.iterdir()
        if path.name not in runs_before and (path / "model.keras").exists()
    ]
    assert len(saved) == 1 and (saved[0] / "history.csv").read_text().startswith("epoch,")
    assert saved[0].name in page.inner_text('[data-testid="stMain"]')

    # A reload keeps the student's token in the URL and finds the finished run again.
    page.reload()
    wait_for_streamlit_page(page)
    main = page.get_by_test_id("stMainBlockContainer")
    page.get_by_text(re.compile(r"Stopped\. Saved as")).wait_for(timeout=60_000)
    assert main.get_by_role("button", name="Train", exact=True).is_enabled()


def test_a_killed_training_leaves_a_sentence_and_continues(app_server, page):
    page.goto(app_server.page_url("lessons/train.py"))
    wait_for_streamlit_page(page)
    start_training(page, faces=256, epochs=4, name="to-be-killed")
    folder = app_server.models_dir / "to-be-killed"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        events = (folder / "events.jsonl").read_text() if (folder / "events.jsonl").exists() else ""
        if '"kind": "epoch"' in events and '"epoch": 2, "batch"' in events:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the training never reached its second epoch")
    status = json.loads((folder / "status.json").read_text())
    os.kill(status["pid"], signal.SIGKILL)  # what the kernel's out-of-memory killer does
    # Epochs of 256 faces are short: on a busy machine the kill can land after epoch 2 was saved.
    page.get_by_text(re.compile(r"stopped: out of memory in epoch 2.*the best epoch, [12], is kept")).first.wait_for(
        timeout=60_000)
    assert streamlit_exceptions(page) == [], app_server.log()[-3000:]
    page.reload()
    wait_for_streamlit_page(page)
    main = page.get_by_test_id("stMainBlockContainer")
    main.get_by_role("button", name="Continue").first.click()
    page.get_by_text(re.compile(r"Finished\. Saved as \*?\*?to-be-killed")).wait_for(timeout=240_000)
    history = (folder / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2", "3", "4"]
    assert streamlit_exceptions(page) == [], app_server.log()[-3000:]
