"""Architectures: the two homework reports' networks (report A, report B), rebuilt exactly, and our own.

Every builder takes `num_classes=7` and `input_shape=(48, 48, 1)` and returns an
uncompiled `keras.Model` whose last layer outputs softmax probabilities. Layers carry
readable names (`conv1`, `conv1_batchnorm`, `pool1`, ...) so that summaries, feature-map
pickers and the shape lesson can refer to them. No `Lambda` layers: every model loads in
Keras's safe mode.

Parameter counts, as `model.count_params()` gives them:

| name        | all parameters | trainable  | note                                         |
| ----------- | -------------- | ---------- | -------------------------------------------- |
| report_a_cnn | 1,584,199      | 1,582,343  | report A counts trainable (PyTorch style)  |
| report_b_cnn | 4,087,323      | 4,087,323  |                                              |
| report_b_dnn | 5,447,687      | 5,447,687  |                                              |
| small_cnn   | 97,719         | 97,431     | ours: for class demos, trains in seconds     |
| vgg_fer     | 7,182,919      | 7,179,079  | ours: VGG-style, for GPUs                    |
| quick_cnn   | 1,129,127      | 1,127,911  | ours: the first shipped model, CPU-sized     |
| vgg_narrow  | 1,439,527      | 1,437,095  | ours: the shipped model's family (44 crops)  |
| vgg_wide    | 3,233,719      | 3,230,071  | ours: a wider ensemble member (44 crops)     |
| resnet_narrow | 1,230,503    | 1,227,623  | ours: residual blocks, another family        |
| tiny_cnn    | 167            | 151        | ours: a toy for tests and instant demos      |

Our own networks take `crop_size`: a network trained on random crops of, say, 44 out of 48
pixels starts with a centre crop (a `Cropping2D` layer of 2 pixels a side), so its input stays the 48x48 face everywhere
(pages, export, webcam). Training shifts each face by up to (48 - 44) / 2 = 2 pixels before
that centre crop, which is exactly a random 44-pixel crop; at test time the centre crop is
the classic centre view, and ten-crop test-time augmentation shifts to the four corners.

The difference between "all" and "trainable" is BatchNormalization's moving mean and
variance: Keras counts them as (non-trainable) parameters, PyTorch does not.
"""

from __future__ import annotations

from typing import Callable

import keras
from keras import layers

from fer.i18n import N_, _

NUM_CLASSES = 7
INPUT_SHAPE = (48, 48, 1)


def image_input(input_shape=INPUT_SHAPE, crop_size: int | None = None):
    """The input layer and the tensor after the optional centre crop (see the module docstring)."""
    inputs = keras.Input(shape=input_shape, name="image")
    if not crop_size or crop_size == input_shape[0]:
        return inputs, inputs
    if not 8 <= crop_size < input_shape[0] or (input_shape[0] - crop_size) % 2:
        raise ValueError(_(
            "crop_size must be an even number of pixels fewer than the {size}-pixel face (44 or 40, say), not {crop}."
        ).format(size=input_shape[0], crop=crop_size))
    margin = (input_shape[0] - crop_size) // 2
    # Cropping2D with equal margins is a centre crop; Keras's CenterCrop (a preprocessing layer)
    # does not survive the SavedModel -> TF.js graph conversion.
    return inputs, layers.Cropping2D(((margin, margin), (margin, margin)), name="center_crop")(inputs)


def crop_margin(model) -> int:
    """How many pixels a random crop may shift the face: (input - crop) / 2, 0 without a crop layer."""
    for layer in model.layers:
        if isinstance(layer, layers.Cropping2D):
            (top, _bottom), (_left, _right) = layer.cropping
            return int(top)
    return 0


def _check_dropout_rate(dropout_rate: float) -> None:
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(
            _("dropout_rate must be at least 0 and below 1 (a fraction of units to drop); got {rate}.").format(
                rate=dropout_rate)
        )


