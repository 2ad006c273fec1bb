"""The exercise checks accept right answers in other forms and name typical mistakes."""

import math

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit.exercises import lenet
from cnnkit.models import lenet5

import keras
import numpy as np
import pytest
import tensorflow as tf
from verdicts import assert_not_attempted, assert_wrong

SHAPES = [(32, 32, 6), (16, 16, 6), (12, 12, 16), (6, 6, 16)]
COUNTS = [156, 2416, 69240, 10164, 850]


# Exercise 1: shapes and parameters for 32 x 32 images


def test_check_1_accepts_arrays_lists_and_floats():
    assert lenet.check_1(np.array(SHAPES), np.array(COUNTS, dtype=np.int32))
    assert lenet.check_1([list(shape) for shape in SHAPES], tuple(float(c) for c in COUNTS))
    assert lenet.check_1(tf.constant(SHAPES), [np.int64(c) for c in COUNTS])


def test_check_1_names_typical_shape_mistakes():
    valid_c1 = [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16)]
    assert_wrong(lenet.check_1(valid_c1, COUNTS), "c1_conv", "'same'", "paper's unpadded C1")
    same_c3 = [*SHAPES[:2], (16, 16, 16), (8, 8, 16)]
    assert_wrong(lenet.check_1(same_c3, COUNTS), "c3_conv", "'valid' padding")
    wrong_channels = [SHAPES[0], (16, 16, 16), *SHAPES[2:]]
    assert_wrong(lenet.check_1(wrong_channels, COUNTS), "s2_pool", "channels")
    assert_wrong(lenet.check_1([(None, 32, 32, 6), *SHAPES[1:]], COUNTS), "batch dimension")
    assert_wrong(lenet.check_1([(32, 32), *SHAPES[1:]], COUNTS), "three numbers")


def test_check_1_names_typical_count_mistakes():
    assert_wrong(lenet.check_1(SHAPES, [150, *COUNTS[1:]]), "c1_conv", "biases")
    assert_wrong(lenet.check_1(SHAPES, [156, 1516, *COUNTS[2:]]), "1998", "all 6")
    assert_wrong(lenet.check_1(SHAPES, [156, 416, *COUNTS[2:]]), "all 6 of S2's maps")
    assert_wrong(lenet.check_1(SHAPES, [*COUNTS[:2], 48120, *COUNTS[3:]]), "28 x 28", "576")
    assert_wrong(lenet.check_1(SHAPES, [*COUNTS[:2], 2305 * 120, *COUNTS[3:]]), "after S4")


def test_check_1_rejects_nan_and_single_values_with_a_hint():
    assert_wrong(lenet.check_1([(np.nan, 32, 6), *SHAPES[1:]], COUNTS), "NaN")
    assert_wrong(lenet.check_1(SHAPES, [math.inf, *COUNTS[1:]]), "NaN or infinite")
    assert_wrong(lenet.check_1(np.array(32), COUNTS), "list of 4", "one value")
    assert_wrong(lenet.check_1(tf.constant(32), COUNTS), "list of 4", "one value")
    assert_wrong(lenet.check_1(SHAPES, np.float64(82826)), "list of 5", "one value")


def test_check_1_partly_answered_is_not_attempted():
    assert_not_attempted(lenet.check_1([SHAPES[0], ..., ..., ...], COUNTS), "entries 1, 2, 3")
    assert_not_attempted(lenet.check_1(SHAPES, ...), "`counts` still unanswered")


# Exercise 2: the sigmoid's slope, and the 1998 activation's largest slope

PEAK_1998 = 1.7159 * 2 / 3


def test_check_2_accepts_a_tanh_form_and_the_peak_in_other_forms():
    def sigmoid_slope(x):  # sigma(x) = (1 + tanh(x / 2)) / 2, so sigma' = (1 - tanh^2) / 4
        return 0.25 * (1.0 - np.tanh(np.asarray(x) / 2.0) ** 2)

    result = lenet.check_2(sigmoid_slope, PEAK_1998)
    assert (
        result
        and "above 1" in result.message
        and "1/64" in result.message
        and "five slopes" in result.message
    ), result
    assert lenet.check_2(
        lambda x: keras.ops.sigmoid(x) * (1 - keras.ops.sigmoid(x)), np.float32(PEAK_1998)
    )
    assert lenet.check_2(sigmoid_slope, [1.1439])
    assert lenet.check_2(sigmoid_slope, tf.constant(PEAK_1998))


