"""Lesson: shape arithmetic. Build a stack, see every layer's output shape, parameter count and working."""

import random
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from fer import shapes
from fer.i18n import _, format_integer
from lessons._language import QUERY_PARAMETER, page_language

DEFAULT_NETWORK = "report_b_cnn"
CUSTOM = "custom"
BASE_KEY = "shapes_base"  # (input shape, stack) the editor starts from
VERSION_KEY = "shapes_editor_version"  # bumped to reset the editor to a new base
URL_KEY = "shapes_url_seen"  # the query this session last loaded or wrote, to notice a pasted link
QUIZ_KEY = "shapes_quiz"  # {"key": (stack text, input shape), "quiz": Quiz, "result": QuizResult | None}
ANSWER_KEY = "shapes_quiz_answer"



def table_labels() -> dict[str, str]:
    return {
        "name": _("layer"), "layer_type": _("type"), "settings": _("settings"), "output_shape": _("output shape"),
        "params": _("parameters"), "shape_formula": _("shape working"), "params_formula": _("parameter working"),
    }


def editor_labels() -> dict[str, str]:
    return {
        "layer": _("layer"), "size": _("filters / units"), "window": _("kernel / pool"), "stride": _("stride"),
        "padding": _("padding"), "dilation": _("dilation"), "rate": _("rate / slope"), "activation": _("activation"),
        "bias": _("bias"),
    }


def network_label(name: str) -> str:
    return _("Your own stack") if name == CUSTOM else _(shapes.EXAMPLE_NETWORKS[name].title)


def table_frame(rows, hidden=frozenset(), fields=shapes.TABLE_FIELDS) -> pd.DataFrame:
    frame = pd.DataFrame(shapes.table_records(rows, hidden), columns=list(shapes.TABLE_FIELDS))
    return frame[list(fields)].rename(columns=table_labels())


def load_base(input_shape, stack) -> None:
    st.session_state[BASE_KEY] = (tuple(input_shape), list(stack))
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1
    for key in ("shapes_height", "shapes_width", "shapes_channels"):
        st.session_state.pop(key, None)


def load_example(name: str) -> None:
    network = shapes.EXAMPLE_NETWORKS[name]
    load_base(network.input_shape, network.stack)
    st.session_state["shapes_network"] = name


def on_network_change() -> None:
    name = st.session_state["shapes_network"]
    if name != CUSTOM:
        load_example(name)
    st.session_state.pop(QUIZ_KEY, None)


def seen_key(query: dict) -> tuple:
    return tuple(query.get(name) for name in ("stack", "input", "exact"))


def state_from_url() -> list[str]:
    """Load the stack in the URL when this session has not seen that URL yet; sentences for what it could not use."""
    query = st.query_params.to_dict()
    if BASE_KEY in st.session_state and st.session_state.get(URL_KEY) == seen_key(query):
        return []
    st.session_state[URL_KEY] = seen_key(query)
    shared, problems = shapes.decode_query(query)
    if shared is None:
        if BASE_KEY not in st.session_state:
            load_example(DEFAULT_NETWORK)
        if "stack" in query and problems:
            fallback = _("The link's stack could not be read, so an example network is shown instead. {reason}")
            problems[-1] = fallback.format(reason=problems[-1])
        return problems
    load_base(shared.input_shape, shared.stack)
    matching = [
        name for name, network in shapes.EXAMPLE_NETWORKS.items()
        if network.stack == shared.stack and network.input_shape == shared.input_shape
    ]
    st.session_state["shapes_network"] = matching[0] if matching else CUSTOM
    st.session_state["shapes_exact"] = shared.exact_tiling
    return problems


# --- the quiz's buttons: callbacks, so that the page hides or shows the table in the same run


def new_question(rows, key) -> None:
    page_language()  # callbacks run before the page: their sentences need the language too
    try:
        st.session_state[QUIZ_KEY] = {"key": key, "quiz": shapes.make_quiz(rows, random.Random()), "result": None}
    except shapes.StackError as error:
        st.session_state[QUIZ_KEY] = {"key": key, "quiz": None, "result": None, "problem": str(error)}
    st.session_state[ANSWER_KEY] = ""


def check_my_answer() -> None:
    page_language()
    stored = st.session_state[QUIZ_KEY]
    stored["result"] = shapes.check_answer(stored["quiz"], st.session_state.get(ANSWER_KEY, ""))


def show_the_answer() -> None:
    page_language()
    stored = st.session_state[QUIZ_KEY]
    stored["result"] = shapes.reveal(stored["quiz"])


page_language()
st.title(_("Shape arithmetic"))
st.markdown(
    _(
        "Before a network learns anything, its shapes must fit. Every convolution or pooling layer slides "
        "a window of size **k** with stride **s** over an input of width **W**, padded with **p** pixels on "
        "each side. The number of places the window fits is"
    )
)
st.latex(
    r"\text{out} = \left\lfloor \frac{W + 2p - k}{s} \right\rfloor + 1"
    r"\qquad\text{" + _("and with dilation") + r" } d: \qquad"
    r"\text{out} = \left\lfloor \frac{W + 2p - d(k-1) - 1}{s} \right\rfloor + 1"
)
st.markdown(
    _(
        "Keras's `padding=\"same\"` pads just enough that out = ⌈W / s⌉. A convolution with F filters on "
        "C input channels learns (k·k·C + 1)·F numbers, a dense layer (N_in + 1)·units. Build a stack "
        "below, or start from one of the reports' networks, and check every row by hand."
    )
)

