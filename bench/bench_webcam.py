"""Benchmark: the exported webcam page end to end (detect + crop + predict) in headless Chromium.

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/bench_webcam.py [--model NAME] [--seconds 20] [--backend wasm]

Exports a registry model (default: the model the app uses by default; with no runs at all, an
untrained report-A CNN, which has the same size and cost as a trained one) as float32 and float16,
serves each bundle with http.server as `python -m http.server` would, points Chromium's fake
camera at a 640x480 video of a drawn face at 60 fps, and prints, per weight type: the bundle size,
the frames per second the page reports, and the page's own time per frame (detection and crop,
then the model).
"""

import argparse
import functools
import http.server
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/index.html"


def model_to_export(requested: str | None, scratch: Path) -> str:
    from fer import registry

    if requested:
        return requested
    default = registry.default_model_name()
    if default:
        return default
    from fer.nets import ARCHITECTURES

    os.environ["FER_MODELS_DIR"] = str(scratch / "models")
    registry.save_run("bench-report-a-untrained", ARCHITECTURES["report_a_cnn"](), {"architecture": "report_a_cnn"})
    return "bench-report-a-untrained"


def measure(browser, url: str, seconds: float) -> dict:
    page = browser.new_page()
    page.goto(url)
    page.wait_for_function(
        "() => window.ferDebug && (window.ferDebug.ready || /failed/.test(window.ferDebug.state))", timeout=120_000
    )
    if not page.evaluate("ferDebug.ready"):
        raise SystemExit(f"The page did not start: {page.evaluate('[ferDebug.state, ferDebug.message]')}")
    page.wait_for_function("() => ferDebug.last && ferDebug.last.found && ferDebug.frames > 30", timeout=120_000)
    time.sleep(2)  # let the wasm runtime and the detector warm up
    fps_samples, crop_ms, predict_ms = [], [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1.0)
        state = page.evaluate(
            "({fps: ferDebug.fps, timings: ferDebug.timings, found: ferDebug.last && ferDebug.last.found})"
        )
        if state["found"] and state["fps"]:
            fps_samples.append(state["fps"])
            crop_ms.append(state["timings"]["cropMs"])
            predict_ms.append(state["timings"]["predictMs"])
    result = {
        "backend": page.evaluate("ferDebug.backend"),
        "backend_trials": page.evaluate("ferDebug.backendTimings"),
        "fps": sorted(fps_samples)[len(fps_samples) // 2] if fps_samples else 0.0,
        "crop_ms": sum(crop_ms) / max(1, len(crop_ms)),
        "predict_ms": sum(predict_ms) / max(1, len(predict_ms)),
    }
    page.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="registry run to export (default: the app's default model)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to watch each bundle")
    parser.add_argument("--backend", help="force wasm, webgl or cpu (default: the page's own choice)")
    arguments = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from fer import export
    from tests.assets.webcam.fake_camera import face_frame, write_y4m
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, FAKE_CAMERA_ARGS

    scratch = Path(tempfile.mkdtemp(prefix="bench-webcam-"))
    name = model_to_export(arguments.model, scratch)
    y4m = write_y4m(scratch / "face.y4m", [face_frame()], fps=60)
    print(f"Model {name!r}; camera: 640x480 drawn face at 60 fps; {os.cpu_count()} CPU cores", flush=True)
    query = f"?backend={arguments.backend}" if arguments.backend else ""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=[*CHROMIUM_ARGS, *FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={y4m}"],
        )
        for dtype in export.WEIGHT_DTYPES:
            started = time.perf_counter()
            bundle = export.export_bundle(name, scratch / dtype, dtype)
            exported = time.perf_counter() - started
            weights = sum(path.stat().st_size for path in bundle.folder.glob("*.bin"))
            server, url = serve(bundle.folder)
            try:
                result = measure(browser, url + query, arguments.seconds)
            finally:
                server.shutdown()
            frame_ms = result["crop_ms"] + result["predict_ms"]
            trials = ", ".join(f"{key} {value:.1f} ms" for key, value in (result["backend_trials"] or {}).items())
            print(
                f"{dtype:8s} weights {weights / 1e6:6.2f} MB (exported in {exported:.1f} s) | "
                f"{result['fps']:5.1f} fps on {result['backend']} (trials: {trials}) | per frame: "
                f"detect+crop {result['crop_ms']:.1f} ms + model {result['predict_ms']:.1f} ms = {frame_ms:.1f} ms "
                f"(at most {1000 / max(frame_ms, 1e-9):.0f} fps)",
                flush=True,
            )
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
