"""Copy the browser libraries the webcam page needs from node_modules/ into static/vendor/.

Streamlit serves static/ at /app/static/, so everything the page loads comes from this
machine: no CDN, and the demo works offline.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

FILES = {
    "@tensorflow/tfjs/dist/tf.min.js": "tf.min.js",
    "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js": "tf-backend-wasm.min.js",
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm": "tfjs-backend-wasm.wasm",
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm": "tfjs-backend-wasm-simd.wasm",
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm": "tfjs-backend-wasm-threaded-simd.wasm",
    # OpenCV 4.x compiled to WebAssembly (embedded in the .js): the same Haar cascade detector
    # as fer/faces.py, so the webcam page finds and crops faces exactly like the Python app.
    "@techstark/opencv-js/dist/opencv.js": "opencv.js",
}


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, target in FILES.items():
        path = NODE_MODULES / source
        if not path.exists():
            print(f"{path} is missing: run `npm ci` in {ROOT} first.", file=sys.stderr)
            return 1
        shutil.copyfile(path, VENDOR / target)
    print(f"Copied {len(FILES)} browser files into {VENDOR.relative_to(ROOT)}")
    sys.path.insert(0, str(ROOT))
    from fer import export

    for folder in export.complete_shipped_bundles():
        print(f"Completed the shipped webcam bundle {folder.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
