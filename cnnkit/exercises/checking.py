"""What every exercise check shares: the result, unanswered answers, comparisons and hints.

A check is a function decorated with :func:`exercise`. Its body raises :class:`Mistake` with a
hint when the answer is wrong and returns (optionally a short remark) when it is right; the
decorator turns that into a :class:`CheckResult`. Answers that are still ``...`` or ``None``, and
functions that still return ``None``, give "not attempted yet" and never an error, so a learner's
notebook runs top to bottom before any exercise is done.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import keras
import numpy as np

CORRECT = "correct"
WRONG = "wrong"
NOT_ATTEMPTED = "not attempted"

_UNANSWERED_HINT = "replace `...` with your answer."
_NONE_HINT = (
    "your answer is None: replace `...` with your answer (a function without `return` gives "
    "None, and so does `model.compile(...)`: build the model, compile it, then pass the model)."
)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one exercise check; true only when the answer is correct.

    Jupyter shows it as one line, so a cell that ends with a check call prints the verdict.

    Parameters
    ----------
    exercise : str
        The exercise's label, notebook and number: ``"01.3"`` is exercise 3 of notebook 01.
    status : {"correct", "wrong", "not attempted"}
        The verdict.
    message : str
        What was right, the hint for what is wrong, or how to start.

    Examples
    --------
    >>> result = CheckResult("01.1", "wrong", "expected 3 values, got 2.")
    >>> bool(result)
    False
    >>> result
    Exercise 01.1: not right yet: expected 3 values, got 2.
    """

    exercise: str
    status: str
    message: str

    def __bool__(self) -> bool:
        return self.status == CORRECT

    def __repr__(self) -> str:
        verdict = {CORRECT: "correct", WRONG: "not right yet", NOT_ATTEMPTED: "not attempted yet"}
        text = f"Exercise {self.exercise}: {verdict[self.status]}"
        return f"{text}: {self.message}" if self.message else f"{text}."


class Mistake(Exception):
    """Raised by a check's body when the answer is wrong; the message is the hint."""


class NotAttempted(Exception):
    """Raised by a check's body when part of the answer is still unanswered."""


def is_unanswered(answer: Any) -> bool:
    """True for ``...`` and ``None``, and for a non-empty list, tuple or dict holding only those.

    Examples
    --------
    >>> is_unanswered(...), is_unanswered([..., None]), is_unanswered(0), is_unanswered([3, ...])
    (True, True, False, False)
    """
    if answer is None or answer is Ellipsis:
        return True
    if isinstance(answer, dict):
        answer = list(answer.values())
    if isinstance(answer, list | tuple) and answer:
        return all(is_unanswered(part) for part in answer)
    return False


def exercise(label: str) -> Callable[[Callable[..., str | None]], Callable[..., CheckResult]]:
    """Make a check for exercise `label` out of a function that raises :class:`Mistake`.

    The wrapped function receives the learner's answers. It returns ``None`` or a short remark
    when they are right and raises :class:`Mistake` with a hint when they are wrong. The check
    returns "not attempted" while any answer is still ``...`` or ``None`` (or the body raises
    :class:`NotAttempted`), and "wrong" with the error's text when the learner's own code fails
    inside the check.

    Parameters
    ----------
    label : str
        Notebook and exercise number, such as ``"02.4"``.

    Examples
    --------
    >>> @exercise("00.1")
    ... def check_1(answer):
    ...     '''Two plus two.'''
    ...     compare_number(answer, 4, name="two plus two", mistakes={"that is 2 * 2 + 1": 5})
    >>> check_1(...)
    Exercise 00.1: not attempted yet: replace `...` with your answer.
    >>> check_1(5)
    Exercise 00.1: not right yet: two plus two: expected 4, got 5: that is 2 * 2 + 1.
    >>> check_1(4.0)
    Exercise 00.1: correct.
    >>> check_1(None)  # doctest: +ELLIPSIS
    Exercise 00.1: not attempted yet: your answer is None: ...
    >>> check_1(answr=4)
    Exercise 00.1: not right yet: no answer is called `answr`: use check_1(answer).
    >>> check_1(4, 4)
    Exercise 00.1: not right yet: too many positional arguments: use check_1(answer).
    """

    def decorate(body: Callable[..., str | None]) -> Callable[..., CheckResult]:
        parameters = list(inspect.signature(body).parameters)

        signature = inspect.signature(body)
        usage = f"{body.__name__}({', '.join(parameters)})"

        @functools.wraps(body)
        def check(*answers: Any, **named: Any) -> CheckResult:
            unknown = ", ".join(f"`{name}`" for name in named if name not in parameters)
            if unknown:
                return CheckResult(label, WRONG, f"no answer is called {unknown}: use {usage}.")
            try:
                given = signature.bind(*answers, **named).arguments
            except TypeError as error:  # too many or too few answers
                return CheckResult(label, WRONG, f"{error}: use {usage}.")
            missing = [name for name in parameters if name in given and is_unanswered(given[name])]
            if missing:
                if len(parameters) > 1 and len(missing) < len(given):
                    names = ", ".join(f"`{name}`" for name in missing)
                    return CheckResult(label, NOT_ATTEMPTED, f"{names} still unanswered.")
                if all(given[name] is None for name in missing):
                    return CheckResult(label, NOT_ATTEMPTED, _NONE_HINT)
                return CheckResult(label, NOT_ATTEMPTED, _UNANSWERED_HINT)
            try:
                remark = body(*answers, **named)
            except NotAttempted as unanswered:
                return CheckResult(label, NOT_ATTEMPTED, str(unanswered) or _UNANSWERED_HINT)
            except Mistake as mistake:
                return CheckResult(label, WRONG, str(mistake))
            except Exception as error:  # an answer of a form the check did not foresee
                return CheckResult(
                    label,
                    WRONG,
                    f"the check could not read your answer ({type(error).__name__}: {error}); "
                    "give it in the form the exercise asks for.",
                )
            return CheckResult(label, CORRECT, remark or "")

        return check

    return decorate


