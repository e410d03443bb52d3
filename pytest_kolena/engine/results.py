"""The results of a run: per configuration and test case, the samples with their metrics, case metrics and plots."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from .failure import Failure

Progress = Callable[[str, int, int], None]  # how a run reports its progress: (what, done, total)


def configuration_name(configuration: Any) -> str | None:
    return None if configuration is None else configuration.display_name()


class SampleResult:  # one per sample and test case holding it: 400,000 in a run of 100,000 samples
    """One test sample of a test case with its ground truth, inference and sample metrics. Of a loaded suite, the
    test sample, ground truth and inference are made again when asked for once the run let them go (`of_row`)."""

    __slots__ = ("_inference", "_inferences", "_row", "_source", "metrics", "sample_id")

    def __init__(
        self, test_sample: Any, ground_truth: Any, inference: Any, metrics: Any = None, sample_id: str = ""
    ) -> None:
        self._source: Any = (test_sample, ground_truth)
        self._row = -1
        self._inference = inference
        self._inferences: Any = None
        self.metrics = metrics
        self.sample_id = sample_id  # how the run store, baselines and the inference cache name the sample

    @classmethod
    def of_row(cls, pairs: Any, row: int, inferences: Any, sample_id: str) -> SampleResult:
        """The result of row `row` of a loaded suite (its LazyPairs, and the run's inferences by row), holding
        neither test sample, ground truth nor inference."""
        result = cls(None, None, None, sample_id=sample_id)
        result._source, result._row, result._inferences = pairs, row, inferences
        return result

    @property
    def row(self) -> int:
        """The sample's row of the table its suite was loaded from; -1 for a suite built in Python."""
        return self._row

    @property
    def test_sample(self) -> Any:
        return self._source[0] if self._row < 0 else self._source.test_samples([self._row])[0]

    @property
    def ground_truth(self) -> Any:
        return self._source[1] if self._row < 0 else self._source.ground_truths([self._row])[0]

    @property
    def inference(self) -> Any:
        return self._inference if self._inferences is None else self._inferences[self._row]

    @staticmethod
    def rows_of(samples: list[SampleResult]) -> list[tuple[Any, Any, Any]]:
        """The (test sample, ground truth, inference) of each result, a loaded suite's made in one batch."""
        lazy = [s for s in samples if isinstance(s, SampleResult) and s._row >= 0]
        if lazy and len(lazy) == len(samples) and all(s._source is lazy[0]._source for s in lazy):
            rows = [s._row for s in lazy]
            source = lazy[0]._source
            inferences = _inferences_of(samples, rows)
            return list(zip(source.test_samples(rows), source.ground_truths(rows), inferences))
        return [(s.test_sample, s.ground_truth, s.inference) for s in samples]

    def _fields(self) -> tuple[Any, ...]:
        return self.sample_id, self.test_sample, self.ground_truth, self.inference, self.metrics

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SampleResult) and self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  (as the dataclass it was: equal by value, mutable)

    def __repr__(self) -> str:
        return (
            f"SampleResult(sample_id={self.sample_id!r}, test_sample={self.test_sample!r}, "
            f"inference={self.inference!r}, metrics={self.metrics!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        names = ("test_sample", "ground_truth", "inference", "metrics")
        return {"sample_id": self.sample_id} | {name: _json_ready(getattr(self, name)) for name in names}


def _inferences_of(samples: list[SampleResult], rows: list[int]) -> list[Any]:
    """The inferences of results of one loaded suite's rows: in one batch where they are held as columns."""
    held = samples[0]._inferences
    if held is not None and hasattr(held, "take") and all(s._inferences is held for s in samples):
        return held.take(rows)
    return [s.inference for s in samples]


@dataclasses.dataclass
class SampleFailure:
    """A test sample whose inference failed, with its ground truth and the failure."""

    test_sample: Any
    ground_truth: Any
    failure: Failure

    def to_dict(self) -> dict[str, Any]:
        return {"test_sample": _json_ready(self.test_sample), "failure": self.failure.to_dict()}


@dataclasses.dataclass
class TestCaseResult:
    """A test case evaluated at one configuration."""

    __test__: ClassVar[bool] = False

    test_case: Any
    configuration: Any
    samples: list[SampleResult]
    failures: list[SampleFailure] = dataclasses.field(default_factory=list)
    metrics: Any = None
    plots: list[Any] = dataclasses.field(default_factory=list)
    error: Failure | None = None

    @property
    def name(self) -> str:
        return self.test_case.name

    @property
    def configuration_name(self) -> str | None:
        return configuration_name(self.configuration)

    @property
    def ok(self) -> bool:
        """True when every sample was inferred and the evaluator raised nothing."""
        return self.error is None and not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "test_case": self.name,
            "configuration": self.configuration_name,
            "metrics": _json_ready(self.metrics),
            "plots": [_json_ready(p) for p in self.plots],
            "samples": [s.to_dict() for s in self.samples],
            "failures": [f.to_dict() for f in self.failures],
            "error": self.error.to_dict() if self.error else None,
        }


