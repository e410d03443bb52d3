"""The text of a failing item: each breached threshold, and the samples that pulled the metric the wrong way."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from ..checks import Breach


def _number_fields(metrics: Any) -> list[str]:
    if metrics is None or not dataclasses.is_dataclass(metrics):
        return []
    return [
        f.name
        for f in dataclasses.fields(metrics)
        if isinstance(getattr(metrics, f.name), (int, float)) and not isinstance(getattr(metrics, f.name), bool)
    ]


def _label(test_sample: Any) -> str:
    locator = getattr(test_sample, "locator", None)
    return str(locator) if locator is not None else repr(test_sample)[:100]


def worst_samples(samples: list[Any], breach: Breach, count: int) -> tuple[str, list[tuple[float, str]]] | None:
    """The `count` samples with the worst value of the first numeric sample metric, in the direction of the rule."""
    if not samples or count <= 0:
        return None
    fields = _number_fields(samples[0].metrics)
    if not fields:
        return None
    name = fields[0]
    values = [(getattr(s.metrics, name), _label(s.test_sample)) for s in samples if s.metrics is not None]
    nan_last = [(v, label) for v, label in values if not (isinstance(v, float) and math.isnan(v))]
    nans = [(v, label) for v, label in values if isinstance(v, float) and math.isnan(v)]
    ordered = sorted(nan_last, key=lambda pair: pair[0], reverse=breach.threshold.lower_is_better)
    return name, (nans + ordered)[:count]


def failure_text(title: str, breaches: list[Breach], n_rules: int, samples: list[Any], worst: int) -> str:
    lines = [f"{title}: {len(breaches)} of {n_rules} thresholds breached"]
    shown_worst = False
    for breach in breaches:
        lines.append(f"  {breach}")
        ranked = None if shown_worst else worst_samples(samples, breach, worst)
        if ranked:
            name, rows = ranked
            lines.append(f"  worst samples by {name}:")
            lines.extend(f"    {value:>10.6g}  {label}" for value, label in rows)
            shown_worst = True
    return "\n".join(lines)


def regression_text(title: str, source: str, comparisons: list[Any]) -> str:
    """The text of a regression: each compared metric with baseline, candidate, delta and its interval."""
    return "\n".join([f"{title}: regressed against {source}"] + [f"  {c}" for c in comparisons])
