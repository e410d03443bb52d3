"""`test()`: run a model over a test suite and evaluate it, locally, and return the results."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any, ClassVar

from .._gc import no_cyclic_gc
from ..engine.evaluation import InferredCase, evaluate_per_case, evaluate_whole, once_per_sample
from ..engine.failure import RowsRefusedError
from ..engine.inference import Inferred, Inferrer, infer_distinct
from ..engine.results import Progress, RunResults, SampleFailure
from ._dataobject import json_default
from ._identity import LazyIndex, SampleIndex
from ._inferences import InferenceColumns
from ._lazy import LazyRows, RowSource
from .evaluator import Evaluator, EvaluatorConfiguration
from .evaluator_function import is_configured
from .model import Model
from .test_suite import TestSuite

# rows of a loaded suite kept made across the test cases of an evaluator that reads each test case's rows (about
# 1.5 KB a keypoints row: 300 MB); beyond, made again per test case
ROWS_KEPT = 200_000


class TestRun:
    """A model tested on a test suite with an evaluator (class-based or function-style)."""

    __test__: ClassVar[bool] = False

    def __init__(
        self,
        model: Model,
        test_suite: TestSuite,
        evaluator: Any = None,
        configurations: Sequence[EvaluatorConfiguration] | None = None,
        reset: bool = False,
        cache: Any = None,
        warn: bool = True,
        executor: Executor | None = None,
        workers: int = 1,
        batch_size: int = 32,
        progress: Progress | None = None,
        stall_timeout: float | None = None,
    ) -> None:
        """`cache`: an inference cache (get, put, flush by sample id), used unless `reset`; `warn`: a RuntimeWarning
        when samples failed to infer or test cases to evaluate (the plugin reports them on its items instead);
        `executor` (with its number of `workers`): where batches of `batch_size` samples are inferred (None: here);
        `progress`: called with (what, done, total) as inference and evaluation go; `stall_timeout`: the seconds
        without a finished task of the executor before inference gives up (StallError)."""
        if not isinstance(model, Model):
            raise TypeError(f"model must be a Model, got {type(model).__name__}")
        if not isinstance(test_suite, TestSuite):
            raise TypeError(f"test_suite must be a TestSuite, got {type(test_suite).__name__}")
        if model.workflow != test_suite.workflow:
            raise TypeError(
                f"model '{model.name}' is of workflow '{model.workflow.name}', test suite '{test_suite.name}' of '{test_suite.workflow.name}'"
            )
        if model.infer is None and getattr(model, "infer_batch", None) is None:
            raise ValueError(f"model '{model.name}' has no infer function: Model(name, infer=...)")
        if evaluator is None:
            raise ValueError("an evaluator is required: there is no server-side evaluator to fall back on")
        if not test_suite.test_cases:
            raise ValueError(f"test suite '{test_suite.name}' has no test cases")
        if isinstance(evaluator, Evaluator):
            self.configurations = list(configurations or evaluator.configurations)  # Kolena ignores the argument
        elif callable(evaluator):
            self.configurations = list(configurations or [])
            if is_configured(evaluator) and not self.configurations:
                raise ValueError("the evaluator function takes a configuration, but no configurations were given")
        else:
            raise TypeError(f"evaluator must be an Evaluator or a function, got {type(evaluator).__name__}")
        self.model, self.test_suite, self.evaluator, self.reset, self.cache = model, test_suite, evaluator, reset, cache
        self.warn = warn
        self.executor, self.workers, self.batch_size, self.progress = executor, workers, batch_size, progress
        self.stall_timeout = stall_timeout

    def run(self) -> RunResults:
        """Infer every distinct sample once, evaluate every test case at every configuration."""
        index = SampleIndex.of(self.test_suite)
        cache = _Refresh(self.cache) if self.reset and self.cache is not None else self.cache
        model = self.model
        inferrer = Inferrer(model.infer, getattr(model, "infer_batch", None), model.workflow.inference_type)
        # one sample at a time unless batches pay: on a Ctrl-C, every inference made so far reaches the cache (on an
        # executor: every batch finished so far)
        batch_size = self.batch_size if self.executor is not None or inferrer.infer_batch is not None else 1
        # a loaded suite's test samples are made a batch at a time for inference (those its load made and held are
        # taken first) and its inferences kept as columns; evaluation makes a test case's rows as they are read
        lazy = isinstance(index, LazyIndex)
        held = InferenceColumns(inferrer.expected, json_default, len(index.ids)) if lazy else None
        inferred = infer_distinct(
            inferrer,
            index.samples,
            index.ids,
            cache,
            self.executor,
            batch_size,
            self.progress,
            self.workers,
            self.stall_timeout,
            held,
        )
        if held is not None:
            held.seal()
        if lazy and not (self._rows_per_case() and len(index.ids) <= ROWS_KEPT):
            index.pairs.release()  # (what the load made is let go; else they are the rows kept, let go after)
        with no_cyclic_gc():  # the model ran with the collector on; the results are many objects and no cycles
            try:
                return self._evaluate(index, inferred)
            except RowsRefusedError as refused:
                raise refused.cause from None
            finally:
                if lazy:
                    index.pairs.release()
                    index.pairs.prune()

    def _rows_per_case(self) -> bool:
        """Whether the evaluator reads each test case's rows (its sample metrics computed per test case)."""
        return isinstance(self.evaluator, Evaluator) and not once_per_sample(self.evaluator)

    def _evaluate(self, index: SampleIndex, inferred: Inferred) -> RunResults:
        inferences, failures = inferred.inferences, inferred.failures
        cases = []
        failed: dict[int, SampleFailure] = {}
        pairs = index.pairs if isinstance(index, LazyIndex) else None  # (a loaded suite: results hold rows)
        if pairs is not None:  # (rows read per test case: kept made for the next ones, up to a bound)
            source = RowSource(pairs, inferences, ROWS_KEPT if self._rows_per_case() else 0)
        for tc in self.test_suite.test_cases:
            if pairs is not None and tc._pairs is None and tc._lazy is pairs:  # the rows of the suite's table
                rows = tc._rows.tolist()
                positions = [p for p in rows if p not in failures]
                for p in (p for p in rows if p in failures and p not in failed):
                    failed[p] = SampleFailure(*pairs.pairs([p])[0], failures[p])
                case_failures = [failed[p] for p in rows if p in failures]
                make = functools.partial(LazyRows, source)
                ids = [index.ids[p] for p in positions]
                cases.append(InferredCase(tc, None, ids, case_failures, positions, pairs, make, inferences))
                continue
            members = [(ts, gt, index.add(ts)) for ts, gt in tc.iter_test_samples()]
            case_failures = [
                failed.setdefault(p, SampleFailure(ts, gt, failures[p])) for ts, gt, p in members if p in failures
            ]
            ids = [index.ids[p] for _, _, p in members if p not in failures]
            rows = [(ts, gt, inferences[p]) for ts, gt, p in members if p not in failures]
            cases.append(InferredCase(tc, rows, ids, case_failures))
        key = index.position
        if isinstance(self.evaluator, Evaluator):
            evaluation = evaluate_per_case(
                self.evaluator, self.test_suite, cases, self.configurations, key, self.progress
            )
            evaluator_name = self.evaluator.display_name()
        else:
            configured = is_configured(self.evaluator)
            evaluation = evaluate_whole(
                self.evaluator, configured, self.test_suite, cases, self.configurations, key, progress=self.progress
            )
            evaluator_name = getattr(self.evaluator, "__name__", type(self.evaluator).__name__)
        results = RunResults(
            model=self.model,
            test_suite=self.test_suite,
            evaluator=evaluator_name,
            configurations=self.configurations,
            cases=evaluation.cases,
            suite_metrics=evaluation.suite_metrics,
            suite_errors=evaluation.suite_errors,
            failures=list(failed.values()),
            n_samples=len(inferences) + len(failures),
            from_cache=inferred.from_cache,
            cache_ignored=getattr(self.cache, "ignored", 0) if not self.reset else 0,
            retried_batches=inferred.retried_batches,
            retried_because=str(inferred.retried_because or ""),
            held_inferences=(inferences, index.ids) if isinstance(inferences, InferenceColumns) else None,
        )
        if self.warn:
            _warn_about_failures(results)
        return results


