"""A class competition in real browsers: no private score or private label reaches a student before the reveal.

One `streamlit run` in class mode (its own secrets.toml, models/ and data/; Ana on the roster), a
FER2013-like data set whose PrivateTest labels are set so that Ana's model scores exactly 58/70
there (82.86 %), and a competition on FER2013's halves. Ana signs in, submits on the Competition
page and looks at the Confusion matrix page; everything her browser receives is kept: the
rendered text and every websocket message (protobuf, Arrow tables, Vega specs). Before the
reveal none of it holds the private score (as text in any rounding, or as the float64/float32
bytes an Arrow column or a number field would carry) and the Confusion page offers no
PrivateTest faces; the teacher reveals from his browser, and then Ana's page holds both.
"""

from __future__ import annotations

import os
import struct
import time
from datetime import datetime, timedelta

import numpy as np
import pytest

from fer import competition, data
from fer.accounts import Accounts
from fer.competition_store import CompetitionStore
from tests.browser import (
    assert_no_streamlit_exception,
    go_to,
    run_streamlit,
    sign_in,
    wait_for_streamlit_page,
)
from tests.conftest import REPO_ROOT
from tests.models import pooled_softmax, registry_folder, save_tiny_run

PASSWORD = "competition teacher passphrase"
PER_SPLIT, PRIVATE_RIGHT = 70, 58
PRIVATE_SCORE = PRIVATE_RIGHT / PER_SPLIT  # 0.828571...


def kaggle_like_cache(folder, model) -> None:
    """Training, PublicTest and PrivateTest faces; PrivateTest labelled so `model` is right on 58 of 70."""
    rng = np.random.default_rng(11)
    usage = np.repeat(np.array(["Training", "PublicTest", "PrivateTest"]), PER_SPLIT)
    images = rng.integers(0, 256, (len(usage), 48, 48), dtype=np.uint8)
    labels = rng.integers(0, 7, len(usage)).astype(np.uint8)
    private = np.flatnonzero(usage == "PrivateTest")
    answers = np.asarray(model(images[private][..., None].astype(np.float32) / 255.0)).argmax(axis=1)
    answers[PRIVATE_RIGHT:] = (answers[PRIVATE_RIGHT:] + 1) % 7
    labels[private] = answers
    np.savez(folder / "kaggle.npz", x=images, y=labels, usage=usage)


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """A class-mode server with Ana, her run, the data set and an open competition; yields (server, code)."""
    workdir = tmp_path_factory.mktemp("competition-app")
    secrets = workdir / "secrets.toml"
    secrets.write_text(f'[fer]\nclass_mode = true\nteacher_password = "{PASSWORD}"\n')
    (workdir / "data").mkdir()
    code = Accounts(workdir / "data" / "class.sqlite3").add_students(["Ana Lima"])["Ana Lima"]
    kaggle_like_cache(workdir / "data", pooled_softmax(seed=3))
    with registry_folder(workdir / "models"):
        save_tiny_run("ana-net", pooled_softmax(seed=3), owner="Ana Lima", dataset="kaggle")
    competition.open_competition(
        "fer-class", "kaggle", by=competition.COMMAND_LINE, deadline=datetime.now().astimezone() + timedelta(days=7),
        store=CompetitionStore(workdir / "data" / "competitions.sqlite3"), reference_model=None,
        load=lambda name: data.load_npz(workdir / "data" / f"{name}.npz", name=name),
    )
    saved = {name: os.environ.get(name) for name in ("STREAMLIT_SECRETS_FILES", "FER_CLASS_MODE")}
    os.environ["STREAMLIT_SECRETS_FILES"] = str(secrets)
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
        yield server, code
    finally:
        server_context.__exit__(None, None, None)


def private_traces() -> list[bytes]:
    """How the private score would look in a websocket message: text in any rounding, or a number's bytes."""
    return [
        b"0.8285", b"82.86", b"82.9%", b"0.829", b"82.857",
        struct.pack("<d", PRIVATE_SCORE), struct.pack("<f", PRIVATE_SCORE), struct.pack(">d", PRIVATE_SCORE),
    ]


class Recorder:
    """Every websocket message the page receives, in order."""

    def __init__(self, page):
        self.frames: list[bytes] = []
        self.last_frame = 0.0
        page.on("websocket", lambda socket: socket.on("framereceived", self._keep))

    def _keep(self, payload) -> None:
        self.frames.append(payload if isinstance(payload, bytes) else payload.encode())
        self.last_frame = time.monotonic()

    def settle(self, page, quiet_s: float = 1.0, timeout_s: float = 30.0) -> None:
        """Wait until no message has come for `quiet_s`: on a busy machine the end of the last page's
        rerun can still be on its way when the next page is asked for."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and time.monotonic() - self.last_frame < quiet_s:
            page.wait_for_timeout(100)

    def since(self, start: int) -> bytes:
        return b"".join(self.frames[start:])

    def since_page_opened(self, start: int, page_name: str) -> bytes:
        """The messages from the first run of page `page_name` after message `start` on: on a busy machine
        the end of the previous page's rerun can arrive after the click, and it is not this page's."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        for index in range(start, len(self.frames)):
            message = ForwardMsg.FromString(self.frames[index])
            if message.WhichOneof("type") != "new_session":
                continue
            session = message.new_session
            names = {page.page_script_hash: page.page_name for page in session.app_pages}
            if names.get(session.page_script_hash) == page_name:
                return self.since(index)
        raise AssertionError(f"no run of the page {page_name!r} among the messages received")



