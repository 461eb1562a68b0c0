"""`python -m fer export NAME OUT_DIR [--float16] [--zip]`: a registry model as a TF.js bundle.

The folder holds the webcam page, tf.js, opencv.js, model.json with its weight shards and
metadata.json. Try it with `python -m http.server` inside OUT_DIR, then open
http://localhost:8000/ (browsers allow the camera on localhost and https only).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fer.i18n import _


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help=_("write a registry model as a TensorFlow.js bundle with the webcam page"),
        description=_("`python -m fer export NAME OUT_DIR [--float16] [--zip]`: a registry model as a TF.js bundle."),
    )
    parser.add_argument("name", help=_("registry run name (python -m fer models lists them)"))
    parser.add_argument("out_dir", type=Path, help=_("folder to write the bundle into (replaced if it exists)"))
    parser.add_argument(
        "--float16", action="store_true", help=_("store weights as float16: half the size, ~1e-6 change")
    )
    parser.add_argument("--zip", action="store_true", help=_("also write OUT_DIR.zip next to the folder"))
    parser.set_defaults(func=run)


def run(args) -> int:
    from fer import export

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    result = export.export_bundle(
        args.name, args.out_dir, "float16" if args.float16 else "float32", progress=progress
    )
    print(_("{folder}: model {model} MB ({dtype}), whole bundle {bundle} MB").format(
        folder=result.folder, model=f"{result.model_bytes / 1e6:.2f}", dtype=result.weights_dtype,
        bundle=f"{result.bundle_bytes / 1e6:.1f}",
    ))
    if args.zip:
        archive = result.folder.with_name(result.folder.name + ".zip")
        archive.write_bytes(export.zip_bundle(result.folder))
        print(f"{archive}: {archive.stat().st_size / 1e6:.1f} MB")
    print(_("Try it: cd {folder} && python -m http.server, then open http://localhost:8000/").format(
        folder=result.folder))
    return 0
