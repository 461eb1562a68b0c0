"""BatchNorm backprop: every term of the chain rule, its formula beside its numbers, checked three ways."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from fer import gradcheck, gradient_quiz, grads
from fer.i18n import _
from fer.urlstate import Field, UrlState
from lessons._gradient_tables import mistake_picker, numbers, quiz, seed_widgets, styled
from lessons._language import chart, page_language
from lessons._shared import read_url_state, write_url_state

EPSILONS = [1e-8, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
MAX_BATCH = 16
BATCH_KEY, SEED_KEY = "bn_base_batch", "batchnorm_seed"


def random_batch(seed: int, batch_size: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """A batch x and its upstream gradient dl/dy, drawn from `seed`, two decimals each."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(1.0, 2.0, batch_size), 2)
    upstream = np.round(rng.normal(0.0, 1.0, batch_size), 2)
    return tuple(x.tolist()), tuple(upstream.tolist())


DEFAULT_X, DEFAULT_UPSTREAM = random_batch(0, 5)
# Everything a teacher sets on this page, in its link: the batch itself, gamma, beta, eps, the mistake, the quiz.
BATCHNORM_STATE = UrlState(
    Field.floats("x", DEFAULT_X, low=-1e4, high=1e4, max_items=MAX_BATCH, min_items=2),
    Field.floats("dy", DEFAULT_UPSTREAM, low=-1e4, high=1e4, max_items=MAX_BATCH, min_items=2),
    Field.number("gamma", 1.5, low=-100, high=100),
    Field.number("beta", 0.2, low=-100, high=100),
    Field.choice("eps", f"{1e-3:g}", [f"{epsilon:g}" for epsilon in EPSILONS]),
    Field.choice("mistake", "none", ("none", *grads.BATCHNORM_MISTAKES)),
    Field.integer("quiz", 0, low=0, high=1_000_000),
)


def use_batch(x, upstream) -> None:
    """Make (x, upstream) the batch the editor starts from; edits to the previous one are dropped."""
    version = st.session_state.get(BATCH_KEY, {}).get("version", 0) + 1
    st.session_state[BATCH_KEY] = {"x": tuple(x), "upstream": tuple(upstream), "version": version}
    st.session_state["bn_m"] = len(x)


def new_batch():
    st.session_state[SEED_KEY] = st.session_state.get(SEED_KEY, 0) + 1
    use_batch(*random_batch(st.session_state[SEED_KEY], st.session_state["bn_m"]))


def resize_batch():
    use_batch(*random_batch(st.session_state.get(SEED_KEY, 0), st.session_state["bn_m"]))


page_language()
st.title(_("BatchNorm backprop, by hand"))
st.markdown(
    _(
        "Batch normalisation standardises each feature with the **mean and variance of the current "
        "mini-batch**, then lets the network rescale it with a learnt $\\gamma$ and shift it with a learnt "
        "$\\beta$. Because the statistics are computed *from the batch itself*, every example's output "
        "depends on every other example, and so does its gradient. Below, one feature of a mini-batch of "
        "$m$ values goes forward and back. Edit any number and watch every term change."
    )
)

linked = read_url_state(BATCHNORM_STATE)
if len(linked["x"]) != len(linked["dy"]):
    st.warning(
        _(
            "The link's x has {x} numbers but its dy has {dy}: they pair up, "
            "one per example, so the page starts from its own batch instead."
        ).format(x=len(linked["x"]), dy=len(linked["dy"]))
    )
    linked["x"], linked["dy"] = DEFAULT_X, DEFAULT_UPSTREAM
if BATCH_KEY not in st.session_state:
    use_batch(linked["x"], linked["dy"])
seed_widgets(
    {
        "bn_m": len(st.session_state[BATCH_KEY]["x"]),
        "bn_gamma": linked["gamma"],
        "bn_beta": linked["beta"],
        "bn_eps": float(linked["eps"]),
        "bn_mistake_on": linked["mistake"] != "none",
        "bn_mistake": linked["mistake"] if linked["mistake"] != "none" else next(iter(grads.BATCHNORM_MISTAKES)),
        "bn_quiz": linked["quiz"],
    }
)
base = st.session_state[BATCH_KEY]

