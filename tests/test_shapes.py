"""Shape arithmetic without TensorFlow, checked against real Keras models."""

import dataclasses
import random
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fer import nets, shapes
from fer.shapes import (
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    ZeroPadding2D,
)


def _ours(input_shape, stack, **options):
    return shapes.compute_table(input_shape, list(stack), **options)


def test_shape_arithmetic_does_not_import_tensorflow():
    code = "import sys, fer.shapes; sys.exit(any(m in sys.modules for m in ('tensorflow', 'keras')))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("name", sorted(shapes.EXAMPLE_NETWORKS))
def test_example_networks_equal_the_real_architectures_row_by_row(name):
    network = shapes.EXAMPLE_NETWORKS[name]
    ours = _ours(network.input_shape, network.stack)
    assert shapes.first_error(ours) is None
    theirs = shapes.keras_table(nets.ARCHITECTURES[name]())
    assert shapes.compare_tables(ours, theirs) == []
    assert shapes.total_params(ours)[0] == nets.ARCHITECTURES[name]().count_params()


def test_report_networks_reproduce_the_issue_tables():
    rows = _ours((48, 48, 1), shapes.EXAMPLE_NETWORKS["report_b_cnn"].stack)
    convs = [(row.output_shape, row.params) for row in rows if row.layer_type == "Conv2D"]
    assert convs == [
        ((44, 44, 64), 1_664), ((22, 22, 64), 36_928), ((22, 22, 64), 36_928),
        ((10, 10, 96), 55_392), ((10, 10, 128), 110_720), ((10, 10, 128), 147_584),
    ]
    pools = [row.output_shape for row in rows if "Pooling" in row.layer_type]
    assert pools == [(22, 22, 64), (10, 10, 64), (5, 5, 128)]
    assert shapes.total_params(rows) == (4_087_323, 4_087_323)
    assert shapes.total_params(_ours((48, 48, 1), shapes.EXAMPLE_NETWORKS["report_b_dnn"].stack))[0] == 5_447_687
    report_a = _ours((48, 48, 1), shapes.EXAMPLE_NETWORKS["report_a_cnn"].stack)
    assert shapes.total_params(report_a)[1] == 1_582_343
    assert [row.output_shape for row in report_a if row.layer_type == "Flatten"] == [(2304,)]


def test_example_network_built_in_keras_folds_explicit_padding_back():
    network = shapes.EXAMPLE_NETWORKS["report_a_cnn"]
    model = shapes.build_keras_model(network.input_shape, list(network.stack))
    assert "conv1" + shapes.EXPLICIT_PADDING_SUFFIX in [layer.name for layer in model.layers]
    ours, theirs = _ours(network.input_shape, network.stack), shapes.keras_table(model)
    assert shapes.compare_tables(ours, theirs) == []
    assert [row.name for row in ours] == [row.name for row in theirs]


# --- random valid stacks against Keras -----------------------------------------------------

padding_choices = st.one_of(st.sampled_from(["valid", "same"]), st.integers(0, 2))
optional_strides = st.one_of(st.none(), st.integers(1, 3))
spatial_layers = st.one_of(
    st.builds(
        lambda filters, kernel, stride, padding, dilation, bias: Conv2D(
            filters, kernel, 1 if dilation > 1 else stride, padding, dilation, bias
        ),
        st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), padding_choices, st.integers(1, 2), st.booleans(),
    ),
    st.builds(MaxPooling2D, st.integers(1, 3), optional_strides, st.sampled_from(["valid", "same"])),
    st.builds(AveragePooling2D, st.integers(1, 3), optional_strides, st.sampled_from(["valid", "same"])),
    st.builds(ZeroPadding2D, st.integers(0, 2)),
    st.just(BatchNormalization()),
    st.just(ReLU()),
    st.builds(LeakyReLU, st.sampled_from([0.05, 0.3])),
    st.builds(Dropout, st.sampled_from([0.0, 0.25])),
    st.builds(Dense, st.integers(1, 4), st.sampled_from([None, "relu"]), st.booleans()),
)
flat_layers = st.one_of(
    st.builds(Dense, st.integers(1, 6), st.sampled_from([None, "relu", "softmax"]), st.booleans()),
    st.just(BatchNormalization()),
    st.builds(Dropout, st.sampled_from([0.1, 0.5])),
)


