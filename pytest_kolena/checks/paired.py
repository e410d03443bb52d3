"""Paired tests of a worsening against an allowance, multiplicity control across checks, and detectable worsening.

Baseline and candidate were evaluated on the same samples, so a check works on the per-sample worsenings
`d_i = sign * (candidate_i - baseline_i)` (positive is worse) and asks: is the true worsening beyond the worsening
allowed? Each test returns a one-sided p-value for H0: worsening <= allowed, an interval of the worsening, and the
standard error that power is computed from.

- case metric a plain mean of 0/1 sample metrics (accuracy, failure rate): the tests named by a `BinaryTests`, one
  for no allowance (the mid-p or the exact McNemar test on the discordant pairs), one with an allowance (Tango's
  score test, skewness-corrected or continuity-corrected); the interval inverts those very tests;
- case metric a plain mean of any other sample metric: the paired t-test against the allowance, t interval;
- any other case metric (macro F1, AUC, median): a paired bootstrap with a normal-approximation p-value.

`adjust` controls the error rate over all checks of a run (Benjamini-Hochberg or Holm). Numpy and the standard
library only: the distributions are `distributions.py`'s (re-exported here for the discovery statistics).
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist

import numpy as np

from .distributions import betainc, fisher_tail, normal_sf, student_t_sf, t_quantile, t_quantiles  # noqa: F401

EXACT_BINOMIAL = "exact binomial (McNemar)"
MID_P = "mid-p McNemar"
TANGO = "score (Tango, continuity-corrected)"
SKEWED_SCORE = "score (Tango, skewness-corrected)"
PAIRED_T = "paired t"
BOOTSTRAP = "bootstrap"

_NORMAL = NormalDist()


@dataclasses.dataclass(frozen=True)
class PairedTest:
    """One check: is the worsening beyond the allowance?"""

    estimate: float  # observed worsening: mean over pairs of d_i (positive is worse)
    interval: tuple[float, float]  # two-sided interval of the worsening at the confidence asked for
    p_value: float  # one-sided, H0: true worsening <= allowed; H1: worsening > allowed
    se: float  # standard error of the estimate (for power)
    n: int  # pairs used
    method: str  # EXACT_BINOMIAL, TANGO, PAIRED_T or BOOTSTRAP


@dataclasses.dataclass(frozen=True)
class PairedTests:
    """Many checks of the same size at once (one per row of `diffs` in `mean_tests`): arrays of the fields of
    `PairedTest`."""

    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p_value: np.ndarray
    se: np.ndarray
    n: int
    method: str

    def __len__(self) -> int:
        return len(self.estimate)

    def __getitem__(self, row: int) -> PairedTest:
        return PairedTest(
            float(self.estimate[row]),
            (float(self.low[row]), float(self.high[row])),
            float(self.p_value[row]),
            float(self.se[row]),
            self.n,
            self.method,
        )


@dataclasses.dataclass(frozen=True)
class BinaryTests:
    """The tests of a mean of 0/1 sample metrics: `no_allowance` (MID_P or EXACT_BINOMIAL) judges a check whose
    allowance is 0 and every improvement, `allowance` (SKEWED_SCORE or TANGO) a check with an allowance."""

    no_allowance: str
    allowance: str

    def __post_init__(self) -> None:
        if self.no_allowance not in _CONDITIONAL:
            raise ValueError(f"no_allowance must be one of {sorted(_CONDITIONAL)}, got {self.no_allowance!r}")
        if self.allowance not in _SCORE_FAMILIES:
            raise ValueError(f"allowance must be one of {sorted(_SCORE_FAMILIES)}, got {self.allowance!r}")


def mean_test(diffs: np.ndarray, allowed: float, confidence: float, binary: BinaryTests | None) -> PairedTest:
    """Test H0: mean worsening <= `allowed` on the per-pair worsenings `diffs` (1-D, no NaN).

    `binary`: both sample columns are 0/1, so each d_i is -1, 0 or 1: the tests it names (`discordant_tests`).
    None: the paired t-test and interval.
    """
    diffs = np.asarray(diffs, dtype=float)
    if diffs.ndim != 1:
        raise ValueError(f"diffs must be 1-D, got shape {diffs.shape}")
    return mean_tests(diffs[None, :], allowed, confidence, binary)[0]


def mean_tests(diffs: np.ndarray, allowed: float, confidence: float, binary: BinaryTests | None) -> PairedTests:
    """`mean_test` on each row of a 2-D array of per-pair worsenings (checks of the same size), vectorised."""
    diffs = np.asarray(diffs, dtype=float)
    if diffs.ndim != 2:
        raise ValueError(f"diffs must be 2-D (one check per row), got shape {diffs.shape}")
    if np.isnan(diffs).any():
        raise ValueError("diffs contain NaN: drop the unpaired or missing samples first")
    if not allowed >= 0:
        raise ValueError(f"allowed worsening must be >= 0, got {allowed}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if binary is not None:
        if not np.isin(diffs, (-1.0, 0.0, 1.0)).all():
            raise ValueError("binary diffs must be -1, 0 or 1 (both sample columns 0/1)")
        worse = (diffs > 0).sum(axis=1)
        better = (diffs < 0).sum(axis=1)
        return discordant_tests(worse, better, diffs.shape[1], allowed, confidence, binary)
    return _t_tests(diffs, allowed, confidence)


def discordant_tests(
    worse: np.ndarray, better: np.ndarray, n: int, allowed: float, confidence: float, tests: BinaryTests
) -> PairedTests:
    """Binary checks from their counts: `worse` pairs got worse (d_i = 1), `better` pairs better (d_i = -1), out of
    `n` pairs each. What `mean_tests(..., binary=tests)` computes after counting.

    p-value: `discordant_p_values`. Interval: never at odds with the p-values, so that its low end lies beyond
    `allowed` exactly when the p-value is at most alpha = (1 - confidence) / 2, and its high end below 0 exactly when
    the `no_allowance` test of an improvement (the same test on the counts swapped) says so at alpha. With an
    allowance, the low end inverts the check's own score test: the margin where its statistic crosses the critical
    value. Otherwise an end is where the score statistic of the family without continuity correction (the skewness
    correction kept) crosses it, a score interval of good coverage; but where that asymptotic statistic and the
    conditional test on the lattice of discordant counts disagree about 0 (rare, near alpha), the crossing of the
    statistic with the correction that makes it at margin 0 the conditional test exactly (`_matching_correction`),
    which falls on the test's side of 0.
    """
    worse = np.atleast_1d(np.asarray(worse, dtype=float))
    better = np.atleast_1d(np.asarray(better, dtype=float))
    method = tests.no_allowance if allowed == 0 else tests.allowance
    if n == 0:
        nan = np.full(worse.shape, np.nan)
        return PairedTests(nan, nan, nan, nan, nan, 0, method)
    estimate = (worse - better) / n
    # Wald standard error; with no discordant pair the spread is unknown: count one, so that power is not "perfect"
    discordant = np.maximum(worse + better, 1.0) / n
    se = np.sqrt(np.maximum(discordant - estimate**2, 0.0) / n)
    p_value = discordant_p_values(worse, better, n, allowed, tests)
    # both ends at once: the low end of (worse, better), and the high end as minus the low end of the counts swapped
    rows = len(worse)
    corrections = np.zeros(2 * rows)
    correction, skew = _SCORE_FAMILIES[tests.allowance]
    at_zero = np.concatenate([p_value, discordant_p_values(better, worse, n, 0.0, tests)])
    if allowed > 0:  # the low end inverts the check's own test, at its allowance
        corrections[:rows], at_zero[:rows] = correction, np.nan
    ends = _interval_ends(
        np.concatenate([worse, better]),
        np.concatenate([better, worse]),
        n,
        (1 - confidence) / 2,
        corrections,
        skew,
        at_zero,
    )
    return PairedTests(estimate, ends[:rows], -ends[rows:], p_value, se, n, method)


def discordant_p_values(
    worse: np.ndarray, better: np.ndarray, n: int, allowed: float, tests: BinaryTests
) -> np.ndarray:
    """One-sided p-values of H0: p_worse - p_better <= `allowed` from the counts of discordant pairs out of `n`.

    allowed == 0, `tests.no_allowance`: MID_P, P(X > worse) + P(X = worse) / 2 for X ~ Binomial(worse + better,
    1/2) (0.5 with no discordant pair); EXACT_BINOMIAL, P(X >= worse) (1 with no discordant pair).
    allowed > 0, `tests.allowance`: the normal tail of Tango's score statistic (`tango_score`); SKEWED_SCORE with a
    skewness correction and a continuity correction of 0.75, TANGO with a continuity correction of 1.
    """
    worse = np.atleast_1d(np.asarray(worse, dtype=float))
    better = np.atleast_1d(np.asarray(better, dtype=float))
    if allowed == 0:
        return _CONDITIONAL[tests.no_allowance](worse, worse + better)
    if allowed >= 1:  # a 0/1 metric cannot worsen by a whole unit or more
        return np.ones(worse.shape)
    correction, skew = _SCORE_FAMILIES[tests.allowance]
    return normal_sf(tango_score(worse, better, n, allowed, correction, skew))


def binomial_tail(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """P(Binomial(trials, 1/2) >= successes), exactly (to rounding): the one-sided exact McNemar p-value with
    `successes` pairs worse out of `trials` discordant pairs. 1 when there is no discordant pair."""
    k = np.asarray(successes, dtype=float)
    m = np.asarray(trials, dtype=float)
    k, m = np.broadcast_arrays(k, m)
    out = np.where(k > m, 0.0, 1.0)
    some = (k > 0) & (k <= m)
    # P(X >= k) = I_{1/2}(k, m - k + 1)
    out[some] = betainc(k[some], m[some] - k[some] + 1, np.full(int(some.sum()), 0.5))
    return out


def mid_p_tail(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """P(X > successes) + P(X = successes) / 2 for X ~ Binomial(trials, 1/2): the one-sided mid-p McNemar p-value,
    the mean of the exact tails at `successes` and one above. 0.5 when there is no discordant pair."""
    k = np.asarray(successes, dtype=float)
    return 0.5 * (binomial_tail(k, trials) + binomial_tail(k + 1, trials))


_CONDITIONAL = {MID_P: mid_p_tail, EXACT_BINOMIAL: binomial_tail}
# The continuity correction (in units of worse - better) and the skewness correction of each score family. One
# pair is the usual correction of the conditional test (worse - better moves in steps of 2 when the discordant count
# is fixed). Skewness-corrected, the smallest correction in quarter steps of worse - better from half a step (1 pair
# moves it by 1 when the discordant count is not fixed) that keeps the exact false-alarm rate at or below 0.025 over
# benchmarks/calibration.py's dense grid: 0.75 (half a step reached 2.53% at n 310, churn 2.5%, allowance 0.02).
_SCORE_FAMILIES = {SKEWED_SCORE: (0.75, True), TANGO: (1.0, False)}


def tango_score(
    worse: np.ndarray,
    better: np.ndarray,
    n: int,
    margin: float | np.ndarray,
    correction: float | np.ndarray = 0.0,
    skew: bool = False,
) -> np.ndarray:
    """Tango's (1998) score statistic for H0: p_worse - p_better = margin on `n` matched pairs.

    y = (worse - better - n margin - correction) / sqrt(V), V = n (2 q + |margin| (1 - |margin|)), the variance of
    worse - better under H0: large positive values speak for a worsening beyond `margin`. q is the restricted
    maximum likelihood estimate of p_better under H0 (of p_worse for a negative margin, by the symmetry of swapping
    worse and better), the positive root of
    2n q^2 + (2n margin - worse (1 + margin) - better (1 - margin)) q - better margin (1 - margin) = 0.
    `correction`: a continuity correction subtracted from the numerator.
    `skew`: the skewness correction of Gart and Nam (1988) as generalised by Laud (2017): z solves
    z = y - g (z^2 - 1) / 6, g = mu3 / V^1.5 the skewness of worse - better under H0, its third central moment
    mu3 = n margin (1 - 3 t + 2 margin^2) with t = 2 q + |margin| the share of discordant pairs under H0.
    """
    worse, better, margin, correction = np.broadcast_arrays(
        np.asarray(worse, dtype=float),
        np.asarray(better, dtype=float),
        np.asarray(margin, dtype=float),
        np.asarray(correction, dtype=float),
    )
    flip = margin < 0
    b = np.where(flip, better, worse)
    c = np.where(flip, worse, better)
    delta = np.abs(margin)
    quad_b = 2 * n * delta - b * (1 + delta) - c * (1 - delta)
    quad_c = -c * delta * (1 - delta)
    q = (np.sqrt(quad_b**2 - 8 * n * quad_c) - quad_b) / (4 * n)
    variance = n * (2 * q + delta * (1 - delta))
    numerator = worse - better - n * margin - correction
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, numerator / np.sqrt(variance), np.sign(numerator) * np.inf)
        z = np.where(numerator == 0, 0.0, z)
        if skew:
            share = 2 * q + delta
            g6 = n * margin * (1 - 3 * share + 2 * margin**2) / variance**1.5 / 6
            root = 1 + 4 * g6 * (z + g6)  # z = (sqrt(root) - 1) / (2 g6), written without cancellation
            skewed = np.where(root >= 0, 2 * (z + g6) / (1 + np.sqrt(np.maximum(root, 0.0))), -np.sign(g6) * np.inf)
            z = np.where((variance > 0) & np.isfinite(z), skewed, z)
    return z


def tango_interval(worse: np.ndarray, better: np.ndarray, n: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Tango's score interval of p_worse - p_better: the margins whose two-sided score test (no correction) does not
    reject at 1 - confidence."""
    alpha = (1 - confidence) / 2
    return _score_root(worse, better, n, alpha, 0.0, False), -_score_root(better, worse, n, alpha, 0.0, False)