def test_check_2_names_typical_mistakes():
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def slope(x):
        return sigmoid(x) * (1 - sigmoid(x))

    assert_wrong(lenet.check_2(sigmoid, PEAK_1998), "sigmoid itself")
    assert_wrong(lenet.check_2(lambda x: sigmoid(x) * (1 + sigmoid(x)), PEAK_1998), "minus")
    assert_wrong(lenet.check_2(lambda x: np.exp(-x) / (1 + np.exp(-x)), PEAK_1998), "square")
    assert_wrong(lenet.check_2(slope, 1.7159), "amplitude alone", "2/3")
    assert_wrong(lenet.check_2(slope, 2 / 3), "2/3 inside tanh alone")
    assert_wrong(lenet.check_2(slope, 1.7159 * 1.5), "not 3/2")
    assert_wrong(lenet.check_2(slope, 1.0), "about 1", "f(1) = 1")
    assert_wrong(lenet.check_2(slope, 1.7159 * np.tanh(2 / 3)), "about 1")
    assert_wrong(lenet.check_2(slope, 0.25), "sigmoid's largest slope")
    assert_wrong(lenet.check_2(slope, 1 / 64), "expected 1.14")
    assert_wrong(lenet.check_2(slope, np.nan), "NaN")
    scalar_only = lenet.check_2(lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2, PEAK_1998)
    assert_wrong(scalar_only, "raised TypeError")
    assert_wrong(lenet.check_2(lambda x: np.full(np.shape(x), np.nan), PEAK_1998), "NaN")


def test_check_2_unwritten_function_is_not_attempted():
    def sigmoid_slope(x): ...

    assert_not_attempted(lenet.check_2(sigmoid_slope, PEAK_1998), "sigmoid_slope returned None")


# Exercise 3: gradient flow through a tanh LeNet-5


@pytest.fixture(scope="module")
def tanh_net():
    keras.utils.set_random_seed(0)
    return lenet5(activation="tanh")


@pytest.fixture(scope="module")
def tanh_gradients(tanh_net):
    return lenet.measure_activation_gradients(tanh_net, *lenet.gradient_batch())


def test_check_3_accepts_the_measured_share_in_other_forms(tanh_net, tanh_gradients):
    share = tanh_gradients["c1_conv"] / tanh_gradients["output"]
    result = lenet.check_3(tanh_net, share, "relu")
    assert result and "closer to relu" in result.message, result
    assert lenet.check_3(tanh_net, np.float32(share), "ReLU")
    assert lenet.check_3(tanh_net, tf.constant([share]), " relu ")


def test_check_3_names_typical_mistakes(tanh_net, tanh_gradients):
    share = tanh_gradients["c1_conv"] / tanh_gradients["output"]
    assert_wrong(lenet.check_3(tanh_net, share, "sigmoid"), "closer to relu")
    assert_wrong(lenet.check_3(tanh_net, 1 / share, "relu"), "divide C1's by the output's")
    c3 = tanh_gradients["c3_conv"] / tanh_gradients["output"]
    assert_wrong(lenet.check_3(tanh_net, c3, "relu"), "C3's gradient")
    assert_wrong(lenet.check_3(tanh_net, np.inf, "relu"), "NaN or infinite")
    assert_wrong(lenet.check_3(lenet5(), share, "relu"), "uses sigmoid", "tanh")
    max_pool = lenet5(activation="tanh", pooling="max")
    assert_wrong(lenet.check_3(max_pool, share, "relu"), "max pooling")
    assert_wrong(lenet.check_3(tanh_net, share, "tanh"), "should be one of")


def test_check_3_copies_the_weights_for_the_comparison(tanh_net):
    before = [w.copy() for w in tanh_net.get_weights()]
    lenet.check_3(tanh_net, 0.5, "relu")
    assert all(np.array_equal(a, b) for a, b in zip(before, tanh_net.get_weights(), strict=True))


# Exercise 4: sigmoid vs ReLU


def history(val_accuracy, model=None):
    """A Keras History as fit returns it, without training."""
    run = keras.callbacks.History()
    run.history = {"val_accuracy": list(val_accuracy)}
    run.set_params({"verbose": 0, "epochs": len(val_accuracy), "steps": 15})
    if model is not None:
        run.set_model(model)
    return run


def runs(sigmoid_accuracies, relu_accuracies):
    """Histories of the two LeNet-5 runs (sigmoid, ReLU; both average pooling)."""
    return (
        history(sigmoid_accuracies, lenet5()),
        history(relu_accuracies, lenet5(activation="relu")),
    )


def test_check_4_accepts_honest_results_in_both_directions():
    assert lenet.check_4(*runs([0.1], [0.92]), "relu")
    assert lenet.check_4(*runs([0.9], [0.5]), "sigmoid")
    result = lenet.check_4(*runs([0.5], [0.51]), "sigmoid")
    assert result and "too close to call" in result.message


