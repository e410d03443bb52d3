"""Test cases: named lists of (test sample, ground truth) pairs, a dataset or one slice of it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from ._identity import sample_key
from .ground_truth import GroundTruth
from .test_sample import TestSample

if TYPE_CHECKING:
    import numpy as np

    from ._lazy import LazyPairs
    from .workflow import Workflow


def check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{kind} name must be a non-empty string, got {name!r}")
    return name


class TestCase:
    """A test case of a workflow. Use the TestCase class that `define_workflow` returns.

    Unlike Kolena's, it lives in memory: `TestCase(name, test_samples=...)` makes one; nothing is loaded from a server.
    """

    __test__: ClassVar[bool] = False
    workflow: ClassVar[Workflow]
    _pairs: list[tuple[TestSample, GroundTruth]] | None = None  # the pairs, or else the rows of a loaded suite:
    _lazy: LazyPairs | None = None
    _rows: np.ndarray | None = None

    def __init__(
        self,
        name: str,
        version: int | None = None,
        description: str | None = None,
        test_samples: Iterable[tuple[TestSample, GroundTruth]] | None = None,
        reset: bool = False,
    ) -> None:
        if not hasattr(type(self), "workflow"):
            raise TypeError("TestCase must be subclassed with a workflow: use the TestCase returned by define_workflow")
        self.name = check_name("test case", name)
        self.version = version if version is not None else 1
        self.description = description or ""
        self._samples: list[tuple[TestSample, GroundTruth]] = self._checked(list(test_samples or []))

    @classmethod
    def _subset(cls, name: str, pairs: list[tuple[TestSample, GroundTruth]]) -> TestCase:
        """A test case of pairs taken from a checked test case (a stratum): no second check of each pair."""
        test_case = cls.__new__(cls)
        test_case.name, test_case.version, test_case.description = check_name("test case", name), 1, ""
        test_case._samples = pairs
        return test_case

    @classmethod
    def _of_rows(cls, name: str, lazy: LazyPairs, rows: np.ndarray) -> TestCase:
        """A test case of rows of a loaded suite (checked distinct): its pairs are made when asked for."""
        test_case = cls.__new__(cls)
        test_case.name, test_case.version, test_case.description = check_name("test case", name), 1, ""
        test_case._lazy, test_case._rows = lazy, rows
        return test_case

    @property
    def _samples(self) -> list[tuple[TestSample, GroundTruth]]:
        if self._pairs is None and self._lazy is not None:
            return self._lazy.pairs(self._rows)
        return self._pairs or []

    @_samples.setter
    def _samples(self, pairs: list[tuple[TestSample, GroundTruth]]) -> None:
        self._pairs, self._lazy, self._rows = pairs, None, None

    def _checked(self, pairs: list[tuple[TestSample, GroundTruth]]) -> list[tuple[TestSample, GroundTruth]]:
        ts_type, gt_type = self.workflow.test_sample_type, self.workflow.ground_truth_type
        seen: dict[Any, int] = {}
        for i, pair in enumerate(pairs):
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(
                    f"test case '{self.name}': test_samples[{i}] must be a (test sample, ground truth) tuple, got {type(pair).__name__}"
                )
            sample, ground_truth = pair
            if not isinstance(sample, ts_type):
                raise TypeError(
                    f"test case '{self.name}': test_samples[{i}][0] is {type(sample).__name__}, expected {ts_type.__name__}"
                )
            if not isinstance(ground_truth, gt_type):
                raise TypeError(
                    f"test case '{self.name}': test_samples[{i}][1] is {type(ground_truth).__name__}, expected {gt_type.__name__}"
                )
            key = sample_key(sample)
            if key in seen:
                raise ValueError(
                    f"test case '{self.name}': test_samples[{i}] repeats test_samples[{seen[key]}] ({_short(sample)})"
                )
            seen[key] = i
        return pairs

    def load_test_samples(self) -> list[tuple[TestSample, GroundTruth]]:
        """The (test sample, ground truth) pairs of this test case."""
        return list(self._samples)

    def iter_test_samples(self) -> Iterator[tuple[TestSample, GroundTruth]]:
        return iter(list(self._samples))

    def __len__(self) -> int:
        return len(self._rows) if self._pairs is None and self._rows is not None else len(self._samples)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, n_samples={len(self)})"

    class Editor:
        """Edits collected inside `TestCase.edit()`, applied when the block ends."""

        def __init__(self, description: str, reset: bool) -> None:
            self._description = description
            self._reset = reset
            self._edits: list[tuple[TestSample, GroundTruth | None]] = []

        def description(self, description: str) -> None:
            self._description = description

        def add(self, test_sample: TestSample, ground_truth: GroundTruth) -> None:
            """Add a sample; a sample already in the test case gets this ground truth."""
            self._edits.append((test_sample, ground_truth))

        def remove(self, test_sample: TestSample) -> None:
            """Remove a sample; does nothing if it is not in the test case."""
            self._edits.append((test_sample, None))

    @contextlib.contextmanager
    def edit(self, reset: bool = False) -> Iterator[TestCase.Editor]:
        """Edit this test case in a `with` block; `reset=True` starts from an empty test case."""
        editor = TestCase.Editor(self.description, reset)
        yield editor
        by_key = {} if reset else {sample_key(ts): (ts, gt) for ts, gt in self._samples}
        for sample, ground_truth in editor._edits:
            if ground_truth is None:
                by_key.pop(sample_key(sample), None)
            else:
                by_key[sample_key(sample)] = (sample, ground_truth)
        self._samples = self._checked(list(by_key.values()))
        self.description = editor._description
        self.version += 1


def _short(sample: TestSample) -> str:
    locator = getattr(sample, "locator", None)
    return f"locator {locator!r}" if locator is not None else repr(sample)[:80]
