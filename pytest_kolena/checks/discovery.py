"""Slice discovery: the metadata slices where a model is worse than on the rest of the suite ("weak"), or worse
than its baseline on the same samples ("regressed"), found without the search judging its own finds.

Selection bias is avoided by splitting the samples: every candidate slice (a value or bin of one column, or a
pair of them) is scored on the proposal half; the few that look worse there (and, for a pair, worse than both of
its columns alone) go on to the confirmation half, which the search never saw. There they get their p-value,
effect and interval, from the same tests as the regression gate: Welch's t of the slice against the rest ("weak"),
the paired t-test or the exact binomial test of the discordant pairs on the per-sample worsenings ("regressed").
`found` controls the false discovery rate over every confirmed candidate of a run (Benjamini-Hochberg).

Scores are per sample and signed: positive is worse. Group statistics come from `np.bincount` over integer codes,
one pass per column and per pair of columns, never a loop over candidates.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from . import paired

WEAK = "weak"  # worse than the rest of the suite
REGRESSED = "regressed"  # worse than the baseline, on the same samples


@dataclasses.dataclass(frozen=True)
class Grouping:
    """A way to cut the suite: one column (or a pair) into slices; `codes[i]` is sample i's slice, -1 for none."""

    columns: tuple[str, ...]
    stratify: str  # the kolena_stratify line that makes these slices test cases
    labels: tuple[str, ...]  # the test case label of each slice ("occlusion nose", "roll_deg 0 to 6.775")
    codes: np.ndarray
    pairs: bool = True  # whether its slices are paired with other columns' (a finer cut of a column: alone)

    def cross(self, other: Grouping) -> Grouping:
        """The pair of two groupings: a slice per combination of their slices."""
        width = len(other.labels)
        both = (self.codes >= 0) & (other.codes >= 0)
        codes = np.where(both, self.codes * width + other.codes, -1)
        labels = tuple(f"{a} & {b}" for a, b in itertools.product(self.labels, other.labels))
        return Grouping(self.columns + other.columns, f"{self.stratify} * {other.stratify}", labels, codes)


@dataclasses.dataclass(frozen=True)
class Settings:
    """How the search runs: the fewest samples of a slice (and of the rest), the screening level of the proposal
    half, the most candidates confirmed per search, the confidence of the intervals."""

    min_size: int = 30
    screen: float = 0.05
    max_confirmed: int = 50
    confidence: float = 0.95


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A slice confirmed on the confirmation half: its effect (positive is worse), interval and one-sided p-value."""

    kind: str
    label: str
    stratify: str
    columns: tuple[str, ...]
    size: int  # samples of the slice, both halves
    confirm_size: int  # samples of the slice in the confirmation half
    effect: float  # weak: slice mean - rest mean; regressed: mean worsening; in the metric's units, worse > 0
    low: float
    high: float
    p_value: float
    method: str
    slice_mean: float  # weak: the score's mean in the slice; regressed: the mean worsening
    other_mean: float  # weak: in the rest of the suite (or of `versus`); regressed: 0
    versus: str = ""  # weak pair: the slice of one column whose rest it was compared with ("" the suite's rest)
    outside_p: float = float("nan")  # a single: its test without the screened slices it holds (NaN: it holds none)
    holds: tuple[str, ...] = ()  # a single: the screened slices inside it (pairs, finer bins), by label


@dataclasses.dataclass(frozen=True)
class Search:
    """One search: how many candidates were tried and screened, and the confirmed candidates' tests."""

    tried: int
    screened: int
    candidates: list[Candidate]


@dataclasses.dataclass
class _Stats:
    """Per slice (last axis), and per half (first axis, when there is one): count, sum and sum of squares of the
    scores, and how many are above and below 0."""

    n: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    worse: np.ndarray
    better: np.ndarray

    def map(self, function: Callable[[np.ndarray], np.ndarray]) -> _Stats:
        return _Stats(*(function(a) for a in self.arrays()))

    def __sub__(self, other: _Stats) -> _Stats:
        return _Stats(*(a - b for a, b in zip(self.arrays(), other.arrays())))

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.n, self.s1, self.s2, self.worse, self.better


