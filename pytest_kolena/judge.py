"""Regression checks of one model's run against its baseline: every test case x configuration x rule at once.

The samples of the run are paired with the baseline's by sample id; the statistics live in `checks.regression`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .checks.regression import Bootstrap, Comparison, compare, numeric_columns
from .marker import KolenaSpec
from .workflow import Evaluator

CaseKey = tuple[str | None, str | None]  # (test case name or None for the suite item, configuration name)


@dataclasses.dataclass
class RunJudgement:
    """The regression outcome of each item of a model's run: "regressed", "improved", "new" or None."""

    source: str  # what the baseline was: "model 'x' in run 2026... (tag main)"
    outcomes: dict[CaseKey, tuple[str | None, list[Comparison]]]

    def of(self, test_case: str | None, configuration: str | None) -> tuple[str | None, list[Comparison], str]:
        outcome, comparisons = self.outcomes.get((test_case, configuration), (None, []))
        return outcome, comparisons, self.source


def judge_run(
    spec: KolenaSpec, run: Any, entries: dict[str | None, Any], source: str, settings: Bootstrap
) -> RunJudgement:
    """`entries`: the baseline entry of each configuration (None where the baseline has none)."""
    outcomes: dict[CaseKey, tuple[str | None, list[Comparison]]] = {}
    for configuration_name, entry in entries.items():
        outcomes[(None, configuration_name)] = ("new" if entry is None or not entry.suite_metrics else None, [])
    for case in run.cases:
        entry = entries.get(case.configuration_name)
        key = (case.name, case.configuration_name)
        if entry is None or case.name not in entry.case_metrics:
            outcomes[key] = ("new", [])
            continue
        if case.metrics is None:
            continue
        allowances = spec.regression.for_case(case.name)
        if allowances:
            outcomes[key] = _judge_case(spec, case, entry, allowances, settings)
    return RunJudgement(source, outcomes)


def _judge_case(
    spec: KolenaSpec, case: Any, entry: Any, allowances: list[Any], settings: Bootstrap
) -> tuple[str | None, list[Comparison]]:
    paired = [(s, entry.samples.get(s.sample_id)) for s in case.samples]
    paired = [(s, b) for s, b in paired if b is not None and s.metrics is not None]
    candidate_columns = numeric_columns([s.metrics for s, _ in paired])
    baseline_columns = numeric_columns([b for _, b in paired])
    comparisons = []
    for allowance in allowances:
        baseline_value = entry.case_metrics[case.name].get(allowance.metric)
        candidate_value = getattr(case.metrics, allowance.metric, None)
        if not isinstance(baseline_value, (int, float)) or not isinstance(candidate_value, (int, float)):
            continue
        recompute = _recompute(spec, case, paired, allowance.metric)
        comparisons.append(
            compare(
                allowance.metric,
                allowance,
                spec.lower_is_better[allowance.metric],
                float(baseline_value),
                float(candidate_value),
                baseline_columns,
                candidate_columns,
                recompute,
                settings,
            )
        )
    verdicts = {c.verdict for c in comparisons}
    if "regressed" in verdicts:
        return "regressed", comparisons
    return ("improved" if "improved" in verdicts else None), comparisons


def _recompute(spec: KolenaSpec, case: Any, paired: list[tuple[Any, dict]], metric: str) -> Any:
    """The general bootstrap path: the evaluator's own compute_test_case_metrics on resampled samples."""
    if not isinstance(spec.evaluator, Evaluator) or not paired:
        return None
    metrics_type = type(paired[0][0].metrics)
    candidate = [s.metrics for s, _ in paired]
    baseline = [metrics_type.from_dict(b) for _, b in paired]
    rows = [(s.test_sample, s.ground_truth, s.inference) for s, _ in paired]

    def recompute(indices: Any) -> tuple[float, float]:
        chosen = [rows[i] for i in indices]
        compute = spec.evaluator.compute_test_case_metrics
        before = compute(case.test_case, chosen, [baseline[i] for i in indices], case.configuration)
        after = compute(case.test_case, chosen, [candidate[i] for i in indices], case.configuration)
        return float(getattr(before, metric)), float(getattr(after, metric))

    return recompute
