"""The gradient quiz: every hidden term agrees with TensorFlow's autodiff of the same expression,
the check accepts three significant figures and refuses a wrong number, the givens never hold
the hidden term nor anything computed from it, and a question is the same for everyone who has
its number."""

import math

import numpy as np
import pytest
import tensorflow as tf

from fer import gradient_quiz
from fer.gradient_quiz import BATCHNORM_TERMS, SOFTMAX_TERMS

NUMBERS = range(36)  # six full turns of the BatchNorm terms, twelve of the softmax ones
# What a question on each BatchNorm term must not show: the term itself and what the chain rule
# computes from it; for dl/dgamma and dl/dbeta every other term, since dl/dsigma^2 is a multiple
# of dl/dgamma and dl/dmu_B of dl/dbeta.
NOT_SHOWN = {
    "grad_x_hat": ["grad_x_hat", "grad_variance", "grad_mean", "grad_x"],
    "grad_variance": ["grad_variance", "grad_mean", "grad_x"],
    "grad_mean": ["grad_mean", "grad_x"],
    "grad_x": ["grad_x"],
    "grad_gamma": list(BATCHNORM_TERMS),
    "grad_beta": list(BATCHNORM_TERMS),
}


def givens(question) -> dict:
    return {given.symbol: np.array(given.values) for given in question.givens}


def expected(question) -> float:
    return question.check(0.0).expected


def autodiff_batchnorm_term(term: str, entry: tuple, x, upstream, gamma: float, epsilon: float) -> float:
    """The term by tf.GradientTape on BatchNorm written with mu_B and sigma_B^2 as their own nodes."""
    x = tf.constant(x, tf.float64)
    upstream = tf.constant(upstream, tf.float64)
    gamma = tf.Variable(gamma, dtype=tf.float64)
    beta = tf.Variable(0.0, dtype=tf.float64)

    def loss(x_values, mean, variance):
        x_hat = (x_values - mean) / tf.sqrt(variance + epsilon)
        return tf.reduce_sum(upstream * (gamma * x_hat + beta))

    mean = tf.Variable(tf.reduce_mean(x))
    variance = tf.Variable(tf.reduce_mean((x - tf.reduce_mean(x)) ** 2))
    if term == "grad_x_hat":  # l = sum dl/dy * (gamma x_hat + beta), x_hat as the variable
        x_hat = tf.Variable((x - mean) / tf.sqrt(variance + epsilon))
        with tf.GradientTape() as tape:
            value = tf.reduce_sum(upstream * (gamma * x_hat + beta))
        return float(tape.gradient(value, x_hat)[entry[0]])
    if term == "grad_variance":  # x and mu_B held fixed
        with tf.GradientTape() as tape:
            value = loss(x, mean, variance)
        return float(tape.gradient(value, variance))
    if term == "grad_mean":  # x fixed; sigma_B^2 = mean((x - mu_B)^2) follows mu_B
        with tf.GradientTape() as tape:
            value = loss(x, mean, tf.reduce_mean((x - mean) ** 2))
        return float(tape.gradient(value, mean))
    x_variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        batch_mean = tf.reduce_mean(x_variable)
        value = loss(x_variable, batch_mean, tf.reduce_mean((x_variable - batch_mean) ** 2))
    gradients = dict(zip(("grad_x", "grad_gamma", "grad_beta"), tape.gradient(value, [x_variable, gamma, beta])))
    result = gradients[term]
    return float(result[entry[0]] if entry else result)


def autodiff_softmax_term(term: str, entry: tuple, logits, temperature: float, targets) -> float:
    z = tf.Variable(logits, dtype=tf.float64)
    targets = tf.constant(targets, tf.float64)
    if term == "grad_logit":
        with tf.GradientTape() as tape:
            value = tf.nn.softmax_cross_entropy_with_logits(targets, z / temperature)
        return float(tape.gradient(value, z)[entry[0]])
    if term == "jacobian":  # with respect to s = z / T
        s = tf.Variable(z / temperature)
        with tf.GradientTape() as tape:
            probabilities = tf.nn.softmax(s)
        return float(tape.jacobian(probabilities, s)[entry[0], entry[1]])
    probabilities = tf.Variable(tf.nn.softmax(z / temperature))
    with tf.GradientTape() as tape:
        value = -tf.reduce_sum(targets * tf.math.log(probabilities))
    return float(tape.gradient(value, probabilities)[entry[0]])


