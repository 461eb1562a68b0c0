"""Write static/webcam/i18n/<language>.json from the gettext catalogues (make runs this).

The webcam page is plain HTML and JavaScript: it reads its sentences from these JSON files,
made from the same locale/*/LC_MESSAGES/fer.po as the app's. Exported bundles get their own
copy when fer.export.copy_page puts the page beside the model.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from fer import i18n

if __name__ == "__main__":
    for path in i18n.write_webcam_catalogues(ROOT / "static" / "webcam"):
        print(f"Wrote {path.relative_to(ROOT)}")
