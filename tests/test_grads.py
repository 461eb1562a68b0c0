"""The hand-derived gradients agree with TensorFlow and with finite differences; wrong ones do not.

Property-based over random shapes, batch sizes, eps, temperatures and values, all in float64.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fer import gradcheck, grads

SETTINGS = settings(max_examples=30, deadline=None)


def finite_floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def batchnorm_cases(draw):
    """A batch (m,) or (m, features) with gamma, beta, eps and an upstream gradient.

    Finite differences cannot resolve a step much smaller than the numbers it is added to, so
    batches whose values dwarf sqrt(sigma^2 + eps) by more than 30x are left out.
    """
    batch_size = draw(st.integers(2, 10))
    features = draw(st.integers(0, 3))
    shape = (batch_size,) if features == 0 else (batch_size, features)
    x = draw(arrays(np.float64, shape, elements=finite_floats(-5, 5)))
    # Zero, or large enough that the gradient's terms stay normal floats: TensorFlow flushes subnormal
    # results to zero (upstream [2.2e-308, 0]: autodiff [2.2e-308, 0], exactly [1.1e-308, -1.1e-308]).
    nonzero = finite_floats(1e-6, 3) | finite_floats(-3, -1e-6)
    upstream = draw(arrays(np.float64, shape, elements=st.just(0.0) | nonzero))
    gamma = draw(
        arrays(np.float64, shape[1:], elements=finite_floats(0.1, 3) | finite_floats(-3, -0.1))
    )
    beta = draw(arrays(np.float64, shape[1:], elements=finite_floats(-1, 1)))
    epsilon = 10 ** draw(finite_floats(-5, 0))
    assume(np.all(np.max(np.abs(x), axis=0) <= 30 * np.sqrt(x.var(axis=0) + epsilon)))
    return x, gamma, beta, epsilon, upstream


@st.composite
def softmax_cases(draw):
    classes = draw(st.integers(2, 8))
    rows = draw(st.integers(0, 3))
    shape = (classes,) if rows == 0 else (rows, classes)
    logits = draw(arrays(np.float64, shape, elements=finite_floats(-8, 8)))
    true_class = draw(arrays(np.int64, shape[:-1], elements=st.integers(0, classes - 1)))
    smoothing = draw(finite_floats(0, 0.5))
    temperature = draw(finite_floats(0.5, 4))
    return logits, grads.targets_for(true_class, classes, smoothing), temperature


@SETTINGS
@given(batchnorm_cases())
def test_batchnorm_gradients_match_autodiff_and_finite_differences(case):
    x, gamma, beta, epsilon, upstream = case
    for comparison in gradcheck.check_batchnorm(x, gamma, beta, epsilon, upstream):
        assert comparison.max_autodiff_error < 1e-9, comparison.name
        assert comparison.max_finite_difference_error < 1e-6, comparison.name


@SETTINGS
@given(batchnorm_cases())
def test_compact_grad_x_equals_the_step_by_step_chain(case):
    x, gamma, beta, epsilon, upstream = case
    forward = grads.batchnorm_forward(x, gamma, beta, epsilon)
    step_by_step = grads.batchnorm_backward(forward, upstream).grad_x
    compact = grads.grad_x_compact(upstream, forward)
    floor = np.max(np.abs(upstream * gamma)) * np.max(forward.inverse_std)
    assert gradcheck.relative_error(compact, step_by_step, floor * 1e-6).max() < 1e-9


@st.composite
def generic_batchnorm_cases(draw):
    """Random normal batches drawn from a seed: generic values, where a wrong term always shows."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (draw(st.integers(3, 10)), draw(st.integers(1, 3)))
    scale = 10 ** draw(finite_floats(-1, 1))
    x = draw(finite_floats(-3, 3)) + scale * rng.standard_normal(shape)
    epsilon = 10 ** draw(finite_floats(-5, -1)) * scale**2
    gamma = rng.uniform(0.5, 2, shape[1]) * rng.choice([-1, 1], shape[1])
    return x, gamma, rng.standard_normal(shape[1]), epsilon, rng.standard_normal(shape)


@pytest.mark.parametrize("mistake", sorted(grads.BATCHNORM_MISTAKES))
@settings(max_examples=5, deadline=None)
@given(case=generic_batchnorm_cases())
def test_batchnorm_mistakes_are_caught_unless_harmless(mistake, case):
    x, gamma, beta, epsilon, upstream = case
    comparisons = gradcheck.check_batchnorm(x, gamma, beta, epsilon, upstream, mistake=mistake)
    grad_x = comparisons[0]
    if grads.BATCHNORM_MISTAKES[mistake].exposed_by_check:
        assert grad_x.max_autodiff_error > 1e-3
        assert grad_x.max_finite_difference_error > 1e-3
        assert not gradcheck.all_passed(comparisons)
    else:
        assert gradcheck.all_passed(comparisons)


