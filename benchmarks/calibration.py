"""Calibration of the regression checks (pytest_kolena.checks.paired): false alarms, power, interval coverage.

Simulated paired outcomes, scored by the very functions the plugin calls (`paired.mean_tests`, which is
`paired.mean_test` on many checks at once, `paired.bootstrap_test`, `paired.adjust`, `paired.detectable_worsening`):

- binary correctness (accuracy; baseline accuracy 0.85): each sample's (baseline, candidate) correctness is drawn
  from the 4-cell joint distribution with P(correct -> wrong) = p10 and P(wrong -> correct) = p01, where
  p10 + p01 = churn (the fraction of samples whose correctness differs) and p10 - p01 = the accuracy drop (0 at
  "no change": same expected accuracy; 0.02 at a "2-point drop"); the baseline keeps its marginal of 0.85;
- an NME-like continuous sample metric: baseline ~ lognormal, candidate = baseline * lognormal noise of mean 1
  + shift, so the true mean worsening is the shift; the true worsening of the median NME is known in closed form.

"old" is the method this replaces: a percentile paired bootstrap (1,000 resamples) that calls a regression when
the lower end of the 95% interval of the worsening is above the allowance, with no correction across checks. On
-1/0/1 differences the counts of +1 and -1 in a resample of the pairs are multinomial, which is how it is
simulated here (same distribution as resampling indices, far cheaper).

"exact McNemar" is computed here independently (exact integer sums) as the reference for power.

    python benchmarks/calibration.py [--reps N] [--seed S]

`--reps`: simulated checks per setting (default 5,000: about 3 minutes on 2 cores); runs of 60 slices:
reps / 10 per setting; bootstraps: reps / 10.
"""

from __future__ import annotations

import argparse
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
from pytest_kolena.checks.regression import Judging

ALPHA = Judging().alpha  # the plugin's one-sided level: (1 - confidence) / 2 = 0.025
CONFIDENCE = 0.95
BASE_ACCURACY = 0.85
DROP = 0.02
CHURNS = (0.02, 0.05, 0.10, 0.20)
SIZES = (200, 1000)
SLICES = 60
RESAMPLES = 1000
CHUNK = 4_000_000  # samples per generated block, to bound memory
MARGIN = 0.01  # allowance of the Tango rows (binary path with an allowance)

# NME-like metric: baseline ~ lognormal(log 0.05, 0.5); candidate = baseline * lognormal(-s^2/2, s) + shift
NME_MU, NME_SIGMA, NOISE_SIGMA = math.log(0.05), 0.5, 0.2
NME_SHIFT = 0.002  # true mean worsening in the coverage runs (about 4% of the mean NME)
MEDIAN_WORSENING = 0.001  # true worsening of the median NME in the bootstrap runs

Z975 = NormalDist().inv_cdf(0.975)
TARGETS: list[tuple[str, str, str]] = []  # (target, figure, verdict)


# --- simulation ------------------------------------------------------------------------------------------------


def cells(churn: float, drop: float) -> np.ndarray:
    """P(baseline, candidate correct) for (1,1), (1,0), (0,1), (0,0): p10 - p01 = drop, p10 + p01 = churn."""
    p10, p01 = (churn + drop) / 2, (churn - drop) / 2
    probs = np.array([BASE_ACCURACY - p10, p10, p01, 1 - BASE_ACCURACY - p01])
    assert (probs >= 0).all(), (churn, drop)
    return probs


def binary_diffs(rng: np.random.Generator, rows: int, n: int, churn: float, drop: float) -> np.ndarray:
    """Per-sample worsenings d = sign * (candidate - baseline), sign = -1 (accuracy: higher is better)."""
    p11, p10, p01, _ = cells(churn, drop)
    u = rng.random((rows, n))  # one draw per sample picks its cell: [0, p11) (1,1), then (1,0), (0,1), (0,0)
    baseline = u < p11 + p10
    candidate = (u < p11) | ((u >= p11 + p10) & (u < p11 + p10 + p01))
    return -(candidate.astype(float) - baseline.astype(float))


