"""Statistics of slice discovery (`--kolena-discover`): false alarms without any slice, and power, ranking and false
discovery proportion with a planted one, from the plugin's own functions over many seeds.

Each seed draws a suite of N samples with 10 metadata columns (5 categorical of 2 to 6 values, 5 numeric and
continuous, hence quantile bins), cut by `pytest_kolena.data.slices.groupings`, split by
`discovery.proposal_halves` (on ids that change with the seed), searched by `discovery.search` and judged by
`discovery.found` at the gate's one-sided level (0.025), all the searches of a run in one Benjamini-Hochberg
family, as `report/slices.py` does. A run is one model against its baseline with two sample metrics, worse is
larger for both:

- a continuous one (an NME): "weak" on the candidate's scores (Welch t; standard normal), "regressed" on the
  worsenings candidate - baseline (paired t), the baseline being the candidate minus independent noise;
- a 0/1 one (a failure) of failure rate p: "weak" on the candidate's outcomes (Welch t), "regressed" on the
  worsenings (exact binomial test of the discordant pairs), the candidate being the baseline with 10% of the
  outcomes flipped, as many good to bad as bad to good on average.

Null (no slice planted): the fraction of runs in which discovery reports at least one slice (the family-wise
false alarm rate; with every null hypothesis true the false discovery rate equals it), per failure rate p, and
the same for each search alone (its own family), +- Monte-Carlo standard errors.

Power: a weak pair slice planted on the continuous metric (cat_c c2 & cat_d d1, 4% of the samples: +delta sd, the
baseline too, so it is weak but not regressed) and a regressed pair slice on the 0/1 metric (cat_b b2 & cat_e e1,
4%: a fraction f of its samples with a good outcome turned bad in the candidate; so also weak on that metric), in
the same run. Reported: the fraction of seeds in which the planted pair is found (its exact label), found and
ranked first (the largest effect among the slices reported by its search), and the false discovery proportion
among the slices reported in the run (mean over seeds, 0 for a seed reporting nothing), in two definitions:

- overlap: a reported slice is false when none of its samples (both halves) is planted;
- strict: a reported slice is false when its null hypothesis holds for the samples it was tested on (the
  confirmation half): a single slice is true when its share of planted samples is larger than that of the rest
  of the suite (weak) or larger than 0 (regressed); a pair, when it is also larger than in the rest of each of
  its two columns' slices (the intersection-union test's hypotheses). The planted effects are all of one sign,
  so a larger share of planted samples is a larger expected score.

The intervals of the confirmed candidates are the plugin's own (`paired.t_quantiles`, vectorised).

    python benchmarks/bench_discovery.py [--seeds 300] [--large-seeds 60] [--sizes 2000 20000]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pytest_kolena.checks import discovery
from pytest_kolena.checks.regression import Judging
from pytest_kolena.data.slices import groupings

ALPHA = Judging().alpha  # the gate's one-sided level, which report/slices.py uses for discovery: 0.025
CATEGORICAL = {  # column -> probabilities of its values (values: its letter and an index, "c2")
    "cat_a": [0.6, 0.4],
    "cat_b": [0.5, 0.3, 0.2],
    "cat_c": [0.4, 0.3, 0.2, 0.1],
    "cat_d": [0.2] * 5,
    "cat_e": [0.3, 0.2, 0.15, 0.15, 0.1, 0.1],
}
NUMERIC = {  # column -> a draw of N continuous values (rounded, as a CSV would hold them)
    "num_normal": lambda rng, n: rng.normal(0, 1, n),
    "num_uniform": lambda rng, n: rng.uniform(-30, 30, n),
    "num_exponential": lambda rng, n: rng.exponential(2.0, n),
    "num_lognormal": lambda rng, n: rng.lognormal(0, 0.5, n),
    "num_beta": lambda rng, n: rng.beta(2, 5, n),
}
WEAK_PLANT = {"cat_c": "c2", "cat_d": "d1"}  # 0.2 x 0.2: 4% of the samples
REGRESSED_PLANT = {"cat_b": "b2", "cat_e": "e1"}  # 0.2 x 0.2: 4%
CHURN = 0.10  # of the 0/1 metric: outcomes flipped between baseline and candidate, symmetric under the null
POWER_FAILURE_RATE = 0.2  # the baseline's failure rate in the power runs
SEARCHES = ("weak, continuous", "regressed, continuous", "weak, 0/1", "regressed, 0/1")


def metadata(rng: np.random.Generator, n: int) -> pd.DataFrame:
    columns = {}
    for name, probabilities in CATEGORICAL.items():
        values = np.array([f"{name[-1]}{i}" for i in range(len(probabilities))])
        columns[name] = values[rng.choice(len(probabilities), n, p=probabilities)]
    for name, draw in NUMERIC.items():
        columns[name] = np.round(draw(rng, n), 3)
    return pd.DataFrame(columns)


def planted(frame: pd.DataFrame, plant: dict[str, str]) -> np.ndarray:
    return np.logical_and.reduce([frame[column].to_numpy() == value for column, value in plant.items()])


def flipped(rng: np.random.Generator, baseline: np.ndarray, rate: float) -> np.ndarray:
    """The candidate's 0/1 outcomes: a fraction CHURN of the outcomes flipped, half good to bad and half bad to good
    on average (each outcome flips with probability CHURN / 2 / its value's share)."""
    bad = baseline == 1
    chance = np.where(bad, CHURN / 2 / rate, CHURN / 2 / (1 - rate))
    return np.where(rng.random(len(baseline)) < chance, 1 - baseline, baseline)


@dataclass
class Suite:
    """One seed's suite: its metadata cut into groupings, the halves, and the members of any slice by label."""

    frame: pd.DataFrame
    singles: list[discovery.Grouping]
    halves: np.ndarray
    by_columns: dict[tuple[str, ...], discovery.Grouping] = field(default_factory=dict)

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, seed: int) -> Suite:
        frame = metadata(rng, n)
        singles, skipped = groupings(frame, "synthetic", list(frame.columns))
        assert not skipped and len(singles) == 15, skipped  # (each numeric column also in tenths, searched alone)
        halves = discovery.proposal_halves([f"seed{seed}/sample{i:06d}" for i in range(n)])
        return cls(frame, singles, halves, {g.columns: g for g in singles if g.pairs})

    def grouping(self, columns: tuple[str, ...]) -> discovery.Grouping:
        if columns not in self.by_columns:
            self.by_columns[columns] = self.by_columns[columns[:1]].cross(self.by_columns[columns[1:]])
        return self.by_columns[columns]

    def members(self, candidate: discovery.Candidate) -> tuple[np.ndarray, list[np.ndarray]]:
        """The slice's samples, and for a pair those of each of its two columns' slices."""
        single = next((g for g in self.singles if g.stratify == candidate.stratify), None)
        grouping = single or self.grouping(candidate.columns)
        code = grouping.labels.index(candidate.label)
        inside = grouping.codes == code
        if len(candidate.columns) == 1:
            return inside, []
        width = len(self.by_columns[candidate.columns[1:]].labels)
        first, second = (self.by_columns[(c,)] for c in candidate.columns)
        return inside, [first.codes == code // width, second.codes == code % width]


def is_true(suite: Suite, candidate: discovery.Candidate, plant: np.ndarray | None) -> tuple[bool, bool]:
    """(overlap, strict) truth of a reported slice given the planted samples (None: nothing planted)."""
    if plant is None:
        return False, False
    inside, parents = suite.members(candidate)
    confirm = suite.halves == 0

    def share(mask: np.ndarray) -> float:
        count = int(mask.sum())
        return float(plant[mask].sum()) / count if count else 0.0

    mine = share(inside & confirm)
    others = [p & confirm & ~inside for p in parents]
    if candidate.kind == discovery.WEAK:
        others.append(confirm & ~inside)
    strict = all(mine > share(other) for other in others) and mine > 0
    return bool((inside & plant).any()), strict


@dataclass
class Run:
    """The searches of one run, each with its candidates; `found` decides over all of them at once."""

    searches: dict[str, discovery.Search]

    def decided(self, only: str | None = None, echoes: bool = True) -> list[tuple[str, discovery.Candidate]]:
        """The reported slices: the run's family, or one search's alone; without a single slice that is weak (or
        regressed) only through a found pair inside it (`discovery.echoes`, as report/slices.py), unless `echoes`
        is False (the rule off, for the before/after)."""
        pool = [(name, c) for name, s in self.searches.items() if only in (None, name) for c in s.candidates]
        _, reject = discovery.found([c.p_value for _, c in pool], ALPHA)
        echo = [False] * len(pool)
        if echoes:
            threshold = ALPHA * int(reject.sum()) / max(len(pool), 1)
            keys = [(name, c.label, c.holds, c.outside_p) for name, c in pool]
            echo = discovery.echoes(keys, list(reject), threshold)
        return [entry for entry, kept, e in zip(pool, reject, echo) if kept and not e]


def search_run(
    suite: Suite,
    continuous: tuple[np.ndarray, np.ndarray],
    binary: tuple[np.ndarray, np.ndarray],
    known: dict[str, discovery.Search] | None = None,
) -> Run:
    """The four searches of a run: (baseline, candidate) of the continuous and of the 0/1 metric (those in `known`
    already done)."""
    (base, cand), (base01, cand01) = continuous, binary
    settings = discovery.Settings()
    args = {
        SEARCHES[0]: (cand, discovery.WEAK, False),
        SEARCHES[1]: (cand - base, discovery.REGRESSED, False),
        SEARCHES[2]: (cand01, discovery.WEAK, True),  # 0/1, 1 the failure: Fisher's exact test, as the plugin
        SEARCHES[3]: (cand01 - base01, discovery.REGRESSED, True),
    }
    known = known or {}
    return Run(
        {
            name: known.get(name) or discovery.search(suite.singles, scores, suite.halves, kind, settings, binary)
            for name, (scores, kind, binary) in args.items()
        }
    )


def rate(hits: list[bool] | np.ndarray) -> str:
    x = np.asarray(hits, dtype=float)
    return f"{x.mean():.3f} ± {x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else float('nan'):.3f}"


def mean_se(values: list[float]) -> str:
    return rate(values)


def null_study(n: int, seeds: int, rates: list[float], first_seed: int) -> list[str]:
    """Runs with no slice planted; one row per failure rate of the 0/1 metric."""
    hits = {p: {key: [] for key in ("run", *SEARCHES, "degenerate")} for p in rates}
    examples: dict[float, str] = {}
    start = time.perf_counter()
    for seed in range(first_seed, first_seed + seeds):
        rng = np.random.default_rng([seed, n])
        suite = Suite.draw(rng, n, seed)
        candidate = rng.normal(0, 1, n)
        continuous = (candidate - rng.normal(0, 0.5, n), candidate)
        shared = None
        for p in rates:
            base01 = (rng.random(n) < p).astype(float)
            cand01 = flipped(rng, base01, p)
            run = search_run(suite, continuous, (base01, cand01), shared)
            if shared is None:  # the continuous searches are the same scores for every p: searched once per seed
                shared = {k: run.searches[k] for k in SEARCHES[:2]}
            reported = run.decided()
            hits[p]["run"].append(bool(reported))
            for name in SEARCHES:
                hits[p][name].append(bool(run.decided(name)))
            # a false alarm of a slice whose scores are all alike in the confirmation half (Welch's variance 0)
            confirm = suite.halves == 0
            degenerate = False
            for name, c in reported:
                scores = {SEARCHES[0]: continuous[1], SEARCHES[2]: cand01}.get(name)
                if scores is not None and np.ptp(scores[suite.members(c)[0] & confirm]) == 0:
                    degenerate = True
                    examples.setdefault(
                        p, f"{c.label} (n={c.size}): {c.slice_mean:.3g} vs {c.other_mean:.3g}, p={c.p_value:.2g}"
                    )
            hits[p]["degenerate"].append(degenerate)
    took = time.perf_counter() - start
    lines = [
        f"\nNull, N = {n:,}: {seeds} seeds, {took:.0f} s ({took / seeds:.2f} s per seed, {1 + len(rates)} runs' "
        "searches: the continuous ones shared)",
        "| failure rate p of the 0/1 metric | runs with any slice reported (4 searches, one BH family) | "
        + " | ".join(f"{name} alone" for name in SEARCHES)
        + " | runs whose false alarm is a slice with no variance |",
        "| --- " * (3 + len(SEARCHES)) + "|",
    ]
    for p in rates:
        h = hits[p]
        cells = [rate(h["run"]), *(rate(h[name]) for name in SEARCHES), rate(h["degenerate"])]
        lines.append(f"| {p:g} | " + " | ".join(cells) + " |")
    for p, text in examples.items():
        lines.append(f"  e.g. p={p:g}: {text}")
    return lines


@dataclass
class Plant:
    name: str
    delta: float  # weak: sd added to the planted pair's continuous scores
    flip: float  # regressed: fraction of the planted pair's good outcomes turned bad


def power_study(n: int, seeds: int, plants: list[Plant], first_seed: int) -> list[str]:
    keys = ("weak found", "weak first", "regressed found", "regressed first", "fdp overlap", "fdp strict", "reported")
    keys += ("echoes before", "echoes after")
    out = {plant.name: {key: [] for key in keys} for plant in plants}
    start = time.perf_counter()
    for seed in range(first_seed, first_seed + seeds):
        rng = np.random.default_rng([seed, n, 1])
        suite = Suite.draw(rng, n, seed)
        weak_plant, regressed_plant = planted(suite.frame, WEAK_PLANT), planted(suite.frame, REGRESSED_PLANT)
        noise, change = rng.normal(0, 1, n), rng.normal(0, 0.5, n)  # sd 1 outside the plant
        base01 = (rng.random(n) < POWER_FAILURE_RATE).astype(float)
        churned = flipped(rng, base01, POWER_FAILURE_RATE)
        turn = rng.random(n)
        truth = {SEARCHES[0]: weak_plant, SEARCHES[1]: None, SEARCHES[2]: regressed_plant, SEARCHES[3]: regressed_plant}
        for plant in plants:
            candidate = noise + plant.delta * weak_plant  # weak in the baseline too: not a regression
            cand01 = np.where(regressed_plant & (churned == 0) & (turn < plant.flip), 1.0, churned)
            run = search_run(suite, (candidate - change, candidate), (base01, cand01))
            reported = run.decided()
            record = out[plant.name]
            parents = {f"{column} {value}" for column, value in WEAK_PLANT.items()}  # the weak pair's two halves
            for when, rule in (("echoes before", False), ("echoes after", True)):
                record[when].append(sum(c.label in parents for s, c in run.decided(echoes=rule) if s == SEARCHES[0]))
            truths = [is_true(suite, c, truth[name]) for name, c in reported]
            record["reported"].append(len(reported))
            record["fdp overlap"].append(sum(not t[0] for t in truths) / len(reported) if reported else 0.0)
            record["fdp strict"].append(sum(not t[1] for t in truths) / len(reported) if reported else 0.0)
            for kind, name, wanted in (("weak", SEARCHES[0], WEAK_PLANT), ("regressed", SEARCHES[3], REGRESSED_PLANT)):
                label = " & ".join(f"{column} {value}" for column, value in wanted.items())
                mine = sorted((c for s, c in reported if s == name), key=lambda c: -c.effect)
                hit = any(c.label == label for c in mine)
                record[f"{kind} found"].append(hit)
                record[f"{kind} first"].append(hit and mine[0].label == label)
    took = time.perf_counter() - start
    lines = [
        f"\nPower, N = {n:,}: {seeds} seeds, {took:.0f} s; weak plant {' & '.join(WEAK_PLANT.values())} (4%) on the "
        f"continuous metric, regressed plant {' & '.join(REGRESSED_PLANT.values())} (4%) on the 0/1 metric "
        f"(baseline failure rate {POWER_FAILURE_RATE:g}, churn {CHURN:g}), one run, one BH family",
        "| plant | weak pair found | found and first | regressed pair found | found and first | slices reported "
        "per run | FDP, overlap | FDP, strict | its halves reported alone, per run: without the echo rule | with it |",
        "| --- " * 10 + "|",
    ]
    for plant in plants:
        r = out[plant.name]
        cells = [rate(r[k]) for k in ("weak found", "weak first", "regressed found", "regressed first")]
        cells += [f"{np.mean(r['reported']):.1f}", mean_se(r["fdp overlap"]), mean_se(r["fdp strict"])]
        cells += [mean_se(r["echoes before"]), mean_se(r["echoes after"])]
        lines.append(f"| {plant.name} | " + " | ".join(cells) + " |")
    return lines


DETECTABLE_PLANTS = {0.1: {"cat_c": "c3"}, 0.2: {"cat_c": "c2"}}  # by the share the summary's effect is given for


def detectable_study(n: int, seeds: int, first_seed: int) -> list[str]:
    """The summary's claim checked: a run that searched N samples says a slice of 10% of them is found 80% of the
    time when worse by `d` standard deviations. Per seed: the weak search of a null run gives `d`
    (`discovery.detectable_effect` with that run's tried and screened counts, as report/slices.py computes it); the
    same suite with a single slice of 10% (cat_c c3) worse by `d` is searched again; found when that slice is
    reported (Benjamini-Hochberg over the search)."""
    hits, effects = [], []
    start = time.perf_counter()
    settings = discovery.Settings()
    for seed in range(first_seed, first_seed + seeds):
        rng = np.random.default_rng([seed, n, 2])
        suite = Suite.draw(rng, n, seed)
        noise = rng.normal(0, 1, n)
        null = discovery.search(suite.singles, noise, suite.halves, discovery.WEAK, settings)
        effect = discovery.detectable_effect(n, null.screened, null.tried, ALPHA, settings)
        wanted = DETECTABLE_PLANTS[round(discovery.detected_share(n, settings), 1)]
        plant = planted(suite.frame, wanted)
        search = discovery.search(suite.singles, noise + effect * plant, suite.halves, discovery.WEAK, settings)
        _, reject = discovery.found([c.p_value for c in search.candidates], ALPHA)
        label = " & ".join(f"{column} {value}" for column, value in wanted.items())
        hits.append(any(c.label == label and r for c, r in zip(search.candidates, reject)))
        effects.append(effect)
    took = time.perf_counter() - start
    return [
        f"\nDetectable effect, N = {n:,}: {seeds} seeds, {took:.0f} s; the summary's effect d (mean "
        f"{np.mean(effects):.3f} sd, {min(effects):.3f} to {max(effects):.3f}) planted on a single slice of "
        f"{discovery.detected_share(n):.0%}",
        f"| N | claimed | found at d |\n| --- | --- | --- |\n| {n:,} | {discovery.POWER:.2f} | {rate(hits)} |",
    ]


def tenth_study(n: int, seeds: int, first_seed: int, delta: float = 0.5) -> list[str]:
    """A weak top tenth of a continuous column (num_uniform, +delta sd): with the coarse quartiles alone (before)
    and with the column also cut into tenths (now): how often the tenth itself is reported, how often its quarter,
    and the effect of what is reported on that column (the planted one: delta)."""
    rows = {"quartiles only": [[], [], []], "quartiles and tenths": [[], [], []]}
    for seed in range(first_seed, first_seed + seeds):
        rng = np.random.default_rng([seed, n, 3])
        suite = Suite.draw(rng, n, seed)
        values = suite.frame["num_uniform"].to_numpy()
        weak = values >= np.quantile(values, 0.9)
        scores = rng.normal(0, 1, n) + delta * weak
        for name, singles in (
            ("quartiles only", [g for g in suite.singles if g.pairs]),
            ("quartiles and tenths", suite.singles),
        ):
            search = discovery.search(singles, scores, suite.halves, discovery.WEAK, discovery.Settings())
            reported = Run({"weak": search}).decided()
            mine = [c for _, c in reported if c.columns == ("num_uniform",)]
            tenth = [c for c in mine if c.stratify.endswith(":quantile:10") and c.label == _top(suite, ":quantile:10")]
            quarter = [c for c in mine if c.stratify.endswith(":quantile:4") and c.label == _top(suite, ":quantile:4")]
            rows[name][0].append(bool(tenth))
            rows[name][1].append(bool(quarter))
            rows[name][2] += [c.effect for c in mine]
    lines = [
        f"\nA weak top tenth, N = {n:,}: {seeds} seeds, +{delta:g} sd on num_uniform's top 10%",
        "| cut | the tenth reported | its quarter reported | effect of what is reported on the column (mean) |",
        "| --- | --- | --- | --- |",
    ]
    for name, (tenth, quarter, effects) in rows.items():
        effect = f"{np.mean(effects):.3f}" if effects else "-"
        lines.append(f"| {name} | {rate(tenth)} | {rate(quarter)} | {effect} |")
    return lines


def _top(suite: Suite, cut: str) -> str:
    return next(g for g in suite.singles if g.stratify == f"num_uniform{cut}").labels[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000], help="samples per suite (2000 20000)")
    parser.add_argument("--seeds", type=int, default=300, help="seeds per setting at the first size (300)")
    parser.add_argument("--large-seeds", type=int, default=60, help="seeds per setting at the other sizes (60)")
    parser.add_argument("--power-seeds", type=int, help="seeds of the power runs at the first size (half --seeds)")
    parser.add_argument("--large-power-seeds", type=int, help="the same at the other sizes (half --large-seeds)")
    parser.add_argument(
        "--rates", type=float, nargs="+", default=[0.5, 0.1, 0.9], help="failure rates of the 0/1 metric (0.5 0.1 0.9)"
    )
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--skip-null", action="store_true")
    parser.add_argument("--skip-power", action="store_true")
    parser.add_argument("--tenth-seeds", type=int, default=100, help="seeds of the weak-tenth study (100)")
    parser.add_argument("--detectable-seeds", type=int, default=200, help="seeds of the detectable-effect check (200)")
    args = parser.parse_args()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs; Python {sys.version.split()[0]}, numpy "
        f"{np.__version__}, pandas {pd.__version__}; load average "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"alpha {ALPHA} (one-sided, BH over every confirmed candidate of a run), {discovery.Settings()}")
    plants = [Plant("+0.3 sd; 30% of good outcomes turned bad", 0.3, 0.3), Plant("+0.15 sd; 15%", 0.15, 0.15)]
    start = time.perf_counter()
    for number, n in enumerate(args.sizes):
        seeds = args.seeds if number == 0 else args.large_seeds
        if not args.skip_null:
            print("\n".join(null_study(n, seeds, args.rates, args.first_seed)), flush=True)
        if not args.skip_power:
            power = args.power_seeds if number == 0 else args.large_power_seeds
            power = seeds // 2 if power is None else power
            print("\n".join(power_study(n, power, plants, args.first_seed)), flush=True)
        if args.tenth_seeds:
            print("\n".join(tenth_study(n, args.tenth_seeds, args.first_seed)), flush=True)
        if args.detectable_seeds:
            print("\n".join(detectable_study(n, args.detectable_seeds, args.first_seed)), flush=True)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
