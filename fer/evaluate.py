"""Judging a trained model: its predictions, the confusion matrix, per-class metrics, TTA.

Everything a model is judged by starts from one array: its predicted probabilities
`(N, 7)` for N faces. A *predictor* is anything with `predict_proba(x_float) -> (N, 7)`:
a single Keras model from the registry, an ensemble of them, or either wrapped in
test-time augmentation. `load_predictor(name)` hides which one a registry entry is.
`predict_faces(predictor, images)` feeds it uint8 faces a batch at a time, so neither the
float copy of a split nor its augmented views ever exist all at once.

The confusion matrix follows the two reports: true label down the rows, predicted label
across the columns, so row `i` says where the faces that really show emotion `i` went.
"""

from __future__ import annotations

import collections
import hashlib
import threading
import unicodedata
from dataclasses import dataclass
from typing import Callable, NamedTuple, Protocol, Sequence

import numpy as np

from fer import registry
from fer.data import EMOTIONS, NUM_CLASSES
from fer.face_dataset import shown_split_label
from fer.i18n import N_, _, expressions, format_percent, ngettext
from fer.preprocessing import to_model_input

Progress = Callable[[float], None]

DEFAULT_BATCH_SIZE = 256
TTA_MODES = ("none", "flip", "crops", "flip+crops", "ten-crop")
# Shown through tta_label() (or _()), in the reader's language.
TTA_DESCRIPTIONS = {
    "none": N_("no augmentation: one look at each face"),
    "flip": N_("average the face and its mirror image (2 looks)"),
    "crops": N_("average the face and four copies shifted 3 pixels up, down, left, right (5 looks)"),
    "flip+crops": N_("both: five shifted copies, each also mirrored (10 looks)"),
    "ten-crop": N_(
        "the centre and the four corners of the crop size the model was trained on (44 of 48 "
        "pixels for a model without a crop layer), each also mirrored (10 looks)"
    ),
}
CROPS_SHIFT = 3  # pixels, for "crops" and "flip+crops"
# Ten-crop's corner offset for a model without a centre-crop layer: the corners of a 44-pixel crop.
DEFAULT_CROP_MARGIN = 2


def tta_label(mode: str) -> str:
    """A TTA mode and what it does, in the reader's language: "flip: average the face and its mirror image"."""
    return _("{mode}: {description}").format(mode=mode, description=_(TTA_DESCRIPTIONS[mode]))


def split_title(dataset, split: str) -> str:
    """What pages call a split, in the reader's language (English: exactly `dataset.split_label(split)`)."""
    return shown_split_label(dataset.split_label(split))


class Look(NamedTuple):
    """One augmented copy: the face moved by (dy, dx) pixels, then mirrored or not."""

    dy: int
    dx: int
    mirrored: bool


class EvaluationError(ValueError):
    """A model, ensemble or input that cannot be evaluated; the message says what to do."""


class Predictor(Protocol):
    name: str

    def predict_proba(self, x: np.ndarray, progress: Progress | None = None) -> np.ndarray: ...


