"""An ensemble as one Keras network, so it can leave Python like a single model (TF.js, the webcam).

Every member reads the same 48x48 face; their softmax outputs are scaled by the ensemble's
weights and added: `sum_m w_m p_m`, exactly what `fer.evaluate.EnsemblePredictor` computes one
member after another. In one graph the browser runs all members on each frame in one call.
"""

from __future__ import annotations

import keras

from fer import registry
from fer.i18n import _


class EnsembleNetworkError(ValueError):
    pass


def member_weights(run: registry.RunInfo) -> tuple[list[str], list[float]]:
    members = list(run.config.get("members") or [])
    weights = run.config.get("weights")
    if weights is None:
        weights = [1.0 / len(members)] * len(members) if members else []
    return members, [float(weight) for weight in weights]


def _load_network(name: str, visiting: tuple[str, ...]) -> keras.Model:
    if name in visiting:
        raise EnsembleNetworkError(
            _("The ensemble {name} contains itself (through {path}): rebuild it from single models.").format(
                name=repr(visiting[0]), path=" -> ".join(visiting + (name,))
            )
        )
    run = registry.read_run(name)
    if run.kind == "keras":
        return registry.load_model(name)
    if run.kind != "ensemble":
        raise EnsembleNetworkError(
            _("{name} is of kind {kind}, which this app cannot evaluate.").format(name=repr(name), kind=repr(run.kind))
        )
    members, weights = member_weights(run)
    if len(members) < 2:
        raise EnsembleNetworkError(_("An ensemble needs at least two models: pick more."))
    if len(weights) != len(members):
        raise EnsembleNetworkError(
            _("{members} members but {weights} weights: give one weight per model.").format(
                members=len(members), weights=len(weights)
            )
        )
    return combine_networks([_load_network(member, visiting + (name,)) for member in members], weights, name)


def combine_networks(networks: list[keras.Model], weights: list[float], name: str = "ensemble") -> keras.Model:
    """One functional model: the input goes to every network, the outputs are mixed with `weights`."""
    shapes = {tuple(network.input_shape[1:]) for network in networks}
    if len(shapes) != 1:
        raise EnsembleNetworkError(
            _("The members of {name} take inputs of different shapes ({shapes}): they cannot share one face.").format(
                name=repr(name), shapes=", ".join(str(shape) for shape in sorted(shapes))
            )
        )
    inputs = keras.Input(shapes.pop(), name="face")
    scaled = []
    for index, (network, weight) in enumerate(zip(networks, weights)):
        # A wrapper with a name of its own: two members may share an architecture (and so a name).
        member = keras.Model(network.inputs[0], network.outputs[0], name=f"member_{index}_{network.name}")
        scaled.append(keras.layers.Rescaling(weight, name=f"weight_{index}")(member(inputs)))
    outputs = keras.layers.Add(name="weighted_sum")(scaled)
    return keras.Model(inputs, outputs, name="ensemble")


def parameter_count(name: str, visiting: tuple[str, ...] = ()) -> int | None:
    """The weights a run carries (an ensemble: all its members'), from the configs; None if one is not recorded."""
    run = registry.read_run(name)
    if run.kind != "ensemble":
        count = run.config.get("parameters")
        return count if isinstance(count, int) else None
    if name in visiting:
        return None
    counts = [parameter_count(member, visiting + (name,)) for member in member_weights(run)[0]]
    return sum(counts) if counts and None not in counts else None


def load_network(name: str) -> keras.Model:
    """Registry run `name` as one Keras model: a network as saved, an ensemble as its members in one graph."""
    return _load_network(name, visiting=())
