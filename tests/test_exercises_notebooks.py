"""Every notebook ends with exercises; every solutions notebook runs and passes every check.

The solutions notebooks run here in-process, cell by cell, in an IPython shell (the same
machinery a Jupyter kernel uses, without starting one per notebook), in quick mode as the rest
of `make test`. Every value a cell ends with that is a CheckResult must be correct, and each
exercise of the course notebook must be checked there. nbval runs the course notebooks
themselves with every exercise unanswered; the tests below check that their committed check
outputs say "not attempted yet", which nbval then compares.
"""

import re
from pathlib import Path

from cnnkit.exercises import CheckResult

import matplotlib
import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
COURSE = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
CHECK_CALL = re.compile(r"^\s*(\w+)\.check_(\d+)\(", re.MULTILINE)
EXERCISE_IMPORT = re.compile(r"^from cnnkit\.exercises import (\w+)$", re.MULTILINE)


def _solutions_for(course: Path) -> Path:
    return NOTEBOOKS / "solutions" / f"{course.stem}_solutions.ipynb"


def _exercise_module(path: Path) -> str:
    """The one cnnkit.exercises module a notebook imports (named by topic, not number)."""
    modules = {m for source in _code_cells(path) for m in EXERCISE_IMPORT.findall(source)}
    assert len(modules) == 1, f"{path.name}: imports exercise modules {sorted(modules)}"
    return modules.pop()


def _code_cells(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _checked_exercises(path: Path) -> list[tuple[str, str]]:
    return [match.groups() for source in _code_cells(path) for match in CHECK_CALL.finditer(source)]


@pytest.mark.parametrize("course", COURSE, ids=lambda path: path.stem)
def test_course_notebook_ends_with_four_to_six_checked_exercises(course):
    notebook = nbformat.read(course, as_version=4)
    headings = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "markdown" and cell.source.startswith("## Exercises")
    ]
    assert len(headings) == 1, f"{course.name}: expected one '## Exercises' section"
    later_sections = [
        cell.source.splitlines()[0]
        for cell in notebook.cells[headings[0] + 1 :]
        if cell.cell_type == "markdown" and cell.source.startswith("## ")
    ]
    assert later_sections == [], f"{course.name}: sections after the exercises: {later_sections}"
    checks = _checked_exercises(course)
    numbers = [int(number) for _, number in checks]
    assert {module for module, _ in checks} == {_exercise_module(course)}
    assert numbers == list(range(1, len(numbers) + 1)), f"{course.name}: checks {numbers}"
    assert 4 <= len(numbers) <= 6


@pytest.mark.parametrize("course", COURSE, ids=lambda path: path.stem)
def test_unanswered_exercises_say_not_attempted_in_the_committed_outputs(course):
    notebook = nbformat.read(course, as_version=4)
    check_cells = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and CHECK_CALL.search(cell.source)
    ]
    for cell in check_cells:
        assert "nbval-check-output" in cell.metadata.get("tags", []), cell.source[:80]
        text = "".join(
            output.get("text", "") + output.get("data", {}).get("text/plain", "")
            for output in cell.outputs
        )
        assert "not attempted yet" in text, f"{course.name}: {cell.source[:80]!r} -> {text!r}"


@pytest.mark.parametrize("course", COURSE, ids=lambda path: path.stem)
def test_solutions_notebook_checks_the_same_exercises(course):
    solutions = _solutions_for(course)
    assert solutions.exists(), f"no solutions notebook for {course.name}"
    assert _checked_exercises(solutions) == _checked_exercises(course)


@pytest.fixture
def shell(monkeypatch, tmp_path):
    """A fresh IPython shell, run from a scratch folder with a non-interactive plotting backend."""
    matplotlib.use("Agg")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    config = Config()
    config.HistoryManager.enabled = False  # no history database, no history-saving thread
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    yield shell
    shell.reset(new_session=False)
    InteractiveShell.clear_instance()
    matplotlib.pyplot.close("all")


@pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")
@pytest.mark.parametrize("course", COURSE, ids=lambda path: path.stem)
def test_solutions_notebook_runs_and_every_check_passes(course, shell):
    solutions = _solutions_for(course)
    passed = []
    for source in _code_cells(solutions):
        result = shell.run_cell(source, store_history=False, silent=False)
        if result.error_before_exec or result.error_in_exec:
            raise AssertionError(f"{solutions.name}: cell failed:\n{source}") from (
                result.error_before_exec or result.error_in_exec
            )
        if isinstance(result.result, CheckResult):
            assert result.result, f"{solutions.name}: {result.result!r}"
            passed.append(result.result.exercise)
    expected = [f"{module}.{number}" for module, number in _checked_exercises(course)]
    assert passed == expected