controls, editor_column = st.columns([1, 1])
with controls:
    st.number_input(_("Batch size m"), min_value=2, max_value=MAX_BATCH, key="bn_m", on_change=resize_batch)
    st.button(_("Draw a new random batch"), on_click=new_batch, key="bn_new_batch")
    gamma = st.number_input(_("gamma (scale)"), step=0.1, key="bn_gamma")
    beta = st.number_input(_("beta (shift)"), step=0.1, key="bn_beta")
    epsilon = st.select_slider(
        _("eps (added to the variance)"), options=EPSILONS, key="bn_eps", format_func=lambda value: f"{value:.0e}"
    )
initial = pd.DataFrame({"x": base["x"], "upstream": base["upstream"]})
with editor_column:
    st.caption(_("The batch and the gradient arriving from the layer above. Click a cell to edit."))
    edited = st.data_editor(
        initial, key=f"bn_batch_{base['version']}", hide_index=False,
        column_config={"upstream": st.column_config.NumberColumn(_("dl/dy (upstream)"))},
    )

mistake = mistake_picker(grads.BATCHNORM_MISTAKES, "bn", _("The backward pass below now uses this wrong formula."))

x = edited["x"].to_numpy(dtype=np.float64)
upstream = edited["upstream"].to_numpy(dtype=np.float64)
complete = bool(np.all(np.isfinite(x)) and np.all(np.isfinite(upstream)))
write_url_state(
    BATCHNORM_STATE,
    {
        "x": tuple(x) if complete else base["x"],
        "dy": tuple(upstream) if complete else base["upstream"],
        "gamma": gamma,
        "beta": beta,
        "eps": f"{epsilon:g}",
        "mistake": mistake or "none",
        "quiz": st.session_state["bn_quiz"],
    },
)
try:
    forward = grads.batchnorm_forward(x, gamma, beta, epsilon)
    backward = grads.batchnorm_backward(forward, upstream, mistake=mistake)
except grads.GradientInputError as error:
    st.error(_("{reason} (Every cell of the table needs a number.)").format(reason=error))
    st.stop()

st.header(_("Forward pass (training mode)"))
left, right = st.columns(2)
with left:
    st.latex(rf"\mu_B = \frac{{1}}{{m}}\sum_i x_i = {numbers(forward.batch_mean)}")
    st.latex(
        rf"\sigma_B^2 = \frac{{1}}{{m}}\sum_i (x_i-\mu_B)^2 = {numbers(forward.batch_variance)}"
    )
    st.latex(r"\hat x_i = \frac{x_i-\mu_B}{\sqrt{\sigma_B^2+\epsilon}}, \quad y_i = \gamma\hat x_i + \beta")
with right:
    st.dataframe(
        pd.DataFrame(
            {"x": forward.x, "x - mu_B": forward.centered, "x_hat": forward.x_hat, "y": forward.y}
        ),
        width="stretch",
    )

st.header(_("Backward pass, one term at a time"))
st.markdown(
    _(
        "The loss here is $l = \\sum_i \\frac{\\partial l}{\\partial y_i}\\, y_i$, so its gradient with respect "
        "to $y$ is exactly the upstream column you edited."
    )
)
terms = [
    (r"\frac{\partial l}{\partial \hat x_i} = \frac{\partial l}{\partial y_i}\cdot\gamma", backward.grad_x_hat),
    (
        r"\frac{\partial l}{\partial \sigma_B^2} = \sum_i \frac{\partial l}{\partial \hat x_i}(x_i-\mu_B)"
        r"\cdot\left(-\tfrac12\right)(\sigma_B^2+\epsilon)^{-3/2}",
        backward.grad_variance,
    ),
    (
        r"\frac{\partial l}{\partial \mu_B} = \sum_i \frac{\partial l}{\partial \hat x_i}\cdot"
        r"\frac{-1}{\sqrt{\sigma_B^2+\epsilon}}"
        r" + \frac{\partial l}{\partial \sigma_B^2}\cdot\frac{\sum_i -2(x_i-\mu_B)}{m}",
        backward.grad_mean,
    ),
    (
        r"\frac{\partial l}{\partial x_i} = \frac{\partial l}{\partial \hat x_i}"
        r"\cdot\frac{1}{\sqrt{\sigma_B^2+\epsilon}}"
        r" + \frac{\partial l}{\partial \sigma_B^2}\cdot\frac{2(x_i-\mu_B)}{m}"
        r" + \frac{\partial l}{\partial \mu_B}\cdot\frac{1}{m}",
        backward.grad_x,
    ),
    (r"\frac{\partial l}{\partial \gamma} = \sum_i \frac{\partial l}{\partial y_i}\,\hat x_i", backward.grad_gamma),
    (r"\frac{\partial l}{\partial \beta} = \sum_i \frac{\partial l}{\partial y_i}", backward.grad_beta),
]
for formula, values in terms:
    formula_column, value_column = st.columns([3, 2])
    formula_column.latex(formula)
    if np.size(values) > 1:
        value_column.dataframe(
            pd.DataFrame([values], columns=[f"i={index + 1}" for index in range(np.size(values))]),
            hide_index=True,
        )
    else:
        value_column.latex("= " + numbers(values))
