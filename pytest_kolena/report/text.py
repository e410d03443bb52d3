"""The text of a failing item: each breached threshold, and the samples that pulled the metric the wrong way."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from typing import Any

from .. import numbers
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


METADATA_WIDTH = 120  # characters of a sample's metadata shown beside it, at most


def described(sample: Any, suite: Any = None) -> str:
    """A result's sample as a text names it beside a figure: its label, then its metadata (the test sample's
    `metadata`, else the suite's columns that feed no field), `(mirrored True, roll_deg -12.5, ...)`."""
    label = sample_label(sample.test_sample)
    metadata = sample_metadata(sample, suite)
    if not metadata:
        return label
    text = ", ".join(f"{key} {_short(value)}" for key, value in metadata.items())
    return f"{label} ({text if len(text) <= METADATA_WIDTH else text[: METADATA_WIDTH - 1] + '…'})"


def sample_metadata(sample: Any, suite: Any = None) -> dict[str, Any]:
    """A result's metadata: its test sample's `metadata` dict, else its row of the metadata table the suite was
    loaded from (the columns that feed no field); empty without either."""
    metadata = getattr(sample.test_sample, "metadata", None)
    if isinstance(metadata, dict) and metadata:
        return metadata
    from ..data.suite import metadata_table

    table = metadata_table(suite) if suite is not None else None
    row = getattr(sample, "row", -1)
    if table is None or row < 0 or not table.metadata_columns:
        return {}
    return table.frame.iloc[row][table.metadata_columns].to_dict()


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def worst_samples(
    samples: list[Any], breach: Breach, count: int, name: str | None, suite: Any = None
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
    return name, [(v, described(s, suite)) for v, s in (nans + ordered)[:count]]  # (the shown ones made)


def worst_of(
    samples: list[Any], name: str | None, lower_is_better: bool, count: int = 5, suite: Any = None
) -> dict[str, Any]:
    """The `count` samples that pulled a case metric the wrong way, by `name`, the sample metric behind it:
    `{"metric": name, "samples": [[value, label]]}`; empty when no sample metric is known to stand behind it
    (ranking another one could list the best samples as the worst)."""
    if name is None:
        return {}
    direction = Breach(Threshold(name, "<=" if lower_is_better else ">=", 0.0), math.nan)
    ranked = worst_samples(samples, direction, count, name, suite)
    return {"metric": ranked[0], "samples": [list(pair) for pair in ranked[1]]} if ranked else {}


def failure_text(
    title: str,
    breaches: list[Breach],
    n_rules: int,
    samples: list[Any],
    worst: int,
    behind: dict[str, str | None],
    suite: Any = None,
) -> str:
    """Each breached threshold, then the samples that pulled the first breached metric the wrong way, by the sample
    metric behind it (`behind`: case metric -> sample metric; none where that is not known)."""
    lines = [f"{title}: {len(breaches)} of {n_rules} thresholds breached"]
    shown_worst = False
    for breach in breaches:
        lines.append(f"  {breach}")
        source = behind.get(breach.threshold.metric)
        ranked = None if shown_worst else worst_samples(samples, breach, worst, source, suite)
        if ranked:
            name, rows = ranked
            lines.append(f"  worst samples by {name}:")
            lines.extend(f"    {value:>10.6g}  {label}" for value, label in rows)
            shown_worst = True
    return "\n".join(lines)


def regression_text(title: str, source: str, comparisons: list[Any], worsened: dict[str, Any] | None = None) -> str:
    """The text of a regression: each compared metric with baseline, candidate, delta and its interval; then the
    samples that got worse the most (`worsened`: see `worsened_rows`)."""
    lines = [f"{title}: regressed against {source}"] + [f"  {c}" for c in comparisons]
    if worsened and worsened.get("samples"):
        lines.append(f"  samples that got worse the most, by {worsened['metric']} (change: baseline -> candidate):")
        lines.extend(
            f"    {numbers.signed(change)}: {_short(before)} -> {_short(after)}  {label}"
            for change, label, before, after in worsened["samples"]
        )
    return "\n".join(lines)


def worsened_rows(worsened: Any, suite: Any = None, count: int = 5) -> dict[str, Any]:
    """The samples of a regressed test case that got worse the most (judge.Worsened) as an item row keeps them:
    `{"metric": name, "by": "change", "samples": [[change, label, baseline, candidate]]}`, the change signed as the
    metric moved (candidate - baseline)."""
    sign = 1.0 if worsened.lower_is_better else -1.0
    samples = [
        [sign * worse + 0.0, described(s, suite), before, after] for s, before, after, worse in worsened.samples[:count]
    ]
    return {"metric": worsened.metric, "by": "change", "samples": samples}


def rule_of(rules: dict[str, str], metric: str) -> str:
    """The rule an item judges a metric by (`rules`: metric -> `mean_nme <= 0.08`), without the metric's name:
    `<= 0.08`; "" where it has none."""
    rule = rules.get(metric, "")
    return rule[len(metric) :].strip() if rule.startswith(metric) else rule


def column_rule(rule_sets: list[dict[str, str]], metric: str) -> str:
    """The rule most items of a table judge a metric by, for its header (`<= 0.08`); "" where none has one."""
    counts = Counter(rule for rules in rule_sets if (rule := rule_of(rules, metric)))
    return counts.most_common(1)[0][0] if counts else ""


def rule_beside(rules: dict[str, str], metric: str, header: str) -> str:
    """A rule shown beside a value where the item's differs from the header's (an override): ` (<= 0.5)`."""
    rule = rule_of(rules, metric)
    return f" ({rule})" if rule and rule != header else ""