@contextlib.contextmanager
def switched_off(function: Any, module: ModuleType, name: str, hint: str) -> Iterator[None]:
    """While the block runs, ``module.<name>`` raises with `hint`: a helper an exercise forbids.

    Both the module attribute and any name in the learner's namespace (``function``'s globals,
    e.g. ``from cnnkit.reference import im2col`` in a notebook) that holds the helper are
    replaced, and restored afterwards. The learner's function then fails with the hint, which
    :func:`call_answer` turns into "not right yet".

    Examples
    --------
    >>> from cnnkit import reference
    >>> def pool(x):
    ...     return reference.pool2d(x, 2)
    >>> with switched_off(pool, reference, "pool2d", "write the pooling yourself."):
    ...     call_answer(pool, np.zeros((1, 2, 2, 1)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cnnkit.exercises.checking.Mistake: your function raised RuntimeError: cnnkit.reference.pool2d is switched off in this exercise: write the pooling yourself.
    >>> reference.pool2d(np.zeros((1, 2, 2, 1)), 2).shape  # restored afterwards
    (1, 1, 1, 1)
    """  # noqa: E501 (a doctest's exception line cannot be wrapped)
    original = getattr(module, name)
    where = f"{module.__name__}.{name}"

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"{where} is switched off in this exercise: {hint}")

    namespace = getattr(function, "__globals__", {})
    aliases = [key for key, value in namespace.items() if value is original]
    setattr(module, name, refuse)
    namespace.update(dict.fromkeys(aliases, refuse))
    try:
        yield
    finally:
        setattr(module, name, original)
        namespace.update(dict.fromkeys(aliases, original))


def your_name(function: Any) -> str:
    """How a hint names the learner's function.

    Examples
    --------
    >>> def batch_norm(x):
    ...     return x
    >>> your_name(batch_norm), your_name(lambda x: x)
    ('your batch_norm', 'your function')
    """
    name = getattr(function, "__name__", "")
    return f"your {name}" if name.isidentifier() else "your function"


def call_answer(function: Any, *args: Any, name: str = "your function", **kwargs: Any) -> Any:
    """Call the learner's `function`, turning its failures into hints.

    Raises :class:`NotAttempted` when it raises ``NotImplementedError`` or returns ``None`` or
    ``...`` (an unwritten body), and :class:`Mistake` when it is not callable or raises.

    Examples
    --------
    >>> call_answer(lambda x: x + 1, 2)
    3
    >>> call_answer(lambda x: x / 0, 2)
    Traceback (most recent call last):
    cnnkit.exercises.checking.Mistake: your function raised ZeroDivisionError: division by zero
    """
    if not callable(function):
        raise Mistake(f"expected {name} (a function), got {_describe(function)}.")
    try:
        result = function(*args, **kwargs)
    except NotImplementedError as unwritten:
        raise NotAttempted(f"{name} raises NotImplementedError; write its body.") from unwritten
    except Exception as error:
        raise Mistake(f"{name} raised {type(error).__name__}: {error}") from error
    if result is None or result is Ellipsis:
        raise NotAttempted(
            f"{name} returned {result!r}: write its body, or if you have, did you forget `return`?"
        )
    return result


