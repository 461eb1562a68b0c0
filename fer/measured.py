"""What a preset measured when we ran it: the results shipped in `results/<preset>/`, without the model.

A results folder holds copies of a finished run's config.json (with a "measured" block: training
minutes, the machine's figure, cores), history.csv and metrics.json (with "public_test", written
by `bench/bench_evaluate.py --write-metrics`). `scripts/record_result.py` makes one. The pages
read them through `measured_result(preset)`, so every student sees them without FER2013.

    result = measured_result("report-a-better")   # None when results/report-a-better/ is absent
    result.accuracy, result.accuracy_by_tta["flip"], result.minutes_at_reference

`REPORT_FIGURES` are the two homework reports' own numbers, with what each was measured on.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from fer import REPO_ROOT
from fer.i18n import N_, _, format_decimal, format_integer, format_percent, ngettext

RESULTS_DIR_VARIABLE = "FER_RESULTS_DIR"
CONFIG_FILE, HISTORY_FILE, METRICS_FILE = "config.json", "history.csv", "metrics.json"
RESULT_FILES = (CONFIG_FILE, HISTORY_FILE, METRICS_FILE)
# The yardstick: a machine whose bare loop (bench/bench_train.py) trains the report-A CNN at 400 images/s.
REFERENCE_IMAGES_PER_SECOND = 400.0
_PRESET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class MeasuredResultError(ValueError):
    """A results folder with a missing, unreadable or inconsistent file; the message names the file."""


@dataclass(frozen=True)
class ReportFigure:
    """A homework report's own accuracy for its CNN, and what it was measured on."""

    report: str  # marked with N_(), shown through _()
    architecture: str
    accuracy: float
    measured_on: str  # marked with N_(), shown through _()
    own_preset: str  # the report's recipe, as its author trained it
    better_preset: str  # the same network, trained by a better recipe


REPORT_FIGURES: dict[str, ReportFigure] = {
    "report-a": ReportFigure(
        N_("Report A"), "report_a_cnn", 0.60,
        N_("its validation accuracy after 30 epochs, on validation faces it split from the training faces"),
        "report-a", "report-a-better",
    ),
    "report-b": ReportFigure(
        N_("Report B"), "report_b_cnn", 0.65,
        N_("its Kaggle public score, that is its accuracy on PublicTest"),
        "report-b", "report-b-better",
    ),
}


@dataclass(frozen=True)
class MeasuredResult:
    preset: str
    run: str  # the training run it was recorded from
    architecture: str
    faces: int  # PublicTest faces evaluated
    accuracy: float  # PublicTest, one look per face
    accuracy_by_tta: dict[str, float]  # test-time augmentation mode -> PublicTest accuracy
    recall_by_class: dict[str, float]  # English emotion name -> recall on PublicTest
    confusion_matrix: tuple[tuple[int, ...], ...]
    validation_curve: tuple[tuple[int, float], ...]  # (epoch, validation accuracy)
    epochs: int
    training_minutes: float
    machine_figure: float  # images/s of bench/bench_train.py's bare report-A loop on the training machine
    cores: int | None

    @property
    def flip_accuracy(self) -> float | None:
        return self.accuracy_by_tta.get("flip")

    @property
    def minutes_at_reference(self) -> float:
        """The training minutes on a machine whose bare loop does 400 images/s (scaled by the figures' ratio)."""
        return self.training_minutes * self.machine_figure / REFERENCE_IMAGES_PER_SECOND


def results_dir() -> Path:
    return Path(os.environ.get(RESULTS_DIR_VARIABLE, REPO_ROOT / "results"))


def recorded_presets() -> list[str]:
    """The presets with a results folder, by name."""
    folder = results_dir()
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.iterdir() if path.is_dir() and _PRESET_NAME.match(path.name))


def rerun_command(preset: str) -> str:
    return f"python -m fer train --preset {preset}"


