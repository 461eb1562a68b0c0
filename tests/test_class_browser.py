"""A class server in real browsers: Ana cannot rename, delete or stop Ben's run; the teacher can.

One `streamlit run` in class mode (its own secrets.toml through STREAMLIT_SECRETS_FILES, its own
models/ and data/, Ana and Ben on the roster), three browser contexts (Ben, Ana, the teacher),
each signing in as a person would. Ben starts a real training; Ana sees it only as a count and
his saved run with its buttons disabled and the sentence why; the teacher stops Ben's training
from Your class, then renames and deletes his saved run on the Train page.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from fer.accounts import Accounts
from tests.browser import (
    assert_no_streamlit_exception,
    go_to,
    run_streamlit,
    sign_in,
    start_training,
    wait_for_streamlit_page,
)
from tests.conftest import REPO_ROOT
from tests.models import registry_folder, save_tiny_run

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """A class-mode server; yields (server, {student: code})."""
    workdir = tmp_path_factory.mktemp("class-app")
    secrets = workdir / "secrets.toml"
    secrets.write_text(f'[fer]\nclass_mode = true\nteacher_password = "{PASSWORD}"\n')
    codes = Accounts(workdir / "data" / "class.sqlite3").add_students(["Ana Lima", "Ben Okafor"])
    with registry_folder(workdir / "models"):
        save_tiny_run("ben-saved", owner="Ben Okafor")
        save_tiny_run("ana-saved", owner="Ana Lima")
    saved = {name: os.environ.get(name) for name in ("STREAMLIT_SECRETS_FILES", "FER_CLASS_MODE")}
    os.environ["STREAMLIT_SECRETS_FILES"] = str(secrets)  # this server's secrets only, never the repository's
    os.environ.pop("FER_CLASS_MODE", None)
    try:
        server_context = run_streamlit(REPO_ROOT, workdir)
        server = server_context.__enter__()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        yield server, codes
    finally:
        server_context.__exit__(None, None, None)


@pytest.fixture
def contexts(browser):
    opened = []

    def new_page():
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(120_000)  # two cores shared by the server, Ben's training and three browsers
        opened.append(context)
        return context.new_page()

    yield new_page
    for context in opened:
        context.close()



def choose_run(page, run: str) -> None:
    chosen = page.locator('[data-testid="stSelectbox"]').filter(has_text="Look at, rename or delete a run")
    drawn = page.get_by_test_id("stMainBlockContainer").get_by_role("checkbox", name=f"Yes, delete {run} for good")
    # A rerun that redraws the box between typing and the click closes the list (the option is gone
    # and the click waits for it for ever) or loses the click: then the whole choice is made again.
    for attempt in range(3):
        wait_for_streamlit_page(page)
        try:
            chosen.locator("input").click()
            chosen.locator("input").fill(run)  # typing filters the options down to this run
            page.get_by_role("option", name=run, exact=True).click(timeout=20_000)
            # The typed text already reads `run`: wait for the page the script drew for the chosen run.
            drawn.wait_for(timeout=20_000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    wait_for_streamlit_page(page)


def status(folder) -> str | None:
    try:
        return json.loads((folder / "status.json").read_text()).get("state")
    except (OSError, ValueError):
        return None


def test_a_student_cannot_touch_anothers_run_and_the_teacher_can(class_server, contexts):
    server, codes = class_server

    # Before signing in, any page's address shows only Sign in.
    stranger = contexts()
    stranger.goto(server.page_url("lessons/train.py"))
    wait_for_streamlit_page(stranger)
    assert stranger.get_by_role("heading", name="Sign in").count() == 1
    assert stranger.get_by_role("heading", name="Train a network").count() == 0

    # Ana: Ben's saved run is read-only to her, hers is not.
    ana = contexts()
    sign_in(server, ana, "Ana Lima", codes["Ana Lima"])
    go_to(server, ana, "Train a network")
    assert ana.get_by_test_id("stSidebarNav").get_by_role("link", name="Your class").count() == 0
    choose_run(ana, "ben-saved")
    main = ana.get_by_test_id("stMainBlockContainer")
    ana.get_by_text("ben-saved is Ben Okafor's run: only its owner or the teacher may rename or delete it.").wait_for(
        timeout=30_000)
    expect(main.get_by_role("button", name="Rename", exact=True)).to_be_disabled()
    expect(main.get_by_role("textbox", name="New name")).to_be_disabled()
    expect(main.get_by_role("checkbox", name="Yes, delete ben-saved for good")).to_be_disabled()
    expect(main.get_by_role("button", name="Delete", exact=True)).to_be_disabled()
    choose_run(ana, "ana-saved")  # her own: enabled
    expect(main.get_by_role("button", name="Rename", exact=True)).to_be_enabled()
    expect(main.get_by_role("checkbox", name="Yes, delete ana-saved for good")).to_be_enabled()
    assert_no_streamlit_exception(server, ana)

    # The teacher opens Your class (its list of trainings refreshes by itself).
    teacher = contexts()
    sign_in(server, teacher, None, PASSWORD)
    go_to(server, teacher, "Your class")

    # Ben starts a long training on a small slice of the drawn faces.
    ben = contexts()
    sign_in(server, ben, "Ben Okafor", codes["Ben Okafor"])
    go_to(server, ben, "Train a network")
    start_training(ben, faces=256, epochs=200, name="ben-long")
    folder = server.models_dir / "ben-long"
    deadline = time.monotonic() + 240
    while status(folder) != "running" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert status(folder) == "running", server.log()[-3000:]
    assert json.loads((folder / "request.json").read_text())["owner"] == "Ben Okafor"
    assert "Ben" not in ben.url and "owner" not in ben.url

    # Ana sees Ben's training only as a count: nothing on her page can stop it.
    choose_run(ana, "ben-saved")
    ana.get_by_text(re.compile(r"Also on this server: 1 running")).wait_for()
    expect(ana.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop", exact=True)).to_be_disabled()
    assert status(folder) == "running"

    # The teacher sees it, and whose it is, and stops it.
    main = teacher.get_by_test_id("stMainBlockContainer")
    trainings = main.locator('[data-testid="stSelectbox"]').filter(has_text="Training")
    trainings.wait_for()
    assert trainings.locator("input").input_value() == "ben-long (Ben Okafor)"
    main.get_by_role("button", name="Stop it").click()
    deadline = time.monotonic() + 180
    while status(folder) != "stopped" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert status(folder) == "stopped", (folder / "worker.log").read_text()[-2000:]
    ben.get_by_text(re.compile(r"Stopped\. Saved as")).wait_for(timeout=60_000)
    assert_no_streamlit_exception(server, teacher)

    # ...and renames, then deletes, Ben's saved run.
    go_to(server, teacher, "Train a network")
    choose_run(teacher, "ben-saved")
    main = teacher.get_by_test_id("stMainBlockContainer")
    main.get_by_role("textbox", name="New name").fill("ben-saved-checked")
    main.get_by_role("textbox", name="New name").press("Enter")
    wait_for_streamlit_page(teacher)
    main.get_by_role("button", name="Rename", exact=True).click()
    deadline = time.monotonic() + 30
    while not (server.models_dir / "ben-saved-checked").is_dir() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (server.models_dir / "ben-saved-checked").is_dir() and not (server.models_dir / "ben-saved").exists()
    config = json.loads((server.models_dir / "ben-saved-checked" / "config.json").read_text())
    assert config["owner"] == "Ben Okafor"  # renamed by the teacher, still Ben's
    wait_for_streamlit_page(teacher)
    choose_run(teacher, "ben-saved-checked")
    main = teacher.get_by_test_id("stMainBlockContainer")
    main.get_by_text("Yes, delete ben-saved-checked for good").click()  # the box itself is drawn over
    wait_for_streamlit_page(teacher)
    main.get_by_role("button", name="Delete", exact=True).click()
    deadline = time.monotonic() + 30
    while (server.models_dir / "ben-saved-checked").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (server.models_dir / "ben-saved-checked").exists()
    assert_no_streamlit_exception(server, teacher)
