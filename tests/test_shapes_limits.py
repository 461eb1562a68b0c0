"""Bounded input on the shape page: every limit a link, the editor or the Keras check can hit names itself
in one sentence, and the page opens anyway."""

import pytest
from streamlit.testing.v1 import AppTest

from fer import shapes
from fer.shapes import Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPooling2D, ZeroPadding2D
from tests.test_shapes_page import PAGE, _metrics

# (stack text, input text, words the sentence must hold): one row per limit
LINK_LIMITS = [
    ("_".join(["relu"] * (shapes.MAX_LAYERS + 1)), "48x48x1", "65 layers; this page accepts at most 64"),
    ("dense100000000", "48x48x1", "Layer 1 (Dense) has a number of units of 100,000,000; this page accepts at most"),
    ("flatten_dense65537", "48x48x1", "Layer 2 (Dense) has a number of units of 65,537"),
    ("conv4097-k3", "48x48x1", "Layer 1 (Conv2D) has a number of filters of 4,097; this page accepts at most 4,096"),
    ("conv8-k257", "48x48x1", "Layer 1 (Conv2D) has a kernel size of 257; this page accepts at most 256"),
    ("conv8-k3-s999999999999", "48x48x1", "Layer 1 (Conv2D) has a stride of 999,999,999,999"),
    ("conv8-k3-d300", "48x48x1", "Layer 1 (Conv2D) has a dilation of 300"),
    ("conv8-k3-p1000", "48x48x1", "Layer 1 (Conv2D) has a padding of 1,000"),
    ("relu_maxpool300", "48x48x1", "Layer 2 (MaxPooling2D) has a pool size of 300"),
    ("avgpool2-s257", "48x48x1", "Layer 1 (AveragePooling2D) has a stride of 257"),
    ("pad100000", "48x48x1", "Layer 1 (ZeroPadding2D) has a padding of 100,000"),
    ("drop" + "9" * 400, "48x48x1", "Layer 1 (Dropout) has inf, which is not a finite number"),
    ("conv8-k3_" * 800 + "flatten", "48x48x1", "characters long; this page reads at most 4,000"),
    ("flatten", "1025x48x1", "The input height 1,025 is above this page's limit of 1,024 pixels"),
    ("flatten", "48x5000x1", "The input width 5,000 is above this page's limit of 1,024 pixels"),
    ("flatten", "48x48x513", "The input channels 513 is above this page's limit of 512"),
]


@pytest.mark.parametrize("stack_text, input_text, words", LINK_LIMITS)
def test_a_link_beyond_a_limit_is_refused_with_a_sentence_naming_it(stack_text, input_text, words):
    shared, problems = shapes.decode_query({"stack": stack_text, "input": input_text})
    assert shared is None
    assert len(problems) == 1 and words in problems[0] and problems[0].endswith(".")


def test_the_limits_themselves_are_accepted():
    text = "_".join([f"conv{shapes.MAX_FILTERS}-k{shapes.MAX_WINDOW}-d{shapes.MAX_WINDOW}-p{shapes.MAX_WINDOW}"]
                    + [f"maxpool{shapes.MAX_WINDOW}-s{shapes.MAX_WINDOW}", f"pad{shapes.MAX_WINDOW}", "flatten",
                       f"dense{shapes.MAX_UNITS}"] + ["relu"] * (shapes.MAX_LAYERS - 5))
    shared, problems = shapes.decode_query({"stack": text, "input": "1024x1024x512"})
    assert problems == [] and len(shared.stack) == shapes.MAX_LAYERS


