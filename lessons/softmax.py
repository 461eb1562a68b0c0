"""Softmax + cross-entropy: from logits to dL/dz = yhat - y, with the Jacobian in between."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from fer import gradcheck, gradient_quiz, grads
from fer.data import EMOTIONS
from fer.i18n import _, expressions
from fer.urlstate import Field, UrlState
from lessons._gradient_tables import mistake_picker, numbers, quiz, seed_widgets, styled
from lessons._language import chart, page_language
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


page_language()
NAMES = expressions()  # the seven expressions in the reader's language, in label order
st.title(_("Softmax and cross-entropy"))
st.markdown(
    _(
        "A facial-expression network ends with 7 numbers, the **logits** $z$, one per emotion. Softmax "
        "turns them into probabilities, cross-entropy scores them against the true label, and backprop "
        "starts from the gradient of that loss with respect to the logits. Move the logits and see every "
        "step; the final gradient turns out to be strikingly simple."
    )
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

st.subheader(_("Logits"))
columns = st.columns(len(EMOTIONS))
logits = np.array(
    [
        column.slider(name, -6.0, 6.0, step=0.1, key=f"sm_logit_{index}")
        for index, (column, name) in enumerate(zip(columns, NAMES))
    ]
)
left, middle, right = st.columns(3)
temperature = left.slider(_("Temperature T"), 0.1, 5.0, step=0.1, key="sm_temperature")
true_class = middle.selectbox(_("True class"), range(len(EMOTIONS)), format_func=NAMES.__getitem__, key="sm_true")
smoothing = right.slider(_("Label smoothing alpha"), 0.0, 0.5, step=0.01, key="sm_smoothing")

mistake = mistake_picker(grads.SOFTMAX_MISTAKES, "sm", _("The gradient below now uses this wrong formula."))

try:
    targets = grads.targets_for(true_class, len(EMOTIONS), smoothing)
    probabilities = grads.softmax(logits, temperature)
    loss = float(grads.cross_entropy(logits, targets, temperature))
    gradient = grads.grad_logits(logits, targets, temperature, mistake=mistake)
except grads.GradientInputError as error:
    st.error(str(error))
    st.stop()

st.header(_("Forward"))
st.latex(
    rf"\hat y_t = \frac{{e^{{z_t/T}}}}{{\sum_i e^{{z_i/T}}}} = {numbers(probabilities, digits=3)}"
)
st.latex(
    rf"y = (1-\alpha)\,\text{{onehot}} + \frac{{\alpha}}{{7}} = {numbers(targets, digits=3)}"
)
st.latex(rf"L = -\sum_i y_i \log \hat y_i = {loss:.4f}")
st.caption(
    _(
        "A temperature above 1 flattens the probabilities, below 1 sharpens them. Label smoothing "
        "asks for a little probability on every class, so the network cannot win by growing its "
        "logits forever."
    )
)

st.header(_("Backward"))
st.latex(
    rf"\frac{{\partial L}}{{\partial z}} = \frac{{\hat y - y}}{{T}} = {numbers(gradient, digits=3)}"
    if mistake is None
    else r"\text{" + _("(wrong formula)") + "}"
    + rf"\ \frac{{\partial L}}{{\partial z}} = {numbers(gradient, digits=3)}"
)
bars = pd.DataFrame(
    {
        "emotion": NAMES * 2,
        "value": np.concatenate([probabilities, targets]),
        "series": [_("predicted yhat")] * 7 + [_("target y")] * 7,
    }
)
left, right = st.columns(2)
with left:
    st.altair_chart(
        chart(
            alt.Chart(bars)
            .mark_bar()
            .encode(
                x=alt.X("emotion:N", sort=NAMES, title=None, axis=alt.Axis(labelAngle=0)),
                xOffset="series:N",
                y=alt.Y("value:Q", title=_("probability")),
                color=alt.Color("series:N", title=None),
            )
            .properties(height=280, title=_("Probabilities and target"))
        ),
        width="stretch",
    )
with right:
    st.altair_chart(
        chart(
            alt.Chart(pd.DataFrame({"emotion": NAMES, "gradient": gradient}))
            .mark_bar()
            .encode(
                x=alt.X("emotion:N", sort=NAMES, title=None, axis=alt.Axis(labelAngle=0)),
                y=alt.Y("gradient:Q", title="dL/dz"),
                color=alt.condition("datum.gradient > 0", alt.value("#e57373"), alt.value("#64b5f6")),
            )
            .properties(height=280, title=_("Gradient on the logits"))
        ),
        width="stretch",
    )
st.caption(
    _(
        "Gradient descent moves each logit against its bar: the true class (negative bar) goes up, "
        "every over-confident wrong class goes down. The bars always sum to zero."
    )
)

st.subheader(_("Where yhat - y comes from: the softmax Jacobian"))
jacobian = grads.softmax_jacobian(probabilities)
heatmap_data = pd.DataFrame(
    [
        {"output": NAMES[i], "logit": NAMES[t], "J": jacobian[i, t]}
        for i in range(7)
        for t in range(7)
    ]
)
base = alt.Chart(heatmap_data).encode(
    x=alt.X("logit:N", sort=NAMES, title=_("logit t"), axis=alt.Axis(labelAngle=0)),
    y=alt.Y("output:N", sort=NAMES, title=_("output i")),
)
left, right = st.columns([3, 2])
with left:
    st.altair_chart(
        chart(
            (
                base.mark_rect().encode(
                    color=alt.Color("J:Q", scale=alt.Scale(scheme="redblue", domainMid=0, reverse=True))
                )
                + base.mark_text(fontSize=10).encode(text=alt.Text("J:Q", format=".3f"))
            ).properties(height=330)
        ),
        width="stretch",
    )
with right:
    st.latex(r"J_{it} = \frac{\partial \hat y_i}{\partial s_t} = \hat y_i(\delta_{it} - \hat y_t), \quad s = z/T")
    st.latex(r"\frac{\partial L}{\partial \hat y_i} = -\frac{y_i}{\hat y_i}")
    st.latex(r"\frac{\partial L}{\partial z_t} = \frac{1}{T}\sum_i \frac{\partial L}{\partial \hat y_i} J_{it}")
    st.caption(
        _(
            "Every row of J sums to 0 (largest row sum here {largest}): "
            "raising one probability must lower the others. Because the targets sum to 1, the whole "
            "matrix product collapses to yhat - y."
        ).format(largest=f"{np.abs(jacobian.sum(axis=1)).max():.1e}")
    )

st.latex(
    r"\frac{1}{T}\sum_i -\frac{y_i}{\hat y_i}\,\hat y_i(\delta_{it}-\hat y_t)"
    r" = \frac{1}{T}\Big(\hat y_t\sum_i y_i - y_t\Big) = \frac{\hat y_t - y_t}{T}"
)
long_way = grads.grad_logits_through_jacobian(probabilities, targets, temperature)
st.latex(r"\text{" + _("through the Jacobian: ") + "}" + numbers(long_way, digits=3))

st.header(_("Checked three ways"))
st.markdown(
    _(
        "The formula against **autodiff** (`tf.nn.softmax_cross_entropy_with_logits` differentiated by "
        "`tf.GradientTape` in float64) and **central finite differences** of the loss. It passes below a "
        "relative error of {autodiff} and {finite}."
    ).format(autodiff=f"{gradcheck.AUTODIFF_TOLERANCE:.0e}", finite=f"{gradcheck.FINITE_DIFFERENCE_TOLERANCE:.0e}")
)
with st.spinner(_("Asking TensorFlow for its gradient...")):
    comparisons = gradcheck.check_softmax(logits, targets, temperature, mistake=mistake)
table = gradcheck.comparison_table(comparisons)
table["gradient"] = [f"dL/dz ({name})" for name in NAMES]
st.dataframe(styled(table), width="stretch")
if gradcheck.all_passed(comparisons):
    st.success(_("Verdict: all three agree. dL/dz = (yhat - y) / T is right."))
    if mistake == "temperature_forgotten":
        st.info(_("At T = 1 this slip is invisible: move the temperature slider."))
else:
    st.error(
        _(
            "Verdict: the check FAILS. The analytic gradient disagrees with both autodiff and finite "
            "differences: the formula is wrong."
        )
    )

st.header(_("Numerical stability: log-sum-exp"))
st.markdown(
    _(
        "$e^{z}$ overflows float64 once $z$ passes about 709. Softmax does not change when the same "
        "constant is added to every logit, so stable code subtracts the largest logit first: "
        "$\\log\\sum_i e^{z_i} = \\max z + \\log\\sum_i e^{z_i-\\max z}$. Then the largest exponent is "
        "$e^0 = 1$. Push the logits up (overflow) or down (underflow) and compare."
    )
)
shift = st.slider(_("Add this to every logit"), -2000, 2000, step=50, key="sm_shift")
shifted = logits + shift
naive_probabilities = grads.softmax_naive(shifted, temperature)
stable_probabilities = grads.softmax(shifted, temperature)
st.dataframe(
    pd.DataFrame(
        {
            _("logit + shift"): shifted,
            _("naive exp(z)/sum exp(z)"): [f"{value:.4g}" for value in naive_probabilities],
            _("stable (shift by max)"): stable_probabilities,
        },
        index=NAMES,
    ),
    width="stretch",
)
naive_loss = float(grads.cross_entropy_naive(shifted, targets, temperature))
stable_loss = float(grads.cross_entropy(shifted, targets, temperature))
if not np.isfinite(naive_loss):
    st.error(
        _(
            "Naive loss: {naive}. exp overflowed to inf (inf / inf = NaN) or underflowed to 0 "
            "(log 0 = -inf). The stable loss is {stable}, the same as without the shift."
        ).format(naive=naive_loss, stable=f"{stable_loss:.4f}")
    )
else:
    st.success(
        _("Naive loss {naive}, stable loss {stable}: no overflow at this shift.").format(
            naive=f"{naive_loss:.4f}", stable=f"{stable_loss:.4f}"
        )
    )

st.header(_("Your turn"))
st.markdown(
    _(
        "A fresh set of logits, not the ones above. The forward pass is done for you; one term of the "
        "backward pass is hidden. Work it out on paper (or in your head), type it in, and the page checks "
        "it to within {tolerance} and shows the working. A teacher can hand out one question to a whole class: "
        "its number is in the page's link."
    ).format(tolerance=f"{gradient_quiz.RELATIVE_TOLERANCE:.0%}")
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
