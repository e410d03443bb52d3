"""Regression checks of one model's run against its baseline: every test case x configuration x rule at once, as
one family whose p-values are adjusted together.

Samples are paired with the baseline's by sample id. A case metric that is the mean of a sample metric (its link,
`links.py`: declared on the metrics class field, or confirmed by the evaluator itself on random subsets) is judged on the paired sample metrics; any other case metric by a
paired bootstrap in which the evaluator recomputes it for the baseline, from the baseline's own inferences, and
for the candidate.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from typing import Any

import numpy as np

from ._gc import no_cyclic_gc
from .checks.regression import (
    Comparison,
    Judging,
    Resampled,
    bootstrap_worsenings,
    decide,
    judge_mean,
    judge_resampled,
    not_judged,
    sample_columns,
)
from .engine.results import SampleResult
from .links import NO_LINK, Links, is_number, links_of
from .marker import KolenaSpec
from .session import KolenaSession
from .words import IMPROVED, NEW, REGRESSED
from .workflow import Evaluator

CaseKey = tuple[str | None, str | None]  # (test case name or None for the suite item, configuration name)


@dataclasses.dataclass
class RunJudgement:
    """The regression outcome of each item of a model's run: "regressed", "improved", "new" or None."""

    source: str  # what the baseline was: "model 'x' in run 2026... (tag main)"; for an unjudged run, why
    outcomes: dict[CaseKey, tuple[str | None, list[Comparison]]]
    default: tuple[str | None, list[Comparison]] = (None, [])  # the outcome of an item not in `outcomes`
    worsened: dict[CaseKey, Worsened] = dataclasses.field(default_factory=dict)  # of each regressed test case

    def of(self, test_case: str | None, configuration: str | None) -> tuple[str | None, list[Comparison], str]:
        outcome, comparisons = self.outcomes.get((test_case, configuration), self.default)
        return outcome, comparisons, self.source


@dataclasses.dataclass
class Worsened:
    """The samples of a regressed test case that got worse the most, by the sample metric behind its first regressed
    check: each sample's result, its baseline and candidate values and the worsening (positive: worse)."""

    metric: str  # the sample metric
    lower_is_better: bool
    samples: list[tuple[Any, float, float, float]]  # (SampleResult, baseline, candidate, worsening), worst first


KEPT_WORSENED = 8  # samples that got worse kept per regressed test case at least (the HTML gallery's thumbnails)
IDENTICAL = "identical to the baseline"  # every metric of the model run equals its baseline's
UNJUDGED = "unjudged"  # the outcome of a model run that its baseline holds nothing of


def judge_run(
    spec: KolenaSpec, run: Any, entries: dict[str | None, Any], source: str, judging: Judging
) -> RunJudgement:
    """`entries`: the baseline entry of each configuration (None where the baseline has none). The checks of the
    model run are one family at level alpha, whatever else the session selected or ran; a run identical to its
    baseline (`_identical`: the same samples, each with the same sample metrics, and the same case metrics) is not
    judged: it could not regress."""
    outcomes: dict[CaseKey, tuple[str | None, list[Comparison]]] = {}
    for configuration_name, entry in entries.items():
        outcomes[(None, configuration_name)] = (NEW if entry is None else None, [])
    checks: list[tuple[CaseKey, Comparison]] = []
    for case in run.cases:
        entry = entries.get(case.configuration_name)
        key = (case.name, case.configuration_name)
        if entry is None or case.name not in entry.case_metrics:
            outcomes[key] = (NEW, [])
        elif case.metrics is not None and spec.regression.for_case(case.name):
            links = links_of(spec, run, case.configuration_name)
            checks += [(key, c) for c in _case_checks(spec, case, entry, judging, links)]
    if checks and all(c.candidate == c.baseline for _, c in checks) and _identical(run, entries):
        decided = [dataclasses.replace(c, test=None, reason=IDENTICAL) for _, c in checks]
    else:
        decided = decide([c for _, c in checks], judging)
    by_case: dict[CaseKey, list[Comparison]] = {}
    for (key, _), comparison in zip(checks, decided):
        by_case.setdefault(key, []).append(comparison)
    worsened = {}
    for key, comparisons in by_case.items():
        verdicts = {c.verdict for c in comparisons}
        outcome = REGRESSED if REGRESSED in verdicts else IMPROVED if IMPROVED in verdicts else None
        outcomes[key] = (outcome, comparisons)
        if outcome == REGRESSED:
            case = next(c for c in run.cases if (c.name, c.configuration_name) == key)
            count = max(spec.worst, KEPT_WORSENED)
            found = _worsened(case, entries[key[1]], comparisons, links_of(spec, run, key[1]), count)
            if found is not None:
                worsened[key] = found
    return RunJudgement(source, outcomes, worsened=worsened)