def test_check_4_ties_follow_section_5s_two_standard_errors():
    # At 93% on 400 digits, 2 * sqrt(2) * sqrt(0.93 * 0.07 / 400) = 3.6 points: 3 is a tie.
    assert lenet.tie_band(0.90, 0.93, 400) == pytest.approx(0.0361, abs=1e-4)
    result = lenet.check_4(*runs([0.90], [0.93]), "sigmoid")
    assert result and "too close to call" in result.message and "3.6 points" in result.message
    assert_wrong(lenet.check_4(*runs([0.88], [0.95]), "sigmoid"), "your own numbers say relu")


def test_check_4_names_typical_mistakes():
    sigmoid_net, relu_net = lenet5(), lenet5(activation="relu")
    swapped = lenet.check_4(history([0.9], relu_net), history([0.1], sigmoid_net), "relu")
    assert_wrong(swapped, "`sigmoid_run` trained a network with relu", "swap")
    max_pool = history([0.9], lenet5(activation="relu", pooling="max"))
    assert_wrong(lenet.check_4(history([0.1], sigmoid_net), max_pool, "relu"), "average pooling")
    assert_wrong(lenet.check_4(*runs([0.1], [0.92]), "sigmoid"), "your own numbers say relu")
    assert_wrong(lenet.check_4(*runs([0.9], [0.5]), "relu"), "your own numbers say sigmoid")
    assert_wrong(lenet.check_4(*runs([0.1, 0.4], [0.9]), "relu"), "same number")
    assert_wrong(lenet.check_4(*runs([np.nan], [0.9]), "relu"), "impossible")
    assert_wrong(lenet.check_4(*runs([0.5], [92.0]), "relu"), "percentage")


def test_check_4_wants_the_histories_of_convolutional_networks():
    # Issue 18: plain numbers (no training) and a Dense-only network were accepted.
    assert_wrong(lenet.check_4(0.1, 0.92, "relu"), "should be the History")
    assert_wrong(lenet.check_4({"val_accuracy": [0.1]}, 0.92, "relu"), "should be the History")
    dense_only = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    no_conv = history([0.92], dense_only)
    assert_wrong(lenet.check_4(history([0.1], lenet5()), no_conv, "relu"), "without convolutions")


# Exercise 5: where an activation saturates


def slopes(function, x, dtype=tf.float64):
    """|f'(x)| measured with GradientTape."""
    tensor = tf.constant(np.asarray(x), dtype)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        values = function(tensor)
    return np.abs(tape.gradient(values, tensor).numpy())


def side(near, far):
    """Hard if exactly 0 at `near` (10: nothing rounds yet); soft if at least halved far out."""
    if near == 0:
        return "hard"
    return "soft" if far < near / 2 else "none"


def saturation(function, dtype=tf.float64):
    """A careful rule: read 'hard' at 10, where float64 does not round; the trend out to 1e4."""
    left_near, left_far, right_near, right_far = slopes(function, [-10.0, -1e4, 10.0, 1e4], dtype)
    return side(left_near, left_far), side(right_near, right_far)


def section_7_rule(function):
    """Notebook 04's cell: hard if 0 at 10; soft if it at least halves from 3 to 10."""
    left_near, left_far, right_near, right_far = slopes(function, [-3.0, -10.0, 3.0, 10.0])
    rule = {True: "hard"}
    return tuple(
        rule.get(bool(far == 0), "soft" if far < near / 2 else "none")
        for near, far in [(left_near, left_far), (right_near, right_far)]
    )


def test_check_5_accepts_careful_rules_in_other_forms():
    result = lenet.check_5(saturation)
    assert result and "softsign" in result.message and "0.001" in result.message, result
    assert lenet.check_5(lambda f: list(saturation(f)))
    assert lenet.check_5(lambda f: tuple(s.upper() for s in saturation(f)))
    assert lenet.check_5(lambda f: np.array([f" {s.title()} " for s in saturation(f)]))
    assert lenet.check_5(lambda f: dict(zip(["Left", "RIGHT"], saturation(f), strict=True)))

    def trend_from_100(f):  # hard at 10; soft if still falling from 100 to 1e4, or rounded to 0
        verdicts = []
        for sign in (-1.0, 1.0):
            at_10, at_100, at_1e4 = slopes(f, [sign * 10.0, sign * 100.0, sign * 1e4])
            falling = at_100 == 0 or at_1e4 < at_100 / 2
            verdicts.append("hard" if at_10 == 0 else "soft" if falling else "none")
        return tuple(verdicts)

    assert lenet.check_5(trend_from_100)


def test_check_5_knows_the_answers_the_measurements_give():
    for label, (function, expected) in lenet.SATURATION_ANSWERS.items():
        assert saturation(function) == expected, label