@st.composite
def valid_stacks(draw):
    """Tiny stacks that always work: a drawn layer that would break the stack is left out."""
    input_shape = (draw(st.integers(3, 10)), draw(st.integers(3, 10)), draw(st.integers(1, 3)))
    stack = []
    for layer in draw(st.lists(spatial_layers, min_size=1, max_size=4)):
        if shapes.first_error(_ours(input_shape, stack + [layer])) is None:
            stack.append(layer)
    if draw(st.booleans()):
        stack.append(draw(st.sampled_from([Flatten(), GlobalAveragePooling2D()])))
        stack += draw(st.lists(flat_layers, max_size=2))
    return input_shape, stack


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_stacks())
def test_every_row_agrees_with_keras_on_random_stacks(case):
    input_shape, stack = case
    ours = _ours(input_shape, stack)
    assert shapes.first_error(ours) is None
    model = shapes.build_keras_model(input_shape, stack)
    assert shapes.compare_tables(ours, shapes.keras_table(model)) == []
    assert shapes.total_params(ours)[0] == model.count_params()


def test_an_empty_stack_is_its_input_in_keras_too():
    ours = _ours((48, 48, 1), [])
    theirs = shapes.keras_table(shapes.build_keras_model((48, 48, 1), []))
    assert [row.output_shape for row in theirs] == [(48, 48, 1)]
    assert shapes.compare_tables(ours, theirs) == []


@settings(max_examples=60, deadline=None)
@given(valid_stacks())
def test_query_string_round_trip(case):
    input_shape, stack = case
    text = shapes.encode_stack(stack)
    assert all(character.isalnum() or character in "_-." for character in text)
    assert shapes.decode_stack(text) == stack
    assert shapes.decode_input_shape(shapes.encode_input_shape(input_shape)) == input_shape


@settings(max_examples=40, deadline=None)
@given(valid_stacks())
def test_editor_records_round_trip(case):
    _, stack = case
    assert shapes.records_to_stack(shapes.stack_to_records(stack)) == stack


def test_bad_stack_text_gets_a_sentence():
    with pytest.raises(shapes.StackError, match="Layer 2"):
        shapes.decode_stack("conv8-k3_banana")
    with pytest.raises(shapes.StackError, match="unknown setting"):
        shapes.decode_stack("conv8-k3-q7")
    with pytest.raises(shapes.StackError, match="48x48x1"):
        shapes.decode_input_shape("48x48")


# --- stacks that cannot work --------------------------------------------------------------


@pytest.mark.parametrize(
    "input_shape, stack, options, broken_row, words",
    [
        ((8, 8, 1), [Conv2D(4, 3), Conv2D(4, 7), Dense(3)], {}, 2, "larger than the height"),
        ((8, 8, 1), [MaxPooling2D(2), MaxPooling2D(2), MaxPooling2D(2), MaxPooling2D(2)], {}, 4, "larger than"),
        ((9, 9, 1), [Conv2D(4, 2, strides=2)], {"exact_tiling": True}, 1, "not a multiple of the stride 2"),
        ((9, 9, 1), [MaxPooling2D(2, padding="same")], {"exact_tiling": True}, 1, "not a multiple of the stride 2"),
        ((8, 8, 1), [Flatten(), Conv2D(4, 3)], {}, 2, "flat vector of 64"),
        ((8, 8, 1), [Conv2D(4, 3, strides=2, dilation_rate=2)], {}, 1, "dilation"),
        ((8, 8, 1), [Conv2D(0, 3)], {}, 1, "number of filters"),
        ((8, 8, 1), [Dropout(1.5)], {}, 1, "dropout rate"),
        ((8, 8, 1), [Conv2D(4, 3, padding=-1)], {}, 1, "Padding must be"),
    ],
)
def test_a_stack_that_cannot_work_stops_at_the_row_with_a_sentence(input_shape, stack, options, broken_row, words):
    rows = _ours(input_shape, stack, **options)
    assert len(rows) == broken_row + 1  # the input row, the good rows, the broken row, nothing after it
    assert [row.error for row in rows[:-1]] == [None] * broken_row
    assert words in rows[-1].error and rows[-1].error.endswith(".")
    assert rows[-1].output_shape is None
    if not options:  # exact tiling is the student's wish; Keras itself accepts such a stack
        with pytest.raises(shapes.StackError, match=f"layer {rows[-1].name}"):
            shapes.build_keras_model(input_shape, stack)