def _interval_ends(
    worse: np.ndarray,
    better: np.ndarray,
    n: int,
    alpha: float,
    corrections: np.ndarray,
    skew: bool,
    p_zero: np.ndarray,
) -> np.ndarray:
    """Low ends of intervals of p_worse - p_better at one-sided `alpha`: where the score statistic with `corrections`
    crosses the critical value; where `p_zero` (the p-values of the test at margin 0; NaN: none) is given, on the
    side of 0 it gives."""
    end = _score_root(worse, better, n, alpha, corrections, skew)
    disagree = ~np.isnan(p_zero) & ((end > 0) != (p_zero <= alpha))
    if disagree.any():
        matching = _matching_correction(worse[disagree], better[disagree], p_zero[disagree])
        end[disagree] = _score_root(worse[disagree], better[disagree], n, alpha, matching, skew)
    return end


def _matching_correction(worse: np.ndarray, better: np.ndarray, p_value: np.ndarray) -> np.ndarray:
    """The continuity correction at which the score statistic at margin 0, (worse - better - correction) /
    sqrt(worse + better), is the normal score of `p_value` (the skewness correction vanishes at margin 0)."""
    scores = np.array([_NORMAL.inv_cdf(1 - p) for p in np.clip(p_value, 1e-300, 1 - 1e-16)])
    return worse - better - np.sqrt(worse + better) * scores


