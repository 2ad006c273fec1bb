"""Assertions on exercise-check verdicts, shared by the tests/test_exercises_nbNN.py files."""

from cnnkit.exercises.checking import NOT_ATTEMPTED, WRONG


def assert_wrong(result, *words):
    """The check rejected the answer, with every one of `words` in its hint."""
    assert result.status == WRONG, result
    for word in words:
        assert word in result.message, (word, result.message)


def assert_not_attempted(result, *words):
    """The check saw an unanswered exercise, with every one of `words` in its message."""
    assert result.status == NOT_ATTEMPTED, result
    for word in words:
        assert word in result.message, (word, result.message)