def _stats(codes: np.ndarray, size: int, scores: np.ndarray, halves: np.ndarray, signs: bool = True) -> _Stats:
    """Group statistics of `scores` per slice code and half (axis 0: half 0 = confirmation, 1 = proposal); the
    counts of scores above and below 0 only with `signs`."""
    keep = codes >= 0
    key = codes[keep] + size * halves[keep]
    values = scores[keep]

    def count(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(key, weights=weights, minlength=2 * size).reshape(2, size).astype(float)

    n = count()
    worse, better = (count(values > 0), count(values < 0)) if signs else (n, n)
    return _Stats(n, count(values), count(values * values), worse, better)


@dataclasses.dataclass
class _Tests:
    """One-sided tests of "the slice is worse", per slice: effect (worse > 0), standard error, degrees of freedom,
    p-value, and the two means compared."""

    effect: np.ndarray
    se: np.ndarray
    df: np.ndarray
    p_value: np.ndarray
    slice_mean: np.ndarray
    other_mean: np.ndarray
    versus: np.ndarray  # which comparison: 0 the rest of the suite (or the baseline), 1 or 2 the rest of a column


def _variance(stats: _Stats) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum(stats.s2 - stats.s1 * stats.s1 / stats.n, 0.0) / (stats.n - 1)


def _upper_tail(t: np.ndarray, df: np.ndarray, exact: bool) -> np.ndarray:
    """P(T > t): Student's t when `exact`, else the normal tail (the proposal half's screen, over every candidate)."""
    if not exact:
        return paired.normal_sf(t)
    return paired.student_t_sf(t, np.where(np.isfinite(df), np.maximum(df, 1.0), 1.0))


def _welch(slice_: _Stats, other: _Stats, exact: bool = True) -> _Tests:
    """Welch's t-test, one-sided, of the slice's mean against the other samples' (worse is larger)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean, rest = slice_.s1 / slice_.n, other.s1 / other.n
        a, b = _variance(slice_) / slice_.n, _variance(other) / other.n
        se = np.sqrt(a + b)
        df = (a + b) ** 2 / (a * a / (slice_.n - 1) + b * b / (other.n - 1))
        t = (mean - rest) / se
    effect = mean - rest
    fallback = np.where(effect > 0, 0.0, 1.0)
    p_value = np.where(se > 0, _upper_tail(t, df, exact), fallback)
    p_value = np.where(np.isnan(effect), np.nan, p_value)
    return _Tests(effect, se, df, p_value, mean, rest, np.zeros(effect.shape, dtype=int))


def _proportions(slice_: _Stats, other: _Stats, exact: bool = True) -> _Tests:
    """Two proportions of bad outcomes (0/1 scores, 1 is worse), one-sided: Fisher's exact test; on the proposal
    half, the pooled (score) z-test. The standard error is Agresti and Caffo's (one good and one bad outcome added
    to each side): never 0, even when every sample of a small slice had the bad outcome."""
    n1, n2, x1, x2 = slice_.n, other.n, slice_.s1, other.s1
    with np.errstate(divide="ignore", invalid="ignore"):
        mean, rest = x1 / n1, x2 / n2
        pooled = (x1 + x2) / (n1 + n2)
        z = (mean - rest) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        a, b = (x1 + 1) / (n1 + 2), (x2 + 1) / (n2 + 2)
        se = np.sqrt(a * (1 - a) / (n1 + 2) + b * (1 - b) / (n2 + 2))
    effect = mean - rest
    if exact:
        p_value = paired.fisher_tail(x1, n1, x1 + x2, n1 + n2)
    else:
        p_value = np.where(np.isfinite(z), paired.normal_sf(np.nan_to_num(z)), np.where(effect > 0, 0.0, 1.0))
    p_value = np.where(np.isnan(effect), np.nan, p_value)
    df = np.full(effect.shape, np.inf)  # a normal interval
    return _Tests(effect, se, df, p_value, mean, rest, np.zeros(effect.shape, dtype=int))


def _worsening(slice_: _Stats, binary: bool, exact: bool = True) -> _Tests:
    """The gate's test of a mean worsening above 0: the exact binomial test of the discordant pairs for 0/1
    metrics, else the paired t-test."""
    n = slice_.n
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = slice_.s1 / n
        se = np.sqrt(_variance(slice_) / n)
        t = mean / se
    if binary and exact:
        p_value = paired.binomial_tail(slice_.worse, slice_.worse + slice_.better)
    elif binary:  # the continuity-corrected normal approximation of the exact test
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (slice_.worse - slice_.better - 1) / np.sqrt(slice_.worse + slice_.better)
        p_value = np.where(slice_.worse > 0, paired.normal_sf(np.nan_to_num(z, nan=-np.inf)), 1.0)
    else:
        fallback = np.where(mean > 0, 0.0, 1.0)
        p_value = np.where(se > 0, _upper_tail(t, n - 1, exact), fallback)
    p_value = np.where(n >= 2, p_value, np.nan)
    return _Tests(mean, se, n - 1, p_value, mean, np.zeros_like(mean), np.zeros(mean.shape, dtype=int))


def _tests(
    kind: str, binary: bool, slice_: _Stats, total: _Stats, parents: Sequence[_Stats], exact: bool = True
) -> _Tests:
    """The test of each slice on one half. A single slice: weak, against the rest of the suite; regressed, its
    worsening. A pair must also be worse than the rest of each of its two columns' slices (weak: its scores;
    regressed: its worsenings): an intersection-union test, whose p-value is the largest of its tests."""
    compare = _proportions if binary and kind == WEAK else _welch  # (worsenings are -1, 0 or 1: Welch)
    tests = compare(slice_, total - slice_, exact) if kind == WEAK else _worsening(slice_, binary, exact)
    for number, parent in enumerate(parents, start=1):
        against = compare(slice_, parent - slice_, exact)
        weaker = against.p_value > tests.p_value
        if kind == REGRESSED:  # the effect stays the worsening; the p-value is the largest
            tests.p_value = np.where(weaker, against.p_value, tests.p_value)
            continue
        for name in ("effect", "se", "df", "p_value", "other_mean"):
            setattr(tests, name, np.where(weaker, getattr(against, name), getattr(tests, name)))
        tests.versus = np.where(weaker, number, tests.versus)
    return tests


def search(
    singles: Sequence[Grouping],
    scores: np.ndarray,
    halves: np.ndarray,
    kind: str,
    settings: Settings = Settings(),
    binary: bool = False,
    excluded: np.ndarray | None = None,
) -> Search:
    """Propose on the samples with `halves == 1`, confirm on those with `halves == 0`.

    `scores`: per sample, positive is worse (NaN: left out); weak: the sample metric signed so (`binary`: 0 or 1,
    1 the bad outcome); regressed: the worsening against the baseline (`binary`: -1, 0 or 1). `excluded`: fingerprints of sample sets that are already test cases (see
    `fingerprints`). Candidates: every slice of each grouping in `singles` and of each pair of them, with at least
    `min_size` samples (and as many in the rest, for weak)."""
    if kind not in (WEAK, REGRESSED):
        raise ValueError(f"unknown kind of search {kind!r}: use {WEAK!r} or {REGRESSED!r}")
    scores = np.asarray(scores, dtype=float)
    halves = np.asarray(halves, dtype=np.int64)
    present = ~np.isnan(scores)
    scores = np.where(present, scores, 0.0)
    weights = _weights(len(scores))
    everything = np.where(present, 0, -1)
    signs = binary and kind == REGRESSED  # the exact binomial test counts the samples that got worse and better
    total = _stats(everything, 1, scores, halves, signs)
    single_stats = {
        g.stratify: _stats(np.where(present, g.codes, -1), len(g.labels), scores, halves, signs) for g in singles
    }
    tried, screened = 0, []
    for grouping, parents in _candidates(singles, single_stats):
        codes = np.where(present, grouping.codes, -1)
        size = len(grouping.labels)
        stats = single_stats.get(grouping.stratify) or _stats(codes, size, scores, halves, signs)
        proposal = _tests(kind, binary, _half(stats, 1), _half(total, 1), [_half(p, 1) for p in parents], exact=False)
        count = stats.n.sum(axis=0)
        ok = count >= settings.min_size
        if kind == WEAK:
            ok &= total.n.sum() - count >= settings.min_size
        if excluded is not None and len(excluded):
            ok &= ~_is_test_case(grouping, excluded, weights)
        tried += int(ok.sum())
        keep = ok & (proposal.effect > 0) & (proposal.p_value <= settings.screen)
        screened += [(float(proposal.p_value[i]), grouping, stats, parents, int(i)) for i in np.flatnonzero(keep)]
    screened.sort(key=lambda entry: entry[0])
    chosen = screened[: settings.max_confirmed]
    candidates = []
    for pairs in (False, True):  # the singles, then the pairs: each a batch of tests on the confirmation half
        batch = [
            (grouping, stats, parents, index) for _, grouping, stats, parents, index in chosen if bool(parents) == pairs
        ]
        if batch:
            candidates += _confirm(batch, kind, binary, _half(total, 0), settings)
    ordered = [e for e in chosen if not e[3]] + [e for e in chosen if e[3]]  # (the order `_confirm` gave)
    candidates = _outside(candidates, ordered, scores, halves, present, kind, binary)
    return Search(tried, len(chosen), candidates)


def _contains(single: Grouping, index: int, other: Grouping, other_index: int) -> bool:
    """Whether another screened slice lies inside a single slice: a pair one of whose parts it is, or a finer cut
    of its column whose samples are all its own."""
    if single.columns[0] not in other.columns or other.stratify == single.stratify:
        return False
    if len(other.columns) == 2:
        return other.labels[other_index].split(" & ")[other.columns.index(single.columns[0])] == single.labels[index]
    inside = other.codes == other_index
    return bool(inside.any()) and not (inside & (single.codes != index)).any()


def _outside(
    candidates: list[Candidate],
    chosen: list[tuple],
    scores: np.ndarray,
    halves: np.ndarray,
    present: np.ndarray,
    kind: str,
    binary: bool,
) -> list[Candidate]:
    """Each confirmed single slice with the screened slices inside it (pairs, finer bins of its column) and the
    test, on the held-out half, of its samples outside them (weak: against the rest of the suite; regressed: its
    worsening): a single found only because a slice inside it is worse is an echo of that slice (`echoes`).
    `candidates` in the order of `chosen`: its singles, then its pairs."""
    held = present & (halves == 0)
    singles = [entry for entry in chosen if not entry[3]]
    out = list(candidates)
    for k, (_, grouping, _, _, index) in enumerate(singles):
        inside = [(g, i) for _, g, _, _, i in chosen if _contains(grouping, index, g, i)]
        if not inside:
            continue
        member = grouping.codes == index
        outside = member & held & ~np.logical_or.reduce([g.codes == i for g, i in inside])
        if kind == WEAK:
            compare = _proportions if binary else _welch
            tests = compare(_mask_stats(outside, scores), _mask_stats(held & ~member, scores))
        else:
            tests = _worsening(_mask_stats(outside, scores), binary)
        p_value = float(tests.p_value[0])
        holds = tuple(g.labels[i] for g, i in inside)
        out[k] = dataclasses.replace(candidates[k], outside_p=1.0 if np.isnan(p_value) else p_value, holds=holds)
    return out


def _mask_stats(mask: np.ndarray, scores: np.ndarray) -> _Stats:
    """The statistics of the samples of one mask, as a slice of one."""
    values = scores[mask]
    n = np.array([float(mask.sum())])
    sums = [
        np.array([float(x)]) for x in (values.sum(), (values * values).sum(), (values > 0).sum(), (values < 0).sum())
    ]
    return _Stats(n, *sums)


def echoes(
    candidates: Sequence[tuple[Any, str, tuple[str, ...], float]], found: Sequence[bool], threshold: float
) -> list[bool]:
    """Which found single slices are echoes of a found slice inside them: (search, label, the labels of the screened
    slices it holds, outside p-value) per candidate; a found single holding a found slice of the same search is
    kept only if its test outside the slices it holds also passes the run's threshold (the intersection-union test:
    both must reject)."""
    found_labels = {(search, label) for (search, label, _, _), kept in zip(candidates, found) if kept}
    out = [False] * len(candidates)
    for k, (search, _, holds, outside_p) in enumerate(candidates):
        if found[k] and any((search, inner) in found_labels for inner in holds):
            out[k] = outside_p > threshold  # (NaN: not tested outside, a run stored before: kept)
    return out


def _half(stats: _Stats, half: int) -> _Stats:
    return stats.map(lambda a: a[half])


def _candidates(
    singles: Sequence[Grouping], single_stats: dict[tuple[str, ...], _Stats]
) -> Iterator[tuple[Grouping, list[_Stats]]]:
    """Each single grouping, then each pair with the statistics of its two columns' slices, per slice of the pair."""
    for grouping in singles:
        yield grouping, []
    paired = [g for g in singles if g.pairs]
    for first, second in itertools.combinations(paired, 2):
        if set(first.columns) & set(second.columns):
            continue  # (two cuts of one column)
        width, height = len(second.labels), len(first.labels)
        one = single_stats[first.stratify].map(lambda a, width=width: np.repeat(a, width, axis=-1))
        two = single_stats[second.stratify].map(lambda a, height=height: np.tile(a, (1, height)))
        yield first.cross(second), [one, two]