for problem in state_from_url():
    st.warning(problem)

base_input, base_stack = st.session_state[BASE_KEY]
version = st.session_state[VERSION_KEY]

choice_column, input_column = st.columns([2, 3])
with choice_column:
    network_labels = {name: network_label(name) for name in [*shapes.EXAMPLE_NETWORKS, CUSTOM]}
    st.selectbox(
        _("Start from"),
        list(network_labels),
        key="shapes_network",
        format_func=network_labels.__getitem__,  # labels made now, in this run's language
        on_change=on_network_change,
    )
    chosen = st.session_state["shapes_network"]
    if chosen != CUSTOM:
        st.caption(_(shapes.EXAMPLE_NETWORKS[chosen].description))
with input_column:
    # The URL's input is decoded within the same limits, so these boxes never receive a value they refuse.
    height_column, width_column, channel_column = st.columns(3)
    height = height_column.number_input(
        _("Input height"), 1, shapes.MAX_INPUT_SIDE, base_input[0], key="shapes_height"
    )
    width = width_column.number_input(_("Input width"), 1, shapes.MAX_INPUT_SIDE, base_input[1], key="shapes_width")
    channels = channel_column.number_input(
        _("Channels"), 1, shapes.MAX_CHANNELS, base_input[2], key="shapes_channels"
    )
    exact_tiling = st.checkbox(
        _("Ask for exact tiling (the window must land exactly on the last pixel)"),
        key="shapes_exact",
        help=_("Without it, leftover pixels that the window cannot reach are silently dropped, as Keras does."),
    )
input_shape = (int(height), int(width), int(channels))

st.subheader(_("Your stack, top to bottom"))
st.caption(
    _(
        "Edit any cell, add rows at the bottom, delete rows with the checkbox on the left. Blank cells take "
        "Keras's defaults. Padding is `valid`, `same`, or a number of pixels (convolutions and zero padding)."
    )
)
EDITOR_LABELS = editor_labels()
base_frame = pd.DataFrame(shapes.stack_to_records(base_stack), columns=list(shapes.EDITOR_FIELDS))
for column in ("size", "window", "stride", "dilation"):
    base_frame[column] = base_frame[column].astype("Int64")
base_frame["rate"] = base_frame["rate"].astype("float64")
base_frame["bias"] = base_frame["bias"].astype("boolean")
edited = st.data_editor(
    base_frame,
    key=f"shapes_editor_{version}",
    num_rows="dynamic",
    width="stretch",
    column_config={
        "layer": st.column_config.SelectboxColumn(
            EDITOR_LABELS["layer"], options=list(shapes.LAYER_TYPES), required=True
        ),
        "size": st.column_config.NumberColumn(EDITOR_LABELS["size"], step=1),
        "window": st.column_config.NumberColumn(EDITOR_LABELS["window"], step=1),
        "stride": st.column_config.NumberColumn(EDITOR_LABELS["stride"], step=1),
        "dilation": st.column_config.NumberColumn(EDITOR_LABELS["dilation"], step=1),
        "padding": st.column_config.TextColumn(EDITOR_LABELS["padding"]),
        "rate": st.column_config.NumberColumn(EDITOR_LABELS["rate"], format="%.3g"),
        "activation": st.column_config.SelectboxColumn(EDITOR_LABELS["activation"], options=list(shapes.ACTIVATIONS)),
        "bias": st.column_config.CheckboxColumn(EDITOR_LABELS["bias"]),
    },
)
records = edited.astype(object).where(edited.notna(), None).to_dict("records")
try:
    stack = shapes.records_to_stack(records)
    shapes.check_stack_limits(stack)
except shapes.StackError as error:
    st.error(str(error))
    st.stop()

query = shapes.encode_query(shapes.SharedStack(input_shape, tuple(stack), exact_tiling))
if QUERY_PARAMETER in st.query_params:  # the language a link or the switch chose travels with the stack
    query[QUERY_PARAMETER] = st.query_params[QUERY_PARAMETER]
if st.query_params.to_dict() != query:
    st.query_params.from_dict(query)
st.session_state[URL_KEY] = seen_key(query)
stack_text = query["stack"]

with st.expander(_("Share this stack")):
    st.markdown(
        _("The address bar holds the whole stack: copy it, or this link, and whoever opens it sees the same table.")
    )
    page_url = str(getattr(st.context, "url", "") or "").split("?")[0]
    st.code(f"{page_url}?{urlencode(query)}", language=None)

rows = shapes.compute_table(input_shape, stack, exact_tiling=exact_tiling)
broken = shapes.first_error(rows)
all_params, trainable_params = shapes.total_params(rows)

