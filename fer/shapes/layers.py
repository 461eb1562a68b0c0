"""Layer specs: one frozen dataclass per Keras layer, with Keras's own argument names.

A stack is a list of these, read top to bottom: `[Conv2D(64, 5), MaxPooling2D(2), Flatten(), Dense(7)]`.
They hold settings only; what a layer does to a shape lives in `arithmetic.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

ACTIVATIONS = ("relu", "softmax", "sigmoid", "tanh", "elu")


class StackError(ValueError):
    """A stack that cannot be read or built; the message says which layer and what to change."""


@dataclass(frozen=True)
class Conv2D:
    filters: int = 32
    kernel_size: int = 3
    strides: int = 1
    padding: Union[str, int] = "valid"  # "valid", "same", or an explicit number of pixels
    dilation_rate: int = 1
    use_bias: bool = True
    activation: str | None = None


@dataclass(frozen=True)
class MaxPooling2D:
    pool_size: int = 2
    strides: int | None = None  # None: the pool size, as in Keras
    padding: str = "valid"


@dataclass(frozen=True)
class AveragePooling2D:
    pool_size: int = 2
    strides: int | None = None
    padding: str = "valid"


@dataclass(frozen=True)
class ZeroPadding2D:
    padding: int = 1


@dataclass(frozen=True)
class Flatten:
    pass


@dataclass(frozen=True)
class GlobalAveragePooling2D:
    pass


@dataclass(frozen=True)
class Dense:
    units: int = 64
    activation: str | None = None
    use_bias: bool = True


@dataclass(frozen=True)
class Dropout:
    rate: float = 0.5


@dataclass(frozen=True)
class BatchNormalization:
    pass


@dataclass(frozen=True)
class ReLU:
    pass


@dataclass(frozen=True)
class LeakyReLU:
    negative_slope: float = 0.3


Layer = Union[
    Conv2D, MaxPooling2D, AveragePooling2D, ZeroPadding2D, Flatten, GlobalAveragePooling2D,
    Dense, Dropout, BatchNormalization, ReLU, LeakyReLU,
]
LAYER_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Conv2D, MaxPooling2D, AveragePooling2D, ZeroPadding2D, Flatten, GlobalAveragePooling2D,
        Dense, Dropout, BatchNormalization, ReLU, LeakyReLU,
    )
}
_NAME_PREFIX = {
    "Conv2D": "conv", "MaxPooling2D": "maxpool", "AveragePooling2D": "avgpool",
    "ZeroPadding2D": "pad", "Flatten": "flatten", "GlobalAveragePooling2D": "global_pool",
    "Dense": "dense", "Dropout": "dropout", "BatchNormalization": "batchnorm",
    "ReLU": "relu", "LeakyReLU": "leaky_relu",
}


def layer_names(stack: list[Layer]) -> list[str]:
    """Readable, unique names: conv1, conv2, maxpool1, flatten1, ..."""
    counts: dict[str, int] = {}
    names = []
    for layer in stack:
        prefix = _NAME_PREFIX[type(layer).__name__]
        counts[prefix] = counts.get(prefix, 0) + 1
        names.append(f"{prefix}{counts[prefix]}")
    return names
