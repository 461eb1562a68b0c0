"""The model registry: one folder per trained run under `models/`, written atomically.

A run folder holds `model.keras`, `config.json`, `history.csv` and `metrics.json`. A run is
written into a hidden temporary folder and renamed into place, so a run killed mid-save leaves
either the previous state or nothing, never a half-written model. Single files that change
later (metrics, config) are replaced with write-then-rename too.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from fer import REPO_ROOT
from fer.i18n import _

MODEL_FILE = "model.keras"
STATUS_FILE = "status.json"  # written by a training's worker process (fer.worker)
REQUEST_FILE = "request.json"  # what the worker was asked to train, and for whom (fer.worker)
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
METRICS_FILE = "metrics.json"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PRETRAINED_PREFIX = "pretrained-"


class RegistryError(ValueError):
    """A bad run name, a missing run, or a model that cannot be loaded safely."""


@dataclass(frozen=True)
class RunInfo:
    name: str
    path: Path
    config: dict
    metrics: dict

    @property
    def kind(self) -> str:
        return self.config.get("kind", "keras")

    @property
    def shipped(self) -> bool:
        return self.name.startswith(PRETRAINED_PREFIX)

    @property
    def owner(self) -> str | None:
        """Who trained it (config.json, else the training's request.json); None when nobody is recorded."""
        return self.config.get("owner") or _read_json(self.path / REQUEST_FILE).get("owner") or None


def models_dir() -> Path:
    return Path(os.environ.get("FER_MODELS_DIR", REPO_ROOT / "models"))


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise RegistryError(_(
            "{name} is not a valid run name: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or "
            "digit."
        ).format(name=repr(name)))
    return name


def run_path(name: str) -> Path:
    return models_dir() / validate_name(name)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # missing, unreadable, not UTF-8, not JSON
        return {}


def _vanished(name: str) -> RegistryError:
    return RegistryError(_(
        "The run {name} was deleted or renamed while it was being read: choose it again from the list of runs "
        "(`python -m fer models`)."
    ).format(name=repr(name)))


def _read_run_json(path: Path, name: str) -> dict:
    """A JSON file of a run being read: {} when damaged, a sentence when the run went away meanwhile."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError):
        if not path.parent.is_dir():
            raise _vanished(name) from None
        return {}
    except (OSError, ValueError):
        return {}


def _folder_identity(path: Path) -> tuple[int, int, int] | None:
    """Which folder is at `path` now. A run renamed away and another saved under its name differ,
    even where the new folder reuses the old one's inode number; so does a folder whose files were
    added, replaced or removed meanwhile."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino, status.st_ctime_ns


def _read_config_and_metrics(path: Path, name: str, attempts: int = 3) -> tuple[dict, dict]:
    """config.json and metrics.json of one and the same run, or a sentence if it went away meanwhile.

    Another session may delete or rename the run while they are read, and save another under the
    same name; a training may replace its files. The folder is the same before and after the reads,
    or they are made again.
    """
    for _attempt in range(attempts):
        before = _folder_identity(path)
        if before is None:
            break
        config = _read_run_json(path / CONFIG_FILE, name)
        metrics = _read_run_json(path / METRICS_FILE, name)
        after = _folder_identity(path)
        if after == before and (path / CONFIG_FILE).exists():
            return config, metrics
        if after is None:
            break
    raise _vanished(name)


def read_run(name: str) -> RunInfo:
    path = run_path(name)
    if not path.exists() and models_dir().is_dir():
        _recover_retired(models_dir())
    if not (path / CONFIG_FILE).exists():
        raise RegistryError(_("No run called {name} in {folder}: `python -m fer models` lists the runs.").format(
            name=repr(name), folder=models_dir()))
    config, metrics = _read_config_and_metrics(path, name)
    return RunInfo(name, path, config, metrics)


def run_owner(name: str) -> str | None:
    """Who a run (finished or not) belongs to: config.json's owner, else its training request's."""
    path = run_path(name)
    return _read_json(path / CONFIG_FILE).get("owner") or _read_json(path / REQUEST_FILE).get("owner") or None


def _usable(path: Path) -> RunInfo | None:
    """The run in `path` if it can be used now: complete, and not being trained at this moment."""
    try:
        config, metrics = _read_config_and_metrics(path, path.name)
    except RegistryError:  # deleted or renamed while it was being read
        return None
    if not config:
        return None
    if config.get("kind", "keras") == "keras" and not (path / MODEL_FILE).exists():
        return None
    status = _read_json(path / STATUS_FILE)
    if status.get("state") in ("queued", "running"):
        from fer.worker import worker_alive

        if status.get("state") == "queued" or worker_alive(status):
            return None
    return RunInfo(path.name, path, config, metrics)


def _modified(run: RunInfo) -> float:
    try:
        return (run.path / CONFIG_FILE).stat().st_mtime
    except OSError:  # deleted or renamed since it was listed
        return 0.0


def list_runs() -> list[RunInfo]:
    """Every usable run, newest first: saves in flight and trainings in progress are left out."""
    root = models_dir()
    if not root.is_dir():
        return []
    _recover_retired(root)
    runs = []
    try:
        paths = list(root.iterdir())
    except (FileNotFoundError, NotADirectoryError):  # the whole folder went away meanwhile
        return []
    for path in paths:
        if NAME_PATTERN.match(path.name) and path.is_dir():
            run = _usable(path)
            if run is not None:
                runs.append(run)
    return sorted(runs, key=_modified, reverse=True)


def default_model_name() -> str | None:
    """The student's newest run; else the best shipped single network; else None.

    Shipped models all carry git's checkout time, so among them the choice is by what they
    measured on PublicTest (their best test-time augmentation), and a network before an ensemble:
    saliency, filters and the webcam need one network.
    """
    runs = list_runs()
    own = [run for run in runs if not run.shipped]
    if own:
        return own[0].name
    return best_shipped(runs)


def best_shipped(runs: list[RunInfo] | None = None) -> str | None:
    """The shipped single network with the best PublicTest accuracy (an ensemble only if no network is shipped).

    A snapshot (an epoch of a longer run, fer.snapshots) ships as an ensemble's member: a whole run,
    which a preset retrains in one command and whose bundle ships, comes before it.
    """
    shipped = [run for run in (list_runs() if runs is None else runs) if run.shipped]
    if not shipped:
        return None
    return max(shipped, key=lambda run: (run.kind == "keras", "snapshot_of" not in run.config,
                                         best_public_test_accuracy(run), run.name)).name


def best_public_test_accuracy(run: RunInfo) -> float:
    """Its PublicTest accuracy with whichever test-time augmentation did best (0 if never measured)."""
    public = run.metrics.get("public_test", {})
    return max([public.get("accuracy", 0.0), *public.get("accuracy_by_tta", {}).values()])


def unique_name(stem: str) -> str:
    """`stem`, or `stem-2`, `stem-3`... whichever is free: two students never clobber a run."""
    validate_name(stem)
    root = models_dir()
    candidate, number = stem, 1
    while (root / candidate).exists():
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def history_to_csv(rows: Iterable[dict]) -> str:
    rows = list(rows)
    buffer = io.StringIO()
    if rows:
        fields = list(dict.fromkeys(key for row in rows for key in row))
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


def read_history(name: str) -> list[dict]:
    """The run's epochs so far; [] for a run with no history (or none any more: deleted or renamed meanwhile)."""
    path = run_path(name) / HISTORY_FILE
    try:
        with path.open(newline="") as handle:
            return [
                {key: _number_or_text(value) for key, value in row.items()}
                for row in csv.DictReader(handle)
            ]
    except (FileNotFoundError, NotADirectoryError):
        return []
    except (OSError, ValueError, csv.Error) as error:
        raise RegistryError(_("{path} cannot be read ({error}): retrain or delete the run {name}.").format(
            path=path, error=error, name=repr(name))) from None


def _number_or_text(value: str) -> Any:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() and "." not in value and "e" not in value else number


def save_run(
    name: str,
    model,
    config: dict,
    history_rows: Iterable[dict] = (),
    metrics: dict | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a whole run into a temporary sibling folder, then rename it into place."""
    target = run_path(name)
    if target.exists() and not overwrite:
        raise RegistryError(_("A run called {name} already exists: pick another name.").format(name=repr(name)))
    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=root))
    try:
        if model is not None:
            model.save(staging / MODEL_FILE)
        config = {"kind": "keras" if model is not None else "ensemble", **config}
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=str))
        (staging / HISTORY_FILE).write_text(history_to_csv(history_rows))
        (staging / METRICS_FILE).write_text(json.dumps(metrics or {}, indent=2, default=str))
        if target.exists():
            _swap_into_place(staging, target)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False where the system cannot."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), _RENAME_EXCHANGE)
    return result == 0


def _swap_into_place(staging: Path, target: Path) -> None:
    """Replace the folder `target` by `staging` so that a kill at any moment leaves a whole run.

    With an atomic exchange the old run ends up in `staging` and is removed afterwards. Without
    one, the old run is parked as `.<name>.retired` for the instant between two renames;
    `_recover_retired` puts it back if the process dies right there.
    """
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)
        return
    retired = target.with_name(f".{target.name}.retired")
    shutil.rmtree(retired, ignore_errors=True)
    os.replace(target, retired)
    os.replace(staging, target)
    shutil.rmtree(retired, ignore_errors=True)


def replace_folder(staging: Path, target: Path) -> None:
    """Move the finished folder `staging` to `target`, replacing what is there in one step."""
    if target.exists():
        _swap_into_place(staging, target)
    else:
        os.replace(staging, target)


def _recover_retired(root: Path) -> None:
    """A save killed between its two renames left `.<name>.retired` and no `<name>`: undo it."""
    for retired in root.glob(".*.retired"):
        name = retired.name[1 : -len(".retired")]
        if NAME_PATTERN.match(name) and not (root / name).exists():
            try:
                os.replace(retired, root / name)
            except OSError:
                pass


def write_run_files(path: Path, model, config: dict, history_rows: Iterable[dict], metrics: dict) -> None:
    """Write (or replace) a run's four files inside an existing folder, each in one atomic step.

    A training worker calls this after every epoch, so its folder always holds the chosen
    epoch so far; a kill at any moment leaves each file whole, old or new. config.json gets
    the owner the training was requested for, unless the config names one.
    """
    owner = config.get("owner") or _read_json(path / REQUEST_FILE).get("owner")
    if owner:
        config = {**config, "owner": owner}
    partial_model = path / f".{MODEL_FILE}.partial.keras"
    model.save(partial_model)
    os.replace(partial_model, path / MODEL_FILE)
    _replace_file(path / HISTORY_FILE, history_to_csv(history_rows))
    _replace_file(path / METRICS_FILE, json.dumps(metrics or {}, indent=2, default=str))
    _replace_file(path / CONFIG_FILE, json.dumps({"kind": "keras", **config}, indent=2, default=str))


def _replace_file(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    os.replace(partial, path)


def write_metrics(name: str, updates: dict) -> dict:
    """Merge `updates` into the run's metrics.json, atomically; returns the merged metrics."""
    run = read_run(name)
    merged = {**run.metrics, **updates}
    _replace_file(run.path / METRICS_FILE, json.dumps(merged, indent=2, default=str))
    return merged


def load_model(name: str):
    """Load a run's Keras model in safe mode: no arbitrary code from a lambda layer runs."""
    for _attempt in range(3):
        before = _folder_identity(run_path(name))
        run = read_run(name)
        if run.kind != "keras":
            raise RegistryError(_("{name} is an {kind}, not a single model: use fer.evaluate.load_predictor.").format(
                name=repr(name), kind=run.kind))
        path = run.path / MODEL_FILE
        try:
            model_file = path.open("rb")
        except (FileNotFoundError, NotADirectoryError):
            model_file = None
        if _folder_identity(run.path) != before:  # deleted, renamed or replaced meanwhile: read it again
            if model_file is not None:
                model_file.close()
            continue
        if model_file is None:
            raise RegistryError(_("{path} is missing: the run {name} was not saved completely.").format(
                path=path, name=repr(name)))
        with model_file:  # the file of the run whose config was read, wherever the run goes now
            return _load_keras_file(model_file, name, path)
    raise _vanished(name)


def _load_keras_file(model_file, name: str, path: Path):
    """Keras loads .keras files by name only: it gets a private copy of the open file."""
    import keras

    with tempfile.TemporaryDirectory(prefix="fer-model-") as folder:
        copy = Path(folder) / MODEL_FILE
        with copy.open("wb") as target:
            shutil.copyfileobj(model_file, target)
        try:
            return keras.models.load_model(copy, safe_mode=True, compile=False)
        except Exception as error:  # a truncated or corrupt zip raises many kinds of error
            raise _unloadable(name, path, error) from error


def _unloadable(name: str, path: Path, error: Exception) -> RegistryError:
    """The sentence for a model file that is there but cannot be loaded."""
    if isinstance(error, ValueError):
        if "safe_mode" in str(error) or "unsafe" in str(error).lower():
            return RegistryError(_(
                "{name} needs unsafe deserialisation (a Lambda layer with Python code), which this app refuses: "
                "rebuild it without Lambda layers."
            ).format(name=repr(name)))
        return RegistryError(_("{path} could not be loaded ({error}): retrain or delete the run.").format(
            path=path, error=error))
    # a truncated or corrupt zip raises many kinds of error
    return RegistryError(_("{path} could not be loaded ({error}): retrain or delete the run.").format(
        path=path, error=f"{type(error).__name__}: {error}"))


def _refuse_shipped(name: str, action: str) -> None:
    if name.startswith(PRETRAINED_PREFIX):
        sentences = {
            "renamed": _("{name} is a shipped model and read-only for everyone: it cannot be renamed."),
            "deleted": _("{name} is a shipped model and read-only for everyone: it cannot be deleted."),
        }
        raise RegistryError(sentences[action].format(name=name))


def rename_run(old: str, new: str) -> Path:
    """Rename a run; the shipped models keep their names, and no run takes a shipped model's prefix."""
    _refuse_shipped(validate_name(old), "renamed")
    if validate_name(new).startswith(PRETRAINED_PREFIX):
        raise RegistryError(_("Names starting with {prefix} are kept for the shipped models: pick another name "
                              "than {name}.").format(prefix=repr(PRETRAINED_PREFIX), name=repr(new)))
    source = read_run(old).path
    target = run_path(new)
    if target.exists():
        raise RegistryError(_("A run called {name} already exists: pick another name.").format(name=repr(new)))
    if not _rename_no_replace(source, target):
        raise RegistryError(_("A run called {name} already exists: pick another name.").format(name=repr(new)))
    return target


_RENAME_NOREPLACE = 1  # linux/fs.h


def _rename_no_replace(source: Path, target: Path) -> bool:
    """Rename unless `target` appeared meanwhile (atomic on Linux); False when it exists."""
    import ctypes
    import errno

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        if target.exists():
            return False
        os.rename(source, target)
        return True
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), _RENAME_NOREPLACE) == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        return False
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # a file system without the flag
        if target.exists():
            return False
        os.rename(source, target)
        return True
    raise RegistryError(_("Could not rename {old} to {new}: {problem}.").format(
        old=source.name, new=target.name, problem=os.strerror(code)))


def delete_run(name: str) -> None:
    """Delete a run (not a shipped model): it is moved aside in one step, then removed."""
    _refuse_shipped(validate_name(name), "deleted")
    path = read_run(name).path
    trash = path.with_name(f".{name}.deleting")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)