def answer_entries(answer: Any, count: int, name: str, what: str) -> list[Any]:
    """The `count` entries of a list-like answer, once none is still unanswered.

    Parameters
    ----------
    answer : list-like
        The learner's answer: a list, tuple or array of `count` entries.
    count : int
        How many entries the answer must have.
    name : str
        The answer's name in messages, e.g. "`counts`".
    what : str
        What the entries are, e.g. "C1, C3, C5, F6, output".

    Returns
    -------
    list
        The entries.

    Raises
    ------
    Mistake
        If `answer` is not list-like or has another number of entries.
    NotAttempted
        If an entry is still ``...`` or None.

    Examples
    --------
    >>> answer_entries((156, 2416), 2, "`counts`", "C1, C3")
    [156, 2416]
    >>> answer_entries([156, ...], 2, "`counts`", "C1, C3")
    Traceback (most recent call last):
    ...
    cnnkit.exercises.checking.NotAttempted: fill in every `...` of `counts`: entries 1 (counting from 0) are still unanswered.
    """  # noqa: E501 (a doctest's exception line cannot be wrapped)
    if (
        isinstance(answer, dict | str | bytes)
        or not hasattr(answer, "__len__")
        or getattr(answer, "ndim", 1) == 0
    ):
        raise Mistake(f"{name} should be a list of {count} numbers ({what}), got {answer!r}.")
    entries = list(answer)
    if len(entries) != count:
        raise Mistake(f"{name} should be {count} numbers ({what}), got {len(entries)}.")
    unanswered = [str(i) for i, entry in enumerate(entries) if is_unanswered(entry)]
    if unanswered:
        raise NotAttempted(
            f"fill in every `...` of {name}: entries {', '.join(unanswered)} (counting from 0) "
            "are still unanswered."
        )
    return entries


def as_array(answer: Any, name: str = "your answer") -> np.ndarray:
    """Any array-like of numbers (list, tuple, NumPy array, tensor) as a float NumPy array.

    Examples
    --------
    >>> as_array([[1, 2], (3, 4)]).shape
    (2, 2)
    >>> as_array("12")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cnnkit.exercises.checking.Mistake: your answer should be numbers (...), got a str.
    >>> as_array((None, 14, 14, 6))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cnnkit.exercises.checking.Mistake: your answer holds None: give sizes without the batch axis ...
    """
    if isinstance(answer, str | bytes | dict) or callable(answer):
        raise Mistake(
            f"{name} should be numbers (a number, list, tuple or array), got {_describe(answer)}."
        )
    try:
        array = np.asarray(keras.ops.convert_to_numpy(answer))
    except Exception as error:
        raise Mistake(
            f"{name} could not be read as an array of numbers ({type(error).__name__}: {error})."
        ) from error
    if array.dtype == object and any(value is None for value in array.ravel()):
        raise Mistake(
            f"{name} holds None: give sizes without the batch axis (Keras prints None there, "
            "for 'any number of images'), e.g. (height, width, channels)."
        )
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise Mistake(
            f"{name} should be numbers (a number, list, tuple or array), got an array of "
            f"{array.dtype}."
        )
    return array.astype(np.float64)


def finite_array(
    answer: Any, name: str = "your answer", *, verb: str = "contains", advice: str = ""
) -> np.ndarray:
    """`answer` as a float array (see :func:`as_array`), rejected first if it holds NaN or inf.

    Every check runs this before any other test: ``max(nan, 1.0)`` and ``nan < tol`` make
    tolerance tests false, so a non-finite answer could otherwise slip through.

    Examples
    --------
    >>> finite_array([1, 2]).tolist()
    [1.0, 2.0]
    >>> finite_array([1, float("nan")], "your kernel", advice="give finite numbers")
    Traceback (most recent call last):
    cnnkit.exercises.checking.Mistake: your kernel contains 1 NaN or infinite values: give finite numbers.
    """  # noqa: E501 (a doctest's exception line cannot be wrapped)
    array = as_array(answer, name)
    bad = int(np.sum(~np.isfinite(array)))
    if bad:
        raise Mistake(
            _sentence(
                f"{name} {verb} {bad} NaN or infinite values" + (f": {advice}" if advice else "")
            )
        )
    return array


def answer_on_copies(function: Any, args: tuple, *, name: str, case: str) -> np.ndarray:
    """Call the learner's `function` on copies of the array `args`; its result, finite.

    The check keeps the originals for its oracle, so a function that changes its inputs in
    place cannot change what it is compared with.

    Examples
    --------
    >>> answer_on_copies(lambda x: 2 * x, (np.ones(2),), name="double", case="double(ones)")
    array([2., 2.])
    """
    copies = tuple(np.copy(arg) if isinstance(arg, np.ndarray) else arg for arg in args)
    return finite_array(call_answer(function, *copies, name=name), case, verb="returned")