def _worsened(case: Any, entry: Any, comparisons: list[Comparison], links: Links, count: int) -> Worsened | None:
    """The `count` samples of the test case that got worse the most against the baseline (paired by sample id), by
    the sample metric behind its first regressed check whose sample metric is known; None without one."""
    pairs = None
    for comparison in (c for c in comparisons if c.verdict == REGRESSED):
        metric = links.get(comparison.metric, NO_LINK).sample_metric
        if metric is None:
            continue
        pairs = _pairs(case, entry) if pairs is None else pairs
        candidate = sample_columns([s.metrics for s, _ in pairs], [metric]).get(metric)
        baseline = sample_columns([b for _, b in pairs], [metric]).get(metric)
        if candidate is None or baseline is None:
            continue
        worsening = (candidate - baseline) * (1.0 if comparison.lower_is_better else -1.0)
        order = [k for k in np.argsort(-worsening, kind="stable") if worsening[k] > 0][:count]
        samples = [(pairs[k][0], float(baseline[k]), float(candidate[k]), float(worsening[k])) for k in order]
        return Worsened(metric, comparison.lower_is_better, samples)
    return None


def _identical(run: Any, entries: dict[str | None, Any]) -> bool:
    """Whether every configuration of the run has exactly the baseline's samples, each with the sample metrics the
    baseline stored (compared as stored: JSON; a NaN is never equal, so such a run is judged). Equal case metrics
    alone are not enough: a grown suite can hide a worse model behind an unchanged mean."""
    from .workflow._dataobject import json_default

    for configuration, entry in entries.items():
        if entry is None:
            return False
        samples = {s.sample_id: s for c in run.cases if c.configuration_name == configuration for s in c.samples}
        if samples.keys() != entry.samples.keys():
            return False
        for sample_id, sample in samples.items():
            try:
                stored = json.loads(json.dumps(sample.metrics, default=json_default))
            except TypeError:  # a value the store keeps as its text: judge the run
                return False
            if stored != entry.samples[sample_id]:
                return False
    return True


def regression(session: KolenaSession, spec: KolenaSpec, param: Any, result: Any) -> tuple[str | None, list, str]:
    """The regression outcome of an item (outcome, comparisons, baseline source), judged once per model run."""
    baseline = session.baseline()
    if baseline is None:
        return None, [], ""
    run = result.run
    key = (param.test, id(run))
    if key not in session.judgements:
        from .checks.regression import Judging

        model, entries = baseline_entries(spec, baseline, param.test, param.suite, run.model.name)
        source = f"model '{model}' in {baseline.source}" if model != run.model.name else baseline.source
        settings = session.settings  # (a run that writes the baseline files records what they did not hold)
        unjudged = settings.unjudged == "fail" and not settings.update_baseline and spec.regression.metrics()
        if unjudged and not any(entries.values()):
            session.judgements[key] = unjudged_run(baseline, param.test, param.suite, model, spec.configuration_names)
        else:
            judging = Judging(settings.confidence, settings.resamples, settings.min_samples, settings.error_control)
            with no_cyclic_gc():
                session.judgements[key] = judge_run(spec, run, entries, source, judging)
    return session.judgements[key].of(param.test_case, param.configuration)


def worsened(session: KolenaSession, param: Any, result: Any) -> Worsened | None:
    """The samples of an item's test case that got worse the most, when it regressed (after `regression`)."""
    judgement = session.judgements.get((param.test, id(result.run)))
    return None if judgement is None else judgement.worsened.get((param.test_case, param.configuration))


