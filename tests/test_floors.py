"""The package's floors (DESIGN.md): each imports only the floors below it, so that the store, the engine and the
checks can be read, tested and reused without the workflow's classes, and no import goes in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_kolena"
SHARED = {"fs", "words", "numbers", "_gc", "__init__"}  # leaves every floor may use: no import of the package
FLOORS = [
    {"engine", "store", "checks"},
    {"workflow"},
    {"data", "report"},
]


def rooms(path: Path) -> set[str]:
    """The package's top-level rooms (a subpackage or a module) that a module imports, at any depth of its code."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = parts[: len(parts) - node.level]  # the package the relative import starts from
            target = (*base, *(node.module.split(".") if node.module else ()))
            found.add(target[0] if target else "__init__")  # (`from .. import __version__`: the package itself)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found.update(m.split(".")[1] for m in modules if m and m.startswith("pytest_kolena."))
    return found


@pytest.mark.parametrize("floor", range(len(FLOORS)), ids=[" ".join(sorted(f)) for f in FLOORS])
def test_each_floor_imports_only_the_floors_below_it(floor: int):
    allowed = set().union(*FLOORS[: floor + 1]) | SHARED
    above = {}
    for room in FLOORS[floor]:
        for path in sorted((PACKAGE / room).rglob("*.py")):
            if wrong := rooms(path) - allowed:
                above[str(path.relative_to(PACKAGE))] = sorted(wrong)
    assert above == {}


def test_the_shared_leaves_import_nothing_of_the_package():
    for name in SHARED - {"__init__"}:
        assert rooms(PACKAGE / f"{name}.py") <= SHARED - {"__init__"}, name
