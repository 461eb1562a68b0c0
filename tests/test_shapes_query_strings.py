"""Any query string opens the shape page: random keys and values, long strings, huge numbers, garbage.

The decoder is tried on thousands of queries directly; the page itself, under AppTest, on fewer (each run
renders the whole page). Either way nothing raises, and the page ends on a URL that reads back cleanly.
"""

import dataclasses
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from fer import shapes
from tests.test_shapes_page import PAGE

huge_numbers = st.one_of(st.integers(0, 10**40), st.integers(-(10**6), -1), st.just(2**63), st.just(10**400)).map(str)
boundaries = st.sampled_from([255, 256, 257, 1024, 1025, 4096, 4097, 65_536, 65_537])
small_numbers = st.one_of(st.integers(1, 8), boundaries).map(str)
odd_digits = st.sampled_from(["²", "⁵", "٣", "１２", "৪"])  # str.isdigit() says yes to all, int() to only some
numbers = st.one_of(small_numbers, huge_numbers, st.floats(allow_nan=True).map(repr), odd_digits)
sizes = st.one_of(small_numbers, small_numbers, small_numbers, numbers)  # mostly readable, sometimes not
rates = st.one_of(st.sampled_from(["0", "0.2", "0.5", "1", ".", "", "0.00001"]), numbers)
plain_tokens = st.one_of(
    st.builds("conv{}-k{}{}".format, sizes, sizes, st.sampled_from(["", "-s2", "-psame", "-p1", "-d2", "-relu",
                                                                        "-nobias", "-s999999", "-p-1"])),
    st.builds("{}{}{}".format, st.sampled_from(["maxpool", "avgpool"]), sizes,
              st.sampled_from(["", "-s1", "-s2", "-psame", "-s0", "-k3"])),
    st.builds("dense{}{}".format, sizes, st.sampled_from(["", "-softmax", "-nobias", "-tanh-nobias"])),
    st.builds("pad{}".format, sizes),
    st.builds("{}{}".format, st.sampled_from(["drop", "leaky"]), rates),
    st.sampled_from(["flatten", "gap", "bn", "relu"]),
)
garbage_tokens = st.builds(
    lambda word, number, settings_: "-".join([word + number, *settings_]),
    st.sampled_from(["conv", "dense", "flatten", "Conv", "", "²", "٣", "dense-"]),
    st.one_of(numbers, st.just(""), st.text(max_size=3)),
    st.lists(st.text(max_size=6), max_size=3),
)
tokens = st.one_of(plain_tokens, garbage_tokens)
stack_texts = st.one_of(
    st.lists(plain_tokens, max_size=10).map("_".join),
    st.lists(plain_tokens, max_size=10).map("_".join),
    st.lists(tokens, max_size=80).map("_".join),
    st.text(max_size=60),
    st.integers(1, 7000).map(lambda n: "conv8-k3_" * (n // 9)),  # near and past the text limit
    st.sampled_from(["", "_", "__", "relu_" * 70, "flatten_dense100000000", "pad" + "9" * 5000]),
)
input_texts = st.one_of(
    st.builds("{}x{}x{}".format, sizes, sizes, sizes),
    st.builds("{}x{}x{}".format, sizes, sizes, sizes),
    st.text(max_size=30),
    st.sampled_from(["48x48x1", "1024x1024x512", "1025x1x1", "0x0x0", "48x48", "x" * 5000, "48×48×1"]),
)
values = st.one_of(st.text(max_size=40), numbers, st.sampled_from(["0", "1", "true", "", "9" * 5000]))
queries = st.fixed_dictionaries(
    {},
    optional={
        "stack": st.one_of(stack_texts, st.lists(stack_texts, min_size=1, max_size=3)),
        "input": st.one_of(input_texts, st.lists(input_texts, min_size=1, max_size=3)),
        "exact": values,
    },
).flatmap(lambda known: st.dictionaries(st.text(min_size=1, max_size=12), values, max_size=4).map(
    lambda extra: {**extra, **known}
))


def _within_limits(shared: shapes.SharedStack) -> bool:
    """Written out here rather than calling fer.shapes.limits, so that a broken limit shows."""
    height, width, channels = shared.input_shape
    if not (height <= shapes.MAX_INPUT_SIDE and width <= shapes.MAX_INPUT_SIDE and channels <= shapes.MAX_CHANNELS):
        return False
    limit_of = {"filters": shapes.MAX_FILTERS, "units": shapes.MAX_UNITS}
    for layer in shared.stack:
        for name, value in dataclasses.asdict(layer).items():
            if isinstance(value, float) and not math.isfinite(value):
                return False
            if isinstance(value, int) and not isinstance(value, bool) and value > limit_of.get(name, shapes.MAX_WINDOW):
                return False
    return len(shared.stack) <= shapes.MAX_LAYERS

# Links a teacher might really share, with sizes at and past the limits: most of them decode, so the page
# builds its number boxes and editor from them.
readable_sizes = st.one_of(st.integers(1, 64), boundaries).map(str)
readable_tokens = st.one_of(
    st.builds("conv{}-k{}".format, readable_sizes, st.sampled_from(["1", "3", "5", "256", "257"])),
    st.builds("dense{}".format, readable_sizes),
    st.builds("pad{}".format, readable_sizes),
    st.sampled_from(["maxpool2", "avgpool3-s2", "flatten", "gap", "bn", "relu", "drop0.5", "leaky0.1"]),
)
readable_queries = st.fixed_dictionaries(
    {
        "stack": st.lists(readable_tokens, min_size=1, max_size=6).map("_".join),
        "input": st.builds("{}x{}x{}".format, readable_sizes, readable_sizes, readable_sizes),
    },
    optional={"exact": st.sampled_from(["0", "1", "2"])},
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries)
def test_the_decoder_never_raises_and_keeps_within_the_limits(query):
    shared, problems = shapes.decode_query(query)
    assert all(isinstance(problem, str) and problem.endswith(".") for problem in problems)
    if shared is not None:
        assert _within_limits(shared)
        again, more = shapes.decode_query(shapes.encode_query(shared))
        assert more == [] and again.input_shape == shared.input_shape and list(again.stack) == list(shared.stack)


# Each example runs the whole page (about 0.7 s); the decoder above takes 2,000 without the page. Every run
# draws new ones, so fifteen a run add up over the suites that CI runs.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(queries, readable_queries))
def test_any_query_string_opens_the_page(query):
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [element.value for element in at.exception]
    assert at.title[0].value == "Shape arithmetic"
    if at.metric:  # the page rendered its table (a stack that breaks still shows one), and its URL reads back
        shared, problems = shapes.decode_query(at.query_params)
        assert shared is not None and problems == []