def worsened_inferences(session: KolenaSession, spec: KolenaSpec, test: str, run: Any) -> dict[str, Any]:
    """The baseline's inferences of the samples that got worse the most in the model run's regressed test cases
    (sample id -> the inference as stored): what a report draws beside the candidate's."""
    judgement = session.judgements.get((test, id(run)))
    if judgement is None or not judgement.worsened:
        return {}
    _, entries = baseline_entries(spec, session.baseline(), test, run.test_suite.name, run.model.name)
    found = {}
    for (_, configuration), worse in judgement.worsened.items():
        entry = entries.get(configuration)
        for sample, *_ in worse.samples:
            if entry is not None and sample.sample_id in entry.inferences:
                found[sample.sample_id] = _decoded(entry.inferences[sample.sample_id])
    return found


def baseline_entries(
    spec: KolenaSpec, baseline: Any, test: str, suite: str, model: str
) -> tuple[str, dict[str | None, Any]]:
    """The model a model run is compared with (itself, or the one `baseline_models=` names) and its baseline entry
    per configuration (None where the baseline has none; every one None without a baseline)."""
    compared = spec.baseline_models.get(model, model)
    if baseline is None:
        return compared, {name: None for name in spec.configuration_names}
    return compared, {name: baseline.entry(test, suite, compared, name) for name in spec.configuration_names}