def build_report_a_cnn(num_classes: int = NUM_CLASSES, input_shape=INPUT_SHAPE) -> keras.Model:
    """Report A: four conv blocks (conv, LeakyReLU 0.05, BatchNorm, MaxPool 2), then a dense head.

    The report pads every convolution explicitly (5x5 with pad 2, 3x3 with pad 1); with
    stride 1 that is exactly Keras's `padding="same"`, so the image keeps its size until
    each pooling halves it: 48 -> 24 -> 12 -> 6 -> 3.
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for block, (filters, kernel_size) in enumerate(((32, 5), (128, 5), (256, 3), (256, 3)), start=1):
        x = layers.Conv2D(filters, kernel_size, padding="same", name=f"conv{block}")(x)
        x = layers.LeakyReLU(negative_slope=0.05, name=f"conv{block}_leaky_relu")(x)
        x = layers.BatchNormalization(name=f"conv{block}_batchnorm")(x)
        x = layers.MaxPooling2D(pool_size=2, name=f"pool{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, activation="relu", name="dense")(x)
    x = layers.BatchNormalization(name="dense_batchnorm")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="report_a_cnn")


def build_report_b_cnn(
    num_classes: int = NUM_CLASSES, input_shape=INPUT_SHAPE, dropout_rate: float = 0.2
) -> keras.Model:
    """Report B's Keras CNN: 4,087,323 parameters, three quarters of them in the dense head.

    It alternates ZeroPadding2D(1) with valid 3x3 convolutions (which keeps the size), and
    shrinks the image with a 5x5/2 max pool and two 3x3/2 average pools: 48 -> 44 -> 22 -> 10 -> 5.
    """
    _check_dropout_rate(dropout_rate)
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(64, 5, activation="relu", name="conv1")(inputs)
    x = layers.ZeroPadding2D(2, name="pad1")(x)
    x = layers.MaxPooling2D(pool_size=5, strides=2, name="pool1")(x)

    x = layers.ZeroPadding2D(1, name="pad2")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.ZeroPadding2D(1, name="pad3")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv3")(x)
    x = layers.AveragePooling2D(pool_size=3, strides=2, name="pool2")(x)

    x = layers.ZeroPadding2D(1, name="pad4")(x)
    x = layers.Dropout(dropout_rate, name="dropout1")(x)
    x = layers.Conv2D(96, 3, activation="relu", name="conv4")(x)
    x = layers.ZeroPadding2D(1, name="pad5")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv5")(x)
    x = layers.ZeroPadding2D(1, name="pad6")(x)
    x = layers.Dropout(dropout_rate, name="dropout2")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv6")(x)
    x = layers.ZeroPadding2D(1, name="pad7")(x)
    x = layers.AveragePooling2D(pool_size=3, strides=2, name="pool3")(x)
    x = layers.Dropout(dropout_rate, name="dropout3")(x)

    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(900, activation="relu", name="dense1")(x)
    x = layers.Dense(900, activation="relu", name="dense2")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="report_b_cnn")


def build_report_b_dnn(
    num_classes: int = NUM_CLASSES, input_shape=INPUT_SHAPE, dropout_rate: float = 0.2
) -> keras.Model:
    """Report B's fully connected network: 2304 -> 1024 -> 1024 -> 768 -> 768 -> 512 -> 512 -> 7.

    It sees the face as 2,304 unrelated numbers, so it has more parameters than the CNN and
    none of the CNN's knowledge that neighbouring pixels belong together.
    """
    _check_dropout_rate(dropout_rate)
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    for index, units in enumerate((1024, 1024, 768, 768, 512, 512), start=1):
        x = layers.Dense(units, activation="relu", name=f"dense{index}")(x)
        x = layers.Dropout(dropout_rate, name=f"dropout{index}")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="report_b_dnn")


def build_small_cnn(
    num_classes: int = NUM_CLASSES, input_shape=INPUT_SHAPE, crop_size: int | None = None, dropout_rate: float = 0.25
) -> keras.Model:
    """Ours, for class demos: three conv blocks (16, 32, 64 filters) and a 32-unit BatchNorm head, ~98k parameters.

    Small enough to train for a few epochs on the synthetic faces in seconds on a laptop CPU.
    """
    _check_dropout_rate(dropout_rate)
    inputs, x = image_input(input_shape, crop_size)
    for block, filters in enumerate((16, 32, 64), start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}")(x)
        x = layers.BatchNormalization(name=f"conv{block}_batchnorm")(x)
        x = layers.ReLU(name=f"conv{block}_relu")(x)
        x = layers.MaxPooling2D(pool_size=2, name=f"pool{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    # BatchNorm in the head too: with a plain 32-unit ReLU layer it stayed at chance on the
    # synthetic faces for whole runs (its units died before the convolutions found the mouth).
    x = layers.Dense(32, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_batchnorm")(x)
    x = layers.ReLU(name="dense_relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


def build_vgg_fer(
    num_classes: int = NUM_CLASSES, input_shape=INPUT_SHAPE, crop_size: int | None = None, dropout_rate: float = 0.3
) -> keras.Model:
    """Ours, VGG-style: four blocks of two 3x3 convs (64, 128, 256, 512) with BatchNorm and ReLU.

    Each block ends in a 2x2 max pool and dropout (48 -> 24 -> 12 -> 6 -> 3); the head is
    Dense 512 -> Dense 256 -> classes, with dropout between. 7.2M parameters, so its float16
    weights (~14 MB) stay small enough to ship and to run in the browser.
    """
    _check_dropout_rate(dropout_rate)
    inputs, x = image_input(input_shape, crop_size)
    for block, filters in enumerate((64, 128, 256, 512), start=1):
        for index in (1, 2):
            name = f"block{block}_conv{index}"
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
            x = layers.BatchNormalization(name=f"{name}_batchnorm")(x)
            x = layers.ReLU(name=f"{name}_relu")(x)
        x = layers.MaxPooling2D(pool_size=2, name=f"block{block}_pool")(x)
        x = layers.Dropout(dropout_rate, name=f"block{block}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="dense1")(x)
    x = layers.Dropout(dropout_rate, name="dense1_dropout")(x)
    x = layers.Dense(256, activation="relu", name="dense2")(x)
    x = layers.Dropout(dropout_rate, name="dense2_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="vgg_fer")


def build_quick_cnn(
    num_classes: int = NUM_CLASSES, input_shape=INPUT_SHAPE, crop_size: int | None = None, dropout_rate: float = 0.4
) -> keras.Model:
    """Ours, sized for a laptop CPU: five 3x3 convs (32, 64, 128, 128, 256) with BatchNorm and ReLU.

    Pooling 48 -> 24 -> 12 -> 6 -> 3 after the 1st, 2nd, 4th and 5th conv, then dropout, a
    256-unit dense layer, dropout and the classes. About 54M multiply-adds per face, less than
    half the report-A CNN's 125M, so it sees twice the faces in the same minutes.
    """
    _check_dropout_rate(dropout_rate)
    inputs, x = image_input(input_shape, crop_size)
    plan = [("conv1", 32, True), ("conv2", 64, True), ("conv3", 128, False), ("conv4", 128, True), ("conv5", 256, True)]
    for block, (name, filters, pool) in enumerate(plan, start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
        x = layers.BatchNormalization(name=f"{name}_batchnorm")(x)
        x = layers.ReLU(name=f"{name}_relu")(x)
        if pool:
            x = layers.MaxPooling2D(pool_size=2, name=f"pool{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout_rate, name="flatten_dropout")(x)
    x = layers.Dense(256, activation="relu", name="dense")(x)
    x = layers.Dropout(dropout_rate, name="dense_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="quick_cnn")


def build_vgg_narrow(
    num_classes: int = NUM_CLASSES,
    input_shape=INPUT_SHAPE,
    crop_size: int | None = 44,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    dense_units: int = 256,
    dropout_rate: float = 0.3,
) -> keras.Model:
    """Ours, the best accuracy per CPU-second we know: VGG blocks of two 3x3 convs, narrow.

    Each block: conv, BatchNorm, ReLU twice, then 2x2 max pool and dropout (44 -> 22 -> 11 -> 5
    -> 2 on 44-pixel crops), then flatten, dense `dense_units` with BatchNorm, dropout and the
    classes. With widths 32-64-128-256: 1.44M parameters and about 94M multiply-adds per face.
    Published VGG-style networks of this shape reach 70-73 % on FER2013 with long schedules.
    """
    _check_dropout_rate(dropout_rate)
    inputs, x = image_input(input_shape, crop_size)
    for block, filters in enumerate(widths, start=1):
        for index in (1, 2):
            name = f"block{block}_conv{index}"
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
            x = layers.BatchNormalization(name=f"{name}_batchnorm")(x)
            x = layers.ReLU(name=f"{name}_relu")(x)
        x = layers.MaxPooling2D(pool_size=2, name=f"block{block}_pool")(x)
        x = layers.Dropout(dropout_rate / 2, name=f"block{block}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_batchnorm")(x)
    x = layers.ReLU(name="dense_relu")(x)
    x = layers.Dropout(dropout_rate + 0.2, name="dense_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="vgg_narrow")


def build_vgg_wide(num_classes: int = NUM_CLASSES, input_shape=INPUT_SHAPE, crop_size: int | None = 44,
                   dropout_rate: float = 0.3) -> keras.Model:
    """`vgg_narrow` half as wide again (48-96-192-384, dense 384): a second, different ensemble member."""
    model = build_vgg_narrow(num_classes, input_shape, crop_size, widths=(48, 96, 192, 384), dense_units=384,
                             dropout_rate=dropout_rate)
    return keras.Model(model.inputs, model.outputs, name="vgg_wide")


def build_resnet_narrow(
    num_classes: int = NUM_CLASSES,
    input_shape=INPUT_SHAPE,
    crop_size: int | None = 44,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    dropout_rate: float = 0.3,
) -> keras.Model:
    """Ours, another family: a narrow ResNet, one residual block per stage (10 weight layers).

    A 3x3 stem conv, then per stage a block of two 3x3 convs with BatchNorm whose input is added
    back to their output (`stage1_add`, ...) before the ReLU; stages 2-4 halve the size with a
    stride of 2 (44 -> 22 -> 11 -> 6 on 44-pixel crops), and their shortcut is a 1x1 conv where
    the shape changes. Global average pooling, dropout and the classes; no big dense layer.
    With widths 32-64-128-256: 1.2M parameters and about 125M multiply-adds per face.
    """
    _check_dropout_rate(dropout_rate)
    inputs, x = image_input(input_shape, crop_size)
    x = layers.Conv2D(widths[0], 3, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(name="stem_conv_batchnorm")(x)
    x = layers.ReLU(name="stem_conv_relu")(x)
    for stage, filters in enumerate(widths, start=1):
        name, stride = f"stage{stage}", 1 if stage == 1 else 2
        y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
        y = layers.BatchNormalization(name=f"{name}_conv1_batchnorm")(y)
        y = layers.ReLU(name=f"{name}_conv1_relu")(y)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
        y = layers.BatchNormalization(name=f"{name}_conv2_batchnorm")(y)
        shortcut = x
        if stride != 1 or x.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_shortcut")(x)
            shortcut = layers.BatchNormalization(name=f"{name}_shortcut_batchnorm")(shortcut)
        x = layers.Add(name=f"{name}_add")([y, shortcut])
        x = layers.ReLU(name=f"{name}_relu")(x)
        x = layers.Dropout(dropout_rate / 2, name=f"{name}_dropout")(x)
    x = layers.GlobalAveragePooling2D(name="average")(x)
    x = layers.Dropout(dropout_rate + 0.2, name="average_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="resnet_narrow")


def build_tiny_cnn(num_classes: int = NUM_CLASSES, input_shape=INPUT_SHAPE, crop_size: int | None = None,
                   dropout_rate: float = 0.1) -> keras.Model:
    """A toy: one 3x3 conv of 8 filters, pooling to 6x6, dropout and the classes (167 parameters).

    It learns little, but trains in a second: for tests of the engine and instant demos.
    """
    _check_dropout_rate(dropout_rate)
    inputs, x = image_input(input_shape, crop_size)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv1")(x)
    x = layers.BatchNormalization(name="conv1_batchnorm")(x)
    x = layers.ReLU(name="conv1_relu")(x)
    x = layers.MaxPooling2D(pool_size=8, name="pool1")(x)
    x = layers.GlobalAveragePooling2D(name="average")(x)
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny_cnn")


# Architectures whose builder takes `crop_size` (random-crop training).
CROPPABLE = ("small_cnn", "vgg_fer", "quick_cnn", "vgg_narrow", "vgg_wide", "resnet_narrow", "tiny_cnn")

ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "report_a_cnn": build_report_a_cnn,
    "report_b_cnn": build_report_b_cnn,
    "report_b_dnn": build_report_b_dnn,
    "small_cnn": build_small_cnn,
    "vgg_fer": build_vgg_fer,
    "quick_cnn": build_quick_cnn,
    "vgg_narrow": build_vgg_narrow,
    "vgg_wide": build_vgg_wide,
    "resnet_narrow": build_resnet_narrow,
    "tiny_cnn": build_tiny_cnn,
}

# Shown through _() (describe_architecture).
_DESCRIPTIONS = {
    "report_a_cnn": N_(
        "Report A's CNN: four blocks of convolution (5x5, 5x5, 3x3, 3x3; 32, 128, 256, 256 "
        "filters), LeakyReLU(0.05), BatchNorm and 2x2 max pooling shrink the face 48 -> 3, then a "
        "256-unit dense layer classifies the 3x3x256 features. 1.58M trainable parameters; "
        "about 60% validation accuracy on FER2013 without augmentation."
    ),
    "report_b_cnn": N_(
        "Report B's Keras CNN: six convolutions kept at size by zero padding, one max and "
        "two average poolings (48 -> 5), dropout, then two 900-unit dense layers. 4.1M parameters, "
        "most (70%) in the first dense layer; 65% accuracy on FER2013's public test set."
    ),
    "report_b_dnn": N_(
        "Report B's fully connected network: the face flattened to 2,304 numbers, six dense "
        "layers (1024, 1024, 768, 768, 512, 512) with dropout. More parameters than the CNN (5.4M) "
        "but no notion that neighbouring pixels belong together, so it learns faces worse."
    ),
    "small_cnn": N_(
        "Our demo CNN: three 3x3 conv blocks (16, 32, 64 filters) with BatchNorm, ReLU and 2x2 "
        "pooling, then a 32-unit dense layer with BatchNorm. About 98k parameters: it trains in seconds, ideal "
        "for trying ideas in class."
    ),
    "vgg_fer": N_(
        "Our VGG-style CNN: four blocks of two 3x3 convolutions (64, 128, 256, 512 filters) with "
        "BatchNorm, ReLU, 2x2 pooling and dropout, then dense 512 and 256. 7.2M parameters: "
        "worth it on a GPU, slow on a CPU."
    ),
    "quick_cnn": N_(
        "Our CPU-sized CNN: five 3x3 convolutions (32, 64, 128, 128, 256 filters) with BatchNorm "
        "and ReLU, pooling 48 -> 3, then a 256-unit dense layer with dropout. 1.1M parameters and "
        "less than half the report-A CNN's arithmetic per face; the first shipped model."
    ),
    "vgg_narrow": N_(
        "Our narrow VGG: four blocks of two 3x3 convolutions (32, 64, 128, 256 filters) with "
        "BatchNorm and ReLU, pooling and dropout, on 44-pixel crops, then a 256-unit dense layer. "
        "1.4M parameters: the best accuracy per CPU-second we found; the shipped model's family."
    ),
    "vgg_wide": N_(
        "The narrow VGG half as wide again (48, 96, 192, 384 filters; dense 384). 3.2M parameters, "
        "about twice the arithmetic: a second, different member for an ensemble."
    ),
    "resnet_narrow": N_(
        "Our narrow ResNet: a 3x3 stem, then four stages (32, 64, 128, 256 filters) of one residual "
        "block each: two 3x3 convolutions whose input is added back to their output, so the signal "
        "and its gradient can skip them. Global average pooling instead of a big dense layer; 1.2M "
        "parameters on 44-pixel crops, another family of network for an ensemble."
    ),
    "tiny_cnn": N_(
        "A toy network: one 3x3 convolution of 8 filters, pooling and the classes, 167 "
        "parameters. It learns little but trains in a second: for quick tests of the engine."
    ),
}


def describe_architecture(name: str) -> str:
    """A short teaching description of one entry of `ARCHITECTURES`."""
    if name not in _DESCRIPTIONS:
        raise ValueError(_("Unknown architecture {name}; choose one of: {known}.").format(
            name=repr(name), known=", ".join(ARCHITECTURES)))
    return _(_DESCRIPTIONS[name])


def build_architecture(name: str, num_classes: int = NUM_CLASSES, input_shape=INPUT_SHAPE, **options) -> keras.Model:
    """`ARCHITECTURES[name](...)` with a sentence instead of a KeyError for an unknown name."""
    if name not in ARCHITECTURES:
        raise ValueError(_("Unknown architecture {name}; choose one of: {known}.").format(
            name=repr(name), known=", ".join(ARCHITECTURES)))
    return ARCHITECTURES[name](num_classes=num_classes, input_shape=input_shape, **options)
