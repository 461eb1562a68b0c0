"""Benchmark: a class of students on one server, in real browsers, measured.

    .venv/bin/python bench/bench_classroom.py                  # 30 students at once
    .venv/bin/python bench/bench_classroom.py --students 5 --leave-seconds 0

Starts one `streamlit run` of the app on loopback, as `make run` does (same allocator settings,
its own models/ and data/ folders holding the shipped model), and one headless Chromium with a
browser context per student: separate cookies and storage, a real websocket session each. Every
student walks a lesson at the same time: sign in (on a class server: FER_CLASS_MODE=1, a roster
made here), Home, Shape arithmetic with the Keras check, a classroom-quick training submitted on
the Train page (FER_MAX_TRAININGS of them run at once, the rest queue), Confusion matrix,
Saliency. Pages are reached through the sidebar, as a student clicks, so the session (and the
sign-in) is kept.

Then the students leave (their browsers close), the trainings get a while to finish, and after
Streamlit forgets the disconnected sessions the server's memory is measured again.

Printed: sessions answered, seconds to a rendered page (p50 and p95, and per page), trainings
finished, running and queued, resident memory of the server before, at its peak and after the
students left, and of its training workers at their peak, exceptions on any page or in the
server's log (must be 0), runs lost or clobbered (must be 0). Every loop is bounded in count and
time; nothing leaves loopback.

The machine's own figure (bench_train's bare images/s of the report-A CNN) is worth quoting
beside these numbers: machines of this kind differ by up to five times.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, scratch_app_folder, streamlit_command  # noqa: E402

SHIPPED_MODELS = sorted((REPO_ROOT / "models").glob("pretrained-*"))
GIB = 1 << 30


def make_run_environment() -> dict[str, str]:
    """The variables `make run` starts the server with (the Makefile's SERVER_ENVIRONMENT, said why there)."""
    found = re.search(r"^SERVER_ENVIRONMENT\s*:=(.*)$", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    if found is None:
        raise SystemExit("The Makefile has no SERVER_ENVIRONMENT line: the bench would not measure `make run`.")
    return dict(word.split("=", 1) for word in found.group(1).split())

# The lesson: (title in the sidebar, the page's heading).
HOME = ("Home", "Facial expressions with convolutional networks")
SHAPES = ("Shape arithmetic", "Shape arithmetic")
TRAIN = ("Train a network", "Train a network")
CONFUSION = ("Confusion matrix", "Confusion matrix")
SALIENCY = ("Saliency maps", "Saliency maps")

RENDERED = """(heading) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const main = document.querySelector('[data-testid="stMain"]');
    return !!main && [...main.querySelectorAll('h1')].some((h) => h.innerText.includes(heading));
}"""
IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.getAttribute('data-test-script-state') === 'notRunning';
}"""


@dataclass
class Student:
    name: str
    code: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    exceptions: list[str] = field(default_factory=list)
    failure: str | None = None
    step: str = "start"  # the step under way: each step sets it as it begins
    submitted: bool = False


# ------------------------------------------------------------------------------------ the server


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    models: Path
    data: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(workdir: Path, class_mode: bool, max_trainings: int, environment: dict) -> Server:
    models, data = workdir / "models", workdir / "data"
    models.mkdir(parents=True)
    data.mkdir(parents=True)
    for shipped in SHIPPED_MODELS:
        shutil.copytree(shipped, models / shipped.name)
    main_script, exports = scratch_app_folder(REPO_ROOT, workdir)
    port = free_port()
    env = {
        **os.environ,
        **environment,
        "FER_MODELS_DIR": str(models),
        "FER_DATA_DIR": str(data),
        "FER_EXPORTS_DIR": str(exports),
        "FER_MAX_TRAININGS": str(max_trainings),
        "FER_CLASS_MODE": "1" if class_mode else "0",
        "FER_ACCOUNTS_FILE": str(accounts_file(data)),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    log_path = workdir / "streamlit.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(streamlit_command(main_script, port), cwd=REPO_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", models, data, log_path)
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise SystemExit(f"streamlit exited early:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            raise SystemExit("streamlit did not answer within 120 s")
        time.sleep(0.3)


def stop_server(server: Server) -> None:
    """Stop the server and every process it started (training workers outlive it on purpose)."""
    import psutil

    try:
        family = psutil.Process(server.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
    for child in family:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def class_roster(data: Path, count: int) -> list[Student]:
    """Students with sign-in codes on a class server; plain names on a laptop server (nobody signs in)."""
    names = [f"student-{number:02d}" for number in range(1, count + 1)]
    if not class_mode_available():
        return [Student(name) for name in names]
    from fer.accounts import Accounts

    codes = Accounts(accounts_file(data)).add_students(names)
    return [Student(name, codes[name]) for name in names]


def accounts_file(data: Path) -> Path:
    return data / "class.sqlite3"


def class_mode_available() -> bool:
    """Whether this version of the app has a sign-in (class mode, issue 15)."""
    return (REPO_ROOT / "lessons" / "sign_in.py").exists() and (REPO_ROOT / "fer" / "accounts.py").exists()


# ------------------------------------------------------------------------------------ memory


class MemoryWatch:
    """Resident memory of the server and of its child processes (training workers), sampled twice a second."""

    def __init__(self, pid: int, interval: float = 0.5):
        import psutil

        self.server = psutil.Process(pid)
        self.interval = interval
        self.peak_server = 0
        self.peak_workers = 0
        self.peak_total = 0
        self.workers_without_onednn: set[int] = set()  # they train about 3 times slower (see the Makefile)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far (user and system)."""
        import psutil

        try:
            times = self.server.cpu_times()
        except psutil.NoSuchProcess:
            return 0.0
        return times.user + times.system

    def sample(self) -> tuple[int, int]:
        import psutil

        try:
            server = self.server.memory_info().rss
            children = self.server.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0, 0
        workers = 0
        for child in children:
            try:
                workers += child.memory_info().rss
                # Training workers only (the server may have helpers too, such as multiprocessing's resource tracker).
                if "fer.worker" in child.cmdline() and child.environ().get("TF_ENABLE_ONEDNN_OPTS") == "0":
                    self.workers_without_onednn.add(child.pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return server, workers

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            server, workers = self.sample()
            self.peak_server = max(self.peak_server, server)
            self.peak_workers = max(self.peak_workers, workers)
            self.peak_total = max(self.peak_total, server + workers)

    def start(self) -> "MemoryWatch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# ------------------------------------------------------------------------------------ one student


async def rendered(page, heading: str, timeout_s: float) -> None:
    await page.wait_for_function(RENDERED, arg=heading, timeout=timeout_s * 1000, polling=100)


async def idle(page, timeout_s: float) -> None:
    await page.wait_for_timeout(300)  # let the click's rerun begin
    await page.wait_for_function(IDLE, timeout=timeout_s * 1000, polling=100)


async def open_from_sidebar(page, student: Student, lesson: tuple[str, str], timeout_s: float) -> None:
    title, heading = lesson
    student.step = title
    started = time.monotonic()
    link = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True)
    if not await link.count():  # beyond the first pages the sidebar lists: "View N more"
        await page.locator('[data-testid="stSidebarNavViewButton"]').click(timeout=timeout_s * 1000)
    await link.click(timeout=timeout_s * 1000)
    await rendered(page, heading, timeout_s)
    student.timings[title] = time.monotonic() - started
    await collect_exceptions(page, student, title)


async def collect_exceptions(page, student: Student, where: str) -> None:
    for element in await page.query_selector_all('[data-testid="stException"]'):
        student.exceptions.append(f"{where}: {(await element.inner_text())[:300]}")


async def sign_in(page, student: Student, url: str, timeout_s: float) -> None:
    student.step = "Sign in"
    started = time.monotonic()
    await page.goto(url, timeout=timeout_s * 1000)
    if student.code is None:  # a laptop server: the app opens on Home
        await rendered(page, HOME[1], timeout_s)
        student.timings["Home"] = time.monotonic() - started
        return
    await rendered(page, "Sign in", timeout_s)
    student.timings["Sign in page"] = time.monotonic() - started
    started = time.monotonic()
    await page.get_by_label("Your name", exact=True).fill(student.name, timeout=timeout_s * 1000)
    await page.get_by_label("Your code", exact=True).fill(student.code, timeout=timeout_s * 1000)
    await page.get_by_role("button", name="Sign in", exact=True).click(timeout=timeout_s * 1000)
    await rendered(page, HOME[1], timeout_s)
    student.timings["Signed in, Home"] = time.monotonic() - started


async def check_with_keras(page, student: Student, timeout_s: float) -> None:
    student.step = "Keras check"
    started = time.monotonic()
    await page.get_by_role("tab", name="Check with Keras").click(timeout=timeout_s * 1000)
    await page.get_by_role("button", name="Check with Keras").click(timeout=timeout_s * 1000)
    await idle(page, timeout_s)
    await page.get_by_text(re.compile(r"Equal: all \d+ rows")).first.wait_for(timeout=timeout_s * 1000)
    student.timings["Keras check"] = time.monotonic() - started
    await collect_exceptions(page, student, "Keras check")


async def submit_training(page, student: Student, timeout_s: float) -> None:
    student.step = "Train"
    started = time.monotonic()
    await page.get_by_role("button", name="Train", exact=True).click(timeout=timeout_s * 1000)
    # Submitted: the page's Stop turns on (running or queued), or the training is already over. (No wait
    # for the page to go idle: its live view reruns every 1.5 s while the training waits or runs.) Only
    # the page's own Stop: Streamlit's header shows a Stop of its own while any script runs, and leaving
    # the page then ends the run before it has submitted anything.
    main = page.get_by_test_id("stMainBlockContainer")
    stop = main.get_by_role("button", name="Stop", exact=True, disabled=False)
    await stop.or_(main.get_by_text("Saved as")).first.wait_for(timeout=timeout_s * 1000)
    student.submitted = True
    student.timings["Training submitted"] = time.monotonic() - started
    await collect_exceptions(page, student, "Train")


async def walk_the_lesson(browser, student: Student, url: str, delay: float, timeout_s: float) -> None:
    await asyncio.sleep(delay)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = None
    try:
        page = await context.new_page()
        await sign_in(page, student, url, timeout_s)
        if student.code is not None or "Home" not in student.timings:
            await open_from_sidebar(page, student, HOME, timeout_s)
        await open_from_sidebar(page, student, SHAPES, timeout_s)
        await check_with_keras(page, student, timeout_s)
        await open_from_sidebar(page, student, TRAIN, timeout_s)
        if student.code is not None:  # a laptop server has one user, and one training at a time
            await submit_training(page, student, timeout_s)
        await open_from_sidebar(page, student, CONFUSION, timeout_s)
        await open_from_sidebar(page, student, SALIENCY, timeout_s)
    except Exception as error:  # noqa: BLE001  (a student who got stuck is counted, the others go on)
        student.failure = (f"stuck at {student.step}: {type(error).__name__}: "
                           f"{str(error).splitlines()[0][:200]}; the page showed: {await page_text(page)}")
    finally:
        await context.close()


async def page_text(page) -> str:
    """What a stuck student's page showed, for the report: the address, the script's state and the
    start of the main area's text."""
    if page is None:
        return "no page"
    try:
        state = await page.evaluate(
            "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')")
        main = await page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.innerText ?? ''")
        return f"{page.url} (script {state}) {' '.join(main.split())[:300]!r}"
    except Exception as error:  # noqa: BLE001  (the report must not fail because the page is gone)
        return f"unreadable ({type(error).__name__})"


def run_coroutine(coroutine):
    """`asyncio.run`, also from a thread whose event loop is already running (a test run after
    Playwright's sync API left one in pytest's thread): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def run_class(url: str, students: list[Student], ramp_s: float, timeout_s: float) -> float:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            started = time.monotonic()
            delays = [ramp_s * index / max(1, len(students) - 1) for index in range(len(students))]
            await asyncio.gather(*(walk_the_lesson(browser, s, url, d, timeout_s) for s, d in zip(students, delays)))
            return time.monotonic() - started
        finally:
            await browser.close()


async def visit(url: str, timeout_s: float) -> None:
    """One new visitor opens the app (its first page, whatever it is) and leaves."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(url, timeout=timeout_s * 1000)
            await page.wait_for_selector('[data-testid="stMain"]', timeout=timeout_s * 1000)
            await idle(page, timeout_s)
        finally:
            await browser.close()


# ------------------------------------------------------------------------------------ runs


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def native_crash(folder: Path) -> str:
    """The Python stack faulthandler wrote into worker.log when the worker crashed in native code, if it did."""
    try:
        log = (folder / "worker.log").read_text(errors="replace")
    except OSError:
        return ""
    start = log.find("Fatal Python error")
    return "" if start < 0 else "\n    " + "\n    ".join(log[start:].splitlines()[:40])


def training_states(models: Path, students: list[Student]) -> dict:
    """What became of each student's training: state per run folder, and runs lost or clobbered."""
    names = {student.name for student in students}
    folders_of: dict[str, list[Path]] = {name: [] for name in names}
    states: dict[str, int] = {}
    clobbered, failed = [], []
    for folder in sorted(models.iterdir()):
        request = read_json(folder / "request.json")
        owner = request.get("owner")
        if owner not in names:
            continue
        folders_of[owner].append(folder)
        status = read_json(folder / "status.json")
        state = status.get("state", "unknown")
        states[state] = states.get(state, 0) + 1
        if state == "failed":
            failed.append(f"{folder.name}: {status.get('message')}{native_crash(folder)}")
        config = read_json(folder / "config.json")
        if config.get("owner") not in (None, owner):
            clobbered.append(f"{folder.name}: asked for {owner}, saved as {config.get('owner')}'s")
        if state == "finished" and not (folder / "model.keras").exists():
            clobbered.append(f"{folder.name}: finished without its model")
    submitted = [student for student in students if student.submitted]
    laptop = all(student.code is None for student in students)
    if laptop:  # one user for every session: one training at a time, the others' Train buttons wait for it
        lost = [] if sum(len(found) for found in folders_of.values()) >= 1 or not submitted else ["all"]
    else:
        lost = [student.name for student in submitted if len(folders_of[student.name]) != 1]
    return {"states": states, "lost": lost, "clobbered": clobbered, "failed": failed}


def wait_for_trainings(models: Path, students: list[Student], seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        summary = training_states(models, students)
        active = summary["states"].get("queued", 0) + summary["states"].get("running", 0)
        if not active or time.monotonic() > deadline:
            return summary
        time.sleep(2)


def stop_trainings(models: Path) -> None:
    """Ask every run still queued or training to stop (the worker's stop file), so the class ends cleanly."""
    for folder in models.iterdir():
        if read_json(folder / "status.json").get("state") in ("queued", "running"):
            (folder / "stop").touch()


# ------------------------------------------------------------------------------------ report


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def server_log_exceptions(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith("Traceback") or "Uncaught app exception" in line]


def gib(count: int) -> str:
    return f"{count / GIB:.2f} GB"


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


@dataclass(frozen=True)
class Settings:
    students: int = 30
    ramp_seconds: float = 5.0  # students arrive over this long
    page_timeout: float = 300.0  # seconds a step may take before the student counts as stuck
    max_trainings: int = 1  # FER_MAX_TRAININGS
    training_seconds: float = 120.0  # trainings may go on this long after the lesson, then are stopped
    leave_seconds: float | None = 150.0  # wait after the students left, then measure again (None: skip)
    class_mode: bool = True
    environment: dict = field(default_factory=dict)  # the server's extra variables (`make run`'s)


def run_classroom(settings: Settings) -> dict:
    """Start a server, walk the class through the lesson, stop everything; the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as scratch:
        server = start_server(Path(scratch), settings.class_mode, settings.max_trainings, settings.environment)
        try:
            return measure(server, settings)
        finally:
            stop_server(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30, help="sessions at once (default 30)")
    parser.add_argument("--ramp-seconds", type=float, default=5.0, help="students arrive over this long")
    parser.add_argument("--page-timeout", type=float, default=300.0, help="seconds a page may take before the "
                        "student is counted as stuck")
    parser.add_argument("--max-trainings", type=int, default=1, help="FER_MAX_TRAININGS for the server")
    parser.add_argument("--training-seconds", type=float, default=120.0, help="how long to let trainings run "
                        "after the students leave (then the rest are stopped)")
    parser.add_argument("--leave-seconds", type=float, default=150.0, help="wait after the students left before "
                        "measuring memory again (Streamlit forgets a closed session after 120 s)")
    parser.add_argument("--laptop", action="store_true", help="laptop mode: nobody signs in, one user for all")
    parser.add_argument("--plain", action="store_true", help="start the server without `make run`'s memory "
                        "settings (to see what they save)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    arguments = parser.parse_args()
    if not 1 <= arguments.students <= 60:
        parser.error("--students: 1 to 60")
    settings = Settings(
        students=arguments.students, ramp_seconds=arguments.ramp_seconds, page_timeout=arguments.page_timeout,
        max_trainings=arguments.max_trainings, training_seconds=arguments.training_seconds,
        leave_seconds=arguments.leave_seconds, class_mode=class_mode_available() and not arguments.laptop,
        environment={} if arguments.plain else make_run_environment(),
    )
    figures = run_classroom(settings)
    print_report(figures, settings)
    if arguments.json:
        arguments.json.write_text(json.dumps(figures, indent=2))
    return 0 if figures["exceptions"] == 0 and figures["runs_lost"] == 0 and figures["runs_clobbered"] == 0 else 1


def measure(server: Server, settings: Settings) -> dict:
    watch = MemoryWatch(server.process.pid)
    before, _ = watch.sample()
    students = class_roster(server.data, settings.students) if settings.class_mode else [
        Student(f"student-{number:02d}") for number in range(1, settings.students + 1)]
    watch.start()
    load_before = machine_load()
    cpu_before = watch.cpu_seconds()
    wall = run_coroutine(run_class(server.url, students, settings.ramp_seconds, settings.page_timeout))
    server_cpu = watch.cpu_seconds() - cpu_before
    during_peak_server = watch.peak_server
    after_lesson, _ = watch.sample()  # the browsers have closed; their sessions wait for a reconnection
    trainings = wait_for_trainings(server.models, students, settings.training_seconds)
    after = workers_after = None
    final = trainings
    if settings.leave_seconds is not None:
        stop_trainings(server.models)
        final = wait_for_trainings(server.models, students, 60)
        time.sleep(settings.leave_seconds)
        # Streamlit drops expired sessions only when a new one arrives: one more visitor, then measure.
        run_coroutine(visit(server.url, settings.page_timeout))
        time.sleep(10)
        after, workers_after = watch.sample()
    watch.stop()
    exceptions = [line for student in students for line in student.exceptions]
    server_log = server.log()
    log_exceptions = server_log_exceptions(server_log)
    page_times = [seconds for student in students for seconds in student.timings.values()]
    per_page: dict[str, list[float]] = {}
    for student in students:
        for title, seconds in student.timings.items():
            per_page.setdefault(title, []).append(seconds)
    return {
        "students": len(students),
        "class_mode": settings.class_mode,
        "answered": sum(1 for student in students if student.failure is None),
        "stuck": [f"{student.name}: {student.failure}" for student in students if student.failure],
        "server_log_end": server_log[-3000:],
        "wall_seconds": wall,
        "server_cpu_seconds": server_cpu,
        "p50_seconds": percentile(page_times, 0.5),
        "p95_seconds": percentile(page_times, 0.95),
        "per_page": {title: (percentile(v, 0.5), percentile(v, 0.95), len(v)) for title, v in per_page.items()},
        "trainings_submitted": sum(student.submitted for student in students),
        "trainings": trainings["states"],
        "trainings_after_stop": final["states"],
        "max_trainings": settings.max_trainings,
        "rss_before": before,
        "rss_peak_server": watch.peak_server,
        "rss_peak_server_during_class": during_peak_server,
        "rss_after_lesson": after_lesson,
        "rss_peak_workers": watch.peak_workers,
        "rss_peak_total": watch.peak_total,
        "rss_after": after,
        "rss_workers_after": workers_after,
        "workers_without_onednn": len(watch.workers_without_onednn),
        "exceptions": len(exceptions) + len(log_exceptions),
        "exception_examples": (exceptions + log_exceptions)[:5],
        "runs_lost": len(final["lost"]),
        "runs_clobbered": len(final["clobbered"]),
        "runs_problems": final["lost"] + final["clobbered"],
        "trainings_failed": final["failed"],
        "server_environment": " ".join(f"{key}={value}" for key, value in settings.environment.items()) or "none",
        "load_before": load_before,
        "load_after": machine_load(),
    }


def print_report(figures: dict, settings: Settings) -> None:
    mode = "class mode (each student signs in)" if figures["class_mode"] else "laptop mode (no sign-in)"
    print(f"One server, {figures['students']} students at once, {mode}; server environment: "
          f"{figures['server_environment']}; {figures['load_before']} at the start")
    print(f"sessions answered: {figures['answered']} of {figures['students']}"
          f" (whole lesson in {figures['wall_seconds']:.0f} s, of which the server used "
          f"{figures['server_cpu_seconds']:.0f} CPU-seconds; the browsers share the same cores)")
    for stuck in figures["stuck"]:
        print(f"  stuck: {stuck}")
    print(f"seconds to a rendered page: p50 {figures['p50_seconds']:.1f}, p95 {figures['p95_seconds']:.1f}")
    for title, (p50, p95, count) in figures["per_page"].items():
        print(f"  {title:<20} p50 {p50:6.1f}  p95 {p95:6.1f}  ({count} pages)")
    print(f"trainings: {figures['trainings_submitted']} submitted, at most {figures['max_trainings']} at once; "
          f"after the lesson and {settings.training_seconds:.0f} s more: "
          + ", ".join(f"{count} {state}" for state, count in sorted(figures["trainings"].items()))
          + " (the rest then stopped)")
    for failed in figures["trainings_failed"][:5]:
        print(f"  failed: {failed}")
    print(f"server memory (RSS): before {gib(figures['rss_before'])}, peak {gib(figures['rss_peak_server'])}, "
          f"when the lesson ended {gib(figures['rss_after_lesson'])}"
          + (f", after the students left {gib(figures['rss_after'])} "
             f"({gib(figures['rss_after'] - figures['rss_before'])} above the start)"
             if figures["rss_after"] is not None else ""))
    print(f"training workers at their peak: {gib(figures['rss_peak_workers'])}; server and workers together at "
          f"the peak: {gib(figures['rss_peak_total'])}")
    if figures["workers_without_onednn"]:
        print(f"  warning: {figures['workers_without_onednn']} training workers inherited the server's "
              "TF_ENABLE_ONEDNN_OPTS=0 and train about 3 times slower: fer.worker should start them without it")
    print(f"exceptions: {figures['exceptions']}")
    for example in figures["exception_examples"]:
        print(f"  {example}")
    print(f"runs lost: {figures['runs_lost']}, clobbered: {figures['runs_clobbered']}")
    for problem in figures["runs_problems"][:5]:
        print(f"  {problem}")
    print(f"machine: {figures['load_after']} at the end")


if __name__ == "__main__":
    sys.exit(main())
