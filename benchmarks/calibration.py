"""Calibration of the regression checks (pytest_kolena.checks.paired): false alarms, power, interval coverage; for
a mean of 0/1 sample metrics before and after the tests of issue 20, side by side in one run.

- before (26911a7): with no allowance the exact McNemar test, with one Tango's score test continuity-corrected by
  one pair, Tango's plain score interval; composed here from `paired`'s primitives, which did not change;
- after: the plugin's own tests (`regression.BINARY_TESTS` through `paired.discordant_tests`, what `judge_mean`
  calls after counting): the mid-p McNemar test, Tango's score test with a skewness correction and a continuity
  correction of 0.75 (of worse - better), and the interval that inverts them.

A 0/1 check depends on its data only through n and the counts of pairs that got worse and better, drawn here as
a multinomial: P(worse) = p10, P(better) = p01, p10 + p01 = churn (the share of samples whose outcome changed),
p10 - p01 = the true worsening (0 at "no change", the allowance at the boundary of H0, 0.02 for a "2-point drop").
(A baseline accuracy of 0.85 bounds p01 by 0.15, hence churn at most 30% at no change.) Two ways to a rate:

- Monte-Carlo: `--reps` checks per setting, ± standard error;
- exact: the probability of every outcome (worse, better) of n pairs, summed over those the test rejects (no
  Monte-Carlo error; `--dense` runs it over every 10th n from 20 to 1,000 and 59 churns from 1% to 30%).

Also: runs of 60 slices decided by `regression.decide` (one model run's family, Benjamini-Hochberg or Holm); an
NME-like continuous metric (baseline ~ lognormal, candidate = baseline * lognormal noise of mean 1 + shift) for the
paired t path; macro F1 and the median NME for the bootstrap path; `detectable_worsening` checked by simulation.

    python benchmarks/calibration.py [--reps N] [--seed S] [--quick] [--dense]

`--reps`: simulated checks per setting (default 20,000); runs of 60 slices: reps / 10 per setting; bootstraps:
reps / 10. `--quick`: 1,000 checks per setting. About 3 minutes on 2 cores; `--dense` adds about 5.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import time
from collections.abc import Callable
from fractions import Fraction
from functools import cache
from statistics import NormalDist

import numpy as np

from pytest_kolena.checks import paired
from pytest_kolena.checks.regression import BINARY_TESTS, Allowance, Comparison, Judging, decide

ALPHA = Judging().alpha  # the plugin's one-sided level: (1 - confidence) / 2 = 0.025
CONFIDENCE = 0.95
BASE_ACCURACY = 0.85
DROP = 0.02
SIZES = (20, 50, 100, 200, 500, 1000)  # the grid of the false-alarm rates
CHURNS = (0.01, 0.02, 0.05, 0.10, 0.20, 0.30)
MARGINS = (0.005, 0.01, 0.02)  # allowances of the boundary rows (a true worsening equal to the allowance)
POWER_SIZES = (200, 1000)
POWER_CHURNS = (0.02, 0.05, 0.10, 0.20)
SLICES = 60
RESAMPLES = 1000
CHUNK = 4_000_000  # samples per generated block, to bound memory
ALLOWED, WORSENED = 0.01, 0.03  # power with an allowance: true worsening 2 points beyond it

# NME-like metric: baseline ~ lognormal(log 0.05, 0.5); candidate = baseline * lognormal(-s^2/2, s) + shift
NME_MU, NME_SIGMA, NOISE_SIGMA = math.log(0.05), 0.5, 0.2
NME_SHIFT = 0.002  # true mean worsening in the coverage runs (about 4% of the mean NME)
MEDIAN_WORSENING = 0.001  # true worsening of the median NME in the bootstrap runs

Z975 = NormalDist().inv_cdf(0.975)
TARGETS: list[tuple[str, str, str]] = []  # (target, figure, verdict)


# --- the two sets of 0/1 tests ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Judged:
    """0/1 checks judged one way: p-values of a worsening beyond the allowance and of an improvement, interval."""

    p_value: np.ndarray
    p_improved: np.ndarray
    low: np.ndarray
    high: np.ndarray


def before_p(worse: np.ndarray, better: np.ndarray, n: int, allowed: float) -> np.ndarray:
    """The p-values at 26911a7: exact McNemar with no allowance, Tango continuity-corrected by one pair with one."""
    if allowed == 0:
        return paired.binomial_tail(worse, worse + better)
    if allowed >= 1:
        return np.ones(np.shape(worse))
    return paired.normal_sf(paired.tango_score(worse, better, n, allowed, correction=1.0))


def after_p(worse: np.ndarray, better: np.ndarray, n: int, allowed: float) -> np.ndarray:
    return paired.discordant_p_values(worse, better, n, allowed, BINARY_TESTS)


def plain_tango_p(worse: np.ndarray, better: np.ndarray, n: int, allowed: float) -> np.ndarray:
    """Candidates not adopted: Tango's score test without any correction..."""
    return paired.normal_sf(paired.tango_score(worse, better, n, allowed))