def _confirm(
    batch: list[tuple[Grouping, _Stats, list[_Stats], int]], kind: str, binary: bool, total: _Stats, settings: Settings
) -> list[Candidate]:
    """The tests of screened slices (all singles, or all pairs) on the confirmation half, with their intervals."""

    def gathered(pick: Callable[[_Stats, list[_Stats]], _Stats]) -> _Stats:
        parts = [
            _half(pick(stats, parents), 0).map(lambda a, i=index: a[i : i + 1]) for _, stats, parents, index in batch
        ]
        return _Stats(*(np.concatenate(arrays) for arrays in zip(*(part.arrays() for part in parts))))

    slices = gathered(lambda stats, parents: stats)
    parents = [gathered(lambda stats, parents, k=k: parents[k]) for k in range(len(batch[0][2]))]
    tests = _tests(kind, binary, slices, total, parents)
    q = 1 - (1 - settings.confidence) / 2
    if kind == REGRESSED and binary:
        low, high = paired.tango_interval(slices.worse, slices.better, slices.n, settings.confidence)
        method = paired.EXACT_BINOMIAL
    else:
        finite = np.isfinite(tests.df) & (tests.df >= 1)
        # an infinite (or undefined) df: the normal quantile
        quantiles = np.where(finite, paired.t_quantiles(q, np.where(finite, tests.df, 1e9)), paired.t_quantile(q, 1e9))
        half_width = np.asarray(quantiles) * tests.se
        low, high = tests.effect - half_width, tests.effect + half_width
        method = ("Fisher exact" if binary else "Welch t") if kind == WEAK else paired.PAIRED_T
    return [
        Candidate(
            kind,
            grouping.labels[index],
            grouping.stratify,
            grouping.columns,
            int(stats.n[:, index].sum()),
            int(slices.n[row]),
            float(tests.effect[row]),
            float(low[row]),
            float(high[row]),
            float(tests.p_value[row]),
            method,
            float(tests.slice_mean[row]),
            float(tests.other_mean[row]),
            _versus(grouping, index, int(tests.versus[row])),
        )
        for row, (grouping, stats, _, index) in enumerate(batch)
    ]


