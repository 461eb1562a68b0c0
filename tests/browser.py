"""Real-browser test harness: a `streamlit run` server on a free localhost port, and Chromium.

Used through the session fixtures `app_server` and `browser` in conftest.py. The server gets
its own models/, data/ and exports/ folders (FER_MODELS_DIR, FER_DATA_DIR, FER_EXPORTS_DIR)
that tests may fill. Streamlit serves only the static/ folder beside the main script, so the
server runs the repository's app from a scratch folder whose static/exports/ is that exports
folder (holding copies of the shipped bundles): what the app exports is served as usual, and
nothing lands in the repository.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path(os.environ.get("FER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAKE_CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@dataclass
class AppServer:
    url: str
    models_dir: Path
    data_dir: Path
    exports_dir: Path
    log_path: Path

    def page_url(self, page: str) -> str:
        """URL of a lesson page: `lessons/train.py` is served at /train."""
        return f"{self.url}/{Path(page).stem}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scratch_app_folder(repo_root: Path, workdir: Path) -> tuple[Path, Path]:
    """workdir/app/: links to the app's code, and a real static/exports/ with the shipped bundles copied in.

    Returns (main script, exports folder). Links would not do for static/: Streamlit refuses to
    serve a file whose real path lies outside the static folder.
    """
    from fer import export

    app = workdir / "app"
    exports = app / "static" / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    for name in ("streamlit_app.py", "lessons"):
        if not (app / name).exists():
            (app / name).symlink_to(repo_root.resolve() / name)
    for shipped in sorted((repo_root / "static" / "exports").glob("pretrained-*")):
        if shipped.is_dir() and not (exports / shipped.name).exists():
            export.copy_shipped_bundle(shipped, exports / shipped.name)
    return app / "streamlit_app.py", exports


def streamlit_command(main_script: Path, port: int) -> list[str]:
    """`streamlit run` of the app on loopback `port`, headless, watching no files, sending no statistics."""
    return [
        sys.executable, "-m", "streamlit", "run", str(main_script),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]


@contextlib.contextmanager
def run_streamlit(repo_root: Path, workdir: Path, startup_timeout: float = 90.0):
    port = free_port()
    models, data = workdir / "models", workdir / "data"
    models.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    main_script, exports = scratch_app_folder(repo_root, workdir)
    log_path = workdir / "streamlit.log"
    env = {
        **os.environ,
        "FER_MODELS_DIR": str(models),
        "FER_DATA_DIR": str(data),
        "FER_EXPORTS_DIR": str(exports),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    # Run from the repository, so `fer` imports and .streamlit/config.toml apply as with `make run`.
    with log_path.open("w") as log:
        process = subprocess.Popen(streamlit_command(main_script, port), cwd=repo_root, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer within {startup_timeout} s")
            time.sleep(0.3)
        yield AppServer(url, models, data, exports, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def launch_chromium(playwright, extra_args: list[str] = ()):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )


def wait_for_streamlit_page(page, timeout_ms: int = 90_000) -> None:
    """Wait until the script run finished: the app is rendered and nothing is still running."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning'
                && document.querySelector('[data-testid="stMain"]');
        }""",
        timeout=timeout_ms,
    )


def streamlit_exceptions(page) -> list[str]:
    return [element.inner_text() for element in page.query_selector_all('[data-testid="stException"]')]


def assert_no_streamlit_exception(server, page) -> None:
    """No exception shown on the page; if there is one, the server log's end says why."""
    assert streamlit_exceptions(page) == [], server.log()[-3000:]


def sign_in(server, page, name: str | None, secret: str) -> None:
    """Sign in on a class server's page: a student by name and code, the teacher (`name` None) by password."""
    page.goto(server.url)
    wait_for_streamlit_page(page)
    main = page.get_by_test_id("stMain")
    if name is None:
        main.get_by_role("tab", name="Teacher").click()
        main.get_by_role("textbox", name="Teacher password").fill(secret)
        main.get_by_role("button", name="Sign in as the teacher").click()
    else:
        main.get_by_role("textbox", name="Your name").fill(name)
        main.get_by_role("textbox", name="Your code").fill(secret)
        main.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_test_id("stSidebar").get_by_text("Signed in as").wait_for(timeout=60_000)
    wait_for_streamlit_page(page)
    assert_no_streamlit_exception(server, page)


def go_to(server, page, title: str) -> str:
    """Follow the sidebar link to page `title` (a new URL would be a new session, signed out); its main text."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=90_000)
    wait_for_streamlit_page(page)
    assert_no_streamlit_exception(server, page)
    return page.get_by_test_id("stMain").inner_text()


def start_training(page, faces: int, epochs: int, name: str) -> None:
    """On the Train page: at most `faces` training faces, `epochs` epochs, run name `name`; then press Train."""
    main = page.get_by_test_id("stMainBlockContainer")
    for field, value, exact in (("Train on at most this many faces (0 = all)", faces, False), ("Epochs", epochs, True)):
        main.get_by_role("spinbutton", name=field, exact=exact).fill(str(value))
        main.get_by_role("spinbutton", name=field, exact=exact).press("Enter")
    main.get_by_role("textbox", name="Run name (optional)").fill(name)
    main.get_by_role("textbox", name="Run name (optional)").press("Enter")
    wait_for_streamlit_page(page)
    main.get_by_role("button", name="Train", exact=True).click()