def model_copy(model: keras.Model) -> keras.Model:
    """A clone of `model` with the same weights, for checks that must not touch the original.

    Examples
    --------
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> clone = model_copy(model)
    >>> clone is model, all(np.array_equal(a, b) for a, b in zip(clone.get_weights(), model.get_weights()))
    (False, True)
    """  # noqa: E501 (a doctest line cannot be wrapped)
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def compare_number(
    got: Any,
    expected: float,
    *,
    name: str = "your answer",
    rtol: float = 0.0,
    atol: float = 1e-9,
    mistakes: dict[str, float] | None = None,
) -> None:
    """Raise :class:`Mistake` unless `got` is one number within tolerance of `expected`.

    `mistakes` maps a hint to the value a typical mistake gives; the first one `got` matches
    is named in the hint. Ints, floats, NumPy scalars and one-element arrays are all accepted.

    Examples
    --------
    >>> compare_number(3 * 3 * 3 * 32 + 32, 896, name="the parameter count")
    >>> compare_number(864, 896, name="the parameter count", mistakes={"add the biases": 864})
    Traceback (most recent call last):
    cnnkit.exercises.checking.Mistake: the parameter count: expected 896, got 864: add the biases.
    """
    array = as_array(got, name)
    if array.size != 1:
        raise Mistake(f"{name} should be one number, got {array.size} values ({array.shape}).")
    value = float(array.reshape(()))
    if abs(value - expected) <= atol + rtol * abs(expected):
        return
    hint = f"{name}: expected {_number(expected)}, got {_number(value)}"
    for mistake_hint, wrong in (mistakes or {}).items():
        if abs(value - wrong) <= atol + rtol * abs(wrong):
            raise Mistake(_sentence(f"{hint}: {mistake_hint}"))
    tolerance = f" (tolerance {_number(atol + rtol * abs(expected))})" if rtol else ""
    raise Mistake(f"{hint}{tolerance}.")


def compare_arrays(
    got: Any,
    expected: Any,
    *,
    name: str = "your answer",
    rtol: float = 1e-5,
    atol: float = 1e-5,
    mistakes: dict[str, Any] | None = None,
) -> None:
    """Raise :class:`Mistake` unless `got` has `expected`'s shape and values within tolerance.

    Any array-like is accepted (lists, tuples, NumPy arrays, TensorFlow tensors, any number
    type). `mistakes` maps a hint to the array a typical mistake gives; a wrong answer equal
    to one of them gets that hint, whatever its shape. Otherwise the hint names the shape
    difference, or how many values differ and the first one that does.

    Examples
    --------
    >>> compare_arrays((1, 2, 3), np.array([1.0, 2.0, 3.0]))
    >>> compare_arrays([1, 2, 4], [1, 2, 3], name="the row")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cnnkit.exercises.checking.Mistake: the row: 1 of 3 values differ (...): expected 3, got 4.
    """
    array = as_array(got, name)
    expected = np.asarray(expected, dtype=np.float64)
    if array.shape == expected.shape and np.allclose(array, expected, rtol=rtol, atol=atol):
        return
    for hint, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if array.shape == wrong.shape and np.allclose(array, wrong, rtol=rtol, atol=atol):
            raise Mistake(_sentence(f"{name} is not what was expected: {hint}"))
    if array.shape != expected.shape:
        hint = f"{name} has shape {array.shape}, expected {expected.shape}"
        if array.size == expected.size:
            hint += " (the same number of values: check the order and number of axes)"
        raise Mistake(f"{hint}.")
    if not np.all(np.isfinite(array)):
        raise Mistake(f"{name} contains {np.sum(~np.isfinite(array))} NaN or infinite values.")
    wrong_values = ~np.isclose(array, expected, rtol=rtol, atol=atol)
    first = tuple(int(i) for i in np.argwhere(wrong_values)[0])
    raise Mistake(
        f"{name}: {int(wrong_values.sum())} of {expected.size} values differ (tolerance: atol "
        f"{atol:g} + rtol {rtol:g} x |expected|); the first at index {first}: expected "
        f"{_number(expected[first])}, got {_number(array[first])}."
    )


def as_model(answer: Any, name: str = "your model") -> keras.Model:
    """Return `answer` if it is a Keras model (or a function returning one, which is called).

    Examples
    --------
    >>> model = as_model(lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    >>> model.count_params()
    3
    """
    if callable(answer) and not isinstance(answer, keras.layers.Layer):
        answer = call_answer(answer, name=f"the function building {name}")
    if not isinstance(answer, keras.Model):
        raise Mistake(f"{name} should be a keras.Model, got {_describe(answer)}.")
    return answer


def _number(value: float) -> str:
    """A number as a learner would write it: 896, not 896.0; 0.25, not 0.25000000001."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _describe(answer: Any) -> str:
    kind = type(answer).__name__
    return f"an {kind}" if kind[0] in "aeiouAEIOU" else f"a {kind}"