def test_the_same_stack_is_fine_without_exact_tiling():
    rows = _ours((9, 9, 1), [Conv2D(4, 2, strides=2)])
    assert rows[-1].error is None and rows[-1].output_shape == (4, 4, 4)


def test_bad_input_shape_is_an_error_row():
    rows = shapes.compute_table((0, 48, 1), [Flatten()])
    assert len(rows) == 1 and "at least 1" in rows[0].error


# --- formulas -----------------------------------------------------------------------------


def test_formulas_show_the_students_numbers():
    stack = [Conv2D(64, 5, padding=2), MaxPooling2D(5, strides=2), Conv2D(8, 3, padding="same", strides=2)]
    rows = _ours((48, 48, 1), stack)
    assert rows[1].shape_formula == (
        "H = W: floor((W + 2p - k) / s) + 1 = floor((48 + 2·2 - 5) / 1) + 1 = floor(47) + 1 = 48"
    )
    assert rows[1].params_formula == "(k·k·C_in + 1)·F = (5·5·1 + 1)·64 = 1,664"
    assert "floor((48 + 2·0 - 5) / 2) + 1 = floor(21.5) + 1 = 22" in rows[2].shape_formula
    assert rows[3].shape_formula == "H = W: ceil(W / s) = ceil(22 / 2) = 11"


def test_dilation_and_rectangular_inputs_show_both_axes():
    rows = _ours((7, 9, 2), [Conv2D(4, 3, dilation_rate=2, use_bias=False), BatchNormalization()])
    assert rows[1].output_shape == (3, 5, 4)
    assert "floor((H + 2p - d(k-1) - 1) / s) + 1 = floor((7 + 2·0 - 2·(3-1) - 1) / 1) + 1" in rows[1].shape_formula
    assert rows[1].shape_formula.endswith("= 5")
    assert rows[1].params == 3 * 3 * 2 * 4 and "no bias" in rows[1].params_formula
    assert (rows[2].params, rows[2].trainable_params) == (16, 8)


def test_table_records_hide_the_quiz_cell():
    rows = _ours((48, 48, 1), shapes.EXAMPLE_NETWORKS["report_b_cnn"].stack)
    quiz = shapes.make_quiz(rows, random.Random(3))
    records = shapes.table_records(rows, quiz.hidden_cells)
    hidden = records[quiz.row_index]
    column = quiz.field
    assert hidden[column] == "?"
    assert all(record[column] != "?" for index, record in enumerate(records) if index != quiz.row_index)


# --- quiz ---------------------------------------------------------------------------------


def test_quiz_checks_answers_and_shows_the_working():
    rows = _ours((48, 48, 1), shapes.EXAMPLE_NETWORKS["report_b_cnn"].stack)
    seen_fields = set()
    for seed in range(30):
        quiz = shapes.make_quiz(rows, random.Random(seed))
        row = rows[quiz.row_index]
        seen_fields.add(quiz.field)
        if quiz.field == "output_shape":
            right = "x".join(map(str, row.output_shape))
            wrong = "x".join(str(size + 1) for size in row.output_shape)
        else:
            assert row.params > 0
            right, wrong = f"{row.params:,}", str(row.params + 1)
        result = shapes.check_answer(quiz, right)
        assert result.correct and row.name not in result.message and quiz.working in result.message
        result = shapes.check_answer(quiz, wrong)
        assert not result.correct and quiz.answer in result.message and quiz.working in result.message
    assert seen_fields == {"output_shape", "params"}


