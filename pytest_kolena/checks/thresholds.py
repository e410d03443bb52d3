"""Threshold rules on metrics: `"<= 0.08"`, `">= 0.9"`; parsed without eval; NaN and missing values never pass."""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .. import numbers

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
}
_RULE = re.compile(r"^\s*(<=|>=|<|>|==)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


class RuleError(ValueError):
    """A threshold that cannot be read, or that names no metric."""


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A rule on one metric: `metric <op> limit`."""

    metric: str
    op: str
    limit: float

    @classmethod
    def parse(cls, metric: str, text: Any) -> Threshold:
        match = _RULE.match(text) if isinstance(text, str) else None
        if match is None:
            raise RuleError(
                f"threshold for '{metric}' is {text!r}: write it as an operator and a number, e.g. '<= 0.08' or '>= 0.9' (operators: <=, >=, <, >, ==)"
            )
        return cls(metric, match.group(1), float(match.group(2)))

    @property
    def lower_is_better(self) -> bool:
        return self.op in ("<", "<=")

    def passes(self, value: Any) -> bool:
        """True only for a real number that meets the rule: None, NaN and non-numbers fail."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            return False
        return _OPERATORS[self.op](float(value), self.limit)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.limit:g}"


@dataclasses.dataclass(frozen=True)
class Rules:
    """Rules on metrics (thresholds, regression allowances) for all test cases, with overrides per test case pattern."""

    default: tuple[Any, ...]
    per_case: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @classmethod
    def parse(cls, spec: Mapping[str, Any] | None, parse_one: Callable[[str, Any], Any] = Threshold.parse) -> Rules:
        """`{"mean_nme": "<= 0.08", "*occlusion*": {"mean_nme": "<= 0.12"}}`: a key is a metric, or a test case
        name pattern (fnmatch) whose dict overrides the default rules for the matching test cases."""
        default, per_case = [], []
        for key, value in (spec or {}).items():
            if isinstance(value, Mapping):
                per_case.append((key, tuple(parse_one(m, t) for m, t in value.items())))
            else:
                default.append(parse_one(key, value))
        return cls(tuple(default), tuple(per_case))

    def metrics(self) -> set[str]:
        return {t.metric for t in self.default} | {t.metric for _, rules in self.per_case for t in rules}

    def for_case(self, case_name: str) -> list[Any]:
        """The rules of a test case: the default ones, each replaced by the last matching override."""
        by_metric = {t.metric: t for t in self.default}
        for pattern, rules in self.per_case:
            if _matches(case_name, pattern):
                by_metric.update({t.metric: t for t in rules})
        return list(by_metric.values())

    def unmatched(self, case_names: Iterable[str]) -> list[str]:
        """The test case patterns that match none of `case_names` (a misspelt pattern would silently do nothing)."""
        names = list(case_names)
        return [pattern for pattern, _ in self.per_case if not any(_matches(name, pattern) for name in names)]

    def check_known(self, known: Iterable[str], where: str) -> None:
        """Fail on a rule naming a metric that is not among `known`, listing those that are."""
        known = set(known)
        unknown = sorted(self.metrics() - known)
        if unknown:
            raise RuleError(f"{where}: unknown metric '{unknown[0]}'; metrics: {', '.join(sorted(known)) or 'none'}")


def _matches(case_name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(case_name, pattern) or case_name.endswith(f" :: {pattern}")


@dataclasses.dataclass(frozen=True)
class Breach:
    """A rule that a value did not meet."""

    threshold: Threshold
    value: Any

    def __str__(self) -> str:
        shown = (
            "missing"
            if self.value is None
            else numbers.precise(self.value)
            if isinstance(self.value, float)
            else repr(self.value)
        )
        return f"{self.threshold.metric} = {shown}, required {self.threshold.op} {self.threshold.limit:g}"


def breaches(metrics: Any, thresholds: Iterable[Threshold]) -> list[Breach]:
    """The rules that `metrics` (a metrics object, or None) do not meet."""
    out = []
    for threshold in thresholds:
        value = getattr(metrics, threshold.metric, None) if metrics is not None else None
        if not threshold.passes(value):
            out.append(Breach(threshold, value))
    return out