def _versus(grouping: Grouping, index: int, versus: int) -> str:
    """What the slice was compared with: "" (the rest of the suite, or the baseline) or the column slice's label."""
    if versus == 0:
        return ""
    return grouping.labels[index].split(" & ")[versus - 1]


DETECTED_SHARE = 0.10  # the slice size a search's detectable effect is given for: a tenth of the samples
POWER = 0.8


def detected_share(samples: int, settings: Settings = Settings()) -> float:
    """The slice size a detectable effect is given for: a tenth of the samples, or, in a small suite, the tenths
    that hold twice the smallest slice searched (a slice near `min_size` is often just below it, and not tried)."""
    return min(max(DETECTED_SHARE, math.ceil(20 * settings.min_size / max(samples, 1)) / 10), 0.5)


def detectable_effect(
    samples: int,
    screened: int,
    tried: int,
    alpha: float,
    settings: Settings = Settings(),
    share: float | None = None,
) -> float:
    """The smallest effect, in standard deviations of the scores, by which a single slice of `share` of `samples`
    (`detected_share`) must be worse than the rest to be found with probability POWER: it must pass the proposal
    half's screen (at `settings.screen`, or tighter where more candidates pass it than `max_confirmed` take) and
    then the held-out half's test at the level Benjamini-Hochberg gives a lone discovery among `screened`
    candidates (alpha / m), the halves independent; equal spread inside and outside the slice, Student's critical
    values at the slice's degrees of freedom. Checked by simulation in benchmarks/bench_discovery.py. NaN where the
    slice would be smaller than `min_size`."""
    share = detected_share(samples, settings) if share is None else share
    half = samples / 2
    inside, rest = share * half, (1 - share) * half
    if share * samples < settings.min_size or rest < 1:
        return float("nan")
    se = float(np.sqrt(1 / inside + 1 / rest))
    screen = min(settings.screen, settings.max_confirmed / max(tried, 1))
    normal, df = NormalDist(), max(inside - 1, 1.0)  # (Welch's degrees of freedom: about the slice's, when small)
    z_screen, z_found = paired.t_quantile(1 - screen, df), paired.t_quantile(1 - alpha / max(screened, 1), df)

    def power(effect: float) -> float:
        return normal.cdf(effect / se - z_screen) * normal.cdf(effect / se - z_found)

    low, high = 0.0, 50.0 * se
    for _ in range(60):  # bisection: power grows with the effect
        middle = (low + high) / 2
        low, high = (middle, high) if power(middle) < POWER else (low, middle)
    return high


