"""One item's verdict: its results, the thresholds it is judged by, the verdict decided once, its report row."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from .checks import Breach, Threshold, breaches
from .items import MODEL_NAME, SUITE_ITEM, KolenaParam
from .judge import UNJUDGED
from .links import links_of
from .marker import KolenaSpec
from .report.properties import ItemRow, scalar_metrics
from .report.text import failure_text, regression_text


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

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "regressed")

    def worst(self, result: ItemResult) -> dict[str, Any]:
        """The worst samples behind the first breached threshold, else the first regressed check."""
        from .report.text import worst_of

        if self.broken:
            rule = self.broken[0].threshold
            return worst_of(result.samples, self.behind.get(rule.metric), rule.lower_is_better, self.worst_count)
        regressed = next((c for c in self.comparisons if c.verdict == "regressed"), None)
        if regressed is None:
            return {}
        behind = self.behind.get(regressed.metric)
        return worst_of(result.samples, behind, regressed.lower_is_better, self.worst_count)

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
        row.note = "; ".join(
            ([self.note] if self.note else [])
            + [f"{c.metric} not judged: {c.reason}" for c in self.comparisons if c.test is None]
            + [f"{c.metric} underpowered" for c in self.comparisons if c.underpowered]
        )
        return row


def decide_verdict(
    spec: KolenaSpec, param: KolenaParam, result: ItemResult, regression: tuple[str | None, list[Any], str]
) -> Verdict:
    """Thresholds, then the regression verdict (`regression`: outcome, comparisons, what the baseline was)."""
    rules = applicable_rules(spec, param, result.metrics, result.run)
    broken = breaches(result.metrics, rules)
    regressed, comparisons, source = regression
    where = f" at {param.configuration}" if param.configuration else ""
    title = f"model '{result.model.name}' on {param.place}{where}"
    links = links_of(spec, result.run, param.configuration) if param.test_case is not None else {}
    behind = {metric: link.sample_metric for metric, link in links.items()}
    texts = []
    if broken:
        texts.append(failure_text(title, broken, len(rules), result.samples, spec.worst, behind))
    if regressed == "regressed":
        texts.append(regression_text(title, source, comparisons))
    unjudged = regressed == UNJUDGED
    if unjudged:
        texts.append(f"{title}: {source}")
    outcome = "failed" if broken or unjudged else (regressed or "passed")
    note = "nothing to compare in the baseline" if unjudged else ""
    return Verdict(outcome, rules, broken, comparisons, "\n".join(texts), spec.worst, note, behind)


VERDICT: pytest.StashKey[Verdict] = pytest.StashKey()


def report_row(item: pytest.Item, param: KolenaParam, report: pytest.TestReport) -> ItemRow:
    """What an item showed, from its verdict and the outcome of its report (a test body that failed an assert of
    its own fails a passing verdict)."""
    verdict = item.stash.get(VERDICT, None)
    result = getattr(item, "funcargs", {}).get("kolena_result")
    if report.when == "setup" or verdict is None or result is None:
        outcome = ("skipped" if report.skipped else "error") if report.when == "setup" else report.outcome
        row = param.row(item.stash.get(MODEL_NAME, None), outcome)
        row.metrics = scalar_metrics(result.metrics) if result is not None else {}
        return row
    if report.skipped:
        outcome = "skipped"
    elif report.failed and not verdict.failed:
        outcome = "failed"
    else:
        outcome = verdict.outcome
    return verdict.row(param, result, outcome)