def test_quiz_accepts_common_spellings():
    rows = _ours((48, 48, 1), [Conv2D(64, 5)])
    shape_quiz = shapes.Quiz(1, "output_shape", "", "(44, 44, 64)", rows[1].shape_formula)
    for text in ("(44, 44, 64)", "44x44x64", "44 44 64"):
        assert shapes.check_answer(shape_quiz, text).correct
    params_quiz = shapes.Quiz(1, "params", "", "1,664", rows[1].params_formula)
    for text in ("1664", "1,664", "1 664"):
        assert shapes.check_answer(params_quiz, text).correct
    assert not shapes.check_answer(params_quiz, "").correct


def test_quiz_needs_a_layer_worth_asking_about():
    with pytest.raises(shapes.StackError):
        shapes.make_quiz(_ours((8, 8, 1), [ReLU()]), random.Random(0))


def test_editor_rows_with_numpy_values_and_blanks():
    import numpy as np

    records = [
        {"layer": "Conv2D", "size": np.int64(8), "window": np.float64(3.0), "stride": None,
         "padding": "1", "bias": np.bool_(False)},
        {"layer": "Dropout", "rate": np.float64(0.3)},
        {"layer": None},  # a row the student added but has not filled yet
        {"layer": "MaxPooling2D", "window": 2.5},
    ]
    stack = shapes.records_to_stack(records)
    assert stack[:2] == [Conv2D(8, 3, padding=1, use_bias=False), Dropout(0.3)]
    rows = _ours((8, 8, 1), stack)
    assert rows[-1].name == "maxpool1" and "whole number" in rows[-1].error
    with pytest.raises(shapes.StackError, match="Row 1"):
        shapes.records_to_stack([{"layer": "Conv3D"}])


@pytest.mark.parametrize("text", ["²", "4⁴x44x64", "٣", "9" * 5000, "1" * 31, "-5", "(44, 44, 65" + ")" * 300])
def test_quiz_reads_any_answer_without_raising(text):
    rows = _ours((48, 48, 1), [Conv2D(64, 5)])
    for quiz in (shapes.Quiz(1, "output_shape", "", "(44, 44, 64)", rows[1].shape_formula),
                 shapes.Quiz(1, "params", "", "1,664", rows[1].params_formula)):
        result = shapes.check_answer(quiz, text)
        assert not result.correct and result.message.endswith((".", rows[1].shape_formula, rows[1].params_formula))


def test_records_are_keyed_by_field_names_not_column_labels():
    rows = _ours((48, 48, 1), [Conv2D(64, 5), Flatten()])
    assert [list(record) for record in shapes.table_records(rows)] == [list(shapes.TABLE_FIELDS)] * 3
    assert set(shapes.TABLE_FIELDS) <= {field.name for field in dataclasses.fields(shapes.Row)}
    assert [list(record) for record in shapes.stack_to_records([Dense(3)])] == [list(shapes.EDITOR_FIELDS)]


@pytest.mark.parametrize("layer", [Dropout(1e-05), LeakyReLU(0.0001), Dropout(0.123456789), LeakyReLU(2.5e-7)])
def test_small_rates_typed_in_the_editor_survive_the_link(layer):
    text = shapes.encode_stack([layer])
    assert all(character.isalnum() or character in "_-." for character in text)
    assert shapes.decode_stack(text) == [layer]


def test_a_bad_exact_flag_keeps_the_stack_and_says_so():
    shared, problems = shapes.decode_query({"stack": "conv4-k3", "input": "8x8x1", "exact": "yes"})
    assert shared == shapes.SharedStack((8, 8, 1), (Conv2D(4, 3),), False)
    assert len(problems) == 1 and "exact='yes' must be 0 or 1" in problems[0]
    assert shapes.encode_query(shapes.SharedStack((8, 8, 1), (Conv2D(4, 3),), True)) == {
        "input": "8x8x1", "stack": "conv4-k3", "exact": "1",
    }
