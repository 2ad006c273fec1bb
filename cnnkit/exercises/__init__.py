"""Checks for the exercises at the end of every notebook.

Each notebook's exercises have a module here named after the notebook, with one check per
exercise: ``pooling.check_3(answer)`` checks exercise 3 of notebook 02. A check returns a
:class:`CheckResult` that Jupyter shows as one line: "correct", "not right yet" with a hint
(what was expected, what it got, the likely mistake), or "not attempted yet" while the answer
is still ``...`` or ``None``, so an unfinished notebook still runs top to bottom. A check is
true only when the answer is correct, so ``assert pooling.check_3(answer)`` turns it into a test.

Examples
--------
>>> from cnnkit.exercises import CheckResult
>>> bool(CheckResult("02.3", "correct", ""))
True
"""

from cnnkit.exercises.checking import CheckResult

__all__ = ["CheckResult"]
