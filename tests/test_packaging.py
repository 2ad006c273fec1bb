"""pyproject.toml declares what the cnnkit package imports, and agrees with requirements.txt."""

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
# Declared although cnnkit never imports it: scikit-learn's load_sample_images (used by
# cnnkit.data.load_sample_images) needs Pillow but does not declare it.
INDIRECT = {"pillow"}


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_top_level_modules():
    names = set()
    for path in (REPO / "cnnkit").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"cnnkit"}


def test_dependencies_are_exactly_what_cnnkit_imports():
    declared = {
        normalise(req.name)
        for req in map(Requirement, PROJECT["dependencies"])
        if req.marker is None or req.marker.evaluate()
    }
    providers = metadata.packages_distributions()
    imported = {
        module: {normalise(d) for d in providers.get(module, [])}
        for module in imported_top_level_modules()
    }
    undeclared = [module for module, dists in imported.items() if not dists & declared]
    assert not undeclared, f"imported by cnnkit but not in pyproject dependencies: {undeclared}"
    used = set().union(*imported.values()) | INDIRECT
    assert declared <= used, f"declared but not imported by cnnkit: {declared - used}"


def test_python_versions_agree_with_requirements_txt():
    assert PROJECT["requires-python"] == ">=3.11"
    assert "Python 3.11-3.13" in (REPO / "requirements.txt").read_text()