@pytest.mark.parametrize("number", NUMBERS)
def test_batchnorm_answer_is_tensorflows_gradient_of_the_same_term(number):
    question = gradient_quiz.batchnorm_question(number)
    given = givens(question)
    reference = autodiff_batchnorm_term(
        question.term,
        question.entry,
        given["x_i"],
        given[r"\frac{\partial l}{\partial y_i}"],
        float(given[r"\gamma"][0]),
        float(given[r"\epsilon"][0]),
    )
    assert expected(question) == pytest.approx(reference, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("number", NUMBERS)
def test_softmax_answer_is_tensorflows_gradient_of_the_same_term(number):
    question = gradient_quiz.softmax_question(number)
    given = givens(question)
    reference = autodiff_softmax_term(
        question.term, question.entry, given["z"], float(given["T"][0]), given["y"]
    )
    assert expected(question) == pytest.approx(reference, rel=1e-9, abs=1e-12)


def test_every_term_is_asked_and_questions_are_the_same_for_the_same_number():
    assert {gradient_quiz.batchnorm_question(n).term for n in NUMBERS} == set(BATCHNORM_TERMS)
    assert {gradient_quiz.softmax_question(n).term for n in NUMBERS} == set(SOFTMAX_TERMS)
    for build in (gradient_quiz.batchnorm_question, gradient_quiz.softmax_question):
        first, again = build(7), build(7)
        assert (first.asked, first.entry, first.givens) == (again.asked, again.entry, again.givens)
        assert expected(first) == expected(again)
        assert build(7).givens != build(7 + len(BATCHNORM_TERMS) * len(SOFTMAX_TERMS)).givens


@pytest.mark.parametrize("number", NUMBERS)
def test_batchnorm_givens_stop_before_the_hidden_term(number):
    question = gradient_quiz.batchnorm_question(number)
    symbols = {given.symbol for given in question.givens}
    assert not symbols & {BATCHNORM_TERMS[term] for term in NOT_SHOWN[question.term]}, question.term
    assert abs(expected(question)) >= gradient_quiz.SMALLEST_ANSWER


@pytest.mark.parametrize("number", NUMBERS)
def test_softmax_givens_hold_no_gradient_at_all(number):
    question = gradient_quiz.softmax_question(number)
    assert {given.symbol for given in question.givens} == {"z", "T", r"\alpha", r"\hat y = \mathrm{softmax}(z/T)", "y"}
    assert abs(expected(question)) >= gradient_quiz.SMALLEST_ANSWER


@pytest.mark.parametrize("build", [gradient_quiz.batchnorm_question, gradient_quiz.softmax_question])
def test_check_takes_three_significant_figures_and_refuses_a_wrong_number(build):
    for number in NUMBERS:
        question = build(number)
        answer = expected(question)
        three_figures = float(f"{answer:.3g}")
        assert question.check(three_figures).correct, (number, answer, three_figures)
        verdict = question.check(answer * 1.009)
        assert verdict.correct and verdict.sentence.startswith("Right")
        off = max(0.02 * abs(answer), 2 * gradient_quiz.ABSOLUTE_TOLERANCE)
        for wrong in (answer + off, answer - off, -answer):
            verdict = question.check(wrong)
            assert not verdict.correct, (number, answer, wrong)
            assert f"{answer:.5g}" in verdict.sentence
        assert verdict.working and verdict.working[-1].endswith(f"= {answer:.5g}")


def test_a_student_working_from_the_rounded_givens_is_marked_right():
    """The page prints the givens to five significant figures; computing from those must pass."""
    for number in NUMBERS:
        question = gradient_quiz.batchnorm_question(number)
        if question.term != "grad_x":
            continue
        shown = {
            symbol: np.array([float(f"{value:.5g}") for value in values]) for symbol, values in givens(question).items()
        }
        (i,) = question.entry
        m = len(shown["x_i"])
        student = (
            shown[BATCHNORM_TERMS["grad_x_hat"]][i] / math.sqrt(shown[r"\sigma_B^2"][0] + shown[r"\epsilon"][0])
            + shown[BATCHNORM_TERMS["grad_variance"]][0] * 2 * shown[r"x_i-\mu_B"][i] / m
            + shown[BATCHNORM_TERMS["grad_mean"]][0] / m
        )
        assert question.check(student).correct, (number, student, expected(question))


@pytest.mark.parametrize("answer", [None, "", "seven", math.nan, math.inf])
def test_an_answer_that_is_not_a_number_is_a_sentence(answer):
    with pytest.raises(gradient_quiz.QuizAnswerError, match="Type a number"):
        gradient_quiz.batchnorm_question(0).check(answer)


def test_the_answer_is_not_in_the_questions_printed_form():
    question = gradient_quiz.batchnorm_question(0)
    answer = expected(question)
    assert f"{answer:.4g}" not in repr(question) and f"{answer:.4g}" not in question.asked
