"""Record what a preset measured: copy a finished, evaluated run's numbers into results/PRESET (maintainers only).

    .venv/bin/python scripts/record_result.py RUN PRESET --from ~/fer-runs/models --machine-figure 464.9

RUN must have finished and have its PublicTest numbers in metrics.json (`FER_MODELS_DIR=FOLDER
bench/bench_evaluate.py --model RUN --write-metrics`). Copies config.json, history.csv and
metrics.json into results/PRESET (never the model: results ship numbers only), and adds to
config.json a "measured" block: the training's minutes, the machine's figure from
`bench/bench_train.py` (images/s of the bare report-A CNN loop on the machine that trained it)
and its cores. The app's pages read the folder through fer.measured. Afterwards:
`git add results/PRESET`, then `.venv/bin/python -m pytest -q tests/test_measured.py`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fer import measured, registry  # noqa: E402
from fer.presets import PRESETS  # noqa: E402

MACHINE_FIGURE = "bench/bench_train.py: the bare train_on_batch loop of the report-A CNN, batch 128"


class RecordError(ValueError):
    """A run that cannot be recorded yet; the message says what to run first."""


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RecordError(f"{path} is missing: is this a finished run's folder?") from None
    except (OSError, ValueError) as error:
        raise RecordError(f"{path} cannot be read ({error}): evaluate the run again.") from None


def training_cores(config: dict) -> int:
    """The training machine's cores as the run recorded them; else this machine's."""
    cores = ((config.get("device_sentence") or {}).get("params") or {}).get("cores")
    return int(cores) if isinstance(cores, int) and cores > 0 else (os.cpu_count() or 1)


def measured_block(run: str, config: dict, metrics: dict, machine_figure: float, cores: int | None) -> dict:
    seconds = metrics.get("training_seconds") or config.get("training_seconds")
    return {
        "run": run,
        "training_seconds": round(float(seconds), 1),
        "training_minutes": round(float(seconds) / 60, 1),
        "machine_images_per_second": machine_figure,
        "machine_figure": MACHINE_FIGURE,
        "cores": cores or training_cores(config),
        "device": config.get("device"),
        "recorded": datetime.date.today().isoformat(),
        "note": "wall-clock time of all its epochs, summed over the sessions it was resumed in",
    }


def read_finished_run(source: Path) -> tuple[dict, dict]:
    """The config and metrics of the finished, evaluated, timed run in `source` (also scripts/ship_model.py's)."""
    run = source.name
    if not (source / registry.CONFIG_FILE).exists():
        raise RecordError(f"{source} is not a run folder (no config.json): check RUN and --from.")
    status = _read_json(source / registry.STATUS_FILE) if (source / registry.STATUS_FILE).exists() else {}
    if status.get("state") not in ("finished", None):
        raise RecordError(f"{source} is {status.get('state')}, not finished: let it finish or resume it first "
                          f"(python -m fer train --resume {run}).")
    config = _read_json(source / registry.CONFIG_FILE)
    metrics = _read_json(source / registry.METRICS_FILE)
    if "public_test" not in metrics:
        raise RecordError(f"{source} has no PublicTest numbers: run FER_MODELS_DIR={source.parent} "
                          f"bench/bench_evaluate.py --model {run} --write-metrics first.")
    if not (metrics.get("training_seconds") or config.get("training_seconds")):
        raise RecordError(f"{source / registry.METRICS_FILE} has no training_seconds: was it trained by this engine?")
    return config, metrics


def record(source: Path, preset: str, machine_figure: float, cores: int | None = None) -> Path:
    """Copy the run in `source` into the results folder of `preset`; returns that folder."""
    run = source.name
    if preset not in PRESETS:
        raise RecordError(f"{preset} is not a preset: use one of {', '.join(PRESETS)}.")
    if not machine_figure > 0:
        raise RecordError(f"--machine-figure must be the images/s of bench/bench_train.py, not {machine_figure}.")
    config, metrics = read_finished_run(source)
    wanted = PRESETS[preset].settings.get("architecture")
    if wanted and config.get("architecture") != wanted:
        raise RecordError(f"{run} trained {config.get('architecture')}, but {preset} trains {wanted}: "
                          "pick the run that preset trained.")

    results = measured.results_dir()
    target = results / preset
    staging = results / f".{preset}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for file in measured.RESULT_FILES:
            shutil.copy2(source / file, staging / file)
        config.pop("owner", None)
        config["preset"] = preset
        config["measured"] = measured_block(run, config, metrics, machine_figure, cores)
        (staging / registry.CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        try:
            measured.read_folder(staging, preset)  # as the pages will read it
        except measured.MeasuredResultError as error:
            raise RecordError(f"Not recorded, {source} is not consistent: {error}") from None
        registry.replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="the finished, evaluated run's name")
    parser.add_argument("preset", help="the preset it was trained with (fer/presets.py)")
    parser.add_argument("--from", dest="source", type=Path, default=registry.models_dir(),
                        help="the models folder holding RUN")
    parser.add_argument("--machine-figure", type=float, required=True,
                        help="images/s of bench/bench_train.py's bare loop on the training machine")
    parser.add_argument("--cores", type=int, help="the training machine's cores (default: as the run recorded them)")
    arguments = parser.parse_args(argv)

    source = arguments.source.expanduser() / arguments.run
    try:
        target = record(source, arguments.preset, arguments.machine_figure, arguments.cores)
    except RecordError as error:
        print(error, file=sys.stderr)
        return 1
    result = measured.measured_result(arguments.preset)
    tta = ", ".join(f"{mode} {value:.4f}" for mode, value in result.accuracy_by_tta.items())
    shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
    print(f"{shown}: PublicTest {tta}; {result.epochs} epochs in {result.training_minutes:.1f} min on a machine of "
          f"{result.machine_figure:g} images/s (about {result.minutes_at_reference:.1f} min at "
          f"{measured.REFERENCE_IMAGES_PER_SECOND:g} images/s). Now: git add {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
