"""The text of a failing item: each breached threshold, and the samples that pulled the metric the wrong way."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from ..checks import Breach
from ..checks.thresholds import Threshold


def _number_fields(metrics: Any) -> list[str]:
    if metrics is None or not dataclasses.is_dataclass(metrics):
        return []
    return [
        f.name
        for f in dataclasses.fields(metrics)
        if isinstance(getattr(metrics, f.name), (int, float, bool)) or getattr(metrics, f.name) is None
    ]


def sample_label(test_sample: Any) -> str:
    """How a text names a sample: its locator, else the start of its repr."""
    locator = getattr(test_sample, "locator", None)
    return str(locator) if locator is not None else repr(test_sample)[:100]


def worst_samples(
    samples: list[Any], breach: Breach, count: int, name: str | None
) -> tuple[str, list[tuple[float, str]]] | None:
    """The `count` samples with the worst value of sample metric `name`, in the direction of the rule (NaN first);
    None without such a sample metric."""
    if not samples or count <= 0 or name is None:
        return None
    if name not in _number_fields(next((s.metrics for s in samples if s.metrics is not None), None)):
        return None
    values = [(getattr(s.metrics, name), s) for s in samples if s.metrics is not None]
    values = [(float(v), s) for v, s in values if isinstance(v, (int, float))]
    nan_last = [(v, s) for v, s in values if not math.isnan(v)]
    nans = [(v, s) for v, s in values if math.isnan(v)]
    ordered = sorted(nan_last, key=lambda pair: pair[0], reverse=breach.threshold.lower_is_better)
    return name, [(v, sample_label(s.test_sample)) for v, s in (nans + ordered)[:count]]  # (the shown ones made)


def worst_of(samples: list[Any], name: str | None, lower_is_better: bool, count: int = 5) -> dict[str, Any]:
    """The `count` samples that pulled a case metric the wrong way, by `name`, the sample metric behind it:
    `{"metric": name, "samples": [[value, label]]}`; empty when no sample metric is known to stand behind it
    (ranking another one could list the best samples as the worst)."""
    if name is None:
        return {}
    direction = Breach(Threshold(name, "<=" if lower_is_better else ">=", 0.0), math.nan)
    ranked = worst_samples(samples, direction, count, name)
    return {"metric": ranked[0], "samples": [list(pair) for pair in ranked[1]]} if ranked else {}


def failure_text(
    title: str, breaches: list[Breach], n_rules: int, samples: list[Any], worst: int, behind: dict[str, str | None]
) -> str:
    """Each breached threshold, then the samples that pulled the first breached metric the wrong way, by the sample
    metric behind it (`behind`: case metric -> sample metric; none where that is not known)."""
    lines = [f"{title}: {len(breaches)} of {n_rules} thresholds breached"]
    shown_worst = False
    for breach in breaches:
        lines.append(f"  {breach}")
        source = behind.get(breach.threshold.metric)
        ranked = None if shown_worst else worst_samples(samples, breach, worst, source)
        if ranked:
            name, rows = ranked
            lines.append(f"  worst samples by {name}:")
            lines.extend(f"    {value:>10.6g}  {label}" for value, label in rows)
            shown_worst = True
    return "\n".join(lines)


def regression_text(title: str, source: str, comparisons: list[Any]) -> str:
    """The text of a regression: each compared metric with baseline, candidate, delta and its interval."""
    return "\n".join([f"{title}: regressed against {source}"] + [f"  {c}" for c in comparisons])