def found(p_values: Sequence[float], alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg over every confirmed candidate of a run: adjusted p-values and which are discoveries."""
    p = np.asarray(p_values, dtype=float)
    if len(p) == 0:
        return p, np.zeros(0, dtype=bool)
    return paired.adjust(p, "bh", alpha)


def proposal_halves(sample_ids: Sequence[str]) -> np.ndarray:
    """1 for the proposal half, 0 for the confirmation half: from a hash of each sample's id, so a sample stays in
    its half from run to run, whichever model and whichever other samples."""
    import pandas as pd

    hashes = pd.util.hash_array(np.asarray(sample_ids, dtype=object))
    return (hashes >> np.uint64(17) & np.uint64(1)).astype(np.int64)


_FINGERPRINT_SEEDS = (20261129, 11)


def _weights(n: int) -> list[np.ndarray]:
    return [np.random.default_rng(seed).random(n) for seed in _FINGERPRINT_SEEDS]


def fingerprints(members: Sequence[np.ndarray], n: int) -> np.ndarray:
    """A fingerprint of each sample set (positions among `n` samples), to tell a candidate that equals a test case:
    its size and two sums of random weights. One column per set."""
    weights = _weights(n)
    return np.array([[len(m), *(float(w[m].sum()) for w in weights)] for m in members]).T.reshape(3, -1)


def _is_test_case(grouping: Grouping, excluded: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """Which slices of a grouping hold the same samples as a test case (every sample counted, whatever its score);
    the weight sums are computed only where a slice has the size of a test case."""
    size = len(grouping.labels)
    member = grouping.codes >= 0
    codes = grouping.codes[member]
    count = np.bincount(codes, minlength=size).astype(float)
    if not np.isin(count, excluded[0]).any():
        return np.zeros(size, dtype=bool)
    prints = np.stack([count, *(np.bincount(codes, weights=w[member], minlength=size) for w in weights)])
    return _matches(prints, excluded)


def _matches(prints: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """Which columns of `prints` equal a column of `excluded` (same size, same weight sums to rounding)."""
    same = np.isclose(prints[:, :, None], excluded[:, None, :], rtol=1e-9, atol=1e-9).all(axis=0)
    return same.any(axis=1)
