"""Slice discovery over a model's run (`--kolena-discover`): for each sample metric behind a metric with a rule, the
metadata slices where the model is worse than on the rest of the suite and, against a baseline, worse than the
baseline on the same samples. What each process finds is stored with the run; the controller judges all of it at
once (`report/slices.py`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .checks import discovery
from .checks.regression import sample_columns
from .data.slices import groupings
from .data.suite import metadata_table
from .links import links_of
from .marker import KolenaSpec
from .settings import Settings
from .workflow._identity import LazyIndex, SampleIndex


def discover_into(record: Any, test: str, spec: KolenaSpec, run: Any, baseline: Any, settings: Settings) -> None:
    """Slice discovery on a model's run (against its baseline when there is one), into the run's record; a search
    that raises is said in the record (the run is stored all the same, and the summary says why)."""
    from ._gc import no_cyclic_gc
    from .checks.regression import Judging
    from .judge import baseline_entries
    from .report.slices import LEVEL

    suite, model = run.test_suite.name, run.model.name
    _, entries = baseline_entries(spec, baseline, test, suite, model)
    values: dict[str, Any] = {"alpha": Judging(settings.confidence).alpha, "searches": []}
    try:
        with no_cyclic_gc():
            values["searches"] = discover_run(spec, run, entries, settings)
    except Exception as error:
        values["error"] = f"model '{model}' on {suite}: {type(error).__name__}: {error}"
    record.add(LEVEL, test, suite, model, values)


def discover_run(spec: KolenaSpec, run: Any, entries: dict[str | None, Any], settings: Settings) -> list[dict]:
    """The searches of one model's run, one dict per configuration, sample metric and kind: what was tried and the
    candidates confirmed (before the run's false discovery rate control). `entries`: the baseline entry of each
    configuration (None: no baseline)."""
    suite = run.test_suite
    index = SampleIndex.of(suite)
    frame, url, columns = _table(suite, index, settings)
    singles, skipped = groupings(frame, url, columns, settings.discover_bins)
    halves = discovery.proposal_halves(index.ids)
    position = {sample_id: i for i, sample_id in enumerate(index.ids)}
    excluded = _test_case_prints(suite, index)
    search_settings = discovery.Settings(min_size=settings.discover_min_size, confidence=settings.confidence)
    searches: list[dict] = []
    seen: list[np.ndarray] = []  # score columns searched already (a sample metric shared by configurations)
    for configuration, samples in _samples_by_configuration(run).items():
        for metric, column, lower in _metrics(spec, run, configuration):
            values = _column(samples, column, position, len(index))
            if values is None or any(np.array_equal(values, s, equal_nan=True) for s in seen):
                continue
            seen.append(values)
            sign = 1.0 if lower else -1.0
            place = {
                "configuration": configuration or "",
                "metric": column,
                "case_metric": metric,
                "lower_is_better": lower,
                "skipped_columns": skipped,
            }
            binary = _binary(values)
            bad = (values if lower else 1 - values) if binary else sign * values  # a 0/1 metric: 1 the bad outcome
            weak = discovery.search(singles, bad, halves, discovery.WEAK, search_settings, binary, excluded)
            searches.append(place | _search_dict(weak, sign, discovery.WEAK, _spread(values), binary, _count(values)))
            entry = entries.get(configuration)
            if entry is None:
                continue
            base = _baseline_column(entry, index.ids, column)
            if base is None:
                continue
            binary = binary and _binary(base)
            worsening = sign * (values - base)
            worse = discovery.search(singles, worsening, halves, discovery.REGRESSED, search_settings, binary, excluded)
            searches.append(
                place | _search_dict(worse, sign, discovery.REGRESSED, _spread(worsening), binary, _count(worsening))
            )
    return searches


def _table(suite: Any, index: SampleIndex, settings: Settings) -> tuple[pd.DataFrame, str, list[str]]:
    """The suite's metadata table and the columns to search (a suite built in Python: its samples' metadata)."""
    table = metadata_table(suite)
    if table is not None:
        frame, url, columns = table.frame, table.url, table.metadata_columns
    else:
        frame = pd.DataFrame.from_records([dict(getattr(s, "metadata", None) or {}) for s in index.samples])
        url, columns = f"suite {suite.name}", list(frame.columns)
    return frame, url, list(settings.discover_columns) or columns


def _test_case_prints(suite: Any, index: SampleIndex) -> np.ndarray:
    """The fingerprints of the suite's test cases, kept on the suite for its other model runs (while its sample
    index stands)."""
    cached = getattr(suite, "_discovery_prints", None)
    if cached is not None and cached[0] is index:
        return cached[1]
    prints = discovery.fingerprints([_members(case, index) for case in suite.test_cases], len(index))
    suite._discovery_prints = (index, prints)
    return prints


def _members(case: Any, index: SampleIndex) -> np.ndarray:
    """The positions of a test case's samples in the suite: a loaded suite's rows, else by object first."""
    if isinstance(index, LazyIndex) and case._pairs is None and case._lazy is index.pairs:
        return np.unique(case._rows)
    known = index._by_object
    return np.unique([known.get(id(ts)) if id(ts) in known else index.position(ts) for ts, _ in case._samples])


def _samples_by_configuration(run: Any) -> dict[str | None, dict[str, Any]]:
    """Each configuration's sample results by sample id, over all test cases (a sample once)."""
    out: dict[str | None, dict[str, Any]] = {}
    for case in run.cases:
        known = out.setdefault(case.configuration_name, {})
        for sample in case.samples:
            if sample.metrics is not None and sample.sample_id not in known:
                known[sample.sample_id] = sample
    return out


