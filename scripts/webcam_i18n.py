"""Write the webcam page's sentences, i18n/<language>.json, from the gettext catalogues (make runs this).

The webcam page is plain HTML and JavaScript: it reads its sentences from these JSON files, made
from the same locale/*/LC_MESSAGES/fer.po as the app's. They go beside the page in static/webcam/
and beside every shipped bundle's copy of it (static/exports/pretrained-*/); bundles exported
later get theirs from fer.export.copy_page.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from fer import i18n

if __name__ == "__main__":
    pages = [ROOT / "static" / "webcam"]
    pages += sorted(path.parent for path in (ROOT / "static" / "exports").glob("pretrained-*/index.html"))
    for page in pages:
        for path in i18n.write_webcam_catalogues(page):
            print(f"Wrote {path.relative_to(ROOT)}")