@dataclasses.dataclass
class RunResults:
    """What `test()` returns: every (configuration, test case) result, suite metrics, and inference failures."""

    model: Any
    test_suite: Any
    evaluator: str
    configurations: list[Any]
    cases: list[TestCaseResult]
    suite_metrics: dict[str | None, Any]
    suite_errors: dict[str | None, Failure]
    failures: list[SampleFailure]
    n_samples: int
    from_cache: int = 0  # inferences read from the inference cache rather than computed
    cache_ignored: int = 0  # cached inferences not served: made by other infer code of the same model version
    retried_batches: int = 0  # batches on which infer_batch raised, retried sample by sample by infer
    retried_because: str = ""  # the first of those errors
    links: Any = None  # per configuration, the sample metric behind each case metric and its direction (links.py)
    held_inferences: Any = None  # a loaded suite's inferences as columns (workflow._inferences), with their ids

    @property
    def inference_note(self) -> str:
        """How the inferences came: `250 inferred, 0 from the cache, 50 failed (300 made by other infer code
        ignored)`."""
        inferred = self.n_samples - self.from_cache - self.n_failed
        note = f"{inferred} inferred, {self.from_cache} from the cache"
        if self.n_failed:
            note += f", {self.n_failed} failed"
        if self.cache_ignored:
            note += f" ({self.cache_ignored} cached by other code of infer ignored: the code changed)"
        if self.retried_batches:
            note += (
                f"; infer_batch raised on {self.retried_batches} batches, each retried sample by sample by infer "
                f"(first: {self.retried_because})"
            )
        return note

    @property
    def n_failed(self) -> int:
        """How many distinct samples failed to infer."""
        return len(self.failures)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.suite_errors and all(c.error is None for c in self.cases)

    def case(self, name: str, configuration: Any = None) -> TestCaseResult:
        """The result of test case `name` at a configuration (object or display name; optional if there is one)."""
        wanted = (
            configuration if configuration is None or isinstance(configuration, str) else configuration.display_name()
        )
        matches = [c for c in self.cases if c.name == name and (wanted is None or c.configuration_name == wanted)]
        if len(matches) == 1:
            return matches[0]
        known = sorted({(c.name, c.configuration_name or "") for c in self.cases})
        problem = "is ambiguous: name a configuration" if matches else "not found"
        raise KeyError(f"test case {name!r} at configuration {wanted!r} {problem}; results hold {known}")

    def test_suite_metrics(self, configuration: Any = None) -> Any:
        """The suite metrics at a configuration (object or display name; optional if there is one)."""
        names = list(self.suite_metrics) + list(self.suite_errors)
        wanted = (
            configuration if configuration is None or isinstance(configuration, str) else configuration.display_name()
        )
        if wanted is None and len(names) == 1:
            wanted = names[0]
        if wanted in self.suite_errors:
            raise RuntimeError(f"test suite metrics at {wanted!r} were not computed: {self.suite_errors[wanted]}")
        if wanted not in self.suite_metrics:
            raise KeyError(f"no test suite metrics at configuration {wanted!r}; known: {names}")
        return self.suite_metrics[wanted]

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serializable results (exceptions become their text and traceback)."""
        return {
            "model": {"name": self.model.name, "metadata": _json_ready(getattr(self.model, "metadata", {}))},
            "test_suite": self.test_suite.name,
            "evaluator": self.evaluator,
            "configurations": [_json_ready(c) for c in self.configurations],
            "n_samples": self.n_samples,
            "cases": [c.to_dict() for c in self.cases],
            "suite_metrics": {str(k): _json_ready(v) for k, v in self.suite_metrics.items()},
            "suite_errors": {str(k): v.to_dict() for k, v in self.suite_errors.items()},
            "failures": [f.to_dict() for f in self.failures],
        }


def _json_ready(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return repr(value)
