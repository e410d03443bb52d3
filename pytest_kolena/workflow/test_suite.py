"""Test suites: named groups of test cases, typically a benchmark and its slices."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar

from .test_case import TestCase, check_name
from .test_sample import TestSample

if TYPE_CHECKING:
    from .workflow import Workflow


class TestSuite:
    """A test suite of a workflow. Use the TestSuite class that `define_workflow` returns."""

    __test__: ClassVar[bool] = False
    workflow: ClassVar[Workflow]
    _test_case_type: ClassVar[type[TestCase]]

    def __init__(
        self,
        name: str,
        version: int | None = None,
        description: str | None = None,
        test_cases: Iterable[TestCase] | None = None,
        reset: bool = False,
        tags: set[str] | None = None,
    ) -> None:
        if not hasattr(type(self), "workflow"):
            raise TypeError(
                "TestSuite must be subclassed with a workflow: use the TestSuite returned by define_workflow"
            )
        self.name = check_name("test suite", name)
        self.version = version if version is not None else 1
        self.description = description or ""
        self.tags = set(tags or ())
        self.test_cases = self._checked(list(test_cases or []))

    def _checked(self, test_cases: list[TestCase]) -> list[TestCase]:
        names: set[str] = set()
        for i, test_case in enumerate(test_cases):
            if not isinstance(test_case, TestCase):
                raise TypeError(
                    f"test suite '{self.name}': test_cases[{i}] is {type(test_case).__name__}, not a TestCase"
                )
            if test_case.workflow != self.workflow:
                raise TypeError(
                    f"test suite '{self.name}': test case '{test_case.name}' belongs to workflow "
                    f"'{test_case.workflow.name}', not '{self.workflow.name}'"
                )
            if test_case.name in names:
                raise ValueError(f"test suite '{self.name}': two test cases are named '{test_case.name}'")
            names.add(test_case.name)
        return test_cases

    def load_test_samples(self) -> list[tuple[TestCase, list[TestSample]]]:
        """Each test case with its test samples."""
        return [(tc, [ts for ts, _ in tc.iter_test_samples()]) for tc in self.test_cases]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, test_cases={[tc.name for tc in self.test_cases]})"

    class Editor:
        """Edits collected inside `TestSuite.edit()`, applied when the block ends."""

        def __init__(self, test_cases: list[TestCase], description: str, tags: set[str], reset: bool) -> None:
            self._test_cases = [] if reset else list(test_cases)
            self._description = description
            self.tags = set(tags)

        def description(self, description: str) -> None:
            self._description = description

        def add(self, test_case: TestCase) -> None:
            """Add a test case; one with the same name is replaced."""
            self._test_cases = [tc for tc in self._test_cases if tc.name != test_case.name] + [test_case]

        def remove(self, test_case: TestCase) -> None:
            self._test_cases = [tc for tc in self._test_cases if tc.name != test_case.name]

    @contextlib.contextmanager
    def edit(self, reset: bool = False) -> Iterator[TestSuite.Editor]:
        """Edit this test suite in a `with` block."""
        editor = TestSuite.Editor(self.test_cases, self.description, self.tags, reset)
        yield editor
        self.test_cases = self._checked(editor._test_cases)
        self.description = editor._description
        self.tags = editor.tags
        self.version += 1