if mistake is not None:
    st.warning(_("These numbers come from the wrong formula you picked above."))

st.subheader(_("The compact, one-line form"))
st.latex(
    r"\frac{\partial l}{\partial x_i} = \frac{\gamma}{m\sqrt{\sigma_B^2+\epsilon}}"
    r"\left(m\frac{\partial l}{\partial y_i} - \sum_j \frac{\partial l}{\partial y_j}"
    r" - \hat x_i \sum_j \frac{\partial l}{\partial y_j}\hat x_j\right)"
)
compact = grads.grad_x_compact(upstream, forward)
difference = float(np.max(np.abs(compact - backward.grad_x)))
st.latex("= " + numbers(compact))
st.write(_("Largest difference from the step-by-step chain: **{difference}**.").format(difference=f"{difference:.2e}"))
st.caption(
    _(
        "It says the same thing more plainly: BatchNorm's backward removes from the upstream gradient "
        "its batch average and its component along x_hat, then scales by gamma / sqrt(sigma^2 + eps)."
    )
)

st.header(_("Checked three ways"))
st.markdown(
    _(
        "The hand formulas against **autodiff** (TensorFlow's own `tf.nn.moments` and "
        "`tf.nn.batch_normalization`, differentiated by `tf.GradientTape` in float64) and against "
        "**central finite differences** $(l(p+h)-l(p-h))/2h$. Relative error "
        "$|a-b| / \\max(|a|,|b|)$ over the whole gradient; it passes below "
        "{autodiff} against autodiff and {finite} "
        "against finite differences (which carry their own truncation and rounding error)."
    ).format(
        autodiff=f"{gradcheck.AUTODIFF_TOLERANCE:.0e}", finite=f"{gradcheck.FINITE_DIFFERENCE_TOLERANCE:.0e}"
    )
)
with st.spinner(_("Asking TensorFlow for its gradients...")):
    comparisons = gradcheck.check_batchnorm(x, gamma, beta, epsilon, upstream, mistake=mistake)
st.dataframe(styled(gradcheck.comparison_table(comparisons)), width="stretch")
if gradcheck.all_passed(comparisons):
    if mistake is None:
        st.success(_("Verdict: all three agree. The hand-derived gradient is right."))
    else:
        st.success(
            _(
                "Verdict: all three still agree. This 'mistake' is harmless: the term it drops is "
                "multiplied by a sum that is exactly zero."
            )
        )
else:
    st.error(
        _(
            "Verdict: the check FAILS. The analytic gradient disagrees with both autodiff and finite "
            "differences: the formula is wrong."
        )
    )

st.header(_("How eps and the batch size shape the gradient"))
sweep = grads.gradient_versus_epsilon(x, upstream, gamma)
eps_chart = (
    alt.Chart(sweep)
    .mark_line()
    .encode(
        x=alt.X("epsilon:Q", scale=alt.Scale(type="log"), title="eps"),
        y=alt.Y("grad_x:Q", title="dl/dx_i"),
        color=alt.Color("example:N", title=_("example i")),
    )
)
variance_rule = (
    alt.Chart(pd.DataFrame({"epsilon": [float(forward.batch_variance)]}))
    .mark_rule(strokeDash=[4, 4])
    .encode(x="epsilon:Q")
)
left, right = st.columns(2)
with left:
    st.altair_chart(chart((eps_chart + variance_rule).properties(height=300)), width="stretch")
    st.caption(
        _(
            "While eps is far below the batch variance (dashed line) it changes nothing. Once it "
            "dominates, BatchNorm stops normalising and the gradient shrinks like gamma / sqrt(eps)."
        )
    )


