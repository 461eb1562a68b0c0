"""Ensembles: combine several models' probabilities with weights fitted on the validation split.

The combined prediction is `sum_m w_m * p_m` with every `w_m >= 0` and `sum_m w_m = 1` (the
weights lie on the *simplex*), so it is again a probability distribution. The weights are
chosen to minimise the validation log-loss `-mean(log(sum_m w_m p_m[y]))`. That loss is
convex in `w`, so a plain projected gradient descent finds the best weights; for two or
three models we can also just try every point of a fine grid on the simplex and see that
both agree. The test split is never looked at while fitting: it only judges the result.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from fer import registry
from fer.i18n import _

EPSILON = 1e-12


def _stack(probabilities: Sequence[np.ndarray], labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stacked = np.asarray([np.asarray(p, dtype=np.float64) for p in probabilities])
    labels = np.asarray(labels, dtype=np.int64)
    if stacked.ndim != 3:
        raise ValueError(
            _("Give one (N, classes) probability array per model, all of the same shape; got shapes {shapes}.").format(
                shapes=[np.shape(p) for p in probabilities]
            )
        )
    if stacked.shape[1] != len(labels):
        raise ValueError(
            _("The models predicted {faces} faces but there are {labels} labels.").format(
                faces=stacked.shape[1], labels=len(labels)
            )
        )
    return stacked, labels


def combine(probabilities: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """The weighted average `sum_m w_m p_m`."""
    return np.tensordot(np.asarray(weights, dtype=np.float64), np.asarray(probabilities, dtype=np.float64), axes=1)


def log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    labels = np.asarray(labels, dtype=np.int64)
    chosen = np.asarray(probabilities)[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.maximum(chosen, EPSILON))))


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(probabilities, axis=1) == np.asarray(labels)))


def project_to_simplex(vector: np.ndarray) -> np.ndarray:
    """The closest point (Euclidean) with non-negative entries summing to one (sort-based algorithm)."""
    vector = np.asarray(vector, dtype=np.float64)
    ordered = np.sort(vector)[::-1]
    cumulative = np.cumsum(ordered) - 1.0
    steps = np.arange(1, len(vector) + 1)
    last = np.flatnonzero(ordered - cumulative / steps > 0)[-1]
    threshold = cumulative[last] / (last + 1)
    return np.maximum(vector - threshold, 0.0)


def simplex_grid(num_models: int, step: float = 0.05) -> np.ndarray:
    """Every weight vector whose entries are multiples of `step` and sum to one."""
    divisions = int(round(1.0 / step))
    if not np.isclose(divisions * step, 1.0):
        raise ValueError(_("step must divide 1 evenly (0.1, 0.05, ...); got {step}.").format(step=step))
    points = [
        combination
        for combination in itertools.product(range(divisions + 1), repeat=num_models - 1)
        if sum(combination) <= divisions
    ]
    grid = np.array([[*combination, divisions - sum(combination)] for combination in points], dtype=np.float64)
    return grid / divisions


def fit_weights_grid(
    probabilities: Sequence[np.ndarray], labels: np.ndarray, step: float = 0.05, objective: str = "log_loss"
) -> np.ndarray:
    """Try every grid point on the simplex; keep the lowest validation log-loss (or highest accuracy)."""
    stacked, labels = _stack(probabilities, labels)
    if len(stacked) > 4:
        raise ValueError(
            _("A grid over {count} models is too large to search; use fit_weights (gradient) instead.").format(
                count=len(stacked)
            )
        )
    grid = simplex_grid(len(stacked), step)
    if objective == "log_loss":
        scores = [log_loss(combine(stacked, weights), labels) for weights in grid]
    elif objective == "accuracy":
        scores = [-accuracy(combine(stacked, weights), labels) for weights in grid]
    else:
        raise ValueError(
            _("Unknown objective {objective}: use 'log_loss' or 'accuracy'.").format(objective=repr(objective))
        )
    return grid[int(np.argmin(scores))]


def fit_weights(
    probabilities: Sequence[np.ndarray], labels: np.ndarray, steps: int = 500, learning_rate: float = 0.5
) -> np.ndarray:
    """Minimise validation log-loss over the simplex by projected gradient descent.

    Starts from plain averaging; each step moves against the gradient
    `-mean(p_m[y] / mixture[y])` and projects back onto the simplex.
    """
    stacked, labels = _stack(probabilities, labels)
    num_models = len(stacked)
    if num_models == 1:
        return np.ones(1)
    correct = stacked[:, np.arange(len(labels)), labels]  # (models, N): each model's p[true label]
    weights = np.full(num_models, 1.0 / num_models)
    best_weights, best_loss = weights, _mixture_loss(correct, weights)
    for _step in range(steps):
        mixture = np.maximum(weights @ correct, EPSILON)
        gradient = -(correct / mixture).mean(axis=1)
        candidate = project_to_simplex(weights - learning_rate * gradient)
        loss = _mixture_loss(correct, candidate)
        if loss > best_loss + 1e-12:
            learning_rate /= 2  # overshot: smaller steps; the loss is convex so this converges
            if learning_rate < 1e-8:
                break
            continue
        weights = candidate
        if best_loss - loss < 1e-12:
            best_weights, best_loss = weights, loss
            break
        best_weights, best_loss = weights, loss
    return best_weights


def _mixture_loss(correct: np.ndarray, weights: np.ndarray) -> float:
    return float(-np.mean(np.log(np.maximum(weights @ correct, EPSILON))))


@dataclass(frozen=True)
class EnsembleComparison:
    """How the fitted ensemble does on test against its parts and against plain averaging."""

    names: list[str]
    weights: np.ndarray
    single_test_accuracy: dict[str, float]
    averaging_test_accuracy: float
    weighted_test_accuracy: float
    weighted_val_log_loss: float
    averaging_val_log_loss: float
    extra: dict = field(default_factory=dict)

    @property
    def best_single(self) -> tuple[str, float]:
        name = max(self.single_test_accuracy, key=self.single_test_accuracy.get)
        return name, self.single_test_accuracy[name]

    @property
    def gain_over_best_single(self) -> float:
        return self.weighted_test_accuracy - self.best_single[1]

    @property
    def gain_over_averaging(self) -> float:
        return self.weighted_test_accuracy - self.averaging_test_accuracy

    def as_metrics(self) -> dict:
        best_name, best_accuracy = self.best_single
        return {
            "test_accuracy": self.weighted_test_accuracy,
            "averaging_test_accuracy": self.averaging_test_accuracy,
            "best_single_model": best_name,
            "best_single_test_accuracy": best_accuracy,
            "val_log_loss": self.weighted_val_log_loss,
            "member_test_accuracy": dict(self.single_test_accuracy),
            **self.extra,
        }


def compare(
    names: Sequence[str],
    val_probabilities: Sequence[np.ndarray],
    val_labels: np.ndarray,
    test_probabilities: Sequence[np.ndarray],
    test_labels: np.ndarray,
    method: str = "gradient",
) -> EnsembleComparison:
    """Fit weights on validation, then score single models, averaging and the weighted ensemble on test."""
    if len(names) != len(val_probabilities) or len(names) != len(test_probabilities):
        raise ValueError(_("Give one name, one validation and one test probability array per model."))
    if method == "gradient":
        weights = fit_weights(val_probabilities, val_labels)
    elif method == "grid":
        weights = fit_weights_grid(val_probabilities, val_labels)
    else:
        raise ValueError(_("Unknown method {method}: use 'gradient' or 'grid'.").format(method=repr(method)))
    average = np.full(len(names), 1.0 / len(names))
    return EnsembleComparison(
        names=list(names),
        weights=weights,
        single_test_accuracy={
            name: accuracy(probabilities, test_labels) for name, probabilities in zip(names, test_probabilities)
        },
        averaging_test_accuracy=accuracy(combine(test_probabilities, average), test_labels),
        weighted_test_accuracy=accuracy(combine(test_probabilities, weights), test_labels),
        weighted_val_log_loss=log_loss(combine(val_probabilities, weights), val_labels),
        averaging_val_log_loss=log_loss(combine(val_probabilities, average), val_labels),
    )


def save_ensemble(
    name: str,
    members: Sequence[str],
    weights: Sequence[float],
    dataset: str,
    metrics: dict | None = None,
    overwrite: bool = False,
    owner: str | None = None,
):
    """Write the ensemble to the registry; `fer.evaluate.load_predictor(name)` then uses it.

    `owner`: who made it, recorded like a training's owner (only they and the teacher may rename or delete it).
    """
    members = list(members)
    weights = [float(weight) for weight in weights]
    if len(members) < 2:
        raise ValueError(_("An ensemble needs at least two models: pick more."))
    if len(weights) != len(members):
        raise ValueError(
            _("{members} members but {weights} weights: give one weight per model.").format(
                members=len(members), weights=len(weights)
            )
        )
    if name in members:
        raise ValueError(
            _("The ensemble cannot be called {name}, the name of one of its members.").format(name=repr(name))
        )
    for member in members:
        registry.read_run(member)  # a missing member fails now, not when someone loads the ensemble
    config = {
        "kind": "ensemble",
        "architecture": "ensemble",
        "dataset": dataset,
        "members": members,
        "weights": weights,
    }
    if owner:
        config["owner"] = owner
    return registry.save_run(name, None, config=config, metrics=metrics or {}, overwrite=overwrite)


def training_cost(member_configs: Sequence[dict]) -> dict | None:
    """What training the members cost on an idle machine ({"quiet_hours", "quiet_cpu_hours"}), from the
    "cost" each shipped member's config.json states; None when one states none. Snapshots of one run
    (fer.snapshots) share its epochs, so that run counts once, at its longest snapshot."""
    runs: dict[str, dict] = {}
    for index, config in enumerate(member_configs):
        cost = config.get("cost")
        if not cost:
            return None
        run = config.get("snapshot_of") or f"member {index}"
        if run not in runs or cost["quiet_cpu_hours"] > runs[run]["quiet_cpu_hours"]:
            runs[run] = cost
    return {key: sum(cost[key] for cost in runs.values()) for key in ("quiet_hours", "quiet_cpu_hours")}
