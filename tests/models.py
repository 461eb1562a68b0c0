"""The tiny Keras models the tests build, in one place.

Each builder is seeded, so two calls with the same arguments give the same weights. They are
small enough to build and run in well under a second on two CPU cores, and real enough that
every code path a trained FER model takes (convolutions, pooling, BatchNorm, softmax) runs.

    model = tiny_cnn(seed=0)                       # conv1 -> pool1 -> conv2 -> pool2 -> predictions
    save_tiny_run("tiny", model)                   # into the registry the test's FER_MODELS_DIR names
    with registry_folder(server.models_dir):       # into another registry folder (a running app's)
        save_tiny_run("tiny", pooled_softmax())
    again = saved_and_reloaded(model, tmp_path)    # through a .keras file and back
"""

import contextlib
import os
from pathlib import Path

import keras


def tiny_cnn(
    seed: int = 0,
    input_shape: tuple[int, int, int] = (48, 48, 1),
    classes: int = 7,
    filters: tuple[int, int] = (4, 4),
    pools: tuple[int, int] = (4, 2),
) -> keras.Model:
    """conv1 (ReLU) -> pool1 (max) -> conv2 (linear) -> pool2 (average) -> flatten -> predictions.

    Every layer is named, so tests can point at "conv2" or "pool1". conv2 has no activation, so
    no filter of it starts dead: gradient ascent can raise every one of them.
    """
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(filters[0], 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(pools[0], name="pool1")(x)
    x = keras.layers.Conv2D(filters[1], 3, padding="same", name="conv2")(x)
    x = keras.layers.AveragePooling2D(pools[1], name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny_cnn")


def pooled_softmax(seed: int = 0, input_shape: tuple[int, int, int] = (48, 48, 1), classes: int = 7) -> keras.Model:
    """Average-pool 6x6 -> flatten -> dense softmax with large random weights.

    No convolution at all: the cheapest model that still gives confident, seed-dependent and
    different predictions for different faces (so confusion matrices are not one column).
    """
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.AveragePooling2D(6),
            keras.layers.Flatten(),
            keras.layers.Dense(
                classes, activation="softmax", kernel_initializer=keras.initializers.RandomNormal(stddev=3.0)
            ),
        ],
        name="pooled_softmax",
    )


def flat_softmax(seed: int = 0, input_shape: tuple[int, int, int] = (48, 48, 1), classes: int = 7) -> keras.Model:
    """Flatten -> dense softmax: no layer with spatial maps at all (nothing for Grad-CAM or feature maps)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(input_shape)
    outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs, name="flat_softmax")


def batchnorm_cnn(
    seed: int = 0, input_shape: tuple[int, int, int] = (48, 48, 1), classes: int = 7, spread: float = 1.0
) -> keras.Model:
    """Conv (ReLU) -> BatchNorm -> max-pool 4x4 -> flatten -> dense softmax: the layers an export must carry.

    `spread` multiplies the last layer's weights: 20 makes the probabilities far from uniform, so a
    wrong crop or a wrong pixel scale shows in them.
    """
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D(4)(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs, name="batchnorm_cnn")
    if spread != 1.0:
        layer = model.get_layer("predictions")
        layer.set_weights([weight * spread for weight in layer.get_weights()])
    return model


def save_tiny_run(name: str, model: keras.Model | None = None, **config) -> Path:
    """Save `model` (tiny_cnn() when None) as a registry run; `config` adds to or replaces the defaults."""
    from fer import registry

    history_rows = config.pop("history_rows", ())
    metrics = config.pop("metrics", None)
    model = tiny_cnn() if model is None else model
    config = {"architecture": "tiny", "dataset": "synthetic", **config}
    return registry.save_run(name, model, config, history_rows=history_rows, metrics=metrics)


@contextlib.contextmanager
def registry_folder(path: Path):
    """Point the registry (FER_MODELS_DIR) at `path` for the `with` block, then put it back."""
    previous = os.environ.get("FER_MODELS_DIR")
    os.environ["FER_MODELS_DIR"] = str(path)
    try:
        yield Path(path)
    finally:
        if previous is None:
            os.environ.pop("FER_MODELS_DIR", None)
        else:
            os.environ["FER_MODELS_DIR"] = previous


def saved_and_reloaded(model: keras.Model, folder: Path) -> keras.Model:
    """The same model after a round trip through a .keras file, as the pages load it from the registry."""
    path = Path(folder) / f"{model.name}.keras"
    model.save(path)
    return keras.models.load_model(path, safe_mode=True, compile=False)