def _score_root(
    worse: np.ndarray, better: np.ndarray, n: int, alpha: float, correction: float | np.ndarray, skew: bool
) -> np.ndarray:
    """The margin where the score statistic crosses the one-sided critical value of `alpha` (it falls as the margin
    grows): found by bisection on [-1, 1], per element."""
    worse = np.atleast_1d(np.asarray(worse, dtype=float))
    better = np.atleast_1d(np.asarray(better, dtype=float))
    target = _NORMAL.inv_cdf(1 - alpha)
    lo = np.full(worse.shape, -1.0)
    hi = np.full(worse.shape, 1.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        above = tango_score(worse, better, n, mid, correction, skew) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return (lo + hi) / 2


def _t_tests(diffs: np.ndarray, allowed: float, confidence: float) -> PairedTests:
    """The paired t-test against the allowance and the t interval, per row."""
    rows, n = diffs.shape
    if n < 2:
        estimate = diffs.mean(axis=1) if n else np.full(rows, np.nan)
        nan = np.full(rows, np.nan)
        return PairedTests(estimate, nan, nan, nan, nan, n, PAIRED_T)
    estimate = diffs.mean(axis=1)
    constant = diffs.max(axis=1) == diffs.min(axis=1)  # exactly: a rounded std of equal values is not always 0
    sd = np.where(constant, 0.0, diffs.std(axis=1, ddof=1))
    se = sd / math.sqrt(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (estimate - allowed) / se
    p_value = np.where(constant, np.where(estimate > allowed, 0.0, 1.0), student_t_sf(t, n - 1))
    half = t_quantile(1 - (1 - confidence) / 2, n - 1) * se
    return PairedTests(estimate, estimate - half, estimate + half, p_value, se, n, PAIRED_T)


def bootstrap_test(observed: float, resampled: np.ndarray, allowed: float, confidence: float, n: int) -> PairedTest:
    """Test a worsening of a case metric that is not a plain mean (macro F1, AUC, median) from a paired bootstrap:
    `resampled` are the worsenings recomputed on resamples of the pairs (NaN ones are ignored).

    Interval: the percentile interval. p-value: normal approximation, z = (observed - allowed) / se with se the
    standard deviation of the resampled worsenings. Counting the resamples beyond the allowance cannot give a
    p-value below 1 / (resamples + 1), e.g. 1/1001, so no check could survive a multiplicity correction over more
    than ~50 checks; the normal tail can, at the price of assuming the worsening is roughly normal.
    """
    values = np.asarray(resampled, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 2 or math.isnan(observed):
        return PairedTest(float(observed), (math.nan, math.nan), math.nan, math.nan, n, BOOTSTRAP)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    se = float(values.std(ddof=1))
    if se == 0:
        p_value = 0.0 if observed > allowed else 1.0
    else:
        p_value = float(normal_sf(np.asarray((observed - allowed) / se)))
    return PairedTest(float(observed), (float(low), float(high)), p_value, se, n, BOOTSTRAP)


def adjust(p_values: np.ndarray, method: str, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted p-values and reject flags over a family of checks: "bh" (Benjamini-Hochberg step-up: false
    discovery rate <= alpha), "holm" (Holm step-down: family-wise error rate <= alpha) or "none" (raw).

    A check is rejected when its adjusted p-value is <= alpha. NaN p-values (unjudged checks) are not part of the
    family: they stay NaN and are never rejected. A 2-D array is one family per row."""
    p = np.asarray(p_values, dtype=float)
    if method not in ("bh", "holm", "none"):
        raise ValueError(f"unknown correction {method!r}: use 'bh', 'holm' or 'none'")
    if p.ndim == 0 or p.ndim > 2:
        raise ValueError(f"p_values must be 1-D (one family) or 2-D (one family per row), got shape {p.shape}")
    rows = p.reshape(-1, p.shape[-1]) if p.ndim == 2 else p[None, :]
    adjusted = rows.copy() if method == "none" else _adjust_rows(rows, method)
    adjusted = adjusted.reshape(p.shape)
    reject = np.zeros(p.shape, dtype=bool)
    np.less_equal(adjusted, alpha, out=reject, where=~np.isnan(adjusted))
    return adjusted, reject


def _adjust_rows(p: np.ndarray, method: str) -> np.ndarray:
    width = p.shape[1]
    if width == 0:
        return p.copy()
    order = np.argsort(p, axis=1, kind="stable")  # NaN sort last
    ranked = np.take_along_axis(p, order, axis=1)
    valid = ~np.isnan(ranked)
    m = valid.sum(axis=1, keepdims=True)
    rank = np.arange(1, width + 1)[None, :]
    if method == "bh":
        scaled = np.where(valid, ranked * m / rank, np.inf)
        adjusted = np.minimum.accumulate(scaled[:, ::-1], axis=1)[:, ::-1]
    else:
        scaled = np.where(valid, ranked * (m - rank + 1), -np.inf)
        adjusted = np.maximum.accumulate(scaled, axis=1)
    adjusted = np.where(valid, np.minimum(adjusted, 1.0), np.nan)
    out = np.empty_like(adjusted)
    np.put_along_axis(out, order, adjusted, axis=1)
    return out


def detectable_worsening(se: float, level: float, power: float = 0.8) -> float:
    """The smallest true worsening beyond the allowance that a one-sided test at `level` finds with `power`,
    for an estimate with standard error `se`: (z_{1-level} + z_{power}) * se."""
    return (_NORMAL.inv_cdf(1 - level) + _NORMAL.inv_cdf(power)) * se
