"""Example networks to start the calculator from: the two homework reports' networks, layer for layer,
and our small demo CNN. `fer.nets.ARCHITECTURES` builds the same networks in Keras, and the tests
check that both agree row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

from fer.i18n import N_

from .layers import (
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    ZeroPadding2D,
)


@dataclass(frozen=True)
class ExampleNetwork:
    title: str  # in English, marked for the catalogue: show _(network.title)
    description: str
    input_shape: tuple[int, int, int]
    stack: tuple


def _report_a_cnn() -> list[Layer]:
    stack: list[Layer] = []
    for filters, kernel, pad in ((32, 5, 2), (128, 5, 2), (256, 3, 1), (256, 3, 1)):
        stack += [Conv2D(filters, kernel, padding=pad), LeakyReLU(0.05), BatchNormalization(), MaxPooling2D(2)]
    return stack + [Flatten(), Dense(256, activation="relu"), BatchNormalization(), Dense(7, activation="softmax")]


def _report_b_cnn() -> list[Layer]:
    return [
        Conv2D(64, 5, activation="relu"), ZeroPadding2D(2), MaxPooling2D(5, strides=2),
        ZeroPadding2D(1), Conv2D(64, 3, activation="relu"),
        ZeroPadding2D(1), Conv2D(64, 3, activation="relu"), AveragePooling2D(3, strides=2),
        ZeroPadding2D(1), Dropout(0.2), Conv2D(96, 3, activation="relu"),
        ZeroPadding2D(1), Conv2D(128, 3, activation="relu"),
        ZeroPadding2D(1), Dropout(0.2), Conv2D(128, 3, activation="relu"),
        ZeroPadding2D(1), AveragePooling2D(3, strides=2), Dropout(0.2),
        Flatten(), Dense(900, activation="relu"), Dense(900, activation="relu"), Dense(7, activation="softmax"),
    ]


def _report_b_dnn() -> list[Layer]:
    stack: list[Layer] = [Flatten()]
    for units in (1024, 1024, 768, 768, 512, 512):
        stack += [Dense(units, activation="relu"), Dropout(0.2)]
    return stack + [Dense(7, activation="softmax")]


def _small_cnn() -> list[Layer]:
    stack: list[Layer] = []
    for filters in (16, 32, 64):
        stack += [Conv2D(filters, 3, padding="same", use_bias=False), BatchNormalization(), ReLU(), MaxPooling2D(2)]
    return stack + [
        Flatten(), Dropout(0.25), Dense(32, use_bias=False), BatchNormalization(), ReLU(),
        Dense(7, activation="softmax"),
    ]


EXAMPLE_NETWORKS: dict[str, ExampleNetwork] = {
    "report_a_cnn": ExampleNetwork(
        N_("Report A CNN"), N_("Four conv blocks with explicit padding 2, 2, 1, 1; 1,582,343 trainable parameters."),
        (48, 48, 1), tuple(_report_a_cnn()),
    ),
    "report_b_cnn": ExampleNetwork(
        N_("Report B CNN"), N_("Zero padding, pooling with 5x5/2 and 3x3/2 windows; 4,087,323 parameters."),
        (48, 48, 1), tuple(_report_b_cnn()),
    ),
    "report_b_dnn": ExampleNetwork(
        N_("Report B DNN"), N_("No convolutions: 2304 -> 1024 -> 1024 -> 768 -> 768 -> 512 -> 512 -> 7."),
        (48, 48, 1), tuple(_report_b_dnn()),
    ),
    "small_cnn": ExampleNetwork(
        N_("Our small demo CNN"), N_("Three 'same'-padded conv blocks that halve the image each time."),
        (48, 48, 1), tuple(_small_cnn()),
    ),
}
