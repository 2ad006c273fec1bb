"""The machinery every exercise check relies on: verdicts, unanswered answers and hints."""

import importlib

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit.exercises.checking import (
    CORRECT,
    NOT_ATTEMPTED,
    WRONG,
    Mistake,
    NotAttempted,
    as_array,
    as_model,
    call_answer,
    compare_arrays,
    compare_number,
    exercise,
)
from cnnkit.exercises.trained import check_classifier_shapes

import keras
import numpy as np
import pytest
import tensorflow as tf


@exercise("00.1")
def check_area(height, width):
    """Area of a rectangle, a stand-in for a notebook's check."""
    compare_number(height * width, 12, name="the area", mistakes={"that is the perimeter": 14})
    return "well done"


@exercise("00.2")
def check_double(function):
    """A function that doubles an array, checked on an oracle input."""
    x = np.arange(6.0).reshape(2, 3)
    compare_arrays(
        call_answer(function, x, name="your double"),
        2 * x,
        name="double(x)",
        mistakes={"did you square instead?": x**2},
    )


@pytest.mark.parametrize("unanswered", [..., None, [..., ...], {"a": None, "b": ...}])
def test_unanswered_answers_are_not_attempted(unanswered):
    result = check_area(unanswered, unanswered)
    assert result.status == NOT_ATTEMPTED
    assert not result
    assert "replace `...` with your answer" in repr(result)
    assert repr(result).startswith("Exercise 00.1: not attempted yet: ")


def test_none_says_what_gives_none():
    # `model = model.compile(...)` or a function without `return` leaves None.
    result = check_area(None, None)
    assert result.status == NOT_ATTEMPTED
    assert all(word in result.message for word in ("is None", "compile", "return"))


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: check_area(height=2, widht=3), "no answer is called `widht`"),
        (lambda: check_area(2, 3, 4), "too many positional arguments"),
        (lambda: check_area((2, 3)), "missing a required argument"),
    ],
)
def test_a_call_of_the_wrong_form_gets_a_verdict_naming_the_answers(call, words):
    result = call()
    assert result.status == "wrong"
    assert words in result.message and "check_area(height, width)" in result.message


def test_an_answer_the_check_cannot_read_gets_a_verdict_not_a_traceback():
    @exercise("00.2")
    def check_sum(values):
        """Sum of a list (the body assumes iterables)."""
        compare_number(sum(values), 6, name="sum")

    result = check_sum(3)  # sum(3) raises TypeError inside the check's own code
    assert result.status == "wrong" and "could not read your answer (TypeError" in result.message


def test_a_partly_answered_exercise_names_what_is_missing():
    result = check_area(3, ...)
    assert result.status == NOT_ATTEMPTED
    assert "`width` still unanswered" in result.message


def test_a_function_with_an_unwritten_body_is_not_attempted():
    def double(x): ...

    def unwritten(x):
        raise NotImplementedError

    assert check_double(double).status == NOT_ATTEMPTED
    assert "forget `return`" in check_double(double).message
    assert check_double(unwritten).status == NOT_ATTEMPTED


@pytest.mark.parametrize(
    "height, width", [(3, 4), (4.0, 3), (np.int64(2), np.float32(6)), (np.array([6]), 2)]
)
def test_every_number_type_is_accepted(height, width):
    result = check_area(height, width)
    assert result.status == CORRECT and result
    assert repr(result) == "Exercise 00.1: correct: well done"


def test_a_typical_mistake_gets_its_hint_and_other_wrong_answers_expected_versus_got():
    assert repr(check_area(2, 7)) == (
        "Exercise 00.1: not right yet: the area: expected 12, got 14: that is the perimeter."
    )
    assert check_area(2, 5).message == "the area: expected 12, got 10."


@pytest.mark.parametrize(
    "double",
    [lambda x: x + x, lambda x: (2 * x).tolist(), lambda x: tf.constant(x) * 2],
    ids=["numpy", "list", "tensor"],
)
def test_arrays_are_accepted_in_any_form(double):
    assert check_double(double)


