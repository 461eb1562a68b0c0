"""Keras -> TensorFlow.js: a folder that runs the student's model on their own face, offline.

The route, and why: Keras 3's `tensorflowjs.converters.save_keras_model` writes a *layers*
model that tfjs 4.22 cannot load ("An InputLayer should be passed either a batchInputShape
or an inputShape"). A Keras model exported as a TensorFlow SavedModel (`model.export`) and
converted to a *graph* model (`tf_saved_model` -> `tfjs_graph_model`) loads with
`tf.loadGraphModel` and matches Keras to ~1e-7. Float16 weights halve the download and move
the probabilities by ~1e-6.

A bundle is one self-contained folder:

    index.html, webcam.js       the webcam page (from static/webcam/)
    i18n/<language>.json        its sentences in every language but English (from locale/, fer.i18n)
    model.json, group1-*.bin    the graph model and its weight shards
    metadata.json               labels, input shape, the exact preprocessing, accuracy, date
    vendor/                     tf.js, its wasm backend, opencv.js and the Haar cascade XML

Serve it with `python -m http.server` in the folder, or open it inside the app, where the
same bundle is written to static/exports/<name>/ and served at /app/static/exports/<name>/.

Where the app keeps its bundles: `$FER_EXPORTS_DIR`, else `<repo>/static/exports/`. Streamlit
serves only the static/ folder beside the app's main script, so the demo shows inside the app
when FER_EXPORTS_DIR is that static/exports (the tests run the app from a scratch folder laid
out that way, and export nothing into the repository). The shipped bundles
(`static/exports/pretrained-*`, in git) stay in the repository whatever FER_EXPORTS_DIR says.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import secrets
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fer import REPO_ROOT, i18n, preprocessing, registry
from fer.data import EMOTIONS, IMAGE_SIZE
from fer.i18n import _

WEIGHT_DTYPES = ("float32", "float16")
MODEL_JSON = "model.json"
METADATA_JSON = "metadata.json"
BUNDLE_FORMAT = "fer-tfjs-bundle/1"
TFJS_VERSION = "4.22.0"

WEBCAM_PAGE_DIR = REPO_ROOT / "static" / "webcam"
VENDOR_DIR = REPO_ROOT / "static" / "vendor"
DEFAULT_EXPORTS_DIR = REPO_ROOT / "static" / "exports"  # and where the shipped bundles live
SERVED_URL_PREFIX = "/app/static/exports"
PAGE_FILES = ("index.html", "webcam.js")
VENDOR_FILES = (
    "tf.min.js",
    "tf-backend-wasm.min.js",
    "tfjs-backend-wasm.wasm",
    "tfjs-backend-wasm-simd.wasm",
    "tfjs-backend-wasm-threaded-simd.wasm",
    "opencv.js",
)
# Webcam frames are drawn into a canvas this wide before detection: the page's "photo" is that
# canvas, and Python's face crop of the same canvas gives the same 48x48 face.
WEBCAM_FRAME_WIDTH = 320

Progress = Callable[[float, str], None]


class ExportError(ValueError):
    """A model that cannot become a TF.js bundle, or a bundle folder that cannot be written."""


@dataclass(frozen=True)
class ExportResult:
    name: str
    folder: Path
    weights_dtype: str
    model_bytes: int
    bundle_bytes: int
    metadata: dict


def _silent(fraction: float, message: str) -> None:
    pass


def check_weights_dtype(weights_dtype: str) -> str:
    if weights_dtype not in WEIGHT_DTYPES:
        raise ExportError(
            _(
                "{weights_dtype} is not a weight type a bundle can use: choose one of {choices}."
            ).format(weights_dtype=repr(weights_dtype), choices=", ".join(WEIGHT_DTYPES))
        )
    return weights_dtype


def face_crop_spec():
    """The crop the webcam page must reproduce: the very spec `fer.faces` uses for uploads."""
    from fer.faces import DEFAULT_SPEC

    return DEFAULT_SPEC


def _check_exportable(name: str, model) -> None:
    shape = tuple(model.input_shape)
    if shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 1):
        raise ExportError(
            _(
                "{name} takes inputs of shape {shape}, but the webcam page feeds ({size}, "
                "{size}, 1) faces: export a model trained on 48x48 grayscale images."
            ).format(name=repr(name), shape=shape[1:], size=IMAGE_SIZE)
        )
    outputs = tuple(model.output_shape)
    if outputs[-1] != len(EMOTIONS):
        raise ExportError(
            _(
                "{name} has {outputs} outputs, not one probability per emotion ({count}): export a "
                "7-class model."
            ).format(name=repr(name), outputs=outputs[-1], count=len(EMOTIONS))
        )
    policy = getattr(getattr(model, "dtype_policy", None), "name", "float32")
    if policy != "float32":
        raise ExportError(
            _(
                "{name} computes in {policy}, which the TF.js converter cannot handle: export its "
                "float32 copy (training saves one)."
            ).format(name=repr(name), policy=policy)
        )


def _missing_frontend_file(path: Path) -> ExportError:
    return ExportError(
        _(
            "{path} is missing: run `make setup` (npm ci, then scripts/vendor_frontend.py) so the "
            "bundle can carry its browser libraries."
        ).format(path=path)
    )


def _quiet_tensorflowjs_import() -> None:
    # tensorflowjs imports tensorflow_decision_forests, whose welcome message imports IPython
    # whenever stdout is not a terminal (pytest, Streamlit): IPython is not installed.
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")


def _vector_bias_adds_only(graph_def):
    """tensorflowjs's `normalize_bias_add_op`, less its bug: an Add right after a convolution becomes
    a BiasAdd (which the next pass fuses into the convolution) only when what it adds is a vector.

    The original also turns a residual connection's Add (conv output + a whole feature map, as in
    `resnet_narrow`) into a BiasAdd: a graph that is not what Keras computes, and on which
    TensorFlow's fused convolution crashes the process (a segmentation fault, while the export is checked).
    """
    from tensorflowjs.converters import graph_rewrite_util

    nodes = {node.name: node for node in graph_def.node}
    for node in graph_def.node:
        if node.op not in ("Add", "AddV2") or len(node.input) != 2:
            continue
        parent = nodes.get(graph_rewrite_util.node_name_from_input(node.input[0]))
        added = nodes.get(graph_rewrite_util.node_name_from_input(node.input[1]))
        if (
            parent is not None and parent.op in ("Conv2D", "DepthwiseConv2dNative", "MatMul")
            and len(graph_rewrite_util.get_output_node_names(nodes, parent.name)) == 1
            and added is not None and added.op == "Const"
            and len(added.attr["value"].tensor.tensor_shape.dim) == 1
        ):
            node.op = "BiasAdd"
            node.attr["data_format"].s = b"NHWC"
    return graph_def


def _convert(model, folder: Path, weights_dtype: str) -> None:
    """Keras model -> SavedModel -> TF.js graph model (model.json + shards) in `folder`."""
    _quiet_tensorflowjs_import()
    from tensorflowjs.converters import normalize_bias_add
    from tensorflowjs.converters.tf_saved_model_conversion_v2 import convert_tf_saved_model

    normalize_bias_add.normalize_bias_add_op = _vector_bias_adds_only  # for good: conversions may run in parallel

    with tempfile.TemporaryDirectory(prefix="fer-savedmodel-") as saved_model_dir:
        model.export(saved_model_dir, format="tf_saved_model", verbose=False)
        quantization = {"float16": True} if weights_dtype == "float16" else None
        convert_tf_saved_model(saved_model_dir, str(folder), quantization_dtype_map=quantization)


def _signature_names(model_json: dict) -> tuple[str, str]:
    signature = model_json.get("signature", {})
    inputs, outputs = list(signature.get("inputs", {})), list(signature.get("outputs", {}))
    return (inputs[0] if inputs else ""), (outputs[0] if outputs else "")


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def build_metadata(run: registry.RunInfo, model_json: dict, weights_dtype: str, model_bytes: int) -> dict:
    input_name, output_name = _signature_names(model_json)
    spec = face_crop_spec()
    return {
        "format": BUNDLE_FORMAT,
        "model_name": run.name,
        "architecture": run.config.get("architecture"),
        **({"members": run.config.get("members"), "member_weights": run.config.get("weights")}
           if run.kind == "ensemble" else {}),
        "dataset": run.config.get("dataset"),
        "test_accuracy": run.metrics.get("test_accuracy"),
        "exported": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "labels": list(EMOTIONS),
        "input": {"name": input_name, "shape": [None, IMAGE_SIZE, IMAGE_SIZE, 1], "dtype": "float32"},
        "output": {
            "name": output_name,
            "shape": [None, len(EMOTIONS)],
            "meaning": "softmax probabilities, in label order",
        },
        "preprocessing": {
            "face_crop": spec.to_dict(),
            **preprocessing.metadata(),
        },
        "webcam": {"frame_width": WEBCAM_FRAME_WIDTH},
        "weights": {"dtype": weights_dtype, "model_bytes": model_bytes},
        "tfjs": {
            "version": TFJS_VERSION,
            "model_format": "graph",
            "route": "keras model.export -> tf_saved_model -> tfjs_graph_model",
        },
    }


def _write_metadata(folder: Path, metadata: dict) -> dict:
    """Write metadata.json with `bundle_bytes` counting every file, metadata.json included."""
    path = folder / METADATA_JSON
    metadata = {**metadata, "bundle_bytes": 0}
    for _attempt in range(5):  # the size's own digits can change the size: settle in a step or two
        path.write_text(json.dumps(metadata, indent=2))
        total = _folder_bytes(folder)
        if metadata["bundle_bytes"] == total:
            break
        metadata["bundle_bytes"] = total
    return metadata


def copy_page(folder: str | Path) -> None:
    """Put the webcam page, its translations, tf.js, opencv.js and the face detector beside a bundle's model files.

    Copies from static/webcam/ and static/vendor/ replace whatever page and libraries were there;
    the page's i18n/*.json are written from the catalogues (fer.i18n), so they match the app's.
    """
    folder = Path(folder)
    for file_name in PAGE_FILES:
        source = WEBCAM_PAGE_DIR / file_name
        if not source.exists():
            raise _missing_frontend_file(source)
        shutil.copyfile(source, folder / file_name)
    shutil.rmtree(folder / "i18n", ignore_errors=True)
    i18n.write_webcam_catalogues(folder)
    vendor = folder / "vendor"
    shutil.rmtree(vendor, ignore_errors=True)
    vendor.mkdir()
    for file_name in VENDOR_FILES:
        source = VENDOR_DIR / file_name
        if not source.exists():
            raise _missing_frontend_file(source)
        shutil.copyfile(source, vendor / file_name)
    import cv2

    cascade = Path(cv2.data.haarcascades) / face_crop_spec().cascade_file
    if not cascade.exists():
        raise ExportError(_(
            "The face detector's data {cascade} is missing: reinstall opencv-python-headless (<5)."
        ).format(cascade=cascade))
    shutil.copyfile(cascade, vendor / cascade.name)


def export_bundle(
    name: str,
    out_dir: str | Path,
    weights_dtype: str = "float32",
    progress: Progress | None = None,
    overwrite: bool = True,
) -> ExportResult:
    """Write the TF.js bundle of registry run `name` into `out_dir` (replaced as a whole)."""
    progress = progress or _silent
    check_weights_dtype(weights_dtype)
    target = Path(out_dir)
    if target.exists() and not overwrite:
        raise ExportError(_(
            "{target} already exists: choose another folder or allow overwriting."
        ).format(target=target))
    if target.exists() and not target.is_dir():
        raise ExportError(_(
            "{target} is a file, not a folder: choose a folder for the bundle."
        ).format(target=target))

    progress(0.05, _("Loading {name} from the registry").format(name=repr(name)))
    run = registry.read_run(name)
    if run.kind == "ensemble":
        from fer.ensemble_network import EnsembleNetworkError, load_network

        try:
            model = load_network(name)  # its members and their weights, as one graph
        except EnsembleNetworkError as error:
            raise ExportError(_("{name} cannot be exported: {reason}").format(name=repr(name), reason=error)) from None
    else:
        model = registry.load_model(name)
    _check_exportable(name, model)

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a bundle is meant to be served
    try:
        progress(0.2, _("Converting to TensorFlow.js (SavedModel -> graph model)"))
        _convert(model, staging, weights_dtype)
        model_json = json.loads((staging / MODEL_JSON).read_text())
        model_bytes = _folder_bytes(staging)
        progress(0.6, _("Checking the converted graph against Keras"))
        max_difference = verify_bundle(staging, model)

        progress(0.7, _("Copying the webcam page, tf.js, opencv.js and the face detector"))
        copy_page(staging)

        progress(0.9, _("Writing metadata.json"))
        metadata = build_metadata(run, model_json, weights_dtype, model_bytes)
        metadata["checked_against_keras"] = {"random_faces": 8, "max_abs_difference": max_difference}
        metadata = _write_metadata(staging, metadata)
        _replace_folder(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    progress(1.0, _("Bundle written to {target}").format(target=target))
    return ExportResult(name, target, weights_dtype, model_bytes, metadata["bundle_bytes"], metadata)


def _replace_folder(staging: Path, target: Path) -> None:
    """Swap a finished folder into place, so a reader never sees half a bundle."""
    if target.exists():
        retired = target.with_name(f".{target.name}.retired")
        shutil.rmtree(retired, ignore_errors=True)
        os.replace(target, retired)
        os.replace(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target)


def complete_shipped_bundles() -> list[Path]:
    """Give every shipped bundle (static/exports/pretrained-*/) its page and browser libraries.

    Git holds only a shipped bundle's model files and metadata; the page (static/webcam/) and the
    libraries (static/vendor/, from npm) are copied beside them at install time, so they never
    go stale or bloat the repository.
    """
    completed = []
    for folder in sorted(DEFAULT_EXPORTS_DIR.glob(f"{registry.PRETRAINED_PREFIX}*")):
        if (folder / "model.json").exists() and (folder / METADATA_JSON).exists():
            copy_page(folder)
            completed.append(folder)
    return completed


def copy_shipped_bundle(shipped: Path, target: Path) -> Path:
    """The files git holds for a shipped bundle (model and metadata), with today's page and libraries beside them."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        shutil.copytree(shipped, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns("vendor", *PAGE_FILES))
        copy_page(staging)
        _replace_folder(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def serve_shipped_bundle(name: str) -> Path:
    """Where the app serves a model's bundle; a shipped bundle is first copied there if FER_EXPORTS_DIR is elsewhere."""
    folder = served_folder(name)
    shipped = shipped_bundle(name)
    if shipped and not (folder / METADATA_JSON).exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        copy_shipped_bundle(shipped, folder)
    return folder


def exports_dir() -> Path:
    """Where the app writes the bundles it serves: `$FER_EXPORTS_DIR`, else static/exports/."""
    return Path(os.environ.get("FER_EXPORTS_DIR", DEFAULT_EXPORTS_DIR))


EXPORT_TOKEN_FILE = "export-token"  # in the run's folder: the secret part of its served bundle's address


SHIPPED_EXPORT_PREFIX = "exported-"  # a shipped model's bundle built here, beside the ones git holds


def shipped_bundle(name: str) -> Path | None:
    """The bundle git holds for a shipped model (static/exports/pretrained-*/), or None if it ships without one."""
    folder = DEFAULT_EXPORTS_DIR / name
    if name.startswith(registry.PRETRAINED_PREFIX) and (folder / MODEL_JSON).is_file():
        return folder
    return None


def served_name(name: str) -> str:
    """The served bundle's folder name: a shipped model's own name; any other run's name and a secret.

    Streamlit serves static/ to every browser that asks, so a student's bundle is not found by
    guessing a run name (`small_cnn-fer2013-1124-0930`) on a class server where the teacher hides
    students' runs from each other: its address holds 16 random hex digits kept in the run's folder.
    A shipped model that ships without a bundle (an ensemble) is exported under `exported-<name>`,
    a folder git ignores, so exporting it never looks like a change to the shipped files.
    """
    registry.validate_name(name)
    if name.startswith(registry.PRETRAINED_PREFIX):
        return name if shipped_bundle(name) else SHIPPED_EXPORT_PREFIX + name
    path = registry.run_path(name) / EXPORT_TOKEN_FILE
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        token = ""
    if len(token) != 16:
        candidate = secrets.token_hex(8)
        try:
            with open(path, "x") as file:  # two sessions at once: the first one's token wins
                file.write(candidate)
            token = candidate
        except FileExistsError:
            token = path.read_text().strip() or candidate
        except FileNotFoundError:
            raise registry.RegistryError(_("No run called {name!r} to export.").format(name=name)) from None
    return f"{name}-{token}"


def served_folder(name: str) -> Path:
    """Where the app keeps the bundle it serves: <exports folder>/<served_name(name)>/ (git-ignored)."""
    return exports_dir() / served_name(name)


def served_url(name: str) -> str:
    """The page's address inside the running app (Streamlit serves static/ at /app/static/)."""
    return f"{SERVED_URL_PREFIX}/{served_name(name)}/index.html"


def export_for_app(name: str, weights_dtype: str = "float32", progress: Progress | None = None) -> ExportResult:
    """Export a run to the folder the app serves it from; a bundle that ships with the app is never rewritten."""
    if shipped_bundle(name):
        raise ExportError(_(
            "{name}'s bundle ships with the app and everyone using it shares that bundle, so it is not "
            "exported again here. For other weights, export it into a folder of your own: "
            "python -m fer export {name} FOLDER --float16"
        ).format(name=name))
    return export_bundle(name, served_folder(name), weights_dtype, progress)


def read_bundle_metadata(folder: str | Path) -> dict:
    path = Path(folder) / METADATA_JSON
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ExportError(
            _("{path} is missing: this folder is not an exported bundle.").format(path=path)
        ) from None
    except json.JSONDecodeError as error:
        raise ExportError(_(
            "{path} is not valid JSON ({error}): export the model again."
        ).format(path=path, error=error)) from None


def bundle_predictor(folder: str | Path) -> Callable:
    """Run a bundle's graph model in Python TensorFlow: `predict(x_float (N,48,48,1)) -> (N, 7)`.

    model.json holds the TensorFlow graph (as JSON) with its constants moved into the weight
    shards; putting them back gives the very computation the browser runs, so an export can
    be checked against Keras without a browser.
    """
    import numpy as np
    import tensorflow as tf
    from google.protobuf import json_format
    from tensorflow.core.framework import graph_pb2

    _quiet_tensorflowjs_import()
    from tensorflowjs import read_weights

    folder = Path(folder)
    try:
        model_json = json.loads((folder / MODEL_JSON).read_text())
        graph_def = json_format.ParseDict(model_json["modelTopology"], graph_pb2.GraphDef())
        groups = read_weights.read_weights(model_json["weightsManifest"], str(folder))
    except (OSError, ValueError, KeyError) as error:
        raise ExportError(
            _(
                "{path} is not a readable TF.js graph model ({error}): export again."
            ).format(path=folder / MODEL_JSON, error=error)
        ) from None
    weights = {entry["name"]: entry["data"] for group in groups for entry in group}
    for node in graph_def.node:
        if node.name in weights:
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
    input_name, output_name = _signature_names(model_json)
    signature = model_json["signature"]
    input_tensor = signature["inputs"][input_name]["name"]
    output_tensor = signature["outputs"][output_name]["name"]
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")

    def predict(x) -> "np.ndarray":
        with tf.compat.v1.Session(graph=graph) as session:
            return session.run(output_tensor, {input_tensor: np.asarray(x, dtype=np.float32)})

    return predict


def verify_bundle(folder: str | Path, model, count: int = 8, seed: int = 0) -> float:
    """Largest |bundle - Keras| over the 7 probabilities of `count` random faces."""
    import numpy as np

    faces = np.random.default_rng(seed).random((count, IMAGE_SIZE, IMAGE_SIZE, 1), dtype=np.float32)
    expected = model.predict(faces, verbose=0)
    return float(np.abs(bundle_predictor(folder)(faces) - expected).max())


def zip_bundle(folder: str | Path) -> bytes:
    """The whole bundle as a zip, every path inside under one folder named after the bundle."""
    folder = Path(folder)
    if not (folder / MODEL_JSON).exists():
        raise ExportError(_(
            "{folder} has no {file}: export the model before zipping it."
        ).format(folder=folder, file=MODEL_JSON))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()