def test_check_5_rejects_section_7s_rule_copied_verbatim():
    result = lenet.check_5(section_7_rule)
    assert_wrong(result, "tanh(x) + 0.001 * x, left side", "0.001 at x = -10000", "farther out")


def test_check_5_names_typical_mistakes():
    def threshold_as_hard(f):  # "ELU looks like ReLU": a tiny left slope called hard
        left_far, right_far = slopes(f, [-10.0, 10.0])
        if left_far < 1e-3 and right_far == 1:
            return "hard", "none"
        return saturation(f)

    assert_wrong(lenet.check_5(threshold_as_hard), "elu, left side", "not exactly 0", "float64")

    def hard_far_out(f):  # "exactly 0 at 1e4" also catches float64's rounding to 0
        return tuple(
            "hard" if far == 0 else "soft" if far < near / 2 else "none"
            for near, far in [slopes(f, [-100.0, -1e4]), slopes(f, [100.0, 1e4])]
        )

    assert_wrong(lenet.check_5(hard_far_out), "sigmoid", "underflows", "rounding")

    def left_only(f):  # the right side gets the left side's verdict
        return (saturation(f)[0],) * 2

    assert_wrong(lenet.check_5(left_only), "relu, right side", "does not saturate", "both sides")

    def fixed_threshold(f):  # soft = "below 1e-3 at 10", which softsign's 1/x^2 slope is not
        return tuple(
            "hard" if s == 0 else "soft" if s < 1e-3 else "none" for s in slopes(f, [-10.0, 10.0])
        )

    assert_wrong(lenet.check_5(fixed_threshold), "softsign", "where the slope goes")
    float32 = lenet.check_5(lambda f: saturation(f, tf.float32))
    assert_wrong(float32, "tanh, left side", "float32, tanh(10) already rounds to 1")

    def signed_slopes(f):  # silu's slope is negative on the left: compare sizes
        tensor = tf.constant([-10.0, -1e4, 10.0, 1e4], tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            values = f(tensor)
        s = tape.gradient(values, tensor).numpy()
        return side(s[0], s[1]), side(s[2], s[3])

    assert_wrong(lenet.check_5(signed_slopes), "silu, left side", "negative")

    def only_3_and_100(f):  # reads farther than 3 and 10, but still not the trend
        return tuple(
            "hard" if s10 == 0 else "soft" if s100 < s3 / 2 else "none"
            for s3, s10, s100 in [slopes(f, [-3.0, -10.0, -100.0]), slopes(f, [3.0, 10.0, 100.0])]
        )

    assert_wrong(lenet.check_5(only_3_and_100), "tanh(x) + 0.001 * x", "levels off")

    def trend_from_100_to_1e4(f):  # the sigmoid's right slope rounds to 0 at 100 and 1e4: "none"
        return tuple(
            "hard" if s10 == 0 else "soft" if s1e4 < s100 / 2 else "none"
            for s10, s100, s1e4 in [slopes(f, [-10.0, -100.0, -1e4]), slopes(f, [10.0, 100.0, 1e4])]
        )

    assert_wrong(
        lenet.check_5(trend_from_100_to_1e4),
        "sigmoid, right side",
        "0 at x = +100",
        "float64 rounding a slope that keeps falling",
    )
    assert_wrong(lenet.check_5(lambda f: ("soft", "soft")), "relu, left side", "exactly 0")
    assert_wrong(lenet.check_5(lambda f: ("none", "none")), "sigmoid, left side", "falling")


def test_check_5_rejects_other_answers_with_a_hint():
    assert_wrong(lenet.check_5(lambda f: ("hard", None)), "write the string 'none'")
    assert_wrong(lenet.check_5(lambda f: (0, 1)), "not a string")
    assert_wrong(lenet.check_5(lambda f: "soft"), "two strings", "got 'soft'")
    assert_wrong(lenet.check_5(lambda f: ("softly", "soft")), "the left side is 'softly'")
    assert_wrong(lenet.check_5(lambda f: {"left": "soft"}), "keys 'left' and 'right'")
    assert_wrong(lenet.check_5(lambda f: ("soft", "soft", "none")), "two strings")
    assert_wrong(lenet.check_5("soft"), "a function")
    assert_wrong(lenet.check_5(lambda: "soft"), "raised TypeError")
    assert_wrong(lenet.check_5(lambda f: f.__name__ / 0), "raised TypeError")


def test_check_5_unwritten_function_is_not_attempted():
    def unwritten(activation): ...

    assert_not_attempted(lenet.check_5(unwritten), "unwritten returned None")
    assert_not_attempted(lenet.check_5(lambda f: (..., "soft")), "still holds `...`")


def test_check_5_hides_the_activations_names():
    names = []
    lenet.check_5(lambda f: names.append(f.__name__))
    assert names == ["activation"]
