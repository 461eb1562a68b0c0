"""Lesson: shape arithmetic. Build a stack, see every layer's output shape, parameter count and working."""

import random
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from fer import shapes

DEFAULT_PRESET = "report_b_cnn"
CUSTOM = "custom"
BASE_KEY = "shapes_base"  # (input shape, stack) the editor starts from
VERSION_KEY = "shapes_editor_version"  # bumped to reset the editor to a new base
URL_KEY = "shapes_url_seen"  # the query string this session last loaded, to notice a pasted link


def preset_label(name: str) -> str:
    return "Your own stack" if name == CUSTOM else shapes.PRESETS[name].title


def load_base(input_shape, stack) -> None:
    st.session_state[BASE_KEY] = (tuple(input_shape), list(stack))
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1
    for key in ("shapes_height", "shapes_width", "shapes_channels"):
        st.session_state.pop(key, None)


def on_preset_change() -> None:
    name = st.session_state["shapes_preset"]
    if name != CUSTOM:
        preset = shapes.PRESETS[name]
        load_base(preset.input_shape, preset.stack)
    st.session_state.pop("shapes_quiz", None)


def state_from_url() -> str | None:
    """Load the stack in the URL when this session has not seen that URL yet; a sentence if it is unreadable."""
    stack_text = st.query_params.get("stack")
    input_text = st.query_params.get("input", "48x48x1")
    seen = (stack_text, input_text)
    if BASE_KEY in st.session_state and st.session_state.get(URL_KEY) == seen:
        return None
    st.session_state[URL_KEY] = seen
    if stack_text is None:
        if BASE_KEY not in st.session_state:
            preset = shapes.PRESETS[DEFAULT_PRESET]
            load_base(preset.input_shape, preset.stack)
            st.session_state["shapes_preset"] = DEFAULT_PRESET
        return None
    try:
        stack, input_shape = shapes.decode_stack(stack_text), shapes.decode_input_shape(input_text)
    except shapes.StackError as error:
        if BASE_KEY not in st.session_state:
            preset = shapes.PRESETS[DEFAULT_PRESET]
            load_base(preset.input_shape, preset.stack)
        return f"The link's stack could not be read, so a preset is shown instead. {error}"
    load_base(input_shape, stack)
    matching = [name for name, preset in shapes.PRESETS.items() if list(preset.stack) == stack and preset.input_shape == input_shape]
    st.session_state["shapes_preset"] = matching[0] if matching else CUSTOM
    st.session_state["shapes_exact"] = st.query_params.get("exact") == "1"
    return None


st.title("Shape arithmetic")
st.markdown(
    "Before a network learns anything, its shapes must fit. Every convolution or pooling layer slides "
    "a window of size **k** with stride **s** over an input of width **W**, padded with **p** pixels on "
    "each side. The number of places the window fits is"
)
st.latex(
    r"\text{out} = \left\lfloor \frac{W + 2p - k}{s} \right\rfloor + 1"
    r"\qquad\text{and with dilation } d: \qquad"
    r"\text{out} = \left\lfloor \frac{W + 2p - d(k-1) - 1}{s} \right\rfloor + 1"
)
st.markdown(
    "Keras's `padding=\"same\"` pads just enough that out = ⌈W / s⌉. A convolution with F filters on "
    "C input channels learns (k·k·C + 1)·F numbers, a dense layer (N_in + 1)·units. Build a stack "
    "below, or start from a seed network, and check every row by hand."
)

url_problem = state_from_url()
if url_problem:
    st.warning(url_problem)

base_input, base_stack = st.session_state[BASE_KEY]
version = st.session_state[VERSION_KEY]

choice_column, input_column = st.columns([2, 3])
with choice_column:
    st.selectbox(
        "Start from",
        [*shapes.PRESETS, CUSTOM],
        key="shapes_preset",
        format_func=preset_label,
        on_change=on_preset_change,
    )
    chosen = st.session_state["shapes_preset"]
    if chosen != CUSTOM:
        st.caption(shapes.PRESETS[chosen].description)
with input_column:
    height_column, width_column, channel_column = st.columns(3)
    height = height_column.number_input("Input height", 1, 1024, base_input[0], key="shapes_height")
    width = width_column.number_input("Input width", 1, 1024, base_input[1], key="shapes_width")
    channels = channel_column.number_input("Channels", 1, 512, base_input[2], key="shapes_channels")
    exact_tiling = st.checkbox(
        "Ask for exact tiling (the window must land exactly on the last pixel)",
        key="shapes_exact",
        help="Without it, leftover pixels that the window cannot reach are silently dropped, as Keras does.",
    )
input_shape = (int(height), int(width), int(channels))

st.subheader("Your stack, top to bottom")
st.caption(
    "Edit any cell, add rows at the bottom, delete rows with the checkbox on the left. "
    "Blank cells take Keras's defaults. Padding is `valid`, `same`, or a number of pixels (convolutions and zero padding)."
)
base_frame = pd.DataFrame(shapes.stack_to_records(base_stack), columns=list(shapes.EDITOR_COLUMNS))
for column in ("filters / units", "kernel / pool", "stride", "dilation"):
    base_frame[column] = base_frame[column].astype("Int64")