quiz_key = (stack_text, input_shape)
stored_quiz = st.session_state.get(QUIZ_KEY)
if not stored_quiz or stored_quiz["key"] != quiz_key or broken is not None:
    stored_quiz = None
open_question = stored_quiz is not None and stored_quiz["quiz"] is not None and stored_quiz["result"] is None
QUESTION_OPEN = _(
    "A question is waiting in the **Quiz** tab, and this tab would give its answer away: "
    "answer it, or ask for the answer, and it comes back."
)
CHECK_WITH_KERAS = _("Check with Keras")

table_tab, keras_tab, quiz_tab = st.tabs([_("Shapes and parameters"), CHECK_WITH_KERAS, _("Quiz")])

with table_tab:
    if open_question:
        st.info(QUESTION_OPEN)
    else:
        if broken is not None:
            st.error(
                _("**{name}** ({layer_type}) cannot work: {reason}").format(
                    name=broken.name, layer_type=broken.layer_type, reason=broken.error
                )
            )
        first, second, third = st.columns(3)
        first.metric(_("Output shape"), shapes.format_shape(rows[-1].output_shape) if broken is None else "—")
        second.metric(_("Parameters"), format_integer(all_params))
        third.metric(_("Trainable"), format_integer(trainable_params))
        if all_params != trainable_params:
            st.caption(
                _(
                    "BatchNorm keeps a moving mean and variance per channel: Keras counts them as parameters, "
                    "but no gradient changes them. PyTorch and report A count only the trainable ones."
                )
            )
        st.dataframe(table_frame(rows), hide_index=True, width="stretch")

with keras_tab:
    st.markdown(
        _(
            "Build this stack as a real `keras.Sequential` model and read the shapes and counts Keras itself "
            "computes. Our arithmetic never imports TensorFlow, so agreement is a real check."
        )
    )
    result_key = ("shapes_keras", input_shape, stack_text)
    try:
        shapes.check_keras_limits(all_params)
        too_large = None
    except shapes.LimitError as error:
        too_large = str(error)
    if open_question:
        st.info(QUESTION_OPEN)
    elif broken is not None:
        st.info(_("Fix **{name}** first: Keras cannot build a stack that breaks.").format(name=broken.name))
    elif too_large:
        st.warning(too_large)
    elif st.button(CHECK_WITH_KERAS, type="primary"):
        with st.spinner(_("Building the model in Keras...")):
            try:
                theirs = shapes.keras_table(shapes.build_keras_model(input_shape, stack))
            except ValueError as error:  # StackError included
                theirs = str(error)
        st.session_state["shapes_keras_result"] = (result_key, theirs)
    stored = st.session_state.get("shapes_keras_result")
    if not open_question and broken is None and not too_large and stored and stored[0] == result_key:
        theirs = stored[1]
        if isinstance(theirs, str):
            st.error(_("Keras refused the stack: {reason}").format(reason=theirs))
        else:
            differences = shapes.compare_tables(rows, theirs)
            if differences:
                st.error(_("Keras disagrees:") + "\n\n" + "\n".join(f"- {line}" for line in differences))
            else:
                st.success(
                    _("Equal: all {count} rows have the same type, output shape and parameter count in Keras.").format(
                        count=len(rows)
                    )
                )
            ours_column, keras_column = st.columns(2)
            compact = ("name", "layer_type", "output_shape", "params")
            ours_column.markdown("**" + _("Our arithmetic") + "**")
            ours_column.dataframe(table_frame(rows, fields=compact), hide_index=True)
            keras_column.markdown("**Keras**")
            keras_column.dataframe(table_frame(theirs, fields=compact), hide_index=True)

with quiz_tab:
    st.markdown(
        _(
            "The app hides one output shape or parameter count. Work it out from the row above it; "
            "the other tabs keep the answer hidden until you have answered."
        )
    )
    if broken is not None:
        st.info(_("Fix **{name}** first, then ask for a question.").format(name=broken.name))
    else:
        st.button(_("New question"), on_click=new_question, args=(rows, quiz_key))
        if stored_quiz and stored_quiz.get("problem"):
            st.warning(stored_quiz["problem"])
        if stored_quiz and stored_quiz["quiz"] is not None:
            quiz, result = stored_quiz["quiz"], stored_quiz["result"]
            st.markdown(f"**{quiz.question}**")
            hidden = quiz.hidden_cells if result is None else frozenset()
            st.dataframe(table_frame(shapes.question_rows(rows, quiz), hidden), hide_index=True, width="stretch")
            if result is None:
                with st.form("shapes_quiz_form"):
                    st.text_input(
                        _("Your answer"), key=ANSWER_KEY,
                        placeholder="22x22x64" if quiz.field == "output_shape" else "36928",
                    )
                    st.form_submit_button(_("Check my answer"), on_click=check_my_answer)
                st.button(_("Show me the answer"), on_click=show_the_answer)
            else:
                (st.success if result.correct else st.error)(result.message)