@SETTINGS
@given(softmax_cases())
def test_softmax_cross_entropy_gradient_matches_autodiff_and_finite_differences(case):
    logits, targets, temperature = case
    (comparison,) = gradcheck.check_softmax(logits, targets, temperature)
    assert comparison.max_autodiff_error < 1e-9
    assert comparison.max_finite_difference_error < 1e-6


@SETTINGS
@given(softmax_cases())
def test_jacobian_rows_sum_to_zero_and_collapse_to_yhat_minus_y(case):
    logits, targets, temperature = case
    probabilities = grads.softmax(logits, temperature)
    jacobian = grads.softmax_jacobian(probabilities)
    assert np.abs(jacobian.sum(axis=-1)).max() < 1e-12
    through_jacobian = grads.grad_logits_through_jacobian(probabilities, targets, temperature)
    assert np.allclose(through_jacobian, grads.grad_logits(logits, targets, temperature), atol=1e-12)


def test_jacobian_matches_tensorflow():
    logits = np.array([2.0, -1.0, 0.5, 3.0])
    analytic = grads.softmax_jacobian(grads.softmax(logits, 1.5))
    autodiff = gradcheck.autodiff_softmax_jacobian(logits, 1.5)
    assert gradcheck.relative_error(analytic, autodiff).max() < 1e-12


@pytest.mark.parametrize("mistake", sorted(grads.SOFTMAX_MISTAKES))
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), temperature=finite_floats(1.5, 4))
def test_softmax_mistakes_are_caught(mistake, seed, temperature):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, size=7)
    targets = grads.targets_for(int(rng.integers(7)), 7, smoothing=0.1)
    (comparison,) = gradcheck.check_softmax(logits, targets, temperature, mistake=mistake)
    assert comparison.max_autodiff_error > 1e-3
    assert comparison.max_finite_difference_error > 1e-3
    assert not comparison.passed


def test_naive_softmax_overflows_and_the_stable_one_does_not():
    logits = np.array([1000.0, 999.0, 990.0])
    assert np.isnan(grads.softmax_naive(logits)).all()
    stable = grads.softmax(logits)
    assert np.isfinite(stable).all() and abs(stable.sum() - 1) < 1e-12
    assert np.allclose(stable, grads.softmax(logits - 1000.0))
    # Underflow on the other side: exp(-1000) is 0, so the naive loss is log(0) = inf.
    targets = np.array([1.0, 0.0])
    assert np.isinf(grads.cross_entropy_naive(np.array([-1000.0, 0.0]), targets))
    assert grads.cross_entropy(np.array([-1000.0, 0.0]), targets) == pytest.approx(1000.0)


def test_inference_mode_gradient_matches_and_ignores_the_other_examples():
    x = np.array([0.3, -1.2, 2.0, 0.7])
    running = grads.update_running_statistics(
        grads.RunningStatistics(np.array(0.0), np.array(1.0)), grads.batchnorm_forward(x), 0.9
    )
    upstream = np.array([1.0, -0.5, 0.25, 2.0])
    comparison = gradcheck.check_batchnorm_inference(x, running, 1.3, 0.1, 1e-3, upstream)
    assert comparison.max_autodiff_error < 1e-9
    assert comparison.max_finite_difference_error < 1e-6
    changed = x.copy()
    changed[1:] += 5.0
    first_alone = grads.batchnorm_inference_forward(changed, running, 1.3, 0.1, 1e-3)[0]
    assert first_alone == grads.batchnorm_inference_forward(x, running, 1.3, 0.1, 1e-3)[0]
    assert grads.batchnorm_forward(changed, 1.3, 0.1).y[0] != grads.batchnorm_forward(x, 1.3, 0.1).y[0]


def test_batch_size_sweep_follows_sqrt_of_m_minus_2_over_m():
    sweep = grads.gradient_versus_batch_size(batch_sizes=(2, 8, 32), epsilon=1e-8, draws=40)
    assert sweep["kept_fraction"].iloc[0] < 1e-2
    assert np.allclose(sweep["kept_fraction"], sweep["sqrt((m-2)/m)"], atol=0.08)


def test_bad_input_is_a_sentence():
    with pytest.raises(grads.GradientInputError, match="at least 2 examples"):
        grads.batchnorm_forward([1.0])
    with pytest.raises(grads.GradientInputError, match="eps must be a positive"):
        grads.batchnorm_forward([1.0, 2.0], epsilon=0)
    with pytest.raises(grads.GradientInputError, match="NaN"):
        grads.softmax([1.0, float("nan")])
