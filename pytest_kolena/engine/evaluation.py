"""Evaluation of inferred test cases: sample metrics, case metrics and plots, suite metrics, per configuration.

Exceptions of the evaluator are kept on the (test case, configuration) they touch, never raised through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

from .failure import Failure, RowsRefusedError
from .results import Progress, SampleFailure, SampleResult, TestCaseResult, configuration_name

Key = Callable[[Any], Hashable]


@dataclasses.dataclass
class InferredCase:
    """A test case with its (test sample, ground truth, inference) rows, their sample ids, and its samples that
    failed to infer. Of a loaded suite: the rows' positions in it, its pairs (LazyPairs) and the inferences by
    position; its results hold those, not the objects, and its rows are a sequence made as it is read
    (`make_rows(positions)`)."""

    test_case: Any
    given_rows: list[tuple[Any, Any, Any]] | None
    ids: list[str]
    failures: list[SampleFailure]
    positions: list[int] | None = None
    pairs: Any = None
    make_rows: Callable[[list[int]], Sequence[tuple[Any, Any, Any]]] | None = None
    inferences: Any = None  # by position

    @property
    def rows(self) -> Sequence[tuple[Any, Any, Any]]:
        return self.given_rows if self.make_rows is None else self.make_rows(self.positions)

    def keys(self, key: Key, rows: Sequence[tuple[Any, Any, Any]]) -> list[Hashable]:
        """The key of each row's test sample: of a loaded suite, its position (what the run's key gives)."""
        return list(self.positions) if self.make_rows is not None else [key(ts) for ts, _, _ in rows]


@dataclasses.dataclass
class Evaluation:
    cases: list[TestCaseResult]
    suite_metrics: dict[str | None, Any]
    suite_errors: dict[str | None, Failure]


def _new_result(
    case: InferredCase, configuration: Any, rows: Sequence[tuple[Any, Any, Any]] | None = None
) -> TestCaseResult:
    if case.pairs is not None:
        of_row, pairs, inferences = SampleResult.of_row, case.pairs, case.inferences
        samples = [of_row(pairs, p, inferences, i) for p, i in zip(case.positions, case.ids)]
    else:
        rows = case.rows if rows is None else rows
        samples = [SampleResult(ts, gt, inf, sample_id=i) for (ts, gt, inf), i in zip(rows, case.ids)]
    return TestCaseResult(case.test_case, configuration, samples, list(case.failures))


def _align_sample_metrics(
    pairs: Any, rows: Sequence[tuple[Any, Any, Any]], keys: list[Hashable], key: Key
) -> list[Any]:
    """Order the (test sample, metrics) pairs an evaluator returned like the rows it was given (their `keys`)."""
    pairs = list(pairs or [])
    by_key = {key(ts): metrics for ts, metrics in pairs}
    missing = next((k for k, row_key in enumerate(keys) if row_key not in by_key), None)
    if missing is not None or len(pairs) != len(rows):
        detail = f"; no metrics for {rows[missing][0]!r}" if missing is not None else ""
        raise ValueError(f"returned {len(pairs)} (test sample, metrics) pairs for {len(rows)} test samples{detail}")
    return [by_key[row_key] for row_key in keys]


def _suite_step(
    evaluation: Evaluation,
    results: list[TestCaseResult],
    configuration: Any,
    compute: Callable[..., Any],
    *args: Any,
) -> None:
    """Record the suite metrics of one configuration, unless a test case failed (they would be partial)."""
    name = configuration_name(configuration)
    broken = [r.name for r in results if r.error is not None]
    if broken:
        error = RuntimeError(f"not computed because test case(s) {', '.join(broken)} failed to evaluate")
        evaluation.suite_errors[name] = Failure.from_exception("compute_test_suite_metrics", error)
        return
    try:
        evaluation.suite_metrics[name] = compute(*args)
    except Exception as error:
        evaluation.suite_errors[name] = Failure.from_exception("compute_test_suite_metrics", error)


def once_per_sample(evaluator: Any) -> bool:
    """Whether an evaluator's sample metrics are computed once per sample for the whole suite: it declares that they
    do not depend on the test case (`once_per_sample = True`), or computes them on a DataFrame of the suite."""
    return bool(getattr(evaluator, "once_per_sample", False)) or has_frame_form(evaluator)


def has_frame_form(evaluator: Any) -> bool:
    return callable(getattr(evaluator, "compute_test_sample_metrics_frame", None))


def _distinct(cases: Sequence[InferredCase], key: Key) -> tuple[Sequence[tuple[Any, Any, Any]], list[str], list]:
    """The (test sample, ground truth, inference) rows of the distinct samples of the suite, their ids and keys
    (of a loaded suite: a sequence made as it is read)."""
    if cases and all(c.make_rows is not None and c.pairs is cases[0].pairs for c in cases):
        ids_of = {p: i for case in cases for p, i in zip(case.positions, case.ids)}
        positions = list(ids_of)
        return cases[0].make_rows(positions), [ids_of[p] for p in positions], positions
    distinct: dict[str, tuple[Any, Any, Any]] = {}
    for case in cases:
        for sample_id, row in zip(case.ids, case.rows):
            distinct.setdefault(sample_id, row)
    rows = list(distinct.values())
    return rows, list(distinct), [key(ts) for ts, _, _ in rows]


def _sample_metrics(
    evaluator: Any,
    rows: Sequence[tuple[Any, Any, Any]],
    ids: list[str],
    keys: list[Hashable],
    test_case: Any,
    configuration: Any,
    key: Key,
    frame: Any = None,
) -> list[Any]:
    """The evaluator's sample metrics of `rows`, in their order: on a DataFrame of them (`frame`, when already
    built) if it has the frame form, else from compute_test_sample_metrics."""
    if has_frame_form(evaluator):
        from .frame import samples_frame

        if not rows:
            return []
        return _frame_metrics(evaluator, frame if frame is not None else samples_frame(rows, ids), configuration)
    pairs = evaluator.compute_test_sample_metrics(test_case, rows, configuration)
    return _align_sample_metrics(pairs, rows, keys, key)


def _frame_metrics(evaluator: Any, frame: Any, configuration: Any) -> list[Any]:
    metrics = list(evaluator.compute_test_sample_metrics_frame(frame, configuration))
    if len(metrics) != len(frame):
        raise ValueError(f"returned {len(metrics)} sample metrics for a frame of {len(frame)} samples")
    for sample_id, value in zip(frame.index, metrics):
        if not evaluator.is_sample_metrics(value):
            raise TypeError(f"returned {type(value).__name__} for sample {sample_id}, not a MetricsTestSample")
    return metrics


def evaluate_per_case(
    evaluator: Any,
    test_suite: Any,
    cases: Sequence[InferredCase],
    configurations: Sequence[Any],
    key: Key,
    progress: Progress | None = None,
) -> Evaluation:
    """Run a class-based evaluator: each compute_* method once per test case and configuration; the sample metrics
    once per configuration for the distinct samples of the whole suite when the evaluator computes them
    `once_per_sample` (where that call raises, per test case, so that the error lands on the test cases holding
    the sample, as on the default path)."""
    evaluation = Evaluation([], {}, {})
    configurations = list(configurations or [None])
    done, total = 0, len(configurations) * len(cases)
    once = once_per_sample(evaluator)
    rows, ids, keys = _distinct(cases, key) if once else ([], [], [])
    frame = None  # the suite's DataFrame, built once for every configuration
    for configuration in configurations:
        shared, seen = None, {}  # seen: each sample's metrics in an earlier test case (computed per test case)
        if once:
            try:
                if has_frame_form(evaluator) and frame is None and rows:
                    from .frame import samples_frame

                    frame = samples_frame(rows, ids)
                shared = dict(zip(ids, _sample_metrics(evaluator, rows, ids, keys, None, configuration, key, frame)))
            except Exception:
                shared = None
            if configuration is configurations[-1]:
                frame = None  # (not held while the test cases are evaluated)
        results = []
        for case in cases:
            results.append(_evaluate_case(evaluator, case, configuration, key, shared, once, seen))
            done += 1
            if progress is not None:
                progress("evaluation", done, total)
        evaluation.cases.extend(results)
        suite_input = [(r.test_case, r.metrics) for r in results]
        _suite_step(
            evaluation,
            results,
            configuration,
            evaluator.compute_test_suite_metrics,
            test_suite,
            suite_input,
            configuration,
        )
    return evaluation


def _evaluate_case(
    evaluator: Any,
    case: InferredCase,
    configuration: Any,
    key: Key,
    shared: dict[str, Any] | None,
    once: bool,
    seen: dict[str, Any],
) -> TestCaseResult:
    """One test case at one configuration; `shared`: the suite's sample metrics by sample id, when computed; `seen`:
    the sample metrics of the test cases evaluated before at this configuration, by sample id (an equal value is
    kept once: a sample in four test cases holds one object, not four)."""
    rows = case.rows
    result = _new_result(case, configuration, rows)
    stage = "compute_test_sample_metrics" + ("_frame" if has_frame_form(evaluator) else "")
    try:
        if shared is None:
            test_case = None if once else case.test_case
            keys = case.keys(key, rows)
            sample_metrics = _sample_metrics(evaluator, rows, case.ids, keys, test_case, configuration, key)
            sample_metrics = [_one_copy(seen, i, m) for i, m in zip(case.ids, sample_metrics)]
        else:
            sample_metrics = [shared[sample_id] for sample_id in case.ids]
        for sample, metrics in zip(result.samples, sample_metrics):
            sample.metrics = metrics
        stage = "compute_test_case_metrics"
        result.metrics = evaluator.compute_test_case_metrics(case.test_case, rows, sample_metrics, configuration)
        stage = "compute_test_case_plots"
        result.plots = list(
            evaluator.compute_test_case_plots(case.test_case, rows, sample_metrics, configuration) or []
        )
    except RowsRefusedError:
        raise
    except Exception as error:
        result.error = Failure.from_exception(stage, error)
    return result


def _one_copy(seen: dict[str, Any], sample_id: str, metrics: Any) -> Any:
    """The sample's metrics of an earlier test case if equal to these (of the same type), else these."""
    earlier = seen.setdefault(sample_id, metrics)
    if earlier is metrics or type(earlier) is not type(metrics):
        return metrics
    try:
        return earlier if bool(earlier == metrics) else metrics
    except Exception:  # (a value whose == is no truth value: an array)
        return metrics


