"""One item's verdict: its results, the thresholds it is judged by, the verdict decided once, its report row."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from .checks import Breach, Threshold, breaches
from .engine.results import RunResults, TestCaseResult
from .items import MODEL_NAME, SUITE_ITEM, KolenaParam, NoSuite
from .judge import UNJUDGED, regression, worsened
from .links import links_of
from .marker import KolenaSpec
from .report.properties import ItemRow, scalar_metrics
from .report.text import failure_text, regression_text, sample_label, worsened_rows
from .session import ItemError, KolenaSession
from .words import ERROR, FAILED, PASSED, REGRESSED, SKIPPED
from .workflow import Model


@dataclasses.dataclass
class ItemResult:
    """The `kolena_result` fixture: the model, test case and configuration of the item, with their results."""

    model: Any
    suite: Any
    configuration: Any
    test_case: Any  # None for the suite-level item
    metrics: Any  # case metrics, or suite metrics for the suite-level item
    samples: list[Any]  # SampleResult: test sample, ground truth, inference, sample metrics, sample id
    plots: list[Any]
    run: Any  # RunResults

    @property
    def kind(self) -> str:
        return SUITE_ITEM if self.test_case is None else "test case"


def _fields(metrics: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(metrics)} if dataclasses.is_dataclass(metrics) else set()


def metric_levels(spec: KolenaSpec, run: Any) -> tuple[frozenset[str], frozenset[str]]:
    """Case and suite metric names: from the evaluator's return annotations, else from the metrics objects it
    returned in this run (an evaluator written without annotations, as the quickstart's)."""
    case, suite = spec.case_metrics, spec.suite_metrics
    if not case and run is not None:
        case = frozenset().union(*(_fields(c.metrics) for c in run.cases))
    if not suite and run is not None:
        suite = frozenset().union(*(_fields(m) for m in run.suite_metrics.values()))
    return case, suite


def applicable_rules(spec: KolenaSpec, param: KolenaParam, metrics: Any, run: Any = None) -> list[Threshold]:
    """The thresholds an item is judged by: case-level rules on a test case, suite-level ones on the suite item."""
    present = _fields(metrics)
    case_metrics, suite_metrics = metric_levels(spec, run)
    rules = []
    for rule in spec.rules.for_case(param.place):
        suite_level = rule.metric in suite_metrics and rule.metric not in case_metrics
        applies = (suite_level or rule.metric in present) if param.test_case is None else not suite_level
        if applies:
            rules.append(rule)
    return rules


@dataclasses.dataclass
class Verdict:
    """An item's verdict: its outcome word, and the text shown when it fails."""

    outcome: str  # "passed", "failed" (threshold), "regressed", "improved", "new"
    rules: list[Threshold]
    broken: list[Breach]
    comparisons: list[Any]  # checks.regression.Comparison
    text: str = ""
    worst_count: int = 5  # how many worst samples a failing item lists (the marker's `worst=`)
    note: str = ""  # what the row's note says before the checks' notes
    behind: dict[str, str | None] = dataclasses.field(default_factory=dict)  # case metric -> sample metric (links)
    worsened: dict[str, Any] = dataclasses.field(default_factory=dict)  # a regression's samples that got worse

    @property
    def failed(self) -> bool:
        return self.outcome in (FAILED, REGRESSED)

    def worst(self, result: ItemResult) -> dict[str, Any]:
        """The worst samples behind the first breached threshold (by the sample metric), else those that got worse
        the most against the baseline behind the first regressed check (by their change)."""
        from .report.text import worst_of

        if self.broken:
            rule = self.broken[0].threshold
            metric = self.behind.get(rule.metric)
            return worst_of(result.samples, metric, rule.lower_is_better, self.worst_count, result.suite)
        return self.worsened

    def row(self, param: KolenaParam, result: ItemResult, outcome: str | None = None) -> ItemRow:
        row = param.row(result.model.name, outcome or self.outcome)
        row.metrics = scalar_metrics(result.metrics)
        row.thresholded = [r.metric for r in self.rules]
        row.inference = result.run.inference_note if param.test_case is None else ""
        row.deltas = {c.metric: c.short() for c in self.comparisons}
        row.rules = {r.metric: str(r) for r in self.rules}
        row.checks = [c.to_dict() for c in self.comparisons]
        if self.failed and param.test_case is not None:
            row.worst = self.worst(result)
        unjudged: dict[str, list[str]] = {}  # reason -> the metrics not judged for it
        for c in self.comparisons:
            if c.test is None:
                unjudged.setdefault(c.reason, []).append(c.metric)
        row.note = "; ".join(
            ([self.note] if self.note else [])
            + [f"{', '.join(metrics)} not judged: {reason}" for reason, metrics in unjudged.items()]
            + [f"{c.metric} underpowered: {c.missed()}" for c in self.comparisons if c.underpowered]
        )
        return row


def decide_verdict(
    spec: KolenaSpec,
    param: KolenaParam,
    result: ItemResult,
    regression: tuple[str | None, list[Any], str],
    worse: Any = None,
) -> Verdict:
    """Thresholds, then the regression verdict (`regression`: outcome, comparisons, what the baseline was; `worse`:
    the samples that got worse the most, judge.Worsened, of a regressed test case)."""
    rules = applicable_rules(spec, param, result.metrics, result.run)
    broken = breaches(result.metrics, rules)
    regressed, comparisons, source = regression
    where = f" at {param.configuration}" if param.configuration else ""
    title = f"model '{result.model.name}' on {param.place}{where}"
    links = links_of(spec, result.run, param.configuration) if param.test_case is not None else {}
    behind = {metric: link.sample_metric for metric, link in links.items()}
    texts = []
    if broken:
        texts.append(failure_text(title, broken, len(rules), result.samples, spec.worst, behind, result.suite))
    rows = worsened_rows(worse, result.suite, spec.worst) if worse is not None and regressed == REGRESSED else {}
    if regressed == REGRESSED:
        texts.append(regression_text(title, source, comparisons, rows))
    unjudged = regressed == UNJUDGED
    if unjudged:
        texts.append(f"{title}: {source}")
    outcome = FAILED if broken or unjudged else (regressed or PASSED)
    note = "nothing to compare in the baseline" if unjudged else ""
    return Verdict(outcome, rules, broken, comparisons, "\n".join(texts), spec.worst, note, behind, rows)


VERDICT: pytest.StashKey[Verdict] = pytest.StashKey()


def report_row(item: pytest.Item, param: KolenaParam, report: pytest.TestReport) -> ItemRow:
    """What an item showed, from its verdict and the outcome of its report (a test body that failed an assert of
    its own fails a passing verdict)."""
    verdict = item.stash.get(VERDICT, None)
    result = getattr(item, "funcargs", {}).get("kolena_result")
    if report.when == "setup" or verdict is None or result is None:
        outcome = (SKIPPED if report.skipped else ERROR) if report.when == "setup" else report.outcome
        row = param.row(item.stash.get(MODEL_NAME, None), outcome)
        row.metrics = scalar_metrics(result.metrics) if result is not None else {}
        return row
    if report.skipped:
        outcome = SKIPPED
    elif report.failed and not verdict.failed:
        outcome = FAILED
    else:
        outcome = verdict.outcome
    return verdict.row(param, result, outcome)


def suite_for(session: KolenaSession, item: pytest.Item, param: KolenaParam | None) -> Any:
    """The `kolena_suite` fixture."""
    spec = session.spec_for(item)
    if spec is None or param is None:
        raise pytest.UsageError(
            f"{item.nodeid}: kolena_suite needs @pytest.mark.kolena(models=..., evaluator=...) on the test"
        )
    return session.suite(spec, param.suite)


def result_for(session: KolenaSession, request: pytest.FixtureRequest, param: KolenaParam) -> ItemResult:
    """The `kolena_result` fixture: the model (resolving a fixture name), run once, and this item's part."""
    if isinstance(param, NoSuite):
        pytest.fail(str(param), pytrace=False)
    model = param.model.model or request.getfixturevalue(param.model.fixture)
    if not isinstance(model, Model):
        pytest.fail(f"fixture '{param.model.fixture}' returned {type(model).__name__}, not a Model", pytrace=False)
    request.node.stash[MODEL_NAME] = model.name
    session.selection.add_models([model.name])
    wanted = session.settings.models
    if wanted is not None and model.name not in wanted and param.model.fixture not in wanted:
        reason = f"--kolena-model {', '.join(sorted(wanted))} does not select model '{model.name}'"
        session.selection.leave_out(reason)
        pytest.skip(reason)
    session.current_nodeid = request.node.nodeid  # where a progress line is written
    try:
        return item_result(session, session.spec_for(request.node), param, model)
    except ItemError as error:
        problem = str(error)
    pytest.fail(problem, pytrace=False)  # outside the except block: the traceback in the text is shown once


def verdict_for(session: KolenaSession, item: pytest.Item, param: KolenaParam, result: ItemResult) -> Verdict:
    """Decide the item's verdict, once, and keep it on the item for its report."""
    spec = session.spec_for(item)
    judged = regression(session, spec, param, result)
    verdict = decide_verdict(spec, param, result, judged, worsened(session, param, result))
    item.stash[VERDICT] = verdict
    return verdict


def item_result(session: KolenaSession, spec: KolenaSpec, param: KolenaParam, model: Model) -> ItemResult:
    """The results of one item; an inference or evaluator failure that touches it raises ItemError, and so does
    the suite item of a model that inferred no sample."""
    suite = session.suite(spec, param.suite)
    run = session.run(param.test, spec, model, suite)
    configuration = next((c for c in spec.configurations if c.display_name() == param.configuration), None)
    if param.test_case is None:
        if run.failures and run.n_failed == run.n_samples:
            raise ItemError(
                f"model '{model.name}' inferred no sample of {param.suite} ({run.inference_note}); first, "
                f"{_failure_text(session, run, run.failures[0])}"
            )
        if param.configuration in run.suite_errors:
            raise ItemError(
                f"suite metrics of model '{model.name}' on {param.suite}: {run.suite_errors[param.configuration]}"
            )
        metrics = run.suite_metrics.get(param.configuration)
        return ItemResult(model, suite, configuration, None, metrics, [], [], run)
    case = _case_result(run, param.test_case, param.configuration)
    if case.failures:
        total = len(case.failures) + len(case.samples)
        raise ItemError(
            f"model '{model.name}': {len(case.failures)} of {total} samples of {case.name} failed to infer; "
            f"first, {_failure_text(session, run, case.failures[0])}"
        )
    if case.error is not None:
        raise ItemError(f"evaluator on {case.name} ({param.configuration}): {case.error}\n{case.error.traceback}")
    return ItemResult(model, suite, configuration, case.test_case, case.metrics, case.samples, case.plots, run)


def _failure_text(session: KolenaSession, run: RunResults, failed: Any) -> str:
    """A sample's inference failure: with its traceback at the first item of the model run that shows this
    error, in one line at the others (an error of every sample, such as a module the workers lack, is one
    traceback, not one per item)."""
    label = sample_label(failed.test_sample)
    first = session.shown.setdefault((id(run), failed.failure.stage, failed.failure.error), session.current_nodeid)
    if first != session.current_nodeid:
        return f"{label}: {failed.failure} (its traceback: see {first})"
    return f"{label}:\n{failed.failure.traceback}"


def _case_result(run: RunResults, test_case: str, configuration: str | None) -> TestCaseResult:
    return next(c for c in run.cases if c.name == test_case and c.configuration_name == configuration)
