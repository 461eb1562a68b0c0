"""Softmax + cross-entropy: from logits to dL/dz = yhat - y, with the Jacobian in between."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from fer import gradcheck, gradient_quiz, grads
from fer.data import EMOTIONS
from fer.urlstate import Field, UrlState
from lessons._gradient_tables import mistake_picker, numbers, quiz, seed_widgets, styled
from lessons._shared import read_url_state, write_url_state

DEFAULT_LOGITS = (1.0, -1.5, 0.5, 2.5, 0.0, 1.0, 1.5)
# Everything a teacher sets on this page, in its link (limits match the widgets below).
SOFTMAX_STATE = UrlState(
    Field.floats("logits", DEFAULT_LOGITS, low=-6, high=6, max_items=7, min_items=7),
    Field.number("temperature", 1.0, low=0.1, high=5.0),
    Field.choice("true", "Happy", EMOTIONS),
    Field.number("smoothing", 0.0, low=0.0, high=0.5),
    Field.choice("mistake", "none", ("none", *grads.SOFTMAX_MISTAKES)),
    Field.integer("shift", 1000, low=-2000, high=2000),
    Field.integer("quiz", 0, low=0, high=1_000_000),
)


st.title("Softmax and cross-entropy")
st.markdown(
    """
A facial-expression network ends with 7 numbers, the **logits** $z$, one per emotion. Softmax
turns them into probabilities, cross-entropy scores them against the true label, and backprop
starts from the gradient of that loss with respect to the logits. Move the logits and see every
step; the final gradient turns out to be strikingly simple.
"""
)

linked = read_url_state(SOFTMAX_STATE)
seed_widgets(
    {
        **{f"sm_logit_{index}": value for index, value in enumerate(linked["logits"])},
        "sm_temperature": linked["temperature"],
        "sm_true": EMOTIONS.index(linked["true"]),
        "sm_smoothing": linked["smoothing"],
        "sm_mistake_on": linked["mistake"] != "none",
        "sm_mistake": linked["mistake"] if linked["mistake"] != "none" else next(iter(grads.SOFTMAX_MISTAKES)),
        "sm_shift": linked["shift"],
        "sm_quiz": linked["quiz"],
    }
)

st.subheader("Logits")
columns = st.columns(len(EMOTIONS))
logits = np.array(
    [
        column.slider(emotion, -6.0, 6.0, step=0.1, key=f"sm_logit_{index}")
        for index, (column, emotion) in enumerate(zip(columns, EMOTIONS))
    ]
)
left, middle, right = st.columns(3)
temperature = left.slider("Temperature T", 0.1, 5.0, step=0.1, key="sm_temperature")
true_class = middle.selectbox("True class", range(len(EMOTIONS)), format_func=lambda i: EMOTIONS[i], key="sm_true")
smoothing = right.slider("Label smoothing alpha", 0.0, 0.5, step=0.01, key="sm_smoothing")

mistake = mistake_picker(grads.SOFTMAX_MISTAKES, "sm", "The gradient below now uses this wrong formula.")

try:
    targets = grads.targets_for(true_class, len(EMOTIONS), smoothing)
    probabilities = grads.softmax(logits, temperature)
    loss = float(grads.cross_entropy(logits, targets, temperature))
    gradient = grads.grad_logits(logits, targets, temperature, mistake=mistake)
except grads.GradientInputError as error:
    st.error(str(error))
    st.stop()

st.header("Forward")
st.latex(
    rf"\hat y_t = \frac{{e^{{z_t/T}}}}{{\sum_i e^{{z_i/T}}}} = {numbers(probabilities, digits=3)}"
)
st.latex(
    rf"y = (1-\alpha)\,\text{{onehot}} + \frac{{\alpha}}{{7}} = {numbers(targets, digits=3)}"
)
st.latex(rf"L = -\sum_i y_i \log \hat y_i = {loss:.4f}")
st.caption(
    "A temperature above 1 flattens the probabilities, below 1 sharpens them. Label smoothing "
    "asks for a little probability on every class, so the network cannot win by growing its "
    "logits forever."
)

st.header("Backward")
st.latex(
    rf"\frac{{\partial L}}{{\partial z}} = \frac{{\hat y - y}}{{T}} = {numbers(gradient, digits=3)}"
    if mistake is None
    else rf"\text{{(wrong formula)}}\ \frac{{\partial L}}{{\partial z}} = {numbers(gradient, digits=3)}"
)
bars = pd.DataFrame(
    {
        "emotion": list(EMOTIONS) * 2,
        "value": np.concatenate([probabilities, targets]),
        "series": ["predicted yhat"] * 7 + ["target y"] * 7,
    }
)
left, right = st.columns(2)
with left:
    st.altair_chart(
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=alt.X("emotion:N", sort=list(EMOTIONS), title=None),
            xOffset="series:N",
            y=alt.Y("value:Q", title="probability"),
            color=alt.Color("series:N", title=None),
        )
        .properties(height=280, title="Probabilities and target"),
        width="stretch",
    )
with right:
    st.altair_chart(
        alt.Chart(pd.DataFrame({"emotion": EMOTIONS, "dL/dz": gradient}))
        .mark_bar()
        .encode(
            x=alt.X("emotion:N", sort=list(EMOTIONS), title=None),
            y=alt.Y("dL/dz:Q"),
            color=alt.condition("datum['dL/dz'] > 0", alt.value("#e57373"), alt.value("#64b5f6")),
        )
        .properties(height=280, title="Gradient on the logits"),
        width="stretch",
    )
st.caption(
    "Gradient descent moves each logit against its bar: the true class (negative bar) goes up, "
    "every over-confident wrong class goes down. The bars always sum to zero."
)

st.subheader("Where yhat - y comes from: the softmax Jacobian")
jacobian = grads.softmax_jacobian(probabilities)
heatmap_data = pd.DataFrame(
    [
        {"output i": EMOTIONS[i], "logit t": EMOTIONS[t], "J": jacobian[i, t]}
        for i in range(7)
        for t in range(7)
    ]
)
base = alt.Chart(heatmap_data).encode(
    x=alt.X("logit t:N", sort=list(EMOTIONS)), y=alt.Y("output i:N", sort=list(EMOTIONS))
)
left, right = st.columns([3, 2])
with left:
    st.altair_chart(
        (
            base.mark_rect().encode(
                color=alt.Color("J:Q", scale=alt.Scale(scheme="redblue", domainMid=0, reverse=True))
            )
            + base.mark_text(fontSize=10).encode(text=alt.Text("J:Q", format=".3f"))
        ).properties(height=330),
        width="stretch",
    )
with right:
    st.latex(r"J_{it} = \frac{\partial \hat y_i}{\partial s_t} = \hat y_i(\delta_{it} - \hat y_t), \quad s = z/T")
    st.latex(r"\frac{\partial L}{\partial \hat y_i} = -\frac{y_i}{\hat y_i}")
    st.latex(r"\frac{\partial L}{\partial z_t} = \frac{1}{T}\sum_i \frac{\partial L}{\partial \hat y_i} J_{it}")
    st.caption(
        f"Every row of J sums to 0 (largest row sum here {np.abs(jacobian.sum(axis=1)).max():.1e}): "
        "raising one probability must lower the others. Because the targets sum to 1, the whole "
        "matrix product collapses to yhat - y."
    )

st.latex(
    r"\frac{1}{T}\sum_i -\frac{y_i}{\hat y_i}\,\hat y_i(\delta_{it}-\hat y_t)"
    r" = \frac{1}{T}\Big(\hat y_t\sum_i y_i - y_t\Big) = \frac{\hat y_t - y_t}{T}"
)
long_way = grads.grad_logits_through_jacobian(probabilities, targets, temperature)
st.latex(r"\text{through the Jacobian: }" + numbers(long_way, digits=3))

st.header("Checked three ways")
st.markdown(
    f"""