@st.cache_data(show_spinner=False)
def batch_size_sweep(epsilon: float) -> pd.DataFrame:
    return grads.gradient_versus_batch_size(epsilon=epsilon)


with st.spinner(_("Drawing 200 batches of each size...")):
    sizes = batch_size_sweep(epsilon).melt("batch_size", var_name="curve", value_name="fraction")
curve_names = {"kept_fraction": _("kept fraction (measured)"), "sqrt((m-2)/m)": "sqrt((m-2)/m)"}
sizes["curve"] = sizes["curve"].map(curve_names)
with right:
    st.altair_chart(
        chart(
            alt.Chart(sizes)
            .mark_line(point=True)
            .encode(
                x=alt.X("batch_size:Q", scale=alt.Scale(type="log", base=2), title=_("batch size m")),
                y=alt.Y("fraction:Q", title="||dl/dx|| / ||dl/dx_hat / sqrt(sigma^2+eps)||"),
                color=alt.Color("curve:N", title=None),
            )
            .properties(height=300)
        ),
        width="stretch",
    )
    st.caption(
        _(
            "Random standard-normal batches: training mode throws away the gradient's batch mean and "
            "its part along x_hat, 2 directions out of m. With m = 2 almost nothing is left."
        )
    )

st.header(_("Your turn"))
st.markdown(
    _(
        "A fresh little batch, not the one above. The forward pass and the backward terms that come "
        "*before* the hidden one are filled in; the hidden term and everything computed from it are not. "
        "Work it out, type it in, and the page checks it to within {tolerance} and shows the working. A teacher "
        "can hand out one question to a whole class: its number is in the page's link."
    ).format(tolerance=f"{gradient_quiz.RELATIVE_TOLERANCE:.0%}")
)
quiz(gradient_quiz.batchnorm_question(st.session_state["bn_quiz"]), "bn")

st.header(_("Training mode versus inference mode"))
st.markdown(
    _(
        "At inference there may be a single face, so there is no batch to take statistics from. During "
        "training each step updates **running** averages, "
        "$\\mu_{run} \\leftarrow \\rho\\,\\mu_{run} + (1-\\rho)\\,\\mu_B$ (Keras: $\\rho = 0.99$), and at "
        "inference BatchNorm uses those fixed numbers. Then each example is normalised on its own and "
        "the gradient has a single term: "
        "$\\frac{\\partial l}{\\partial x_i} = \\frac{\\partial l}{\\partial y_i}\\cdot"
        "\\frac{\\gamma}{\\sqrt{\\sigma_{run}^2+\\epsilon}}$."
    )
)
left, right = st.columns(2)
with left:
    running_mean = st.number_input(_("running mean"), value=0.0, step=0.1, key="bn_running_mean")
    running_variance = st.number_input(
        _("running variance"), value=1.0, min_value=0.0, step=0.1, key="bn_running_variance"
    )
    momentum = st.slider(_("momentum rho"), 0.0, 1.0, 0.99, 0.01, key="bn_momentum")
running = grads.RunningStatistics(np.array(running_mean), np.array(running_variance))
updated = grads.update_running_statistics(running, forward, momentum)
with left:
    st.latex(
        r"\text{" + _("after this batch: ") + "}"
        + rf"\mu_{{run}} = {float(updated.mean):.4g},\ \sigma^2_{{run}} = {float(updated.variance):.4g}"
    )
inference_y = grads.batchnorm_inference_forward(x, running, gamma, beta, epsilon)
with st.spinner(_("Checking the inference-mode gradient...")):
    inference_check = gradcheck.check_batchnorm_inference(x, running, gamma, beta, epsilon, upstream)
with right:
    st.dataframe(
        pd.DataFrame(
            {
                "x": x,
                _("y (training)"): forward.y,
                _("y (inference)"): inference_y,
                _("dl/dx (training)"): backward.grad_x,
                _("dl/dx (inference)"): inference_check.analytic,
            }
        ),
        width="stretch",
    )
    st.write(
        _("Inference-mode dl/dx: relative error {autodiff} vs autodiff, {finite} vs finite differences.").format(
            autodiff=f"{inference_check.max_autodiff_error:.1e}",
            finite=f"{inference_check.max_finite_difference_error:.1e}",
        )
    )
