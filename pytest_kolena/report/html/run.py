"""The report document indexed once: its test cases in order, their items and metrics rows, and per suite the
sample metric that ranks its samples worst first."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ...words import ERROR, FAILED, IMPROVED, REGRESSED
from .text import Row

THUMBNAILS = 8  # worst samples per model and test case given a thumbnail


@dataclasses.dataclass(frozen=True)
class _Case:
    """One drill-down: a test case of a test function on a suite (test_case "": the suite item, every sample)."""

    test: str
    suite: str
    test_case: str

    @property
    def group(self) -> tuple[str, str]:
        return self.test, self.suite


def _case_of(row: Row) -> _Case:
    return _Case(row["test"], row["suite"], row.get("test_case") or "")


class _Run:
    """The document with its rows indexed by test case: the test cases in order (per test function and suite, the
    suite's order, then the suite item's), their items, their metrics rows, and each suite's ranking metric."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.items: list[Row] = sorted(document.get("items", []), key=severity)
        self.suites = {(s["test"], s["suite"]): s for s in document.get("suites", [])}
        found: dict[_Case, None] = {}
        for suite in self.suites.values():
            found.update((_Case(suite["test"], suite["suite"], name), None) for name in suite.get("test_cases", {}))
        found.update((_case_of(row), None) for row in [*document.get("cases", []), *self.items])
        groups: dict[tuple[str, str], list[_Case]] = {}
        for case in found:
            groups.setdefault(case.group, []).append(case)
        self.cases = [c for cases in groups.values() for c in sorted(cases, key=lambda c: not c.test_case)]
        self.index = {case: k for k, case in enumerate(self.cases)}
        self.case_items: dict[_Case, list[Row]] = {case: [] for case in self.cases}
        for item in self.items:
            self.case_items[_case_of(item)].append(item)
        self.metrics: dict[_Case, list[Row]] = {case: [] for case in self.cases}  # the cases' and suites' metrics
        for row in [*document.get("cases", []), *document.get("suite_metrics", [])]:
            self.metrics.setdefault(_case_of(row), []).append(row)
        self.ranks = {key: _rank(self, suite) for key, suite in self.suites.items()}
        self.group_models: dict[tuple[str, str], list[str]] = {}
        for row in [*document.get("models", []), *document.get("cases", []), *self.items]:  # in the run's order
            models = self.group_models.setdefault((row["test"], row["suite"]), [])
            models += [] if row["model"] in models else [row["model"]]

    def samples(self, case: _Case) -> dict[str, Any] | None:
        suite = self.suites.get(case.group)
        return None if suite is None else suite.get("samples")

    def members(self, case: _Case) -> list[int] | None:
        """The samples of a test case as indices into its suite's samples; None: every sample."""
        if not case.test_case:
            return None
        return self.suites.get(case.group, {}).get("test_cases", {}).get(case.test_case, [])

    def size(self, case: _Case) -> int | None:
        samples = self.samples(case)
        if samples is None:
            return None
        members = self.members(case)
        return len(samples["ids"]) if members is None else len(members)

    def models(self, group: tuple[str, str]) -> list[str]:
        return self.group_models.get(group, [])

    def first_case(self) -> int | None:
        """The test case opened when the page loads: the first item's (failures come first)."""
        return self.index[_case_of(self.items[0])] if self.items else None


SEVERITY = {REGRESSED: 0, FAILED: 1, ERROR: 2, IMPROVED: 3}  # then every other verdict


def severity(item: Row) -> tuple[int, float, float]:
    """How an item ranks on the page: by verdict (SEVERITY); a regressed one by its largest worsening relative to
    its baseline (the largest first), then by its smallest adjusted p-value; else in the document's order."""
    rank = SEVERITY.get(item.get("verdict", ""), len(SEVERITY))
    regressed = [c for c in item.get("checks", []) if c.get("verdict") == REGRESSED]
    effects = [_relative_worsening(c) for c in regressed]
    p_values = [c["p_adjusted"] for c in regressed if isinstance(c.get("p_adjusted"), (int, float))]
    return rank, -max(effects, default=0.0), min(p_values, default=1.0)


def _relative_worsening(check: Row) -> float:
    delta, baseline = check.get("delta"), check.get("baseline")
    if not isinstance(delta, (int, float)) or not math.isfinite(delta):
        return 0.0
    if isinstance(baseline, (int, float)) and math.isfinite(baseline) and baseline != 0:
        return abs(delta / baseline)
    return abs(delta)


# --- the ranking metric of a suite's samples --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Rank:
    """The sample metric that orders a suite's samples worst first, and how it was chosen."""

    metric: str | None
    worse_high: bool  # a higher value is worse
    behind: str | None  # the case metric it is the mean of, whose direction is known

    def describe(self, images: bool) -> str:
        if self.metric is None:
            return "No numeric sample metric to rank the samples by."
        way = "higher" if self.worse_high else "lower"
        why = f"the sample metric behind {self.behind}" if self.behind else "the first sample metric, direction assumed"
        ranked = f"The {THUMBNAILS} worst samples per model, by {self.metric} ({way} is worse: {why})."
        if not images:
            return ranked + " No test sample of this suite has a locator to a readable image: no thumbnails."
        return ranked + " Only these samples have a thumbnail: ground truth in blue, inference in orange."


def _rank(run: _Run, suite: Row) -> _Rank:
    """The sample metric behind a case metric of known direction (the run's links, of its first model and
    configuration); of several, the one defined on the most samples (accuracy's 0/1 column rather than recall's);
    else the first numeric sample metric, a higher value taken as worse."""
    samples = suite.get("samples")
    if not samples or not samples.get("metrics"):
        return _Rank(None, True, None)
    model, by_configuration = next(iter(samples["metrics"].items()))
    configuration, columns = next(iter(by_configuration.items()), ("", {}))
    numeric = [name for name, values in columns.items() if _kind(values) in ("number", "bool")]
    if not numeric:
        return _Rank(None, True, None)
    group = (suite["test"], suite["suite"], model)
    entry = next((m for m in run.document.get("models", []) if (m["test"], m["suite"], m["model"]) == group), {})
    links = (entry.get("links") or {}).get(configuration or "", {})
    found = [
        _Rank(link["sample_metric"], link["better"] == "lower", metric)
        for metric, link in links.items()
        if link.get("sample_metric") in numeric and link.get("better") in ("lower", "higher")
    ]
    if found:
        return max(found, key=lambda rank: np.count_nonzero(~np.isnan(_numbers(columns[rank.metric]))))
    return _Rank(numeric[0], True, None)


def _numbers(values: list[Any]) -> np.ndarray:
    """A column as floats: booleans as 0 and 1, anything else that is not a number as NaN."""
    return np.array([float(v) if isinstance(v, (int, float)) else math.nan for v in values], dtype=float)


def _kind(values: list[Any]) -> str | None:
    """ "bool", "number" or "text" for a column of scalars (None and NaN allowed); None for anything else."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return None
    if kinds == {bool}:
        return "bool"
    if kinds <= {int, float, bool}:
        return "number"
    return "text" if kinds == {str} else None