def main_text(page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def wait_for_text(page, needle: str, timeout_ms: int = 180_000) -> str:
    page.wait_for_function(
        "needle => (document.querySelector('[data-testid=\"stMain\"]') || {innerText: ''}).innerText.includes(needle)",
        arg=needle, timeout=timeout_ms,
    )
    wait_for_streamlit_page(page)
    return main_text(page)


def choose_dataset(page, name: str) -> None:
    box = page.get_by_test_id("stSidebar").locator('[data-testid="stSelectbox"]').filter(has_text="Data set")
    box.locator("input").click()
    box.locator("input").fill(name)
    page.get_by_role("option", name=name, exact=True).click()
    page.wait_for_function(
        """name => [...document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stSelectbox"]')].some(
               box => box.innerText.includes('Data set') && box.querySelector('input').value === name)""",
        arg=name, timeout=30_000,
    )
    wait_for_streamlit_page(page)


@pytest.fixture
def contexts(browser):
    opened = []

    def new_page():
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        opened.append(context)
        return context.new_page()

    yield new_page
    for context in opened:
        context.close()


def test_no_private_score_or_label_reaches_a_students_browser_before_the_reveal(class_server, contexts):
    server, code = class_server
    store = CompetitionStore(server.data_dir / "competitions.sqlite3")
    ana = contexts()
    received = Recorder(ana)
    sign_in(server, ana, "Ana Lima", code)

    # Ana submits; the page answers with her public score at once.
    go_to(server, ana, "Class competition")
    ana.get_by_role("button", name="Submit", exact=True).click()
    text = wait_for_text(ana, "submissions used today")
    assert_no_streamlit_exception(server, ana)
    assert "82.86" not in text, text
    assert "private score" not in text.replace("The private scores stay", "") and "Private board" not in text
    boards = competition.boards("fer-class", store)
    public = boards.public[0].best_score
    assert f"ana-net with TTA none: {public:.2%} on PublicTest" in text
    assert f"best public score {public:.2%}, rank 1 of 1" in text
    assert boards.private is None
    # The server did keep the private score: it is there, only not sent.
    assert store.scored_submissions(1)[0].private_score == pytest.approx(PRIVATE_SCORE)

    # The Confusion page offers her no PrivateTest faces (their labels, their accuracy).
    choose_dataset(ana, "kaggle")
    received.settle(ana)
    confusion_start = len(received.frames)
    text = go_to(server, ana, "Confusion matrix")
    text = wait_for_text(ana, "Accuracy on PublicTest")
    radio = ana.get_by_test_id("stMain").locator('[data-testid="stRadio"]').first.inner_text()
    assert "PublicTest" in radio and "PrivateTest" not in radio
    on_confusion = received.since_page_opened(confusion_start, "Confusion matrix")
    assert b"Accuracy on PublicTest" in on_confusion  # the page's own messages, not an empty slice
    at = on_confusion.find(b"PrivateTest")
    assert at < 0, f"PrivateTest reached the Confusion page: {on_confusion[max(0, at - 300):at + 200]!r}"
    assert "PrivateTest" not in text

    everything = received.since(0)
    for trace in private_traces():
        assert trace not in everything, f"{trace!r} reached Ana's browser before the reveal"
    assert "82.86" not in text

    # The teacher reveals from his own browser.
    teacher = contexts()
    sign_in(server, teacher, None, PASSWORD)
    go_to(server, teacher, "Class competition")
    teacher.get_by_role("button", name="Reveal the private board now").click()
    wait_for_text(teacher, "Private board (PrivateTest)")
    assert_no_streamlit_exception(server, teacher)

    # Now Ana's browser gets both: her private score, and PrivateTest on the Confusion page.
    after = len(received.frames)
    text = go_to(server, ana, "Class competition")
    text = wait_for_text(ana, "private score 82.86%")
    assert "rank 1 of 1 on the private board" in text and "Private board (PrivateTest)" in text
    assert struct.pack("<d", PRIVATE_SCORE) in received.since(after)  # the private board's Arrow column
    go_to(server, ana, "Confusion matrix")
    radio = ana.get_by_test_id("stMain").locator('[data-testid="stRadio"]').first.inner_text()
    assert "PrivateTest" in radio