def _broken(path: Path, problem: str) -> MeasuredResultError:
    return MeasuredResultError(_("{path} {problem}: record the result again with `scripts/record_result.py`.").format(
        path=path, problem=problem))


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _broken(path, _("is missing")) from None
    except (OSError, ValueError) as error:
        raise _broken(path, _("cannot be read ({error})").format(error=error)) from None
    if not isinstance(value, dict):
        raise _broken(path, _("does not hold a JSON object"))
    return value


def _read_history(path: Path) -> list[dict]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise _broken(path, _("is missing")) from None
    except (OSError, ValueError, csv.Error) as error:
        raise _broken(path, _("cannot be read ({error})").format(error=error)) from None
    if not rows:
        raise _broken(path, _("has no epochs"))
    return rows


def _number(value, path: Path, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise _broken(path, _("has no number for {what} (it holds {value})").format(what=what, value=repr(value)))
    return number


def _validation_curve(rows: list[dict], path: Path) -> tuple[tuple[int, float], ...]:
    curve = []
    for row in rows:
        if row.get("val_accuracy") not in (None, ""):
            curve.append((int(_number(row.get("epoch"), path, "epoch")),
                          _number(row["val_accuracy"], path, "val_accuracy")))
    return tuple(curve)


def measured_result(preset: str) -> MeasuredResult | None:
    """What `preset` measured, from results/<preset>/; None when it has no results folder."""
    if not isinstance(preset, str) or not _PRESET_NAME.match(preset):
        return None
    folder = results_dir() / preset
    if not folder.is_dir():
        return None
    return read_folder(folder, preset)


def read_folder(folder: Path, preset: str) -> MeasuredResult:
    """The result in `folder` (results/<preset>/, or one being recorded); MeasuredResultError names a bad file."""
    config = _read_json(folder / CONFIG_FILE)
    metrics = _read_json(folder / METRICS_FILE)
    rows = _read_history(folder / HISTORY_FILE)

    measured = config.get("measured")
    if not isinstance(measured, dict):
        raise _broken(folder / CONFIG_FILE, _("has no \"measured\" block"))
    public = metrics.get("public_test")
    metrics_path = folder / METRICS_FILE
    if not isinstance(public, dict):
        raise _broken(metrics_path, _("has no PublicTest numbers (\"public_test\")"))
    try:
        matrix = tuple(tuple(int(count) for count in row) for row in public["confusion_matrix"])
        by_tta = {str(mode): _number(value, metrics_path, mode) for mode, value in public["accuracy_by_tta"].items()}
        recall = {str(row["emotion"]): _number(row["recall"], metrics_path, "recall") for row in public["per_class"]}
    except MeasuredResultError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _broken(metrics_path, _("has incomplete PublicTest numbers ({error})").format(
            error=repr(error))) from None
    accuracy = _number(public.get("accuracy"), metrics_path, "accuracy")
    faces = sum(map(sum, matrix))
    if faces == 0 or len(matrix) != len(recall) or any(len(row) != len(matrix) for row in matrix):
        raise _broken(metrics_path, _("has a confusion matrix that does not fit its classes"))
    if not math.isclose(accuracy, sum(matrix[k][k] for k in range(len(matrix))) / faces, abs_tol=1e-6):
        raise _broken(metrics_path, _("gives an accuracy its confusion matrix does not give"))

    config_path = folder / CONFIG_FILE
    cores = measured.get("cores")
    return MeasuredResult(
        preset=preset,
        run=str(measured.get("run", "")),
        architecture=str(config.get("architecture", "")),
        faces=faces,
        accuracy=accuracy,
        accuracy_by_tta=by_tta,
        recall_by_class=recall,
        confusion_matrix=matrix,
        validation_curve=_validation_curve(rows, folder / HISTORY_FILE),
        epochs=len(rows),
        training_minutes=_number(measured.get("training_minutes"), config_path, "training_minutes"),
        machine_figure=_number(measured.get("machine_images_per_second"), config_path, "machine_images_per_second"),
        cores=int(cores) if isinstance(cores, (int, float)) else None,
    )


def _minutes(minutes: float) -> str:
    return format_decimal(minutes, 0 if minutes >= 10 else 1)


def summary(result: MeasuredResult) -> str:
    """One sentence: PublicTest accuracy, training minutes and the machine they were measured on."""
    values = dict(
        accuracy=format_percent(result.accuracy, 1), minutes=_minutes(result.training_minutes),
        figure=format_decimal(result.machine_figure, 0), scaled=_minutes(result.minutes_at_reference),
        reference=format_integer(int(REFERENCE_IMAGES_PER_SECOND)),
    )
    if result.flip_accuracy is None:
        return _(
            "Measured when we ran it: {accuracy} on PublicTest, after {minutes} minutes of training on a machine "
            "whose bare loop trains the report-A CNN at {figure} images/s (about {scaled} minutes at {reference} "
            "images/s)."
        ).format(**values)
    return _(
        "Measured when we ran it: {accuracy} on PublicTest ({flip} with flip averaging), after {minutes} minutes of "
        "training on a machine whose bare loop trains the report-A CNN at {figure} images/s (about {scaled} minutes "
        "at {reference} images/s)."
    ).format(flip=format_percent(result.flip_accuracy, 1), **values)


# ------------------------------------------------------------------------------ what a better recipe changes


@dataclass(frozen=True)
class RecipeChange:
    setting: str  # in the reader's language
    before: str
    after: str


def _augmentation(settings: dict) -> str:
    pieces = []
    if settings["crop_size"] < 48:
        pieces.append(_("random {size}-pixel crops").format(size=settings["crop_size"]))
    if settings["augment_flip"]:
        pieces.append(_("flips"))
    if settings["augment_shift"]:
        pieces.append(_("shifts of up to {share}").format(share=format_percent(settings["augment_shift"])))
    if settings["augment_rotation"]:
        pieces.append(_("rotations of up to {degrees}°").format(degrees=format_decimal(settings["augment_rotation"])))
    if settings["augment_zoom"]:
        pieces.append(_("zoom of up to {share}").format(share=format_percent(settings["augment_zoom"])))
    if settings["random_erasing"]:
        pieces.append(_("random erasing"))
    return _(", ").join(pieces) if pieces else _("none")


def _schedule(settings: dict) -> str:
    from fer.schedules import SCHEDULES

    label = SCHEDULES[settings["schedule"]]
    schedule = _(label)
    if not settings["warmup_epochs"]:
        return schedule
    return ngettext("{count} warm-up epoch, then {schedule}", "{count} warm-up epochs, then {schedule}",
                    settings["warmup_epochs"]).format(count=settings["warmup_epochs"], schedule=schedule)


def _optimizer(settings: dict) -> str:
    from fer.train import OPTIMIZERS

    label = OPTIMIZERS[settings["optimizer"]]
    return _("{optimizer} at {rate}").format(optimizer=_(label), rate=f"{settings['learning_rate']:g}")


def _checkpoint(settings: dict) -> str:
    from fer.checkpoints import RULES

    label = RULES[settings["checkpoint_rule"]]
    return _(label)


def _switch(value: bool) -> str:
    return _("on") if value else _("off")


def _amount(value: float) -> str:
    return f"{value:g}" if value else _("none")


_DESCRIBED = (
    (N_("optimizer"), _optimizer),
    (N_("learning-rate schedule"), _schedule),
    (N_("weight decay"), lambda settings: _amount(settings["weight_decay"])),
    (N_("augmentation"), _augmentation),
    (N_("label smoothing"), lambda settings: _amount(settings["label_smoothing"])),
    (N_("moving average of the weights (EMA)"), lambda settings: _switch(settings["ema"])),
    (N_("epochs"), lambda settings: format_integer(settings["epochs"])),
    (N_("batch size"), lambda settings: format_integer(settings["batch_size"])),
    (N_("epoch kept"), _checkpoint),
)


def recipe_changes(before: str, after: str) -> list[RecipeChange]:
    """What the preset `after` does differently from `before`, setting by setting, in the reader's language."""
    from fer.train import preset

    old, new = preset(before).to_dict(), preset(after).to_dict()
    changes = []
    for setting, describe in _DESCRIBED:
        was, becomes = describe(old), describe(new)
        if was != becomes:
            changes.append(RecipeChange(_(setting), was, becomes))
    return changes
