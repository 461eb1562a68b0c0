"""Take the README's screenshots: the app on the synthetic faces, in headless Chromium.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]   (default docs/screenshots)

Runs the app with an empty data folder (so only the built-in synthetic faces appear: no FER2013
image ever lands in a screenshot) and a models folder holding the shipped model; trains a short
run on the Train page itself, then visits the main pages (and Home's shipped-model section, and the
reports' networks better trained on CNN versus DNN), and
Home and Saliency again in Traditional Chinese (`?lang=zh-TW`). The webcam shot is the shipped
model's bundle with Chromium's fake camera showing a drawn face.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fer import export, registry  # noqa: E402
from tests.assets.webcam.fake_camera import face_frame, write_y4m  # noqa: E402
from tests.browser import FAKE_CAMERA_ARGS, launch_chromium, run_streamlit, wait_for_streamlit_page  # noqa: E402

VIEWPORT = {"width": 1400, "height": 1000}


def shoot(page, url: str, path: Path, settle_ms: int = 1500) -> None:
    page.goto(url)
    wait_for_streamlit_page(page, timeout_ms=180_000)
    page.wait_for_timeout(settle_ms)
    page.screenshot(path=str(path))
    print(f"wrote {path}", flush=True)


def shoot_section(page, url: str, heading: str, path: Path, settle_ms: int = 2500) -> None:
    """The part of a page that starts at `heading`."""
    page.goto(url)
    wait_for_streamlit_page(page, timeout_ms=180_000)
    page.get_by_role("heading", name=heading).first.evaluate("element => element.scrollIntoView()")
    page.wait_for_timeout(settle_ms)
    page.screenshot(path=str(path))
    print(f"wrote {path}", flush=True)


def train_on_the_page(page, url: str, path: Path) -> None:
    page.goto(url)
    wait_for_streamlit_page(page)
    main = page.get_by_test_id("stMainBlockContainer")  # the page opens on the classroom-quick preset
    main.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Saved as").first.wait_for(timeout=600_000)
    page.wait_for_timeout(2000)
    page.get_by_role("heading", name="Training").first.evaluate("element => element.scrollIntoView()")
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    print(f"wrote {path}", flush=True)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        shipped = [path for path in (ROOT / "models").glob(f"{registry.PRETRAINED_PREFIX}*") if path.is_dir()]
        for path in shipped:
            shutil.copytree(path, scratch / "models" / path.name)
        os.environ["FER_MODELS_DIR"] = str(scratch / "models")
        default = registry.best_shipped()  # the network the pages start with, whose bundle is shipped
        y4m = write_y4m(scratch / "face.y4m", [face_frame()])
        with run_streamlit(ROOT, scratch) as app, sync_playwright() as playwright:
            browser = launch_chromium(playwright, [*FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={y4m}"])
            page = browser.new_context(viewport=VIEWPORT).new_page()
            shoot(page, app.url, out / "home.png")
            if shipped:
                shoot_section(page, app.url, f"Shipped with the app: {default}", out / "shipped.png")
            shoot(page, app.page_url("lessons/shapes.py"), out / "shapes.png")
            shoot(page, app.page_url("lessons/batchnorm.py"), out / "batchnorm.png")
            train_on_the_page(page, app.page_url("lessons/train.py"), out / "train.png")
            shoot(page, app.page_url("lessons/confusion.py"), out / "confusion.png", settle_ms=4000)
            shoot(page, app.page_url("lessons/saliency.py"), out / "saliency.png", settle_ms=4000)
            shoot_section(page, app.page_url("lessons/cnn_vs_dnn.py"), "Same network, better recipe",
                          out / "better-recipe.png")
            shoot(page, app.url + "?lang=zh-TW", out / "home-zh-TW.png")
            shoot(page, app.page_url("lessons/saliency.py") + "?lang=zh-TW", out / "saliency-zh-TW.png", settle_ms=4000)
            if shipped:
                page.goto(f"{app.url}{export.served_url(default)}")
                page.wait_for_function(
                    "() => window.ferDebug && ferDebug.last && ferDebug.last.found && ferDebug.frames > 30",
                    timeout=180_000,
                )
                page.screenshot(path=str(out / "webcam.png"))
                print(f"wrote {out / 'webcam.png'}", flush=True)
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