class Checks:
    """Checks of binary data, each judged four ways on the same simulated samples."""

    def __init__(self, rng: np.random.Generator, rows: int, n: int, churn: float, drop: float, allowed: float = 0.0):
        self.n = n
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("binary", "t", "t_low", "t_high", "low", "high")}
        worse, better = [], []
        step = max(1, CHUNK // n)
        for start in range(0, rows, step):
            diffs = binary_diffs(rng, min(step, rows - start), n, churn, drop)
            new = paired.mean_tests(diffs, allowed, CONFIDENCE, binary=True)  # the plugin's binary path
            cont = paired.mean_tests(diffs, allowed, CONFIDENCE, binary=False)  # its continuous path, same data
            parts["binary"].append(new.p_value)
            parts["low"].append(new.low)
            parts["high"].append(new.high)
            parts["t"].append(cont.p_value)
            parts["t_low"].append(cont.low)
            parts["t_high"].append(cont.high)
            worse.append((diffs > 0).sum(axis=1))
            better.append((diffs < 0).sum(axis=1))
        self.method = new.method
        self.p = {k: np.concatenate(v) for k, v in parts.items()}
        self.worse, self.better = np.concatenate(worse), np.concatenate(better)
        self.allowed = allowed
        self._rng = rng

    def mcnemar(self) -> np.ndarray:
        """Reference exact one-sided McNemar p-values, computed independently of paired.py."""
        return exact_mcnemar(self.worse, self.worse + self.better)

    def old(self) -> np.ndarray:
        """Today's verdict: lower end of the 95% percentile bootstrap interval beyond the allowance."""
        return old_bootstrap(self._rng, self.worse, self.better, self.n, self.allowed)


@cache
def _mcnemar(worse: int, discordant: int) -> float:
    if discordant == 0:
        return 1.0
    return float(Fraction(sum(math.comb(discordant, k) for k in range(worse, discordant + 1)), 2**discordant))


def exact_mcnemar(worse: np.ndarray, discordant: np.ndarray) -> np.ndarray:
    pairs, inverse = np.unique(np.stack([worse, discordant], axis=1), axis=0, return_inverse=True)
    values = np.array([_mcnemar(int(w), int(m)) for w, m in pairs])
    return values[inverse.ravel()]


def old_bootstrap(
    rng: np.random.Generator, worse: np.ndarray, better: np.ndarray, n: int, allowed: float
) -> np.ndarray:
    """Today's verdict per check. It depends on the data only through (worse, better), so each distinct pair gets
    its probability of "regressed" over 20 independent bootstraps, and each check a verdict drawn from it."""
    pairs, inverse = np.unique(np.stack([worse, better], axis=1), axis=0, return_inverse=True)
    b, c = pairs[:, 0].astype(float), pairs[:, 1].astype(float)
    realisations = 20
    share = np.divide(c, n - b, out=np.zeros_like(c), where=n - b > 0)
    regressed = np.zeros(len(pairs))
    for _ in range(realisations):
        resampled_b = rng.binomial(n, b / n, size=(RESAMPLES, len(b)))
        resampled_c = rng.binomial(n - resampled_b, share)
        low = np.percentile((resampled_b - resampled_c) / n, (1 - CONFIDENCE) / 2 * 100, axis=0)
        regressed += low > allowed
    probability = regressed[inverse.ravel()] / realisations
    return rng.random(len(worse)) < probability


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


def rate(hits: np.ndarray) -> tuple[float, float]:
    p = float(np.mean(hits))
    return p, math.sqrt(p * (1 - p) / hits.size)


def fmt(hits: np.ndarray | tuple[float, float]) -> str:
    p, se = rate(hits) if isinstance(hits, np.ndarray) else hits
    return f"{100 * p:5.1f}% ±{100 * se:3.1f}"


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


def worst(values: list[tuple[float, float]], highest: bool = True) -> tuple[float, float]:
    return max(values) if highest else min(values)


# --- sections --------------------------------------------------------------------------------------------------


def per_check_false_alarms(rng: np.random.Generator, reps: int) -> None:
    rows, binary, cont, tango = [], [], [], []
    for n in SIZES:
        for churn in CHURNS:
            checks = Checks(rng, reps, n, churn, 0.0)
            new, t, old = checks.p["binary"] <= ALPHA, checks.p["t"] <= ALPHA, checks.old()
            binary.append(rate(new))
            cont.append(rate(t))
            margin = Checks(rng, reps, n, max(churn, MARGIN), MARGIN, allowed=MARGIN) if churn > MARGIN else None
            if margin is not None:
                tango.append(rate(margin.p["binary"] <= ALPHA))
            rows.append(
                [
                    f"n={n} churn={churn:.0%}",
                    fmt(old),
                    fmt(new),
                    fmt(t),
                    fmt(margin.p["binary"] <= ALPHA) if margin else "-",
                    fmt(margin.p["t"] <= ALPHA) if margin else "-",
                ]
            )
    table(
        f"1. Per check, no change, allowed 0, raw one-sided alpha {ALPHA}: false-alarm rate ({reps:,} checks each)\n"
        f"   last two columns: allowed {MARGIN} and a true worsening of exactly {MARGIN} (H0 boundary)",
        ["setting", "old bootstrap", f"new ({paired.EXACT_BINOMIAL})", "continuous path (paired t)",
         "new at margin (Tango, corrected)", "paired t at margin"],
        rows,
    )  # fmt: skip
    target("per-check false alarm, binary path, allowed 0 (worst setting) <= 5%", worst(binary), lambda p: p <= 0.05)
    target("per-check false alarm, Tango at the margin (worst setting) <= 5%", worst(tango), lambda p: p <= 0.05)
    target("per-check false alarm, paired t on 0/1 data (worst setting) <= 5%", worst(cont), lambda p: p <= 0.05)


def per_run_false_alarms(rng: np.random.Generator, runs: int, n: int = 200) -> None:
    rows, controlled = [], []
    for churn in CHURNS:
        checks = Checks(rng, runs * SLICES, n, churn, 0.0)
        old = checks.old().reshape(runs, SLICES).any(axis=1)
        row = [f"churn={churn:.0%}", fmt(old)]
        for path in ("binary", "t"):
            p = checks.p[path].reshape(runs, SLICES)
            for method in ("none", "holm", "bh"):
                any_reject = paired.adjust(p, method, ALPHA)[1].any(axis=1)
                row.append(fmt(any_reject))
                if method != "none":
                    controlled.append((path, method, rate(any_reject)))
        rows.append(row)
    table(
        f"2. Per run of {SLICES} slices x {n} samples, no change: runs with ANY rejection ({runs:,} runs each)",
        ["setting", "old (no correction)", "exact: none", "exact: holm", "exact: bh", "paired t: none",
         "paired t: holm", "paired t: bh"],
        rows,
    )  # fmt: skip
    for path, label in (("binary", "binary path"), ("t", "paired t on 0/1 data")):
        for method in ("holm", "bh"):
            figure = worst([r for p, m, r in controlled if p == path and m == method])
            target(f"run-wise false alarm, {label}, {method} (worst churn) <= 5%", figure, lambda p: p <= 0.05)


def ratio(found: np.ndarray, reference: np.ndarray) -> str:
    """Power relative to the reference; '-' when the reference finds (next to) nothing."""
    return f"{found.mean() / reference.mean():.2f}" if reference.mean() >= 0.05 else "-"


def power(rng: np.random.Generator, reps: int, runs: int) -> dict[tuple[int, float], Checks]:
    raw_rows, run_rows, ratios_control, identical = [], [], [], True
    kept = {}
    for n in SIZES:
        for churn in CHURNS:
            checks = Checks(rng, reps, n, churn, DROP)
            kept[n, churn] = checks
            exact = checks.mcnemar()
            mismatch = float(np.max(np.abs(exact - checks.p["binary"])))
            new, ref, t = checks.p["binary"] <= ALPHA, exact <= ALPHA, checks.p["t"] <= ALPHA
            identical &= np.array_equal(new, ref)
            raw_rows.append(
                [f"n={n} churn={churn:.0%}", fmt(checks.old()), fmt(new), fmt(ref), f"{mismatch:.0e}", fmt(t),
                 ratio(t, ref)]
            )  # fmt: skip
            # runs: all 60 slices dropped; 1 of 60 dropped (slice 0), the others unchanged
            every = Checks(rng, runs * SLICES, n, churn, DROP)
            one = Checks(rng, runs, n, churn, DROP)
            rest = Checks(rng, runs * (SLICES - 1), n, churn, 0.0)

            def run(first: np.ndarray, others: np.ndarray) -> np.ndarray:
                return np.concatenate([first[:, None], others.reshape(runs, SLICES - 1)], axis=1)

            scenarios = (
                (every.p["binary"], every.mcnemar(), every.p["t"], slice(None)),
                (run(one.p["binary"], rest.p["binary"]), run(one.mcnemar(), rest.mcnemar()),
                 run(one.p["t"], rest.p["t"]), slice(0, 1)),
            )  # fmt: skip
            for method in ("holm", "bh"):
                row = [f"n={n} churn={churn:.0%}", method]
                for p_new, p_ref, p_t, column in scenarios:
                    found = [
                        paired.adjust(p.reshape(runs, SLICES), method, ALPHA)[1][:, column] for p in (p_new, p_ref, p_t)
                    ]
                    identical &= np.array_equal(found[0], found[1])
                    row += [fmt(found[0]), fmt(found[1]), fmt(found[2]), ratio(found[2], found[1])]
                    if found[1].mean() >= 0.05:  # a ratio of two near-zero powers says nothing
                        ratios_control.append(found[2].mean() / found[1].mean())
                run_rows.append(row)
    table(
        f"3a. Power per check, true 2-point accuracy drop, allowed 0, raw alpha {ALPHA} ({reps:,} checks each).\n"
        "    The binary path with allowed 0 IS the exact McNemar test: identical by construction (max |p difference|\n"
        "    to an independent exact integer computation shown)",
        ["setting", "old bootstrap", "new (binary path)", "exact McNemar", "max |dp|", "paired t", "t / McNemar"],
        raw_rows,
    )
    header = ["setting", "control"]
    for label in (f"all {SLICES}", f"1 of {SLICES}"):
        header += [f"{label}: new", "McNemar", "paired t", "t/McN"]
    table(
        f"3b. Per-slice power with control, runs of {SLICES} slices ({runs:,} runs each): all {SLICES} slices have the\n"
        f"    drop, or only slice 1 has it (power of that slice). new = binary path; McNemar = exact McNemar with the\n"
        f"    same correction; t/McN '-' where McNemar finds under 5%",
        header,
        run_rows,
    )
    TARGETS.append(
        (
            "power with control, binary path vs exact McNemar (same correction) >= 90%",
            "100% (same verdicts)" if identical else "verdicts differ",
            "met" if identical else "NOT met",
        )
    )
    low = min(ratios_control)
    TARGETS.append(
        (
            "power with control, paired t path vs exact McNemar >= 90% (worst setting, McNemar power >= 5%)",
            f"{100 * low:.0f}%",
            "met" if low >= 0.9 else "NOT met",
        )
    )
    return kept


def coverage(rng: np.random.Generator, reps: int, kept: dict[tuple[int, float], Checks]) -> None:
    rows, t_binary, tango = [], [], []
    for (n, churn), checks in kept.items():
        inside_t = (checks.p["t_low"] <= DROP) & (checks.p["t_high"] >= DROP)
        inside_tango = (checks.p["low"] <= DROP) & (checks.p["high"] >= DROP)
        t_binary.append(rate(inside_t))
        tango.append(rate(inside_tango))
        rows.append([f"binary, 2-point drop, n={n} churn={churn:.0%}", fmt(inside_t), fmt(inside_tango)])
    table(
        f"4i. Interval coverage of the true worsening ({CONFIDENCE:.0%} intervals), binary data ({reps:,} checks each)",
        ["setting", "paired t interval", "Tango score interval (binary path)"],
        rows,
    )
    target("coverage, paired t interval on 0/1 data, 93-97% (lowest)", worst(t_binary, False), lambda p: p >= 0.93)
    target("coverage, paired t interval on 0/1 data, 93-97% (highest)", worst(t_binary), lambda p: p <= 0.97)
    target("coverage, Tango interval on 0/1 data, 93-97% (lowest)", worst(tango, False), lambda p: p >= 0.93)
    target("coverage, Tango interval on 0/1 data, 93-97% (highest)", worst(tango), lambda p: p <= 0.97)

    rows, cover, alarms, boundary = [], [], [], []
    for n in SIZES:
        step = max(1, CHUNK // n)
        inside, alarm, at_margin = [], [], []
        for start in range(0, reps, step):
            size = min(step, reps - start)
            base, cand = nme_pairs(rng, size, n, NME_SHIFT)
            result = paired.mean_tests(cand - base, NME_SHIFT, CONFIDENCE, binary=False)  # allowed = true worsening
            inside.append((result.low <= NME_SHIFT) & (result.high >= NME_SHIFT))
            at_margin.append(result.p_value <= ALPHA)
            base, cand = nme_pairs(rng, size, n, 0.0)
            alarm.append(paired.mean_tests(cand - base, 0.0, CONFIDENCE, binary=False).p_value <= ALPHA)
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
        for n in SIZES:
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
    se = float(np.median(paired.mean_tests(binary_diffs(rng, min(reps, 2000), n, churn, 0.0), 0.0, CONFIDENCE,
                                           binary=True).se))  # fmt: skip
    worsening = paired.detectable_worsening(se, ALPHA)
    found = Checks(rng, reps, n, churn, worsening).p["binary"] <= ALPHA
    rows.append([f"binary, n={n} churn={churn:.0%}", f"{se:.4f}", f"{worsening:.4f}", fmt(found)])
    first = rate(found)
    n = 200
    base, cand = nme_pairs(rng, min(reps, 2000), n, 0.0)
    se = float(np.median(paired.mean_tests(cand - base, 0.0, CONFIDENCE, binary=False).se))
    worsening = paired.detectable_worsening(se, ALPHA)
    base, cand = nme_pairs(rng, reps, n, worsening)
    found = paired.mean_tests(cand - base, 0.0, CONFIDENCE, binary=False).p_value <= ALPHA
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
    parser.add_argument("--reps", type=int, default=5_000, help="simulated checks per setting (default 5000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=ALPHA, help=f"one-sided level (default {ALPHA}, the plugin's)")
    args = parser.parse_args()
    globals()["ALPHA"] = args.alpha
    reps, runs = args.reps, max(20, args.reps // 10)
    rng = np.random.default_rng(args.seed)
    print(
        f"machine: {platform.machine()} {platform.processor() or platform.platform()}, {os.cpu_count()} cores; "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"settings: reps {reps:,} checks per setting, {runs:,} runs of {SLICES} slices, seed {args.seed}; alpha "
        f"{ALPHA} one-sided, {CONFIDENCE:.0%} intervals; baseline accuracy {BASE_ACCURACY}, churn "
        f"{', '.join(f'{c:.0%}' for c in CHURNS)}, drop {DROP}; old bootstrap {RESAMPLES} resamples"
    )
    print("figures: rate ±Monte-Carlo standard error (binomial, sqrt(p(1-p)/reps))")
    start = time.perf_counter()
    per_check_false_alarms(rng, reps)
    per_run_false_alarms(rng, runs)
    kept = power(rng, reps, runs)
    coverage(rng, reps, kept)
    detectable(rng, reps)
    print("\ntargets")
    width = max(len(t[0]) for t in TARGETS)
    for name, figure, verdict in TARGETS:
        print(f"  {name.ljust(width)}  {figure:>14}  {verdict}")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