def baseline_values(spec: KolenaSpec, run: Any, baseline: Any, test: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Per configuration, the baseline's values of the sample metrics behind the run's case metrics (their links),
    for the run's samples the baseline holds: what a report shows beside the candidate's, with the change."""
    _, entries = baseline_entries(spec, baseline, test, run.test_suite.name, run.model.name)
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for configuration, entry in entries.items():
        names = sorted(
            {link.sample_metric for link in links_of(spec, run, configuration).values() if link.sample_metric}
        )
        if entry is None or not names:
            continue
        ids = dict.fromkeys(s.sample_id for c in run.cases if c.configuration_name == configuration for s in c.samples)
        values = {i: {n: entry.samples[i].get(n) for n in names} for i in ids if i in entry.samples}
        if values:
            found[configuration or ""] = values
    return found


def unjudged_run(baseline: Any, test: str, suite: str, model: str, configurations: list[str | None]) -> RunJudgement:
    """The judgement of a model run that the baseline holds nothing of: every item fails, saying what it holds."""
    at = [c for c in configurations if c]
    where = f" at {', '.join(at)}" if at else ""
    text = (
        f"nothing to compare: the baseline {baseline.source} holds no run of model '{model}' in {test} on "
        f"{suite}{where}; it holds {holdings(baseline)}. A renamed test function, model or configuration? Store a "
        "baseline of it (--kolena-tag, or --kolena-update-baseline for baseline files), compare it with another "
        "model's run (baseline_models=), or accept model runs new to the baseline (kolena_unjudged = pass)"
    )
    return RunJudgement(text, {}, default=(UNJUDGED, []))


def holdings(baseline: Any) -> str:
    """What a baseline holds, by test function: its models, suites and configurations."""
    tests: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for test, suite, model, configuration in baseline.entries:
        models, suites, configurations = tests.setdefault(test or "(any test function)", (set(), set(), set()))
        models.add(model)
        suites.add(suite)
        configurations.add(configuration)
    if not tests:
        return "nothing"
    parts = []
    for test, (models, suites, configurations) in sorted(tests.items()):
        at = f"; configurations {', '.join(sorted(c for c in configurations if c))}" if any(configurations) else ""
        parts.append(f"{test} (models {', '.join(sorted(models))}; suites {', '.join(sorted(suites))}{at})")
    return "; ".join(parts)


def _pairs(case: Any, entry: Any) -> list[tuple[Any, dict]]:
    """The samples of the test case with their baseline sample metrics, by sample id; a baseline stored before ids
    carried a digest of the sample's other fields is paired by locator where that is unambiguous."""
    pairs = [(s, entry.samples[s.sample_id]) for s in case.samples if s.sample_id in entry.samples]
    if pairs or not entry.samples:
        return pairs
    heads = [s.sample_id.split("#", 1)[0] for s in case.samples]
    unique = {h for h, count in Counter(heads).items() if count == 1}
    return [(s, entry.samples[h]) for s, h in zip(case.samples, heads) if h in unique and h in entry.samples]


def _case_checks(spec: KolenaSpec, case: Any, entry: Any, judging: Judging, links: Links) -> list[Comparison]:
    pairs = _pairs(case, entry)
    allowances = spec.regression.for_case(case.name)
    comparisons, resampled = [], []
    for allowance in allowances:
        metric, lower = allowance.metric, spec.lower_is_better[allowance.metric]
        baseline_value = entry.case_metrics[case.name].get(metric)
        candidate_value = getattr(case.metrics, metric, None)
        if not is_number(baseline_value) or not is_number(candidate_value):
            reason = f"no value of {metric} in the {'baseline' if not is_number(baseline_value) else 'candidate'}"
            comparisons.append(
                not_judged(metric, allowance, lower, _float(baseline_value), _float(candidate_value), reason)
            )
            continue
        values = (metric, allowance, lower, float(baseline_value), float(candidate_value))
        if not pairs:
            comparisons.append(not_judged(*values, "no sample of this test case is in the baseline"))
            continue
        column = links.get(metric, NO_LINK).trusted
        if column is not None:
            candidate = sample_columns([s.metrics for s, _ in pairs], [column]).get(column)
            baseline = sample_columns([b for _, b in pairs], [column]).get(column)
            if candidate is None or baseline is None:
                comparisons.append(not_judged(*values, f"the sample metric {column} is missing on every paired sample"))
            else:
                comparisons.append(judge_mean(*values, baseline, candidate, judging))
        else:
            comparisons.append(None)
            resampled.append((len(comparisons) - 1, values))
    if resampled:
        recompute, reason = _recompute(spec, case, entry, pairs)
        if recompute is None:
            for index, values in resampled:
                comparisons[index] = not_judged(*values, reason)
        else:
            on_pairs = recompute(np.arange(len(pairs)))  # the observed change, on the paired samples only
            metrics = {v[0]: Resampled(v[2], *on_pairs[v[0]], v[1].limit(v[3])) for _, v in resampled}
            worsenings = bootstrap_worsenings(recompute, len(pairs), metrics, judging)
            for index, values in resampled:
                observed = metrics[values[0]].observed
                comparisons[index] = judge_resampled(*values, worsenings[values[0]], len(pairs), judging, observed)
    return comparisons


def _recompute(spec: KolenaSpec, case: Any, entry: Any, pairs: list[tuple[Any, dict]]) -> tuple[Any, str]:
    """The evaluator's own compute_test_case_metrics on resampled pairs, for the baseline from its own
    inferences and sample metrics, and for the candidate; or None and why it cannot be done."""
    if not isinstance(spec.evaluator, Evaluator):
        return None, (
            "not a mean of a sample metric and the evaluator is a function: declare "
            "field(metadata={'mean_of': '<sample metric>'}) on the metrics class if it is one"
        )
    missing = [s.sample_id for s, _ in pairs if s.sample_id not in entry.inferences]
    if missing:
        return None, f"the baseline holds no inference of {len(missing)} paired samples (stored by an older version?)"
    decode = spec.workflow.inference_type.from_dict
    metrics_type = type(case.samples[0].metrics)
    cand_rows = SampleResult.rows_of([s for s, _ in pairs])
    base_rows = [
        (ts, gt, decode(_decoded(entry.inferences[s.sample_id]))) for (ts, gt, _), (s, _) in zip(cand_rows, pairs)
    ]
    base_metrics = [metrics_type.from_dict(b) for _, b in pairs]
    cand_metrics = [s.metrics for s, _ in pairs]
    metrics = [a.metric for a in spec.regression.for_case(case.name)]
    compute = spec.evaluator.compute_test_case_metrics

    def recompute(indices: np.ndarray) -> dict[str, tuple[float, float]]:
        before = compute(
            case.test_case, [base_rows[i] for i in indices], [base_metrics[i] for i in indices], case.configuration
        )
        after = compute(
            case.test_case, [cand_rows[i] for i in indices], [cand_metrics[i] for i in indices], case.configuration
        )
        return {m: (_float(getattr(before, m, None)), _float(getattr(after, m, None))) for m in metrics}

    return recompute, ""


def _decoded(inference: Any) -> dict:
    """A stored inference: JSON text from the run store (decoded only when a check needs it), or a dict."""
    return json.loads(inference) if isinstance(inference, str) else inference


def _float(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan
