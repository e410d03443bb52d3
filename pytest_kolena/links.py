"""Per model run and configuration: the sample metric behind each case metric, and which direction is better.

Decided once, when a model run is made, kept on the run (`RunResults.links`), stored with it (`links` rows), and
read by the regression checks, the failure texts, slice discovery and the reports: they all name the same sample
metric and the same direction for one case metric.

- The sample metric behind a case metric is the one whose plain mean the case metric is: declared on the metrics
  class field (`field(metadata={"mean_of": "normalized_mean_error"})`, evidence "declared"), or found: the
  non-constant numeric sample metric (or identical ones) whose mean over the samples of every test case equals the
  case metric ("matched"), and, for an Evaluator class, whose mean also equals the metric the evaluator itself
  computes on two random subsets of the largest test case ("confirmed": a coincidence on the full test cases does
  not survive that). A regression check trusts a declared or confirmed link only; texts and reports any.
- Which direction is better: the marker's `better=`, else the metrics class field's metadata
  (`field(metadata={"better": "lower"})`), else the direction of a threshold on the metric (the default rules
  first, then the overrides).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .checks.regression import sample_columns
from .engine.results import SampleResult
from .marker import KolenaSpec, directions
from .workflow import Evaluator
from .workflow._dataobject import fields_of

LEVEL = "links"  # the store level of a model run's links
SUBSET = 2_000  # samples of each subset on which the evaluator confirms a link, at most


@dataclasses.dataclass(frozen=True)
class Link:
    """What stands behind one case metric: the sample metric it is the mean of (None: not a mean, or not known),
    and whether a lower value is better (None: no direction known)."""

    sample_metric: str | None
    lower_is_better: bool | None
    evidence: str = ""  # "declared", "confirmed" or "matched"; "" without a sample metric

    @property
    def trusted(self) -> str | None:
        """The sample metric a regression check may judge the case metric on: declared or confirmed only."""
        return self.sample_metric if self.evidence in ("declared", "confirmed") else None

    def to_dict(self) -> dict[str, Any]:
        better = None if self.lower_is_better is None else ("lower" if self.lower_is_better else "higher")
        return {"sample_metric": self.sample_metric, "better": better, "evidence": self.evidence}


Links = dict[str, Link]  # case metric -> its link, for one configuration
NO_LINK = Link(None, None)


def links_of(spec: KolenaSpec, run: Any, configuration: str | None) -> Links:
    """The links of one configuration of a model run."""
    return _run_links(spec, run).get(configuration, {})


def _run_links(spec: KolenaSpec, run: Any) -> dict[str | None, Links]:
    """The links of every configuration of a model run: decided on first use, then kept on the run."""
    if run.links is None:
        run.links = decide_links(spec, run)
    return run.links


def decide_links(spec: KolenaSpec, run: Any) -> dict[str | None, Links]:
    """The links of every configuration of a model run."""
    return {
        name: _configuration_links(spec, run, name) for name in dict.fromkeys(c.configuration_name for c in run.cases)
    }


def _configuration_links(spec: KolenaSpec, run: Any, configuration: str | None) -> Links:
    cases = [c for c in run.cases if c.configuration_name == configuration and c.metrics is not None]
    if not cases or not dataclasses.is_dataclass(cases[0].metrics):  # (metrics of another kind: nothing known)
        return {}
    metrics_type = type(cases[0].metrics)
    better = directions(spec.better, metrics_type, spec.rules) | dict(spec.lower_is_better)
    declared = {f.name: f.metadata.get("mean_of") for f in fields_of(metrics_type)}
    numeric = [
        f.name for f in fields_of(metrics_type) if any(is_number(getattr(c.metrics, f.name, None)) for c in cases)
    ]
    found = _means(spec, cases, [m for m in numeric if declared.get(m) is None])
    links = {}
    for metric in dict.fromkeys([*numeric, *better, *(m for m, d in declared.items() if d)]):
        if declared.get(metric):
            links[metric] = Link(declared[metric], better.get(metric), "declared")
        elif metric in found:
            links[metric] = Link(*found[metric][:1], better.get(metric), found[metric][1])
        else:
            links[metric] = Link(None, better.get(metric))
    return links


def _means(spec: KolenaSpec, cases: list[Any], metrics: list[str]) -> dict[str, tuple[str, str]]:
    """The sample metric each case metric is the plain mean of, found on the samples of every test case, with its
    evidence ("confirmed" by the evaluator on subsets, or "matched" on the test cases only)."""
    if not metrics:
        return {}
    position: dict[str, int] = {}
    samples = []
    for case in cases:
        for sample in case.samples:
            if sample.metrics is not None and sample.sample_id not in position:
                position[sample.sample_id] = len(samples)
                samples.append(sample)
    columns = sample_columns([s.metrics for s in samples])
    columns = {n: c for n, c in columns.items() if np.nanmin(c, initial=np.inf) != np.nanmax(c, initial=-np.inf)}
    members = [
        np.fromiter((position[s.sample_id] for s in c.samples if s.metrics is not None), dtype=np.int64) for c in cases
    ]
    candidates = {metric: set(columns) for metric in metrics}
    for case, rows in zip(cases, members):
        if len(rows) == 0:
            continue
        for metric, names in candidates.items():
            value = getattr(case.metrics, metric, None)
            if is_number(value):
                candidates[metric] = {n for n in names if _close(_nanmean(columns[n][rows]), float(value))}
    if len(samples) < 4:
        return {}
    confirmed = _confirmed(spec, cases, members, samples, columns, {m: set(n) for m, n in candidates.items()})
    found = {}
    for metric, names in candidates.items():
        kept, evidence = (confirmed[metric], "confirmed") if confirmed[metric] else (names, "matched")
        if len(kept) == 1 or (len(kept) > 1 and _identical([columns[n] for n in sorted(kept)])):
            found[metric] = (sorted(kept)[0], evidence)
    return found


def _confirmed(
    spec: KolenaSpec, cases: list[Any], members: list[np.ndarray], samples: list[Any], columns: dict, candidates: dict
) -> dict[str, set[str]]:
    """The candidates whose mean the evaluator itself reproduces on two random subsets of the largest test case; none
    for an evaluator function, or one that cannot take a subset."""
    if not any(candidates.values()):
        return candidates
    if not isinstance(spec.evaluator, Evaluator):
        return {metric: set() for metric in candidates}
    largest = max(range(len(cases)), key=lambda i: len(members[i]))
    case, rows = cases[largest], members[largest]
    if len(rows) < 4:
        return {metric: set() for metric in candidates}
    rng = np.random.default_rng(len(rows))
    for _ in range(2):
        subset = np.sort(rng.choice(rows, min(len(rows) // 2, SUBSET), replace=False))
        chosen = [samples[i] for i in subset]
        try:
            on_subset = spec.evaluator.compute_test_case_metrics(
                case.test_case,
                SampleResult.rows_of(chosen),
                [s.metrics for s in chosen],
                case.configuration,
            )
        except Exception:
            return {metric: set() for metric in candidates}
        for metric, names in candidates.items():
            value = getattr(on_subset, metric, None)
            kept = {n for n in names if is_number(value) and _close(_nanmean(columns[n][subset]), float(value))}
            candidates[metric] = kept
    return candidates


def add_links(record: Any, test: str, spec: KolenaSpec, run: Any) -> None:
    """The links of a model run into its record: configuration ("" for none) -> case metric -> link as a dict."""
    values = {name or "": {m: link.to_dict() for m, link in by.items()} for name, by in _run_links(spec, run).items()}
    record.add(LEVEL, test, run.test_suite.name, run.model.name, values)


def is_number(value: Any) -> bool:
    """A number a metric can be compared by: not a bool, not NaN."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


def _nanmean(values: np.ndarray) -> float:
    present = values[~np.isnan(values)]
    return float(present.mean()) if len(present) else math.nan


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _identical(arrays: list[np.ndarray]) -> bool:
    """Columns equal sample by sample: whichever is taken, every verdict is the same."""
    return all(np.array_equal(arrays[0], a, equal_nan=True) for a in arrays[1:])