def skewed_p(worse: np.ndarray, better: np.ndarray, n: int, allowed: float) -> np.ndarray:
    """...with the skewness correction but no continuity correction..."""
    return paired.normal_sf(paired.tango_score(worse, better, n, allowed, skew=True))


def half_step_p(worse: np.ndarray, better: np.ndarray, n: int, allowed: float) -> np.ndarray:
    """...and with it and a continuity correction of half a step of worse - better (0.5)."""
    return paired.normal_sf(paired.tango_score(worse, better, n, allowed, 0.5, skew=True))


def before(worse: np.ndarray, better: np.ndarray, n: int, allowed: float) -> Judged:
    low, high = paired.tango_interval(worse, better, n, CONFIDENCE)
    return Judged(before_p(worse, better, n, allowed), before_p(better, worse, n, 0.0), low, high)


def after(worse: np.ndarray, better: np.ndarray, n: int, allowed: float) -> Judged:
    tests = paired.discordant_tests(worse, better, n, allowed, CONFIDENCE, BINARY_TESTS)
    return Judged(tests.p_value, after_p(better, worse, n, 0.0), tests.low, tests.high)


WAYS = {"before": (before_p, before), "after": (after_p, after)}


# --- simulation ---------------------------------------------------------------------------------------------------


def cells(churn: float, worsening: float) -> tuple[float, float]:
    """(p10, p01): P(a pair got worse), P(it got better)."""
    p10, p01 = (churn + worsening) / 2, (churn - worsening) / 2
    assert p01 >= 0 and p10 <= BASE_ACCURACY and p01 <= 1 - BASE_ACCURACY, (churn, worsening)
    return p10, p01


def counts(rng: np.random.Generator, rows: int, n: int, churn: float, worsening: float) -> tuple[np.ndarray, ...]:
    """(worse, better) of `rows` checks of n pairs each."""
    p10, p01 = cells(churn, worsening)
    drawn = rng.multinomial(n, [p10, p01, 1 - p10 - p01], size=rows).astype(float)
    return drawn[:, 0], drawn[:, 1]


class Outcomes:
    """Every outcome (worse, better) of n pairs, and its probability under a churn and a true worsening."""

    def __init__(self, n: int):
        worse, better = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
        keep = worse + better <= n
        self.n, self.worse, self.better = n, worse[keep].astype(float), better[keep].astype(float)
        log_factorial = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1)))])
        rest = (n - self.worse - self.better).astype(int)
        self._log_ways = log_factorial[n] - log_factorial[self.worse.astype(int)]
        self._log_ways -= log_factorial[self.better.astype(int)] + log_factorial[rest]
        self._rest = rest

    def probability(self, churn: float, worsening: float) -> np.ndarray:
        p10, p01 = cells(churn, worsening)

        def term(k: np.ndarray, p: float) -> np.ndarray:
            return np.where(k > 0, k * math.log(p) if p > 0 else -np.inf, 0.0)

        log_p = self._log_ways + term(self.worse, p10) + term(self.better, p01) + term(self._rest, 1 - churn)
        return np.exp(log_p)

    def rate(self, rejected: np.ndarray, churn: float, worsening: float) -> float:
        return float(self.probability(churn, worsening)[rejected].sum())


@cache
def outcomes(n: int) -> Outcomes:
    return Outcomes(n)


@cache
def _mid_p(worse: int, discordant: int) -> float:
    """The mid-p McNemar p-value in exact integer arithmetic: the reference for `paired.mid_p_tail`."""
    above = sum(math.comb(discordant, k) for k in range(worse + 1, discordant + 1))
    return float(Fraction(2 * above + math.comb(discordant, worse), 2 ** (discordant + 1)))