class _Refresh:
    """A cache that is written but not read: `reset` infers everything again and keeps the new inferences."""

    def __init__(self, cache: Any) -> None:
        self.cache = cache

    def get(self, sample_id: str) -> None:
        return None

    def get_many(self, sample_ids: list[str]) -> list[None]:
        return [None] * len(sample_ids)

    def put(self, sample_id: str, inference: Any) -> None:
        self.cache.put(sample_id, inference)

    def flush(self) -> None:
        self.cache.flush()


def _warn_about_failures(results: RunResults) -> None:
    problems = []
    if results.failures:
        problems.append(
            f"{results.n_failed} of {results.n_samples} samples failed to infer (first: {results.failures[0].failure})"
        )
    errors = [c for c in results.cases if c.error is not None]
    if errors:
        problems.append(f"{len(errors)} test case evaluations failed (first: {errors[0].name}: {errors[0].error})")
    if problems:
        warnings.warn(
            f"test of model '{results.model.name}' on '{results.test_suite.name}': " + "; ".join(problems),
            RuntimeWarning,
            stacklevel=3,
        )


def test(
    model: Model,
    test_suite: TestSuite,
    evaluator: Any = None,
    configurations: Sequence[EvaluatorConfiguration] | None = None,
    reset: bool = False,
) -> RunResults:
    """Test `model` on `test_suite` with `evaluator`, locally; return the results (Kolena's returns nothing)."""
    return TestRun(model, test_suite, evaluator, configurations, reset).run()


test.__test__ = False  # type: ignore[attr-defined]