def _metrics(spec: KolenaSpec, run: Any, configuration: str | None) -> list[tuple[str, str, bool]]:
    """(case metric, the sample metric behind it, lower is better) of the case metrics with both (`links.py`), each
    sample metric once."""
    found: list[tuple[str, str, bool]] = []
    for metric, link in links_of(spec, run, configuration).items():
        column, lower = link.sample_metric, link.lower_is_better
        if column is not None and lower is not None and column not in {c for _, c, _ in found}:
            found.append((metric, column, lower))
    return found


def _column(samples: dict[str, Any], column: str, position: dict[str, int], size: int) -> np.ndarray | None:
    """The sample metric per sample of the suite, in the suite's order (NaN where missing)."""
    ids = [i for i in samples if i in position]
    values = sample_columns([samples[i].metrics for i in ids], [column]).get(column)
    if values is None:
        return None
    out = np.full(size, np.nan)
    out[[position[i] for i in ids]] = values
    return out


def _baseline_column(entry: Any, ids: list[str], column: str) -> np.ndarray | None:
    """The baseline's sample metric per sample of the suite (NaN where the baseline has none)."""
    values = [_float((entry.samples.get(i) or {}).get(column)) for i in ids]
    out = np.asarray(values, dtype=float)
    return None if np.isnan(out).all() else out


def _float(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan


def _binary(values: np.ndarray) -> bool:
    present = values[~np.isnan(values)]
    return bool(np.isin(present, (0.0, 1.0)).all())


def _spread(scores: np.ndarray) -> float | None:
    """The standard deviation of a search's scores over the suite: effects divided by it compare across metrics."""
    present = scores[~np.isnan(scores)]
    return float(present.std()) if len(present) > 1 and present.std() > 0 else None


def _count(scores: np.ndarray) -> int:
    return int((~np.isnan(scores)).sum())


def _search_dict(
    search: discovery.Search, sign: float, kind: str, spread: float | None, binary: bool, samples: int
) -> dict:
    """A search as plain values for the run store; means back in the metric's units."""

    def unit(mean: float) -> float:  # a weak search's mean in the metric's units
        return (mean if sign > 0 else 1 - mean) if binary else sign * mean

    candidates = []
    for c in search.candidates:
        means = (unit(c.slice_mean), unit(c.other_mean)) if c.kind == discovery.WEAK else (c.slice_mean, 0.0)
        candidates.append(
            {
                "label": c.label,
                "stratify": c.stratify,
                "columns": list(c.columns),
                "size": c.size,
                "confirm_size": c.confirm_size,
                "effect": _number(c.effect),
                "low": _number(c.low),
                "high": _number(c.high),
                "p_value": _number(c.p_value),
                "method": c.method,
                "slice_mean": _number(means[0]),
                "other_mean": _number(means[1]),
                "versus": c.versus,
                "outside_p": _number(c.outside_p),
                "holds": list(c.holds),
            }
        )
    return {
        "kind": kind,
        "tried": search.tried,
        "screened": search.screened,
        "spread": spread,
        "samples": samples,
        "candidates": candidates,
    }


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
