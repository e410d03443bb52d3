"""Regression against a baseline: how much worse a metric may get, and a verdict that tells a real regression from
noise, with one false-alarm budget for all checks of a model run.

Baseline and candidate were evaluated on the same samples, so every check is paired (`paired.py`): a plain mean of
a sample metric gets an exact or analytic test on the per-sample differences; any other case metric a paired
bootstrap that recomputes it, for both, from each run's own data. The checks of a model's run form one family:
their p-values are adjusted together (Benjamini-Hochberg by default), so that a model run with nothing changed fails
with probability at most alpha, whatever else the session selected or ran.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from ..words import IMPROVED, NOT_JUDGED, PASSED, REGRESSED
from . import paired
from .thresholds import RuleError

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


# The tests of a mean of 0/1 sample metrics, each the most powerful found whose false-alarm rate stays at or below
# the one-sided level (0.025) over n 20..1000 and 1..30% of samples changed, exactly (summed over every outcome, by
# benchmarks/calibration.py): with no allowance the mid-p McNemar test (at most 2.49%; power at 200 samples, 2%
# churn, a 2-point drop: 37%, the exact test 21%); with an allowance, at a true worsening equal to it, Tango's score
# test with a skewness correction and a continuity correction of 0.75 (at most 2.38% for allowances 0.001 to 0.3),
# not plain Tango (up to 5.1%), nor skewness-corrected without (3.4%) or with half a step of correction (2.53%).
BINARY_TESTS = paired.BinaryTests(no_allowance=paired.MID_P, allowance=paired.SKEWED_SCORE)


@dataclasses.dataclass(frozen=True)
class Judging:
    """How checks are judged: confidence of the intervals (one-sided level alpha = (1 - confidence) / 2, so that
    a check regresses when its whole interval lies beyond the allowance), bootstrap resamples of the general path,
    the fewest pairs judged, the correction across a run's checks."""

    confidence: float = 0.95
    resamples: int = 200
    min_samples: int = 20
    error_control: str = "bh"
    seed: int = 0

    @property
    def alpha(self) -> float:
        return round((1 - self.confidence) / 2, 12)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One metric of one test case, candidate against baseline, and its verdict."""

    metric: str
    baseline: float
    candidate: float
    allowance: Allowance
    allowed: float  # the worsening allowed, in the metric's units
    lower_is_better: bool
    test: paired.PairedTest | None = None  # None: not judged
    reason: str = ""  # why it was not judged
    dropped: int = 0  # pairs left out because a sample metric was missing on either side
    p_adjusted: float = math.nan
    p_improved: float = math.nan  # one-sided p-value of an improvement (a worsening below 0)
    family: int = 0  # checks in its family
    verdict: str = NOT_JUDGED  # REGRESSED, IMPROVED, PASSED or NOT_JUDGED
    detectable: float = math.nan  # smallest worsening beyond the allowance found 80% of the time
    confidence: float = 0.95

    @property
    def delta(self) -> float:
        return self.candidate - self.baseline + 0.0  # + 0.0: never "-0"

    @property
    def underpowered(self) -> bool:
        """The check could not reliably find a worsening the size of its allowance: a pass here is not a proof."""
        return self.test is not None and self.verdict != REGRESSED and 0 < self.allowed < self.detectable

    def missed(self) -> str:
        """What an underpowered check would likely miss: `a worsening below 15.05 is likely missed`."""
        return f"a worsening below {self.allowed + self.detectable:.4g} is likely missed"

    def delta_interval(self) -> tuple[float, float] | None:
        """The interval of candidate - baseline (the test's interval is of the signed worsening)."""
        if self.test is None or any(math.isnan(v) for v in self.test.interval):
            return None
        sign = -1.0 if self.lower_is_better else 1.0
        low, high = sorted(sign * -v for v in self.test.interval)
        return low + 0.0, high + 0.0

    def raw_verdict(self) -> str:
        """The decision before the run's correction: its own one-sided p-value against alpha."""
        if self.test is None:
            return NOT_JUDGED
        alpha = round((1 - self.confidence) / 2, 12)
        if self.test.p_value <= alpha:
            return REGRESSED
        return IMPROVED if self.p_improved <= alpha else PASSED

    def to_dict(self) -> dict[str, Any]:
        """Every figure of the check, for reports: plain numbers (None where not judged) and words."""
        interval = self.delta_interval()
        test = self.test

        def number(value: float | None) -> float | None:
            return None if value is None or math.isnan(value) else float(value)

        return {
            "metric": self.metric,
            "baseline": number(self.baseline),
            "candidate": number(self.candidate),
            "delta": number(self.delta),
            "low": interval[0] if interval else None,
            "high": interval[1] if interval else None,
            "confidence": self.confidence,
            "better": "lower" if self.lower_is_better else "higher",
            "allowance": str(self.allowance),
            "allowed": number(self.allowed),
            "method": test.method if test else None,
            "n": test.n if test else None,
            "dropped": self.dropped,
            "p": number(test.p_value) if test else None,
            "p_adjusted": number(self.p_adjusted),
            "p_improved": number(self.p_improved),  # one-sided p-value of an improvement (unadjusted)
            "family": self.family,
            "raw_verdict": self.raw_verdict(),
            "verdict": self.verdict,
            "underpowered": self.underpowered,
            "detectable": number(self.detectable),
            "reason": self.reason,
        }

    def short(self) -> str:
        """`+0.0554 [+0.0357, +0.0763] p=0.0001 (adj 0.0012)`: delta, interval, raw and adjusted p, for tables."""
        interval = self.delta_interval()
        if interval is None:
            return f"{self.delta:+.4g} not judged"
        p_values = f"p={_p(self.test.p_value)} (adj {_p(self.p_adjusted)})"
        text = f"{self.delta:+.4g} [{interval[0]:+.4g}, {interval[1]:+.4g}] {p_values}"
        return text + (" underpowered" if self.underpowered else "")

    def __str__(self) -> str:
        text = f"{self.metric}: baseline {self.baseline:.6g}, candidate {self.candidate:.6g}, delta {self.delta:+.4g}"
        interval = self.delta_interval()
        if interval is None:
            return text + f", not judged: {self.reason}"
        test = self.test
        dropped = f", {self.dropped} pairs with a missing value left out" if self.dropped else ""
        paired = test.estimate if self.lower_is_better else -test.estimate
        if not math.isclose(paired, self.delta, rel_tol=1e-6, abs_tol=1e-12):  # some samples are not in both runs
            text += f", on the {test.n} paired samples {paired:+.4g}"
        text += f" ({self.confidence:.0%} interval {interval[0]:+.4g} to {interval[1]:+.4g}, n={test.n}{dropped})"
        text += f", allowed worsening {self.allowance} ({self.allowed:.4g}); {test.method} p={_p(test.p_value)}"
        text += f", adjusted over {self.family} checks p={_p(self.p_adjusted)}: {self.verdict}"
        if self.underpowered:
            text += f" (underpowered: {self.missed()})"
        return text


def worsening(baseline: float, candidate: float, lower_is_better: bool) -> float:
    """How much worse the candidate is than the baseline (negative: better)."""
    return (candidate - baseline) if lower_is_better else (baseline - candidate)


def _p(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.2g}"


def _compared(metric: str, allowance: Allowance, lower_is_better: bool, baseline: float, candidate: float) -> dict:
    return {
        "metric": metric,
        "baseline": baseline,
        "candidate": candidate,
        "allowance": allowance,
        "allowed": allowance.limit(baseline),
        "lower_is_better": lower_is_better,
    }


def not_judged(
    metric: str, allowance: Allowance, lower_is_better: bool, baseline: float, candidate: float, reason: str
) -> Comparison:
    return Comparison(**_compared(metric, allowance, lower_is_better, baseline, candidate), reason=reason)


def judge_mean(
    metric: str,
    allowance: Allowance,
    lower_is_better: bool,
    baseline_value: float,
    candidate_value: float,
    baseline_column: np.ndarray,
    candidate_column: np.ndarray,
    judging: Judging,
) -> Comparison:
    """A case metric that is the plain mean of a sample metric: a paired test on the per-sample differences, with
    pairs that miss a value on either side left out (and counted)."""
    compared = _compared(metric, allowance, lower_is_better, baseline_value, candidate_value)
    base, cand = np.asarray(baseline_column, dtype=float), np.asarray(candidate_column, dtype=float)
    valid = ~(np.isnan(base) | np.isnan(cand))
    dropped, n = int((~valid).sum()), int(valid.sum())
    if n < judging.min_samples:
        reason = f"{n} paired samples with a value, fewer than kolena_min_samples ({judging.min_samples})"
        return Comparison(**compared, reason=reason, dropped=dropped)
    base, cand = base[valid], cand[valid]
    binary = BINARY_TESTS if np.isin(base, (0.0, 1.0)).all() and np.isin(cand, (0.0, 1.0)).all() else None
    diffs = worsening(base, cand, lower_is_better)
    test = paired.mean_test(diffs, compared["allowed"], judging.confidence, binary)
    if binary is None:
        improved = paired.mean_test(-diffs, 0.0, judging.confidence, binary).p_value
    else:  # the improvement's test alone, without an interval
        improved = float(paired.discordant_p_values((diffs < 0).sum(), (diffs > 0).sum(), n, 0.0, binary)[0])
    return Comparison(**compared, test=test, dropped=dropped, p_improved=improved, confidence=judging.confidence)


@dataclasses.dataclass(frozen=True)
class Resampled:
    """A metric judged by resampling: its direction, its values on the paired samples, the worsening allowed."""

    lower_is_better: bool
    baseline: float
    candidate: float
    allowed: float

    @property
    def observed(self) -> float:
        return worsening(self.baseline, self.candidate, self.lower_is_better)


BATCH = 50  # resamples drawn at a time; the bootstrap stops early when no verdict is in reach
FAR = 0.2  # a check whose p-values of a worsening and of an improvement are both above this is far from a verdict


def bootstrap_worsenings(
    recompute: Callable[[np.ndarray], dict[str, tuple[float, float]]],
    n: int,
    metrics: dict[str, Resampled],
    judging: Judging,
) -> dict[str, np.ndarray]:
    """The worsening of each metric on paired bootstrap resamples: `recompute(indices)` gives (baseline,
    candidate) per metric on the resampled pairs, so one resample serves every metric of a test case.

    Resamples come in batches of 50 from one seeded stream; after each batch the bootstrap stops when every
    metric is far from both verdicts (one-sided p-values of a worsening beyond the allowance and of an
    improvement both above 0.2, eight times the level of a single check), since more resamples only refine an
    interval that decides nothing. Borderline checks get all `judging.resamples`."""
    rng = np.random.default_rng(judging.seed)
    out = {metric: np.empty(judging.resamples) for metric in metrics}
    done = 0
    while done < judging.resamples:
        size = min(BATCH, judging.resamples - done)
        for r, indices in enumerate(rng.integers(0, n, (size, n)), start=done):
            values = recompute(indices)
            for metric, m in metrics.items():
                baseline, candidate = values[metric]
                out[metric][r] = worsening(baseline, candidate, m.lower_is_better)
        done += size
        if done < judging.resamples and all(_far(out[k][:done], m) for k, m in metrics.items()):
            break
    return {metric: values[:done] for metric, values in out.items()}


def _far(worsenings: np.ndarray, metric: Resampled) -> bool:
    se = float(np.nanstd(worsenings, ddof=1)) if np.isfinite(worsenings).sum() > 1 else math.nan
    if se == 0:  # every resample agrees: the verdict rests on the observed change alone, more resamples agree too
        return True
    if not se > 0:
        return False
    z = NormalDist().inv_cdf(1 - FAR)  # p-value above FAR: z below 0.84
    return (metric.observed - metric.allowed) / se < z and -metric.observed / se < z


def judge_resampled(
    metric: str,
    allowance: Allowance,
    lower_is_better: bool,
    baseline_value: float,
    candidate_value: float,
    worsenings: np.ndarray,
    n: int,
    judging: Judging,
    observed: float | None = None,
) -> Comparison:
    """A case metric that is not a plain mean, from its bootstrap worsenings; `observed`: the worsening on the
    paired samples (by default that of the case values, when every sample is paired)."""
    compared = _compared(metric, allowance, lower_is_better, baseline_value, candidate_value)
    if n < judging.min_samples:
        reason = f"{n} paired samples, fewer than kolena_min_samples ({judging.min_samples})"
        return Comparison(**compared, reason=reason)
    if observed is None:
        observed = worsening(baseline_value, candidate_value, lower_is_better)
    test = paired.bootstrap_test(observed, worsenings, compared["allowed"], judging.confidence, n)
    if math.isnan(test.p_value):
        return Comparison(**compared, reason="the metric is undefined on the resamples (NaN)")
    improved = paired.bootstrap_test(-observed, -worsenings, 0.0, judging.confidence, n).p_value
    return Comparison(**compared, test=test, p_improved=improved, confidence=judging.confidence)


def decide(comparisons: Sequence[Comparison], judging: Judging) -> list[Comparison]:
    """The verdicts of one family (a model's run: all its test cases x configurations x metrics) at level alpha:
    regressed when the adjusted p-value of a worsening beyond the allowance is at most alpha; improved when that of
    an improvement is; each with the worsening it could detect."""
    judged = [i for i, c in enumerate(comparisons) if c.test is not None]
    p_values = np.array([comparisons[i].test.p_value for i in judged], dtype=float)
    adjusted, _ = paired.adjust(p_values, judging.error_control, judging.alpha)
    improvements = np.array([comparisons[i].p_improved for i in judged], dtype=float)
    improved, _ = paired.adjust(improvements, judging.error_control, judging.alpha)
    family = len(judged)
    # a lone regression among the family must reach this level (the first step of BH and Holm)
    level = judging.alpha / (max(family, 1) if judging.error_control != "none" else 1)
    out = list(comparisons)
    for i, p_adjusted, p_improved in zip(judged, adjusted, improved):
        comparison = comparisons[i]
        test = comparison.test
        if p_adjusted <= judging.alpha:
            verdict = REGRESSED
        elif p_improved <= judging.alpha:  # an improvement beyond noise, under the same control
            verdict = IMPROVED
        else:
            verdict = PASSED
        detectable = paired.detectable_worsening(test.se, level) if test.se == test.se else math.nan
        out[i] = dataclasses.replace(
            comparison, p_adjusted=float(p_adjusted), family=family, verdict=verdict, detectable=detectable
        )
    return out


def sample_columns(metrics: Sequence[Any], names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The numeric (and boolean) fields (or those of `names`) of sample metrics objects or dicts as float arrays; a
    missing value (None, an abstaining sample) is NaN, so that it is dropped pairwise rather than the column."""
    first = next((m for m in metrics if m is not None), None)
    if first is None:
        return {}
    is_dict = isinstance(first, dict)
    if names is None:
        names = list(first) if is_dict else [f.name for f in dataclasses.fields(first)]
    columns = {}
    for name in names:
        if is_dict:
            values = [m.get(name) if m is not None else None for m in metrics]
        else:
            values = [getattr(m, name, None) for m in metrics]
        sample = next((v for v in values if v is not None), None)
        if not isinstance(sample, (bool, int, float, np.integer, np.floating)):
            continue
        try:
            columns[name] = np.asarray(values, dtype=float)  # None -> NaN
        except (TypeError, ValueError):  # a column of mixed types is no sample metric to test
            continue
    return columns