def exact_mid_p(worse: np.ndarray, better: np.ndarray) -> np.ndarray:
    pairs, inverse = np.unique(np.stack([worse, worse + better], axis=1), axis=0, return_inverse=True)
    values = np.array([_mid_p(int(w), int(m)) for w, m in pairs])
    return values[inverse.ravel()]


def nme_pairs(rng: np.random.Generator, rows: int, n: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    base = np.exp(rng.normal(NME_MU, NME_SIGMA, (rows, n)))
    noise = np.exp(rng.normal(-(NOISE_SIGMA**2) / 2, NOISE_SIGMA, (rows, n)))  # mean 1
    return base, base * noise + shift


def true_median_worsening(shift: float) -> float:
    """median(baseline * noise) = exp(mu - s^2/2) (a product of lognormals is lognormal), so the candidate's median
    is that plus the shift; the baseline's is exp(mu)."""
    return math.exp(NME_MU - NOISE_SIGMA**2 / 2) + shift - math.exp(NME_MU)


def median_pairs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    base, cand = nme_pairs(rng, 1, n, MEDIAN_WORSENING - true_median_worsening(0.0))
    return base[0], cand[0]


def median_worsening(base: np.ndarray, cand: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Worsening of the median NME (lower is better) on each row of resampled indices."""
    return np.median(cand[index], axis=1) - np.median(base[index], axis=1)


# macro F1 on 3 classes: the baseline is right with probability 0.85, else one of the other classes at random; the
# candidate keeps the baseline's prediction with probability 0.85, else predicts afresh, right with probability 0.75
PRIORS = np.array([0.5, 0.3, 0.2])
F1_BASE, F1_KEEP, F1_FRESH = 0.85, 0.85, 0.75


def confusion(accuracy: float) -> np.ndarray:
    """P(true class, predicted class) of a model right with `accuracy`, its errors spread evenly."""
    k = len(PRIORS)
    return PRIORS[:, None] * np.where(np.eye(k, dtype=bool), accuracy, (1 - accuracy) / (k - 1))


def macro_f1(counts: np.ndarray) -> np.ndarray:
    """Macro F1 from confusion matrices (..., k, k): mean over classes of 2 TP / (2 TP + FP + FN)."""
    tp = np.diagonal(counts, axis1=-2, axis2=-1)
    return np.mean(2 * tp / (counts.sum(axis=-1) + counts.sum(axis=-2)), axis=-1)


# the population macro F1s (the limit of the sample ones): the candidate's confusion is a mixture
F1_WORSENING = float(
    macro_f1(confusion(F1_BASE)) - macro_f1(F1_KEEP * confusion(F1_BASE) + (1 - F1_KEEP) * confusion(F1_FRESH))
)


def f1_pairs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells (3 * true + predicted) of each sample, for baseline and candidate."""
    k = len(PRIORS)
    truth = rng.choice(k, size=n, p=PRIORS)

    def predict(accuracy: float) -> np.ndarray:
        wrong = (truth + rng.integers(1, k, n)) % k
        return np.where(rng.random(n) < accuracy, truth, wrong)

    base = predict(F1_BASE)
    cand = np.where(rng.random(n) < F1_KEEP, base, predict(F1_FRESH))
    return k * truth + base, k * truth + cand


def f1_worsening(base: np.ndarray, cand: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Worsening of macro F1 (higher is better) on each row of resampled indices: confusion counts by bincount."""
    k = len(PRIORS)
    rows = len(index)
    offset = (np.arange(rows) * k * k)[:, None]

    def f1(cells: np.ndarray) -> np.ndarray:
        counts = np.bincount((offset + cells[index]).ravel(), minlength=rows * k * k)
        return macro_f1(counts.reshape(rows, k, k).astype(float))

    return f1(base) - f1(cand)


# --- output ----------------------------------------------------------------------------------------------------
# --- output ----------------------------------------------------------------------------------------------------


def rate(hits: np.ndarray) -> tuple[float, float]:
    p = float(np.mean(hits))
    return p, math.sqrt(p * (1 - p) / hits.size)


def fmt(hits: np.ndarray | tuple[float, float]) -> str:
    p, se = rate(hits) if isinstance(hits, np.ndarray) else hits
    return f"{100 * p:5.1f}% ±{100 * se:3.1f}"


def pct(value: float) -> str:
    return f"{100 * value:.3f}%"


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  " + "  ".join(str(v).rjust(w) if i else str(v).ljust(w) for i, (v, w) in enumerate(zip(row, widths))))


def target(name: str, value: tuple[float, float], ok: Callable[[float], bool]) -> None:
    """Record a target: met by the figure, met within 2 Monte-Carlo SE, or not met."""
    p, se = value
    if ok(p):
        verdict = "met"
    elif ok(p - 2 * se) or ok(p + 2 * se):
        verdict = "met within Monte-Carlo error (2 SE)"
    else:
        verdict = "NOT met"
    TARGETS.append((name, fmt(value), verdict))


def exact_target(name: str, value: float, ok: Callable[[float], bool]) -> None:
    TARGETS.append((name, pct(value), "met" if ok(value) else "NOT met"))


def worst(values: list[tuple[float, float]], highest: bool = True) -> tuple[float, float]:
    return max(values) if highest else min(values)


# --- 0/1 checks: false alarms, power, runs of slices, intervals ---------------------------------------------------


def grid(margin: float) -> list[tuple[int, float]]:
    """(n, churn) of the grid where a true worsening of `margin` is possible (churn >= margin), the margin added."""
    churns = sorted({c for c in CHURNS if c >= margin} | ({margin} if margin > 0 else set()))
    return [(n, churn) for n in SIZES for churn in churns]


def false_alarms(rng: np.random.Generator, reps: int) -> None:
    """Per check, at no change (allowance 0) and at the boundary of H0 (true worsening = allowance)."""
    extra = {"plain Tango": plain_tango_p, "skewed, no continuity correction": skewed_p, "skewed, 0.5": half_step_p}
    summary = []
    for margin in (0.0, *MARGINS):
        rows, mc, exact = [], {k: [] for k in WAYS}, {k: [] for k in (*WAYS, *extra)}
        for n, churn in grid(margin):
            worse, better = counts(rng, reps, n, churn, margin)
            every = outcomes(n)
            row = [f"n={n} churn={churn:.1%}"]
            for way, (p_values, _) in WAYS.items():
                found = p_values(worse, better, n, margin) <= ALPHA
                mc[way].append((rate(found), n, churn))
                row.append(fmt(found))
            for way, p_values in ({k: v[0] for k, v in WAYS.items()} | (extra if margin else {})).items():
                value = every.rate(p_values(every.worse, every.better, n, margin) <= ALPHA, churn, margin)
                exact[way].append((value, n, churn))
                if way in WAYS:
                    row.append(pct(value))
            rows.append(row)
        if margin in (0.0, 0.01):
            what = "no change, allowance 0" if margin == 0 else f"true worsening = allowance = {margin}"
            table(
                f"1. Per check, {what}: false-alarm rate at one-sided alpha {ALPHA} (Monte-Carlo, {reps:,} checks "
                "each; exact, by summing over every outcome)",
                ["setting", "before (MC)", "after (MC)", "before (exact)", "after (exact)"],
                rows,
            )
        for way, values in exact.items():
            if not values:
                continue
            value, n, churn = max(values)
            mc_worst = max(mc[way])[0] if way in mc else None
            summary.append(
                [f"{margin:g}", way, pct(value), f"n={n} churn={churn:.1%}", fmt(mc_worst) if mc_worst else "-"]
            )
            if way == "after":
                label = "no change" if margin == 0 else f"allowance {margin} at the boundary"
                exact_target(f"per-check false alarm, 0/1, {label}, exact, worst on the grid <= 2.5%", value,
                             lambda p: p <= 0.025)  # fmt: skip
                above = [(p - 0.025) / se for (p, se), _, _ in mc[way] if se > 0]
                TARGETS.append((f"per-check false alarm, 0/1, {label}, Monte-Carlo: no setting above 2.5% by 2 SE",
                                f"worst {fmt(max(mc[way])[0])}", "met" if max(above, default=0) <= 2 else "NOT met"))  # fmt: skip
    table(
        f"1c. Worst false-alarm rate over the grid (n {', '.join(map(str, SIZES))} x churn "
        f"{', '.join(f'{c:.0%}' for c in CHURNS)}, and churn = the allowance), per allowance and test",
        ["allowance", "test", "worst (exact)", "where", "worst (MC)"],
        summary,
    )


def dense(
    margins: tuple[float, ...] = (0.0, 0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3),
) -> None:
    """The exact false-alarm rate over every 10th n from 20 to 1,000 and 59 churns: the tests adopted, and the
    score test with half a step of continuity correction (not adopted)."""
    churns = np.round(np.linspace(0.01, 0.30, 59), 6)
    candidates = {"after": after_p, "skewed, 0.5": half_step_p}
    rows = []
    for margin in margins:
        worst_seen = {way: (0.0, 0, 0.0) for way in candidates}
        for n in range(20, 1001, 10):
            every = outcomes(n)
            for way, p_values in candidates.items():
                if way != "after" and margin == 0:
                    continue
                rejected = p_values(every.worse, every.better, n, margin) <= ALPHA
                for churn in sorted({float(c) for c in churns if c >= margin} | ({margin} if margin else set())):
                    worst_seen[way] = max(worst_seen[way], (every.rate(rejected, churn, margin), n, churn))
            outcomes.cache_clear()
        for way, (value, n, churn) in worst_seen.items():
            if value:
                rows.append([f"{margin:g}", way, pct(value), f"n={n} churn={churn:.1%}"])
        exact_target(f"dense grid, allowance {margin:g}: exact false alarm, after, worst <= 2.5%", worst_seen["after"][0],
                     lambda p: p <= 0.025)  # fmt: skip
    table("1d. Dense grid (every 10th n from 20 to 1,000, churn 1% to 30% in 59 steps), exact",
          ["allowance", "test", "worst false alarm", "where"], rows)  # fmt: skip


def power(rng: np.random.Generator, reps: int) -> None:
    rows, headline = [], None
    for n in POWER_SIZES:
        for churn in POWER_CHURNS:
            worse, better = counts(rng, reps, n, churn, DROP)
            every = outcomes(n)
            row = [f"n={n} churn={churn:.0%}"]
            found = {}
            for way, (p_values, _) in WAYS.items():
                found[way] = p_values(worse, better, n, 0.0) <= ALPHA
                row.append(fmt(found[way]))
            for p_values, _ in WAYS.values():
                row.append(pct(every.rate(p_values(every.worse, every.better, n, 0.0) <= ALPHA, churn, DROP)))
            mismatch = float(np.max(np.abs(after_p(worse, better, n, 0.0) - exact_mid_p(worse, better))))
            row.append(f"{mismatch:.0e}")
            rows.append(row)
            if (n, churn) == (200, 0.02):
                headline = rate(found["after"]), rate(found["before"])
    table(
        f"2a. Power per check, true 2-point drop, allowance 0, one-sided alpha {ALPHA} ({reps:,} checks each; exact);\n"
        "    max |dp|: after's p-values against the mid-p in exact integer arithmetic",
        ["setting", "before (MC)", "after (MC)", "before (exact)", "after (exact)", "max |dp|"],
        rows,
    )
    target("power, n=200, churn 2%, 2-point drop, allowance 0, after >= 35%", headline[0], lambda p: p >= 0.35)
    TARGETS.append(("  (the same, before)", fmt(headline[1]), "-"))
    rows = []
    for n in POWER_SIZES:
        for churn in POWER_CHURNS[1:]:
            every = outcomes(n)
            row = [f"n={n} churn={churn:.0%}"]
            for p_values, _ in WAYS.values():
                row.append(pct(every.rate(p_values(every.worse, every.better, n, ALLOWED) <= ALPHA, churn, WORSENED)))
            rows.append(row)
    table(
        f"2b. Power per check with an allowance of {ALLOWED}, true worsening {WORSENED} (exact)",
        ["setting", "before", "after"],
        rows,
    )


def as_comparisons(judged: Judged, n: int) -> list[Comparison]:
    """Checks of accuracy (allowance "+0") ready for `decide`, from their p-values and intervals."""
    allowance = Allowance.parse("accuracy", "+0")
    out = []
    for i in range(len(judged.p_value)):
        test = paired.PairedTest(0.0, (float(judged.low[i]), float(judged.high[i])), float(judged.p_value[i]), 0.01,
                                 n, "")  # fmt: skip
        out.append(Comparison("accuracy", BASE_ACCURACY, BASE_ACCURACY, allowance, 0.0, False, test=test,
                              p_improved=float(judged.p_improved[i])))  # fmt: skip
    return out


def any_regressed(judged: Judged, n: int, runs: int, control: str) -> np.ndarray:
    """Per run of SLICES checks: did `regression.decide` (one model run's family) call any of them regressed?"""
    judging = Judging(error_control=control)
    checks = as_comparisons(judged, n)
    return np.array(
        [any(c.verdict == "regressed" for c in decide(checks[r * SLICES : (r + 1) * SLICES], judging))
         for r in range(runs)]
    )  # fmt: skip


def runs_of_slices(rng: np.random.Generator, runs: int, n: int = 200) -> None:
    rows, worst_after, worst_before = [], [], []
    for churn in CHURNS:
        worse, better = counts(rng, runs * SLICES, n, churn, 0.0)
        row = [f"churn={churn:.0%}"]
        for way, (_, judge) in WAYS.items():
            judged = judge(worse, better, n, 0.0)
            for control in ("bh", "holm"):
                found = any_regressed(judged, n, runs, control)
                row.append(fmt(found))
                (worst_after if way == "after" else worst_before).append(rate(found))
        rows.append(row)
    table(
        f"3a. Runs of {SLICES} slices x {n} samples, nothing changed: share of runs with any REGRESSED check\n"
        f"    (`regression.decide`, one model run's family; {runs:,} runs each)",
        ["setting", "before, bh", "before, holm", "after, bh", "after, holm"],
        rows,
    )
    target(f"runs of {SLICES} unchanged slices with any REGRESSED, after (worst churn, bh or holm) <= 5%",
           worst(worst_after), lambda p: p <= 0.05)  # fmt: skip
    TARGETS.append(("  (the same, before)", fmt(worst(worst_before)), "-"))
    rows, n = [], 1000
    for churn in POWER_CHURNS[1:]:
        every = counts(rng, runs * SLICES, n, churn, DROP)
        one = counts(rng, runs, n, churn, DROP)
        rest = counts(rng, runs * (SLICES - 1), n, churn, 0.0)
        row = [f"n={n} churn={churn:.0%}"]
        for p_values, _ in WAYS.values():
            p_every = p_values(*every, n, 0.0).reshape(runs, SLICES)
            p_one = np.concatenate([p_values(*one, n, 0.0)[:, None],
                                    p_values(*rest, n, 0.0).reshape(runs, SLICES - 1)], axis=1)  # fmt: skip
            row.append(fmt(paired.adjust(p_every, "bh", ALPHA)[1]))
            row.append(fmt(paired.adjust(p_one, "bh", ALPHA)[1][:, 0]))
        rows.append(row)
    table(
        f"3b. Per-slice power with bh, runs of {SLICES} slices x {n} samples, 2-point drop in all {SLICES} slices or\n"
        f"    in slice 1 only (its power); {runs:,} runs each",
        ["setting", f"before, all {SLICES}", "before, 1 of 60", f"after, all {SLICES}", "after, 1 of 60"],
        rows,
    )


def binary_intervals(rng: np.random.Generator, reps: int) -> None:
    """Coverage of the true worsening, and whether each check's interval and p-values tell the same verdict."""
    rows, cover, disagree = [], {k: [] for k in WAYS}, {k: [] for k in WAYS}
    for n in POWER_SIZES:
        for churn in POWER_CHURNS:
            row = [f"n={n} churn={churn:.0%}"]
            drop, nothing = counts(rng, reps, n, churn, DROP), counts(rng, reps, n, churn, 0.0)
            for way, (_, judge) in WAYS.items():
                judged = judge(*drop, n, 0.0)
                inside = (judged.low <= DROP) & (judged.high >= DROP)
                cover[way].append(rate(inside))
                split = []
                for data, allowed in ((drop, 0.0), (nothing, 0.0), (nothing, ALLOWED)):
                    j = judge(*data, n, allowed)
                    split.append(
                        ((j.low > allowed) != (j.p_value <= ALPHA)) | ((j.high < 0) != (j.p_improved <= ALPHA))
                    )
                split = np.concatenate(split)
                disagree[way].append(rate(split))
                row += [fmt(inside), fmt(split)]
            rows.append(row)
    table(
        f"4i. 0/1 checks, {CONFIDENCE:.0%} intervals ({reps:,} checks each): coverage of a true 2-point drop; share of\n"
        "    checks whose interval and p-values disagree on the verdict (2-point drop and no change at allowance 0,\n"
        f"    no change at allowance {ALLOWED}: regressed by p <= alpha but low <= allowance, or the reverse; improved\n"
        "    likewise against high < 0)",
        ["setting", "before: coverage", "before: disagree", "after: coverage", "after: disagree"],
        rows,
    )
    for way in WAYS:
        target(f"coverage, 0/1 interval, {way}, 93-97% (lowest)", worst(cover[way], False), lambda p: p >= 0.93)
        target(f"coverage, 0/1 interval, {way}, 93-97% (highest)", worst(cover[way]), lambda p: p <= 0.97)
    TARGETS.append(("interval and p-value disagree, after: never", fmt(worst(disagree["after"])),
                    "met" if worst(disagree["after"])[0] == 0 else "NOT met"))  # fmt: skip
    TARGETS.append(("  (the same, before)", fmt(worst(disagree["before"])), "-"))


def continuous(rng: np.random.Generator, reps: int) -> None:
    """The paired t path (an NME-like mean) and the bootstrap path (median NME, macro F1)."""
    rows, cover, alarms, boundary = [], [], [], []
    for n in POWER_SIZES:
        step = max(1, CHUNK // n)
        inside, alarm, at_margin = [], [], []
        for start in range(0, reps, step):
            size = min(step, reps - start)
            base, cand = nme_pairs(rng, size, n, NME_SHIFT)
            result = paired.mean_tests(cand - base, NME_SHIFT, CONFIDENCE, binary=None)  # allowed = true worsening
            inside.append((result.low <= NME_SHIFT) & (result.high >= NME_SHIFT))
            at_margin.append(result.p_value <= ALPHA)
            base, cand = nme_pairs(rng, size, n, 0.0)
            alarm.append(paired.mean_tests(cand - base, 0.0, CONFIDENCE, binary=None).p_value <= ALPHA)
        inside, alarm, at_margin = np.concatenate(inside), np.concatenate(alarm), np.concatenate(at_margin)
        cover.append(rate(inside))
        alarms.append(rate(alarm))
        boundary.append(rate(at_margin))
        rows.append([f"NME-like mean, n={n}", fmt(inside), fmt(alarm), fmt(at_margin)])
    table(
        f"4ii. NME-like sample metric, paired t ({reps:,} checks each): coverage of the true mean worsening "
        f"{NME_SHIFT};\n     false alarms at no change (allowed 0) and at the boundary (allowed = true worsening "
        f"= {NME_SHIFT})",
        ["setting", "t interval coverage", "false alarm, no change", "false alarm at boundary"],
        rows,
    )
    target("coverage, paired t interval on NME-like data, 93-97% (lowest)", worst(cover, False), lambda p: p >= 0.93)
    target("coverage, paired t interval on NME-like data, 93-97% (highest)", worst(cover), lambda p: p <= 0.97)
    target("per-check false alarm, paired t on NME-like data at no change <= 5%", worst(alarms), lambda p: p <= 0.05)

    boots = max(50, reps // 10)
    rows = []
    for label, truth, draw, worsening in (("median NME", MEDIAN_WORSENING, median_pairs, median_worsening),
                                          ("macro F1, 3 classes", F1_WORSENING, f1_pairs, f1_worsening)):  # fmt: skip
        cover, boundary = [], []
        for n in POWER_SIZES:
            inside, normal, alarm, small = [], [], [], []
            for _ in range(boots):
                base, cand = draw(rng, n)
                resampled = worsening(base, cand, rng.integers(0, n, (RESAMPLES, n)))
                observed = float(worsening(base, cand, np.arange(n)[None, :])[0])
                result = paired.bootstrap_test(observed, resampled, truth, CONFIDENCE, n)  # allowed = true worsening
                inside.append(result.interval[0] <= truth <= result.interval[1])
                normal.append(abs(observed - truth) <= Z975 * result.se)
                alarm.append(result.p_value <= ALPHA)
                small.append(paired.bootstrap_test(observed, resampled, 0.0, CONFIDENCE, n).p_value)
            inside, normal, alarm = np.array(inside), np.array(normal), np.array(alarm)
            cover.append(rate(inside))
            boundary.append(rate(alarm))
            rows.append([f"{label}, n={n}", f"{truth:.4f}", fmt(inside), fmt(normal), fmt(alarm),
                         f"{np.median(small):.1e}"])  # fmt: skip
        target(f"coverage, bootstrap percentile interval ({label}), 93-97% (lowest)", worst(cover, False),
               lambda p: p >= 0.93)  # fmt: skip
        target(f"coverage, bootstrap percentile interval ({label}), 93-97% (highest)", worst(cover),
               lambda p: p <= 0.97)  # fmt: skip
        target(f"false alarm, bootstrap_test at the boundary ({label}) <= 5%", worst(boundary), lambda p: p <= 0.05)
    table(
        f"4iii. bootstrap_test on metrics that are not a mean ({boots:,} checks of {RESAMPLES} resamples each):\n"
        "      coverage of the true worsening by the percentile interval (and, for reference, by observed +- 1.96 se);\n"
        "      false alarm at the boundary (allowed = true worsening); median p-value against allowed 0 (counting\n"
        f"      resamples could not go below 1/{RESAMPLES + 1} = {1 / (RESAMPLES + 1):.1e})",
        ["setting", "true worsening", "percentile coverage", "+-1.96 se coverage", "false alarm at boundary",
         "median p vs allowed 0"],
        rows,
    )  # fmt: skip


def detectable(rng: np.random.Generator, reps: int) -> None:
    """Is `detectable_worsening` honest? Simulate at the worsening it reports and count how often it is found."""
    rows = []
    n, churn = 1000, 0.10
    at_zero = counts(rng, min(reps, 2000), n, churn, 0.0)
    se = float(np.median(paired.discordant_tests(*at_zero, n, 0.0, CONFIDENCE, BINARY_TESTS).se))
    worsening = paired.detectable_worsening(se, ALPHA)
    found = after_p(*counts(rng, reps, n, churn, worsening), n, 0.0) <= ALPHA
    rows.append([f"binary, n={n} churn={churn:.0%}", f"{se:.4f}", f"{worsening:.4f}", fmt(found)])
    first = rate(found)
    n = 200
    base, cand = nme_pairs(rng, min(reps, 2000), n, 0.0)
    se = float(np.median(paired.mean_tests(cand - base, 0.0, CONFIDENCE, binary=None).se))
    worsening = paired.detectable_worsening(se, ALPHA)
    base, cand = nme_pairs(rng, reps, n, worsening)
    found = paired.mean_tests(cand - base, 0.0, CONFIDENCE, binary=None).p_value <= ALPHA
    rows.append([f"NME-like mean, n={n}", f"{se:.5f}", f"{worsening:.5f}", fmt(found)])
    table(
        f"5. detectable_worsening(se, {ALPHA}, power 0.8): simulated power at the worsening it reports "
        f"({reps:,} checks each)",
        ["setting", "se (median at no change)", "detectable worsening", "power found"],
        rows,
    )
    for label, value in (("binary", first), ("NME-like", rate(found))):
        target(f"detectable_worsening honest ({label}): power at it about 80% (75-85%)", value,
               lambda p: 0.75 <= p <= 0.85)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20_000, help="simulated checks per setting (default 20000)")
    parser.add_argument("--quick", action="store_true", help="1,000 checks per setting")
    parser.add_argument("--dense", action="store_true", help="also the exact false-alarm rates on a dense grid")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    reps = 1_000 if args.quick else args.reps
    runs = max(20, reps // 10)
    rng = np.random.default_rng(args.seed)
    print(
        f"machine: {platform.machine()} {platform.processor() or platform.platform()}, {os.cpu_count()} cores; "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"settings: reps {reps:,} checks per setting, {runs:,} runs of {SLICES} slices, seed {args.seed}; alpha "
        f"{ALPHA} one-sided, {CONFIDENCE:.0%} intervals; before = exact McNemar / Tango continuity-corrected, after "
        f"= {BINARY_TESTS.no_allowance} / {BINARY_TESTS.allowance}"
    )
    print("figures: rate ±Monte-Carlo standard error (binomial, sqrt(p(1-p)/reps)); exact rates to 0.001%")
    start = time.perf_counter()
    false_alarms(rng, reps)
    if args.dense:
        dense()
    power(rng, reps)
    runs_of_slices(rng, runs)
    binary_intervals(rng, reps)
    continuous(rng, reps)
    detectable(rng, reps)
    print("\ntargets")
    width = max(len(t[0]) for t in TARGETS)
    for name, figure, verdict in TARGETS:
        print(f"  {name.ljust(width)}  {figure:>14}  {verdict}")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
