"""Ship a finished, evaluated training run as the app's pretrained model (maintainers only).

    .venv/bin/python scripts/ship_model.py RUN pretrained-NAME --preset PRESET --from ~/fer-runs/models \\
        --machine-figure 464.9 [--machine-figure ...] [--float16 | --no-bundle] [--replace pretrained-OLD]

RUN must have finished and have its PublicTest numbers in metrics.json (`bench/bench_evaluate.py
--model RUN --write-metrics`). Copies model.keras, config.json, history.csv and metrics.json into
models/pretrained-NAME (the run's checkpoint and event log stay behind), adds the training's cost
to config.json (hours on this kind of machine, with its figure from `bench/bench_train.py`:
images/s of the bare report-A CNN loop) and the preset that trained it (checked: every setting of
the preset must be the run's), and exports its TF.js bundle into static/exports/pretrained-NAME
for the webcam page (--float16 halves the bundle of a large network; --no-bundle for a network that
ships only as an ensemble's member: the webcam page can still export it on demand). --replace
removes an older shipped model and its bundle. Afterwards: `git add models static/exports`, then `make test`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fer import registry  # noqa: E402
from fer.presets import PRESETS  # noqa: E402
from scripts.record_result import MACHINE_FIGURE, RecordError, read_finished_run, training_cores  # noqa: E402

SHIPPED_FILES = (registry.MODEL_FILE, registry.CONFIG_FILE, registry.HISTORY_FILE, registry.METRICS_FILE)
SIZE_LIMIT = 20_000_000  # bytes, model folder and bundle together (tests/test_pretrained.py)


def training_cost(source: Path, config: dict, metrics: dict, machine_figures: list[float]) -> dict:
    """What the training cost: its wall-clock time as it happened (beside whatever else the machine
    ran) and, from its quietest tenth of epochs, what it costs on a machine doing nothing else."""
    seconds = sorted(float(row["seconds"]) for row in csv.DictReader((source / registry.HISTORY_FILE).open()))
    quiet_epoch = seconds[len(seconds) // 10]
    cores = training_cores(config)
    return {
        "epochs": len(seconds),
        "wall_clock_hours": round(float(metrics.get("training_seconds") or sum(seconds)) / 3600, 2),
        "quiet_epoch_seconds": round(quiet_epoch, 1),
        "quiet_hours": round(quiet_epoch * len(seconds) / 3600, 2),
        "quiet_cpu_hours": round(quiet_epoch * len(seconds) * cores / 3600, 1),
        "cores": cores,
        "machine_images_per_second": machine_figures,
        "machine_figure": MACHINE_FIGURE + ", on each machine the run was trained or resumed on",
        "note": "wall_clock_hours: all its epochs as they ran, niced, beside test suites and other work; "
                "quiet_*: its fastest tenth of epochs times its epochs, the cost on an idle machine",
    }


def settings_not_from(preset: str, config: dict) -> dict:
    """The preset's settings the run was not trained with: {setting: (the run's, the preset's)}."""
    return {key: (config.get(key), value) for key, value in PRESETS[preset].settings.items()
            if config.get(key) != json.loads(json.dumps(value))}  # as config.json holds it: tuples become lists


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="the finished run's name")
    parser.add_argument("name", help="the shipped name, starting with " + registry.PRETRAINED_PREFIX)
    parser.add_argument("--from", dest="source", type=Path, default=registry.models_dir(),
                        help="the models folder holding RUN")
    parser.add_argument("--machine-figure", type=float, action="append", required=True,
                        help="images/s of bench/bench_train.py's bare loop on a machine that trained it (repeat)")
    parser.add_argument("--preset", required=True, choices=sorted(PRESETS), help="the preset that trained RUN")
    bundle = parser.add_mutually_exclusive_group()
    bundle.add_argument("--float16", action="store_true", help="float16 weights in the TF.js bundle")
    bundle.add_argument("--no-bundle", action="store_true", help="ship no TF.js bundle (an ensemble's member)")
    parser.add_argument("--replace", action="append", default=[], help="an older shipped model to remove")
    arguments = parser.parse_args()

    if not arguments.name.startswith(registry.PRETRAINED_PREFIX):
        raise SystemExit(f"{arguments.name}: a shipped model's name starts with {registry.PRETRAINED_PREFIX}")
    source = arguments.source.expanduser() / arguments.run
    try:
        config, metrics = read_finished_run(source)
    except RecordError as error:
        raise SystemExit(str(error)) from None
    changed = settings_not_from(arguments.preset, config)
    if changed:
        raise SystemExit(f"{arguments.run} was not trained with {arguments.preset}'s settings "
                         f"(the run's, the preset's): {changed}")

    shipped_models = ROOT / "models"
    target = shipped_models / arguments.name
    staging = shipped_models / f".{arguments.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for file in SHIPPED_FILES:
        shutil.copy2(source / file, staging / file)
    config.pop("owner", None)
    config["shipped_from"] = arguments.run
    config["preset"] = arguments.preset
    config["cost"] = training_cost(source, config, metrics, arguments.machine_figure)
    (staging / registry.CONFIG_FILE).write_text(json.dumps(config, indent=2))
    registry.replace_folder(staging, target)

    os.environ["FER_MODELS_DIR"] = str(shipped_models)
    from fer import export

    bundle_folder = export.DEFAULT_EXPORTS_DIR / arguments.name
    bundle_bytes = 0
    if arguments.no_bundle:
        shutil.rmtree(bundle_folder, ignore_errors=True)
    else:
        result = export.export_bundle(arguments.name, bundle_folder, "float16" if arguments.float16 else "float32")
        export.complete_shipped_bundles()
        bundle_bytes = result.model_bytes
        print(f"bundle {result.folder}: model files {bundle_bytes / 1e6:.1f} MB ({result.weights_dtype})")
    for old in arguments.replace:
        if old != arguments.name and old.startswith(registry.PRETRAINED_PREFIX):
            shutil.rmtree(shipped_models / old, ignore_errors=True)
            shutil.rmtree(export.DEFAULT_EXPORTS_DIR / old, ignore_errors=True)

    model_bytes = sum(path.stat().st_size for path in target.rglob("*") if path.is_file())
    print(f"{target}: {model_bytes / 1e6:.1f} MB")
    if model_bytes + bundle_bytes >= SIZE_LIMIT:
        print(f"Too big for git: together over {SIZE_LIMIT / 1e6:.0f} MB.")
        return 1
    public = metrics["public_test"]
    print("PublicTest: " + ", ".join(f"{mode} {value:.4f}" for mode, value in public["accuracy_by_tta"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