base_frame["rate / slope"] = base_frame["rate / slope"].astype("float64")
base_frame["bias"] = base_frame["bias"].astype("boolean")
edited = st.data_editor(
    base_frame,
    key=f"shapes_editor_{version}",
    num_rows="dynamic",
    width="stretch",
    column_config={
        "layer": st.column_config.SelectboxColumn("layer", options=list(shapes.LAYER_TYPES), required=True),
        "filters / units": st.column_config.NumberColumn("filters / units", step=1),
        "kernel / pool": st.column_config.NumberColumn("kernel / pool", step=1),
        "stride": st.column_config.NumberColumn("stride", step=1),
        "dilation": st.column_config.NumberColumn("dilation", step=1),
        "padding": st.column_config.TextColumn("padding"),
        "rate / slope": st.column_config.NumberColumn("rate / slope", format="%.3g"),
        "activation": st.column_config.SelectboxColumn("activation", options=list(shapes.ACTIVATIONS)),
        "bias": st.column_config.CheckboxColumn("bias"),
    },
)
records = edited.astype(object).where(edited.notna(), None).to_dict("records")
try:
    stack = shapes.records_to_stack(records)
except shapes.StackError as error:
    st.error(str(error))
    st.stop()

stack_text = shapes.encode_stack(stack)
query = {"input": shapes.encode_input_shape(input_shape), "stack": stack_text}
if exact_tiling:
    query["exact"] = "1"
if st.query_params.to_dict() != query:
    st.query_params.from_dict(query)
st.session_state[URL_KEY] = (query["stack"], query["input"])

with st.expander("Share this stack"):
    st.markdown("The address bar holds the whole stack: copy it, or this link, and whoever opens it sees the same table.")
    page_url = str(getattr(st.context, "url", "") or "").split("?")[0]
    st.code(f"{page_url}?{urlencode(query)}", language=None)

rows = shapes.compute_table(input_shape, stack, exact_tiling=exact_tiling)
broken = shapes.first_error(rows)
all_params, trainable_params = shapes.total_params(rows)

table_tab, keras_tab, quiz_tab = st.tabs(["Shapes and parameters", "Check with Keras", "Quiz"])

with table_tab:
    if broken is not None:
        st.error(f"**{broken.name}** ({broken.layer_type}) cannot work: {broken.error}")
    first, second, third = st.columns(3)
    first.metric("Output shape", shapes.format_shape(rows[-1].output_shape) if broken is None else "—")
    second.metric("Parameters", f"{all_params:,}")
    third.metric("Trainable", f"{trainable_params:,}")
    if all_params != trainable_params:
        st.caption(
            "BatchNorm keeps a moving mean and variance per channel: Keras counts them as parameters, "
            "but no gradient changes them. PyTorch and report A count only the trainable ones."
        )
    st.dataframe(pd.DataFrame(shapes.table_records(rows)), hide_index=True, width="stretch")

with keras_tab:
    st.markdown(
        "Build this stack as a real `keras.Sequential` model and read the shapes and counts Keras itself "
        "computes. Our arithmetic never imports TensorFlow, so agreement is a real check."
    )
    result_key = ("shapes_keras", input_shape, stack_text)
    if broken is not None:
        st.info(f"Fix **{broken.name}** first: Keras cannot build a stack that breaks.")
    elif st.button("Check with Keras", type="primary"):
        with st.spinner("Building the model in Keras..."):
            try:
                theirs = shapes.keras_table(shapes.build_keras_model(input_shape, stack))
            except (shapes.StackError, ValueError) as error:
                theirs = str(error)
        st.session_state["shapes_keras_result"] = (result_key, theirs)
    stored = st.session_state.get("shapes_keras_result")
    if broken is None and stored and stored[0] == result_key:
        theirs = stored[1]
        if isinstance(theirs, str):
            st.error(f"Keras refused the stack: {theirs}")
        else:
            differences = shapes.compare_tables(rows, theirs)
            if differences:
                st.error("Keras disagrees:\n\n" + "\n".join(f"- {line}" for line in differences))
            else:
                st.success(f"Equal: all {len(rows)} rows have the same type, output shape and parameter count in Keras.")
            ours_column, keras_column = st.columns(2)
            compact = ["layer", "type", "output shape", "parameters"]
            ours_column.markdown("**Our arithmetic**")
            ours_column.dataframe(pd.DataFrame(shapes.table_records(rows))[compact], hide_index=True)
            keras_column.markdown("**Keras**")
            keras_column.dataframe(pd.DataFrame(shapes.table_records(theirs))[compact], hide_index=True)

with quiz_tab:
    st.markdown("The app hides one output shape or parameter count. Work it out from the row above it.")
    if broken is not None:
        st.info(f"Fix **{broken.name}** first, then ask for a question.")
    else:
        if st.button("New question"):
            try:
                st.session_state["shapes_quiz"] = (stack_text, input_shape, shapes.make_quiz(rows, random.Random()))
            except shapes.StackError as error:
                st.warning(str(error))
        stored_quiz = st.session_state.get("shapes_quiz")
        if stored_quiz and stored_quiz[:2] == (stack_text, input_shape):
            quiz = stored_quiz[2]
            st.markdown(f"**{quiz.question}**")
            st.dataframe(pd.DataFrame(shapes.table_records(rows, quiz)), hide_index=True, width="stretch")
            with st.form("shapes_quiz_form"):
                answer = st.text_input("Your answer", placeholder="22x22x64" if quiz.field == "output_shape" else "36928")
                submitted = st.form_submit_button("Check my answer")
            if submitted:
                result = shapes.check_answer(quiz, answer)
                (st.success if result.correct else st.error)(result.message)
