"""Shape and parameter arithmetic for a stack of layers, without TensorFlow.

A stack is a list of small layer specs named after the Keras layers they stand for
(`Conv2D(64, 5)`, `MaxPooling2D(2)`, `Flatten()`, ...). `compute_table(input_shape, stack)`
gives, per layer, the output shape, the parameter count and the working with the student's
numbers; a stack that cannot work stops at the row where it breaks, with a sentence saying why.

One idea per module:
    layers.py        the layer specs
    arithmetic.py    what a layer does to a shape, and how many numbers it learns
    formulas.py      the working, written with the student's numbers
    table.py         the rows a student checks by hand
    examples.py      the example networks (the two reports' and ours)
    limits.py        the largest stack a shared server accepts
    url.py           the stack in a link, decoded with those limits
    editor.py        the stack as rows of a table editor
    quiz.py          hide one cell, check the answer, show the working
    keras_bridge.py  the same stack in real Keras, for checking (the only module that imports Keras)
"""

from .arithmetic import LayerError, LayerOutput, apply_layer
from .editor import EDITOR_FIELDS, records_to_stack, stack_to_records
from .examples import EXAMPLE_NETWORKS, ExampleNetwork
from .formulas import describe_layer, format_count, format_shape
from .keras_bridge import EXPLICIT_PADDING_SUFFIX, build_keras_model, compare_tables, keras_table
from .layers import (
    ACTIVATIONS,
    LAYER_TYPES,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Layer,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    StackError,
    ZeroPadding2D,
    layer_names,
)
from .limits import (
    MAX_CHANNELS,
    MAX_FILTERS,
    MAX_INPUT_SIDE,
    MAX_KERAS_PARAMS,
    MAX_LAYERS,
    MAX_STACK_TEXT,
    MAX_UNITS,
    MAX_WINDOW,
    LimitError,
    check_input_limits,
    check_keras_limits,
    check_stack_limits,
)
from .quiz import Quiz, QuizResult, check_answer, make_quiz, question_rows, reveal
from .table import TABLE_FIELDS, Row, compute_table, first_error, table_records, total_params
from .url import (
    SharedStack,
    decode_input_shape,
    decode_query,
    decode_stack,
    encode_input_shape,
    encode_query,
    encode_stack,
)

__all__ = [
    "ACTIVATIONS", "EDITOR_FIELDS", "EXAMPLE_NETWORKS", "EXPLICIT_PADDING_SUFFIX", "LAYER_TYPES", "MAX_CHANNELS",
    "MAX_FILTERS", "MAX_INPUT_SIDE", "MAX_KERAS_PARAMS", "MAX_LAYERS", "MAX_STACK_TEXT", "MAX_UNITS", "MAX_WINDOW",
    "TABLE_FIELDS", "AveragePooling2D", "BatchNormalization", "Conv2D", "Dense", "Dropout", "ExampleNetwork",
    "Flatten", "GlobalAveragePooling2D", "Layer", "LayerError", "LayerOutput", "LeakyReLU", "LimitError",
    "MaxPooling2D", "Quiz", "QuizResult", "ReLU", "Row", "SharedStack", "StackError", "ZeroPadding2D", "apply_layer",
    "build_keras_model", "check_answer", "check_input_limits", "check_keras_limits", "check_stack_limits",
    "compare_tables", "compute_table", "decode_input_shape", "decode_query", "decode_stack", "describe_layer",
    "encode_input_shape", "encode_query", "encode_stack", "first_error", "format_count", "format_shape",
    "keras_table", "layer_names", "make_quiz", "question_rows", "records_to_stack", "reveal", "stack_to_records",
    "table_records", "total_params",
]