class CaseGroups:
    """Groups per-sample values by test case, for function-style evaluators (`TestCases.iter` in Kolena)."""

    def __init__(self, cases: Sequence[InferredCase], key: Key) -> None:
        self._cases = cases
        self._key = key

    def iter(
        self,
        test_samples: list[Any],
        ground_truths: list[Any],
        inferences: list[Any],
        metrics_test_sample: list[Any],
    ) -> Iterator[tuple[Any, list[Any], list[Any], list[Any], list[Any]]]:
        """Yield (test case, its samples, ground truths, inferences, sample metrics) for every test case."""
        by_key = {
            self._key(ts): (ts, gt, inf, m)
            for ts, gt, inf, m in zip(test_samples, ground_truths, inferences, metrics_test_sample)
        }
        for case in self._cases:
            members = [by_key[self._key(ts)] for ts, _, _ in case.rows if self._key(ts) in by_key]
            columns = [list(column) for column in zip(*members)] if members else [[], [], [], []]
            yield case.test_case, *columns


def evaluate_whole(
    function: Callable[..., Any],
    configured: bool,
    test_suite: Any,
    cases: Sequence[InferredCase],
    configurations: Sequence[Any],
    key: Key,
    groups: Callable[[Sequence[InferredCase], Key], CaseGroups] = CaseGroups,
    progress: Progress | None = None,
) -> Evaluation:
    """Run a function-style evaluator once per configuration over the distinct samples of the suite."""
    distinct: dict[Hashable, tuple[Any, Any, Any]] = {}
    for case in cases:
        for row in case.rows:
            distinct.setdefault(key(row[0]), row)
    test_samples, ground_truths, inferences = (list(c) for c in zip(*distinct.values())) if distinct else ([], [], [])
    evaluation = Evaluation([], {}, {})
    runs = list(configurations) if configured else [None]
    for done, configuration in enumerate(runs, 1):
        results = [_new_result(case, configuration) for case in cases]
        args = [test_samples, ground_truths, inferences, groups(cases, key)] + ([configuration] if configured else [])
        output = None
        try:
            output = function(*args)
            _apply_whole(output, results, cases, key)
        except Exception as error:
            failure = Failure.from_exception(getattr(function, "__name__", "evaluator"), error)
            for result in results:
                result.error = failure
        evaluation.cases.extend(results)
        _suite_step(evaluation, results, configuration, getattr, output, "metrics_test_suite", None)
        if progress is not None:
            progress("evaluation", done, len(runs))
    return evaluation


def _apply_whole(output: Any, results: list[TestCaseResult], cases: Sequence[InferredCase], key: Key) -> None:
    if output is None:
        return
    sample_metrics = {key(ts): metrics for ts, metrics in output.metrics_test_sample}
    case_metrics = {tc.name: metrics for tc, metrics in output.metrics_test_case}
    case_plots = {tc.name: list(plots or []) for tc, plots in output.plots_test_case}
    for result, case in zip(results, cases):
        for sample, (ts, _, _) in zip(result.samples, case.rows):
            sample.metrics = sample_metrics.get(key(ts))
        missing = [ts for s, (ts, _, _) in zip(result.samples, case.rows) if s.metrics is None]
        if missing:
            raise ValueError(f"the evaluator returned no sample metrics for {missing[0]!r}")
        if result.name not in case_metrics:
            raise ValueError(f"the evaluator returned no metrics for test case '{result.name}'")
        result.metrics = case_metrics[result.name]
        result.plots = case_plots.get(result.name, [])
