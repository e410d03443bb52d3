"""Regression against a baseline: how much worse a metric may get, and a paired bootstrap that tells a real
regression from noise.

Baseline and candidate are evaluated on the same samples, so the samples are resampled jointly: each resample
draws sample indices with replacement and recomputes the test case metric for both. When the case metric is a
plain mean of a sample metric (mean NME, failure rate), a resample is a weighted mean and all resamples are one
matrix product; otherwise the evaluator's own `compute_test_case_metrics` is called per resample.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .thresholds import RuleError

if TYPE_CHECKING:
    import numpy as np

_ALLOWANCE = re.compile(r"^\s*\+?\s*((?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(%?)\s*$")


@dataclasses.dataclass(frozen=True)
class Allowance:
    """How much a metric may worsen against the baseline: absolute (`"+0.005"`) or relative (`"+2%"`)."""

    metric: str
    amount: float
    relative: bool

    @classmethod
    def parse(cls, metric: str, text: Any) -> Allowance:
        match = _ALLOWANCE.match(text) if isinstance(text, str) else None
        if match is None:
            raise RuleError(
                f"regression allowance for '{metric}' is {text!r}: write the worsening allowed, e.g. '+0.005' or '+2%'"
            )
        return cls(metric, float(match.group(1)), match.group(2) == "%")

    def limit(self, baseline: float) -> float:
        """The worsening allowed from a baseline value, in the metric's units."""
        return self.amount / 100 * abs(baseline) if self.relative else self.amount

    def __str__(self) -> str:
        return f"+{self.amount:g}{'%' if self.relative else ''}"


@dataclasses.dataclass(frozen=True)
class Bootstrap:
    """Settings of the paired bootstrap: fixed seed, so that a verdict is the same on every run."""

    resamples: int = 1000
    confidence: float = 0.95
    min_samples: int = 20
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One metric of one test case, candidate against baseline."""

    metric: str
    baseline: float
    candidate: float
    worsening: float  # candidate - baseline, signed so that positive is worse
    interval: tuple[float, float] | None  # bootstrap interval of the worsening; None below min_samples
    allowed: float
    allowance: Allowance
    n: int
    verdict: str  # "regressed", "improved" or "passed"
    confidence: float

    @property
    def delta(self) -> float:
        return self.candidate - self.baseline + 0.0  # + 0.0: never "-0"

    def delta_interval(self) -> tuple[float, float] | None:
        """The interval of candidate - baseline (the bootstrap is run on the signed worsening)."""
        if self.interval is None:
            return None
        sign = 1.0 if self.worsening == self.delta else -1.0
        low, high = sorted((sign * self.interval[0], sign * self.interval[1]))
        return low + 0.0, high + 0.0

    def short(self) -> str:
        """`+0.0554 [+0.0357, +0.0763]`: the delta and its interval, for tables."""
        interval = self.delta_interval()
        return f"{self.delta:+.4g}" + (f" [{interval[0]:+.4g}, {interval[1]:+.4g}]" if interval else "")

    def __str__(self) -> str:
        text = f"{self.metric}: baseline {self.baseline:.6g}, candidate {self.candidate:.6g}, delta {self.delta:+.4g}"
        interval = self.delta_interval()
        if interval is not None:
            text += f" ({self.confidence:.0%} interval {interval[0]:+.4g} to {interval[1]:+.4g}, n={self.n})"
        else:
            text += f" (n={self.n}: too few samples for an interval; not judged as a regression)"
        return text + f", allowed worsening {self.allowance} ({self.allowed:.4g}): {self.verdict}"


def _mean_source(value: float, columns: dict[str, np.ndarray]) -> str | None:
    """The sample metric whose plain mean the case metric is, if any."""
    import numpy as np

    for name, column in columns.items():
        if len(column) and math.isclose(float(np.mean(column)), value, rel_tol=1e-9, abs_tol=1e-12):
            return name
    return None


def _resample_means(diffs: np.ndarray, settings: Bootstrap) -> np.ndarray:
    """Means of `diffs` over bootstrap resamples, in chunks to bound memory: one gather per chunk."""
    import numpy as np

    rng = np.random.default_rng(settings.seed)
    n = len(diffs)
    out = np.empty(settings.resamples)
    chunk = max(1, min(settings.resamples, 4_000_000 // max(n, 1)))
    for start in range(0, settings.resamples, chunk):
        size = min(chunk, settings.resamples - start)
        indices = rng.integers(0, n, size=(size, n))
        out[start : start + size] = diffs[indices].mean(axis=1)
    return out


def _interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    import numpy as np

    tail = (1 - confidence) / 2 * 100
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return float(low), float(high)


def compare(
    metric: str,
    allowance: Allowance,
    lower_is_better: bool,
    baseline_value: float,
    candidate_value: float,
    baseline_columns: dict[str, np.ndarray],
    candidate_columns: dict[str, np.ndarray],
    recompute: Callable[[np.ndarray], tuple[float, float]] | None,
    settings: Bootstrap,
) -> Comparison:
    """Judge one case metric. `*_columns`: numeric sample metrics of the paired samples, in the same order;
    `recompute(indices)`: (baseline, candidate) case metric on resampled samples, for the general path."""
    import numpy as np

    sign = 1.0 if lower_is_better else -1.0
    worsening = sign * (candidate_value - baseline_value)
    allowed = allowance.limit(baseline_value)
    n = len(next(iter(candidate_columns.values()), []))
    interval = None
    if n >= settings.min_samples:
        source = _mean_source(candidate_value, candidate_columns)
        if source is not None and _mean_source(baseline_value, {source: baseline_columns.get(source, np.zeros(0))}):
            diffs = sign * (candidate_columns[source].astype(float) - baseline_columns[source].astype(float))
            samples = _resample_means(diffs, settings)
        elif recompute is not None:
            rng = np.random.default_rng(settings.seed)
            samples = np.array([_signed(recompute(rng.integers(0, n, n)), sign) for _ in range(settings.resamples)])
        else:
            samples = None
        if samples is not None:
            interval = _interval(samples, settings.confidence)
    if interval is None or any(math.isnan(b) for b in interval):
        verdict = "passed"
    elif interval[0] > allowed:
        verdict = "regressed"
    elif interval[1] < 0:
        verdict = "improved"
    else:
        verdict = "passed"
    return Comparison(
        metric,
        baseline_value,
        candidate_value,
        worsening,
        interval,
        allowed,
        allowance,
        n,
        verdict,
        settings.confidence,
    )


def _signed(pair: tuple[float, float], sign: float) -> float:
    baseline, candidate = pair
    return sign * (candidate - baseline)


def numeric_columns(metrics: Sequence[Any]) -> dict[str, np.ndarray]:
    """The numeric (and boolean) fields of a list of sample metrics objects or dicts, as arrays."""
    import numpy as np

    if not metrics:
        return {}
    first = metrics[0]
    names = list(first.keys()) if isinstance(first, dict) else [f.name for f in dataclasses.fields(first)]
    get = (lambda m, k: m.get(k)) if isinstance(first, dict) else getattr
    columns = {}
    for name in names:
        values = [get(m, name) for m in metrics]
        if all(isinstance(v, (int, float, bool)) and v is not None for v in values):
            columns[name] = np.asarray(values, dtype=float)
    return columns
