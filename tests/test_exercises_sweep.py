"""Every exercise check answers odd inputs with a verdict, never a traceback, and never "correct".

A property-style sweep over all checks of all exercise modules: the unanswered form, NaN, inf,
None, a string, a 0-d array and an array of the wrong shape, given for every argument at once.
"""

import importlib
import inspect
import pkgutil

import cnnkit.exercises
from cnnkit.exercises import CheckResult

import numpy as np
import pytest

MODULES = sorted(
    m.name
    for m in pkgutil.iter_modules(cnnkit.exercises.__path__)
    if m.name not in {"checking", "trained"}
)
CHECKS = [
    (module, name)
    for module in MODULES
    for name, function in vars(importlib.import_module(f"cnnkit.exercises.{module}")).items()
    if name.startswith("check_") and name[6:].isdigit() and callable(function)
]
ODD_ANSWERS = {
    "nan": float("nan"),
    "inf": float("inf"),
    "string": "forty-two",
    "0-d array": np.array(3.0),
    "wrong shape": np.zeros((2, 3, 4, 5)),
    "nan array": np.full((3, 3), np.nan),
}


def test_every_exercise_module_has_checks():
    assert {module for module, _ in CHECKS} == set(MODULES)
    assert len(CHECKS) >= 40


@pytest.mark.parametrize(("module", "name"), CHECKS, ids=lambda v: v)
@pytest.mark.parametrize("kind", ["unanswered", "none", *ODD_ANSWERS])
def test_odd_answers_get_a_verdict_and_a_hint_never_correct(module, name, kind):
    check = getattr(importlib.import_module(f"cnnkit.exercises.{module}"), name)
    n_answers = len(inspect.signature(check).parameters)
    answer = {"unanswered": ..., "none": None}.get(kind, ODD_ANSWERS.get(kind))
    result = check(*[answer] * n_answers)
    assert isinstance(result, CheckResult), f"{module}.{name}({kind}) returned {result!r}"
    expected = "not attempted" if kind in {"unanswered", "none"} else "wrong"
    assert result.status == expected, f"{module}.{name}({kind}): {result!r}"
    assert result.message, f"{module}.{name}({kind}) gives no hint"


@pytest.mark.parametrize("module", [*MODULES, "checking", "trained"])
def test_no_check_reads_quick_mode_or_the_environment(module):
    # Issue 18: the same answer must get the same verdict under CI=true (most autograders set
    # it) as on a learner's laptop; quick mode shrinks a notebook's training, never the marking.
    source = inspect.getsource(importlib.import_module(f"cnnkit.exercises.{module}"))
    for name in ("quick_mode", "CNNKIT_QUICK", "os.environ", "getenv"):
        assert name not in source, f"cnnkit.exercises.{module} reads {name}"


def _zero_inputs_and_return_zeros(*args, **kwargs):
    """A cheat: zero every array it is given, in place, and return zeros like the first one.

    A check that computed its expected value on the same array after the call would then
    compare zeros with zeros and say "correct" (issue 18, class 1)."""
    arrays = [a for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray)]
    for array in arrays:
        array[...] = 0
    return np.zeros_like(arrays[0]) if arrays else 0.0


@pytest.mark.parametrize(("module", "name"), CHECKS, ids=lambda v: v)
def test_a_function_that_zeroes_its_inputs_is_never_correct(module, name):
    check = getattr(importlib.import_module(f"cnnkit.exercises.{module}"), name)
    n_answers = len(inspect.signature(check).parameters)
    result = check(*[_zero_inputs_and_return_zeros] * n_answers)
    assert isinstance(result, CheckResult) and result.status != "correct", result