def test_array_hints_name_the_mistake_the_shape_or_the_first_wrong_value():
    assert "did you square instead?" in check_double(lambda x: x**2).message
    shape = check_double(lambda x: (2 * x).T).message
    assert "has shape (3, 2), expected (2, 3) (the same number of values" in shape
    one_off = 2 * np.arange(6.0).reshape(2, 3)
    one_off[1, 2] = 0
    message = check_double(lambda x: one_off).message
    assert "1 of 6 values differ" in message
    assert "the first at index (1, 2): expected 10, got 0" in message


def test_errors_in_the_learners_code_become_hints():
    result = check_double(lambda x: x.nonexistent())
    assert result.status == WRONG
    assert result.message.startswith("your double raised AttributeError")
    assert "expected your double (a function), got an int" in check_double(3).message


def test_wrong_kinds_of_values_are_rejected_clearly():
    with pytest.raises(Mistake, match=r"should be numbers .* got a str"):
        as_array("12")
    with pytest.raises(Mistake, match=r"should be numbers .* array of bool"):
        as_array([True, False])
    with pytest.raises(Mistake, match="should be one number, got 2 values"):
        compare_number([1, 2], 3)
    with pytest.raises(Mistake, match="contains 1 NaN"):
        compare_arrays([1.0, np.nan], [1.0, 2.0])


def test_tolerances_are_honoured():
    compare_number(100.4, 100, rtol=0.005)
    with pytest.raises(Mistake, match=r"expected 100, got 101 \(tolerance 0.5\)"):
        compare_number(101, 100, rtol=0.005)
    compare_arrays([1.0 + 1e-6], [1.0])
    with pytest.raises(Mistake):
        compare_arrays([1.001], [1.0])


def test_as_model_takes_a_model_or_a_builder_and_rejects_the_rest():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert as_model(model) is model
    assert as_model(lambda: model) is model
    with pytest.raises(Mistake, match=r"should be a keras\.Model, got a Dense"):
        as_model(keras.layers.Dense(2))
    with pytest.raises(NotAttempted):
        as_model(lambda: None)


class _SubclassedClassifier(keras.Model):
    """A classifier without keras.Input: it has no symbolic inputs until it is called."""

    def __init__(self, n_scores=10, **kwargs):
        super().__init__(**kwargs)
        self.flatten = keras.layers.Flatten()
        self.scores = keras.layers.Dense(n_scores)

    def call(self, images):
        return self.scores(self.flatten(images))


def test_a_subclassed_model_is_checked_by_calling_it():
    # Issue 18: reading model.inputs rejected every subclassed model ("no input shape yet").
    check_classifier_shapes(_SubclassedClassifier(), "your CNN")
    with pytest.raises(Mistake, match=r"returns outputs of shape \(7,\).*Dense\(10\)"):
        check_classifier_shapes(_SubclassedClassifier(7), "your CNN")
    with pytest.raises(Mistake, match=r"cannot take a batch of images of shape \(32, 32, 3\)"):
        model = _SubclassedClassifier()
        model(np.zeros((1, 28, 28, 1), "float32"))  # built for digits
        check_classifier_shapes(model, "your CNN", input_shape=(32, 32, 3))


@pytest.mark.parametrize(
    ("module", "answers"),
    [
        ("convolution", ((None, 214, 320, 64), 51264, 10**9)),
        ("resnet", ([(None, 112, 112, 64)] * 5, [(None, 50, 38, 64)] * 5)),
        ("lenet", ([(None, 32, 32, 6)] * 4, [156, 0, 2416, 0])),
    ],
)
def test_a_batch_axis_none_in_a_shape_gets_the_batch_axis_hint(module, answers):
    # Issue 18: shapes copied from model.summary() start with None ("array of object" before).
    check = importlib.import_module(f"cnnkit.exercises.{module}").check_1
    result = check(*answers)
    assert result.status == "wrong" and "without the batch" in result.message