@pytest.mark.parametrize(
    "stack, words",
    [
        ([Dense(10**8)], "number of units of 100,000,000"),
        ([Conv2D(8, 3, padding=10**6)], "padding of 1,000,000"),
        ([ZeroPadding2D(300)], "padding of 300"),
        ([MaxPooling2D(2, strides=10**9)], "stride of 1,000,000,000"),
        ([LeakyReLU(float("nan"))], "not a finite number"),
        ([Dropout(float("inf"))], "not a finite number"),
        ([Flatten()] * (shapes.MAX_LAYERS + 1), "65 layers"),
    ],
)
def test_an_edited_stack_beyond_a_limit_gets_the_same_sentences(stack, words):
    with pytest.raises(shapes.LimitError, match=words):
        shapes.check_stack_limits(stack)


def test_wrong_kinds_of_values_are_left_for_the_arithmetic_to_explain():
    shapes.check_stack_limits([Conv2D(8, 2.5), MaxPooling2D("big"), Dense(True)])  # no LimitError


def test_keras_refuses_a_stack_over_the_parameter_limit_before_allocating_it():
    # 1024x1024 flattened into 48 units: 50,331,696 parameters, 48 more than the limit allows
    stack = [Flatten(), Dense(48)]
    rows = shapes.compute_table((1024, 1024, 1), stack)
    assert shapes.total_params(rows)[0] == 1024 * 1024 * 48 + 48 > shapes.MAX_KERAS_PARAMS
    words = "This stack has 50,331,696 parameters, and the Keras check builds at most 50,000,000"
    with pytest.raises(shapes.LimitError, match=words):
        shapes.build_keras_model((1024, 1024, 1), stack)


def test_keras_builds_a_stack_just_under_the_parameter_limit():
    stack = [Flatten(), Dense(47)]
    model = shapes.build_keras_model((1024, 1024, 1), stack)
    assert model.count_params() == 1024 * 1024 * 47 + 47 <= shapes.MAX_KERAS_PARAMS


# --- on the page ----------------------------------------------------------------------------


def _page(query: dict) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def test_a_link_with_a_huge_dense_layer_opens_the_default_network_and_names_the_limit():
    at = _page({"stack": "flatten_dense100000000", "input": "48x48x1"})
    warnings = [message.value for message in at.warning]
    assert warnings == [
        "The link's stack could not be read, so an example network is shown instead. Layer 2 (Dense) has a number "
        "of units of 100,000,000; this page accepts at most 65,536."
    ]
    assert _metrics(at)[1] == "4,087,323"
    assert at.query_params["stack"] == shapes.encode_stack(shapes.EXAMPLE_NETWORKS["report_b_cnn"].stack)


@pytest.mark.parametrize("input_text", ["2000x48x1", "48x1025x1", "48x48x100000", "99999999999999999999x1x1"])
def test_an_input_beyond_the_number_boxes_never_raises(input_text):
    at = _page({"stack": "conv4-k3", "input": input_text})
    assert len(at.warning) == 1 and "could not be read" in at.warning[0].value
    assert at.number_input(key="shapes_height").value == 48
    assert at.number_input(key="shapes_channels").value == 1


def test_the_keras_tab_refuses_a_stack_over_the_parameter_limit_with_a_sentence():
    at = _page({"stack": "flatten_dense48", "input": "1024x1024x1"})
    assert _metrics(at)[1] == "50,331,696"
    assert "Check with Keras" not in [button.label for button in at.button]
    assert [message.value for message in at.warning] == [
        "This stack has 50,331,696 parameters, and the Keras check builds at most 50,000,000 (about 200 MB of "
        "weights) so that one stack cannot fill the server's memory: shrink the Dense layers, or pool before Flatten."
    ]


def test_an_edited_stack_beyond_a_limit_stops_the_page_with_the_sentence():
    at = _page({"stack": "flatten_dense7", "input": "48x48x1"})
    editor = f"shapes_editor_{at.session_state['shapes_editor_version']}"
    at.session_state[editor] = {"edited_rows": {1: {"size": 10**8}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert [message.value for message in at.error] == [
        "Layer 2 (Dense) has a number of units of 100,000,000; this page accepts at most 65,536."
    ]
    assert not at.metric  # nothing after the editor ran