The formula against **autodiff** (`tf.nn.softmax_cross_entropy_with_logits` differentiated by
`tf.GradientTape` in float64) and **central finite differences** of the loss. It passes below a
relative error of {gradcheck.AUTODIFF_TOLERANCE:.0e} and {gradcheck.FINITE_DIFFERENCE_TOLERANCE:.0e}.
"""
)
with st.spinner("Asking TensorFlow for its gradient..."):
    comparisons = gradcheck.check_softmax(logits, targets, temperature, mistake=mistake)
table = gradcheck.comparison_table(comparisons)
table["gradient"] = [f"dL/dz ({emotion})" for emotion in EMOTIONS]
st.dataframe(styled(table), width="stretch")
if gradcheck.all_passed(comparisons):
    st.success("Verdict: all three agree. dL/dz = (yhat - y) / T is right.")
    if mistake == "temperature_forgotten":
        st.info("At T = 1 this slip is invisible: move the temperature slider.")
else:
    st.error(
        "Verdict: the check FAILS. The analytic gradient disagrees with both autodiff and finite "
        "differences: the formula is wrong."
    )

st.header("Numerical stability: log-sum-exp")
st.markdown(
    """
$e^{z}$ overflows float64 once $z$ passes about 709. Softmax does not change when the same
constant is added to every logit, so stable code subtracts the largest logit first:
$\\log\\sum_i e^{z_i} = \\max z + \\log\\sum_i e^{z_i-\\max z}$. Then the largest exponent is $e^0 = 1$.
Push the logits up (overflow) or down (underflow) and compare.
"""
)
shift = st.slider("Add this to every logit", -2000, 2000, step=50, key="sm_shift")
shifted = logits + shift
naive_probabilities = grads.softmax_naive(shifted, temperature)
stable_probabilities = grads.softmax(shifted, temperature)
st.dataframe(
    pd.DataFrame(
        {
            "logit + shift": shifted,
            "naive exp(z)/sum exp(z)": [f"{value:.4g}" for value in naive_probabilities],
            "stable (shift by max)": stable_probabilities,
        },
        index=list(EMOTIONS),
    ),
    width="stretch",
)
naive_loss = float(grads.cross_entropy_naive(shifted, targets, temperature))
stable_loss = float(grads.cross_entropy(shifted, targets, temperature))
if not np.isfinite(naive_loss):
    st.error(
        f"Naive loss: {naive_loss}. exp overflowed to inf (inf / inf = NaN) or underflowed to 0 "
        f"(log 0 = -inf). The stable loss is {stable_loss:.4f}, the same as without the shift."
    )
else:
    st.success(f"Naive loss {naive_loss:.4f}, stable loss {stable_loss:.4f}: no overflow at this shift.")

st.header("Your turn")
st.markdown(
    """
A fresh set of logits, not the ones above. The forward pass is done for you; one term of the
backward pass is hidden. Work it out on paper (or in your head), type it in, and the page checks
it to within 1 % and shows the working. A teacher can hand out one question to a whole class:
its number is in the page's link.
"""
)
quiz(gradient_quiz.softmax_question(st.session_state["sm_quiz"]), "sm")

write_url_state(
    SOFTMAX_STATE,
    {
        "logits": tuple(float(value) for value in logits),
        "temperature": temperature,
        "true": EMOTIONS[true_class],
        "smoothing": smoothing,
        "mistake": mistake or "none",
        "shift": shift,
        "quiz": st.session_state["sm_quiz"],
    },
)