def _check_input(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 1:
        raise EvaluationError(
            _(
                "Models take float faces of shape (N, height, width, 1); got {shape}. "
                "Convert uint8 faces with fer.data.to_model_input."
            ).format(shape=x.shape)
        )
    return x


class KerasPredictor:
    """One Keras model, run in batches so a whole FER2013 split fits in memory."""

    def __init__(self, model, name: str = "model", batch_size: int = DEFAULT_BATCH_SIZE):
        if batch_size < 1:
            raise ValueError(_("batch_size must be at least 1; got {value}.").format(value=batch_size))
        self.model = model
        self.name = name
        self.batch_size = batch_size

    def predict_proba(self, x: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        x = _check_input(x)
        expected = tuple(self.model.input_shape[1:])
        if tuple(x.shape[1:]) != expected:
            raise EvaluationError(
                _("{name} expects faces of shape {expected}, got {shape}.").format(
                    name=self.name, expected=expected, shape=tuple(x.shape[1:])
                )
            )
        outputs = []
        for start in range(0, len(x), self.batch_size):
            batch = x[start : start + self.batch_size]
            outputs.append(np.asarray(self.model(batch, training=False), dtype=np.float64))
            if progress is not None:
                progress(min(1.0, (start + len(batch)) / len(x)))
        if not outputs:
            return np.zeros((0, self.model.output_shape[-1]))
        return np.concatenate(outputs)


class EnsemblePredictor:
    """A weighted average of several predictors' probabilities (weights sum to one)."""

    def __init__(self, members: Sequence[Predictor], weights: Sequence[float], name: str = "ensemble"):
        weights = np.asarray(weights, dtype=np.float64)
        if len(members) == 0:
            raise EvaluationError(
                _("The ensemble {name} has no members: add at least one model.").format(name=repr(name))
            )
        if weights.shape != (len(members),):
            raise EvaluationError(
                _("The ensemble {name} has {members} members but {weights} weights.").format(
                    name=repr(name), members=len(members), weights=weights.size
                )
            )
        if np.any(weights < 0) or not np.isclose(weights.sum(), 1.0, atol=1e-6):
            raise EvaluationError(
                _("The ensemble {name} needs non-negative weights that sum to 1; got {weights}.").format(
                    name=repr(name), weights=weights.tolist()
                )
            )
        self.members = list(members)
        self.weights = weights
        self.name = name

    def predict_proba(self, x: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        total = None
        for index, (member, weight) in enumerate(zip(self.members, self.weights)):
            member_progress = _sub_progress(progress, index, len(self.members))
            probabilities = member.predict_proba(x, progress=member_progress)
            total = weight * probabilities if total is None else total + weight * probabilities
        return total


class TTAPredictor:
    """Test-time augmentation: average a predictor over mirrored and shifted copies of each face.

    Shifted copies are re-padded to the original size by repeating the edge pixels, so the
    model always sees a full 48x48 face, just moved a few pixels. For a model that starts
    with a centre crop of c pixels, a shift of up to m = (48 - c) / 2 followed by that crop is
    exactly a crop taken elsewhere in the face: shifting by (+m, +m) shows it the top-left
    corner. The copies are made and predicted `batch_size` faces at a time.
    """

    def __init__(self, base: Predictor, mode: str = "flip", batch_size: int = DEFAULT_BATCH_SIZE):
        if batch_size < 1:
            raise ValueError(_("batch_size must be at least 1; got {value}.").format(value=batch_size))
        self.base = base
        self.mode = mode
        self.looks = tta_looks(mode, crop_margin(base))
        self.batch_size = batch_size
        self.name = f"{base.name} + TTA({mode})"

    def views(self, x: np.ndarray) -> list[np.ndarray]:
        """Every augmented copy of `x` the predictions are averaged over (all at once: for small x)."""
        x = _check_input(x)
        return [look_at(x, look) for look in self.looks]

    def predict_proba(self, x: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        x = _check_input(x)
        outputs = []
        for start in range(0, len(x), self.batch_size):
            batch = x[start : start + self.batch_size]
            total = 0.0
            for look in self.looks:
                total = total + self.base.predict_proba(look_at(batch, look))
            outputs.append(total / len(self.looks))
            if progress is not None:
                progress(min(1.0, (start + len(batch)) / len(x)))
        if not outputs:
            return self.base.predict_proba(x)
        return np.concatenate(outputs)


def tta_looks(mode: str, margin: int = DEFAULT_CROP_MARGIN) -> list[Look]:
    """The copies test-time augmentation `mode` averages over; `margin` places ten-crop's corners."""
    if mode not in TTA_MODES:
        raise EvaluationError(
            _("Unknown TTA mode {mode}: use one of {modes}.").format(mode=repr(mode), modes=", ".join(TTA_MODES))
        )
    if mode == "ten-crop":
        shifts = [(0, 0), (-margin, -margin), (-margin, margin), (margin, -margin), (margin, margin)]
    elif mode in ("crops", "flip+crops"):
        step = CROPS_SHIFT
        shifts = [(0, 0), (-step, 0), (step, 0), (0, -step), (0, step)]
    else:
        shifts = [(0, 0)]
    mirrored = (False, True) if mode in ("flip", "flip+crops", "ten-crop") else (False,)
    return [Look(dy, dx, mirror) for mirror in mirrored for dy, dx in shifts]


def crop_margin(predictor) -> int:
    """Pixels between the face's edge and the centre crop of the model behind `predictor`: the
    margin of its centre-crop layer (`Cropping2D`, as fer.nets builds it, or `CenterCrop`, as
    earlier runs began), DEFAULT_CROP_MARGIN for a model without one or for a predictor that
    is not a single Keras model."""
    model = getattr(predictor, "model", None)
    if model is None:
        return DEFAULT_CROP_MARGIN
    import keras  # loaded already: the predictor holds a Keras model

    from fer import nets

    for layer in model.layers:
        if isinstance(layer, keras.layers.CenterCrop):
            return (int(model.input_shape[1]) - int(layer.height)) // 2
    return nets.crop_margin(model) or DEFAULT_CROP_MARGIN


def with_tta(predictor: Predictor, mode: str = "flip", batch_size: int = DEFAULT_BATCH_SIZE) -> Predictor:
    """Wrap `predictor` in the test-time augmentation `mode` (one of TTA_MODES).

    An ensemble gets it member by member (the same average, since averaging is linear), so each
    member's ten crops sit at its own crop size.
    """
    tta_looks(mode)  # refuses an unknown mode
    if mode == "none":
        return predictor
    if isinstance(predictor, EnsemblePredictor):
        members = [with_tta(member, mode, batch_size) for member in predictor.members]
        return EnsemblePredictor(members, predictor.weights, name=f"{predictor.name} + TTA({mode})")
    return TTAPredictor(predictor, mode, batch_size)


def look_at(x: np.ndarray, look: Look) -> np.ndarray:
    """The copy of the faces `x` that `look` describes."""
    view = shift_images(x, look.dy, look.dx) if (look.dy or look.dx) else x
    return flip_images(view) if look.mirrored else view


def flip_images(x: np.ndarray) -> np.ndarray:
    """Mirror left-right: (N, H, W, C) along W."""
    return x[:, :, ::-1, :]


def shift_images(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move the content by (dy, dx) pixels, filling the uncovered border with the edge pixels."""
    height, width = x.shape[1:3]
    rows = np.clip(np.arange(height) - dy, 0, height - 1)
    columns = np.clip(np.arange(width) - dx, 0, width - 1)
    return x[:, rows][:, :, columns]


def predict_faces(
    predictor: Predictor, images: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE, progress: Progress | None = None
) -> np.ndarray:
    """Probabilities of `predictor` for uint8 faces `(N, 48, 48)`, converted and predicted a batch
    at a time: memory stays that of one batch (and its augmented copies) whatever N is."""
    if batch_size < 1:
        raise ValueError(_("batch_size must be at least 1; got {value}.").format(value=batch_size))
    outputs = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        outputs.append(np.asarray(predictor.predict_proba(to_model_input(batch)), dtype=np.float64))
        if progress is not None:
            progress(min(1.0, (start + len(batch)) / len(images)))
    if not outputs:
        raise EvaluationError(_("There are no faces to predict: pick a split or data set that has some."))
    return np.concatenate(outputs)


def _sub_progress(progress: Progress | None, index: int, count: int) -> Progress | None:
    if progress is None:
        return None
    return lambda fraction: progress((index + fraction) / count)


# ---------------------------------------------------------------------------------------------
# Loading from the registry


def load_predictor(name: str, tta: str = "none", batch_size: int = DEFAULT_BATCH_SIZE) -> Predictor:
    """The registry entry `name` as a predictor: a single model or an ensemble, optionally with TTA."""
    tta_looks(tta)  # an unknown mode is refused before any model is loaded
    return with_tta(_load_registry_predictor(name, batch_size, visiting=()), tta, batch_size)


def _load_registry_predictor(name: str, batch_size: int, visiting: tuple[str, ...]) -> Predictor:
    if name in visiting:
        raise EvaluationError(
            _("The ensemble {name} contains itself (through {path}): rebuild it from single models.").format(
                name=repr(visiting[0]), path=" -> ".join(visiting + (name,))
            )
        )
    run = registry.read_run(name)
    if run.kind == "keras":
        return KerasPredictor(registry.load_model(name), name=name, batch_size=batch_size)
    if run.kind == "ensemble":
        members = run.config.get("members") or []
        weights = run.config.get("weights")
        if weights is None:
            weights = [1.0 / len(members)] * len(members) if members else []
        loaded = []
        for member in members:
            try:
                loaded.append(_load_registry_predictor(member, batch_size, visiting + (name,)))
            except registry.RegistryError as error:
                raise EvaluationError(
                    _(
                        "The ensemble {name} needs the model {member}, which cannot be loaded ({error}). "
                        "Delete the ensemble or restore that model."
                    ).format(name=repr(name), member=repr(member), error=error)
                ) from error
        return EnsemblePredictor(loaded, weights, name=name)
    raise EvaluationError(
        _("{name} is of kind {kind}, which this app cannot evaluate.").format(name=repr(name), kind=repr(run.kind))
    )


def run_fingerprint(name: str) -> str:
    """Changes whenever the run (or any ensemble member) is re-saved: a key for caches."""
    run = registry.read_run(name)
    parts = [name, str((run.path / registry.CONFIG_FILE).stat().st_mtime_ns)]
    model_file = run.path / registry.MODEL_FILE
    if model_file.exists():
        parts.append(str(model_file.stat().st_mtime_ns))
    if run.kind == "ensemble":
        parts += [run_fingerprint(member) for member in run.config.get("members", []) if member != name]
    return "|".join(parts)


# ---------------------------------------------------------------------------------------------
# Predictions with a small cache, so that switching cells or pages never re-runs a model


def images_fingerprint(images: np.ndarray, labels: np.ndarray) -> str:
    digest = hashlib.blake2b(digest_size=12)
    digest.update(np.ascontiguousarray(labels).tobytes())
    digest.update(np.ascontiguousarray(images).tobytes())
    return digest.hexdigest()


class PredictionCache:
    """The last few prediction arrays, keyed by (model, data, split, tta); thread-safe."""

    def __init__(self, capacity: int = 16):
        self.capacity = capacity
        self._entries: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict = {}  # key -> the lock its one computation holds

    def get_or_compute(self, key, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached value, or `compute()` run once however many threads ask for `key` at the same time.

        Thirty students opening the confusion matrix together each loaded the model and predicted
        the split beside the others: the server's memory peaked at 14 GB. The others now wait for
        the first one's answer.
        """
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        try:
            with computing:
                value = self.get(key)
                if value is None:
                    value = compute()
                    self.put(key, value)
                return value
        finally:
            with self._lock:
                if self._computing.get(key) is computing:
                    del self._computing[key]

    def get(self, key):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            return None

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


PREDICTIONS = PredictionCache()
# Whole splits predicted at once in one server, whatever the number of sessions asking: each holds a
# loaded model and its batches, so a class opening different models together stays within memory.
PREDICTION_SLOTS = threading.BoundedSemaphore(2)


def predict_split(
    model_name: str,
    dataset,
    split: str = "test",
    tta: str = "none",
    progress: Progress | None = None,
    cache: PredictionCache | None = PREDICTIONS,
) -> np.ndarray:
    """Probabilities `(N, 7)` of registry model `model_name` on one split of a FaceDataset, cached."""
    images, labels = dataset.split(split)
    if len(images) == 0:
        raise EvaluationError(
            _("The {split} split of {dataset} is empty: pick another split or data set.").format(
                split=split, dataset=repr(dataset.name)
            )
        )

    def compute() -> np.ndarray:
        with PREDICTION_SLOTS:
            predictor = load_predictor(model_name, tta=tta)
            probabilities = predict_faces(predictor, images, progress=progress)
        if probabilities.shape != (len(images), NUM_CLASSES):
            raise EvaluationError(
                _(
                    "{model} returned predictions of shape {shape}; the app needs {expected}, one probability "
                    "per emotion."
                ).format(model=model_name, shape=probabilities.shape, expected=(len(images), NUM_CLASSES))
            )
        probabilities.setflags(write=False)
        return probabilities

    if cache is None:
        return compute()
    key = (run_fingerprint(model_name), dataset.name, split, tta, images_fingerprint(images, labels))
    probabilities = cache.get_or_compute(key, compute)
    if progress is not None:
        progress(1.0)
    return probabilities


# ---------------------------------------------------------------------------------------------
# The confusion matrix and what it says


def confusion_matrix(true_labels, predicted_labels, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts: row = true label, column = predicted label."""
    true_labels = np.asarray(true_labels, dtype=np.int64)
    predicted_labels = np.asarray(predicted_labels, dtype=np.int64)
    if true_labels.shape != predicted_labels.shape:
        raise ValueError(
            _("{true} true labels but {predicted} predictions: they must pair up.").format(
                true=true_labels.size, predicted=predicted_labels.size
            )
        )
    outside = {
        "true": N_("A true label lies outside 0..{last}: {low}..{high}."),
        "predicted": N_("A predicted label lies outside 0..{last}: {low}..{high}."),
    }
    for what, labels in (("true", true_labels), ("predicted", predicted_labels)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                _(outside[what]).format(last=num_classes - 1, low=labels.min(), high=labels.max())
            )
    flat = np.bincount(true_labels * num_classes + predicted_labels, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its total: the share of each true class that went to each prediction.

    A class with no faces keeps a row of zeros rather than dividing by zero.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)


def accuracy(matrix: np.ndarray) -> float:
    matrix = np.asarray(matrix)
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else 0.0


@dataclass(frozen=True)
class ClassMetrics:
    emotion: str
    precision: float
    recall: float
    f1: float
    support: int


def per_class_metrics(matrix: np.ndarray, class_names: Sequence[str] = EMOTIONS) -> list[ClassMetrics]:
    """Precision (of the faces called X, how many are X), recall (of the X faces, how many were
    found), their harmonic mean F1, and support (how many X faces there are). A ratio with
    nothing to divide by is reported as 0."""
    matrix = np.asarray(matrix, dtype=np.float64)
    correct = np.diag(matrix)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    recall = np.divide(correct, actual, out=np.zeros_like(correct), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(correct), where=both > 0)
    return [
        ClassMetrics(class_names[i], float(precision[i]), float(recall[i]), float(f1[i]), int(actual[i]))
        for i in range(len(matrix))
    ]


@dataclass(frozen=True)
class ConfusedPair:
    true_label: int
    predicted_label: int
    count: int
    share_of_true: float  # count / faces of the true class

    def describe(self, class_names: Sequence[str] | None = None) -> str:
        """"Angry taken for Sad: 12 faces (9% of Angry)", in the reader's language."""
        class_names = expressions() if class_names is None else class_names
        sentence = ngettext(
            "{true} taken for {predicted}: {count} face ({share} of {true})",
            "{true} taken for {predicted}: {count} faces ({share} of {true})",
            self.count,
        )
        return sentence.format(
            true=class_names[self.true_label], predicted=class_names[self.predicted_label], count=self.count,
            share=format_percent(self.share_of_true),
        )


def most_confused_pairs(matrix: np.ndarray, top: int | None = 10) -> list[ConfusedPair]:
    """Off-diagonal cells, most faces first (ties: larger share of the true class first)."""
    matrix = np.asarray(matrix)
    shares = normalise_rows(matrix)
    pairs = [
        ConfusedPair(i, j, int(matrix[i, j]), float(shares[i, j]))
        for i in range(len(matrix))
        for j in range(len(matrix))
        if i != j and matrix[i, j] > 0
    ]
    pairs.sort(key=lambda pair: (-pair.count, -pair.share_of_true, pair.true_label, pair.predicted_label))
    return pairs if top is None else pairs[:top]


def cell_indices(true_labels, predicted_labels, true_label: int, predicted_label: int) -> np.ndarray:
    """Positions of the faces of class `true_label` that the model called `predicted_label`."""
    true_labels = np.asarray(true_labels)
    predicted_labels = np.asarray(predicted_labels)
    return np.flatnonzero((true_labels == true_label) & (predicted_labels == predicted_label))


@dataclass(frozen=True)
class Evaluation:
    """Everything the confusion lesson shows, computed once from the probabilities."""

    probabilities: np.ndarray  # (N, 7)
    labels: np.ndarray  # (N,)

    @property
    def predictions(self) -> np.ndarray:
        return np.argmax(self.probabilities, axis=1)

    @property
    def matrix(self) -> np.ndarray:
        return confusion_matrix(self.labels, self.predictions, self.probabilities.shape[1])

    @property
    def accuracy(self) -> float:
        return accuracy(self.matrix)

    def per_class(self) -> list[ClassMetrics]:
        return per_class_metrics(self.matrix)

    def confused_pairs(self, top: int | None = 10) -> list[ConfusedPair]:
        return most_confused_pairs(self.matrix, top)

    def cell(self, true_label: int, predicted_label: int) -> np.ndarray:
        return cell_indices(self.labels, self.predictions, true_label, predicted_label)


def evaluate_probabilities(probabilities: np.ndarray, labels: np.ndarray) -> Evaluation:
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise ValueError(
            _("Need one row of probabilities per label: got {shape} for {count} labels.").format(
                shape=probabilities.shape, count=len(labels)
            )
        )
    return Evaluation(probabilities, labels)


def evaluate_split(
    model_name: str, dataset, split: str = "test", tta: str = "none", progress: Progress | None = None
) -> Evaluation:
    probabilities = predict_split(model_name, dataset, split, tta, progress=progress)
    return evaluate_probabilities(probabilities, dataset.split(split)[1])


def pad_columns(text: str, width: int, right: bool = True) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)
    space = " " * max(0, width - columns)
    return space + text if right else text + space


def format_report(evaluation: Evaluation, class_names: Sequence[str] | None = None) -> str:
    """A plain-text report: accuracy, per-class table, confusion matrix (counts), in the reader's language."""
    class_names = expressions() if class_names is None else class_names
    lines = [_("accuracy {accuracy} on {count} faces").format(
        accuracy=f"{evaluation.accuracy:.4f}", count=len(evaluation.labels)), ""]
    lines.append(pad_columns(_("emotion"), 10, right=False) + "".join(
        pad_columns(heading, 10) for heading in (_("precision"), _("recall"), _("f1"), _("support"))))
    for row in evaluation.per_class():
        name = class_names[EMOTIONS.index(row.emotion)] if row.emotion in EMOTIONS else row.emotion
        lines.append(pad_columns(name, 10, right=False) + f"{row.precision:>10.3f}{row.recall:>10.3f}{row.f1:>10.3f}"
                     f"{row.support:>10d}")
    lines += ["", _("confusion matrix (rows: true, columns: predicted)")]
    short = [name[:8] for name in class_names]
    lines.append(" " * 10 + "".join(pad_columns(name, 9) for name in short))
    for name, row in zip(short, evaluation.matrix):
        lines.append(pad_columns(name, 10, right=False) + "".join(f"{count:>9d}" for count in row))
    pairs = evaluation.confused_pairs(top=5)
    if pairs:
        lines += ["", _("most confused:")] + [f"  {pair.describe(class_names)}" for pair in pairs]
    return "\n".join(lines)
