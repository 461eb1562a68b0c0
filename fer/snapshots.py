"""Snapshot ensembles: the weights of chosen epochs of one long run, each a model of its own.

A run trained with `snapshot_epochs=(90, 105, ...)` (`python -m fer train --snapshot-epochs 90,105`)
keeps each of those epochs' weights as validation saw them in RUN/snapshots/epoch-090.keras.
`make_model` turns one into a registry model that is evaluated, exported and put in an ensemble
like any run: one training, several networks that disagree a little (Huang et al., 2017,
"Snapshot ensembles: train 1, get M for free").
"""

from __future__ import annotations

import re
from pathlib import Path

from fer import registry
from fer.i18n import _

SNAPSHOT_DIR = "snapshots"
_FILE = re.compile(r"^epoch-(\d+)\.keras$")


def snapshot_file(run_folder: Path, epoch: int) -> Path:
    return Path(run_folder) / SNAPSHOT_DIR / f"epoch-{epoch:03d}.keras"


def kept_epochs(run: str) -> list[int]:
    """The epochs of `run` whose snapshots are on disk."""
    folder = registry.run_path(run) / SNAPSHOT_DIR
    found = (_FILE.match(path.name) for path in folder.iterdir()) if folder.is_dir() else ()
    return sorted(int(match.group(1)) for match in found if match)


def make_model(run: str, epoch: int, name: str | None = None) -> Path:
    """A new registry model NAME (default RUN-eEPOCH) holding the weights of `run`'s epoch `epoch`,
    its history up to that epoch, its test accuracy and a config saying where it came from."""
    import keras

    from fer import train
    from fer.data import load_dataset

    source = registry.read_run(run)
    file = snapshot_file(source.path, epoch)
    if not file.exists():
        kept = kept_epochs(run)
        raise registry.RegistryError(
            _("{run} kept no snapshot of epoch {epoch} (it has {kept}): train it with --snapshot-epochs {epoch}, "
              "or pick one it has.").format(run=run, epoch=epoch,
                                            kept=", ".join(map(str, kept)) if kept else _("none")))
    rows = [row for row in registry.read_history(run) if int(row["epoch"]) <= epoch]
    seconds = round(sum(float(row.get("seconds") or 0) for row in rows), 2)
    last = rows[-1] if rows and int(rows[-1]["epoch"]) == epoch else {}
    config = {key: value for key, value in source.config.items() if key not in ("created",)}
    config.update(snapshot_of=run, snapshot_epoch=epoch, training_seconds=seconds)
    metrics = {
        "chosen_epoch": epoch,
        "chosen_reason": f"snapshot of epoch {epoch} of {run}",
        "epochs_run": len(rows),
        "stopped_by": None,
        "training_seconds": seconds,
        **{f"chosen_{key}": last[key] for key in ("loss", "accuracy", "val_loss", "val_accuracy") if key in last},
    }
    target = registry.validate_name(name) if name else registry.unique_name(f"{run}-e{epoch}"[:60])
    model = keras.models.load_model(file, safe_mode=True, compile=False)
    test_images, test_labels = load_dataset(source.config["dataset"]).split("test")
    if len(test_labels):  # as a finished training measures its kept epoch
        model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
        scores = train.validate(model, test_images, test_labels, int(source.config.get("batch_size", 64)))
        metrics.update(test_loss=float(scores["loss"]), test_accuracy=float(scores["accuracy"]))
    return registry.save_run(target, model, config, rows, metrics)
