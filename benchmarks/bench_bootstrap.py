"""Cost of one regression check on 10,000 paired samples.

- mean path: the case metric is a plain mean of a sample metric (mean NME, failure rate): a paired t-test (or the
  exact binomial test on 0/1 metrics) on the per-sample differences, no resampling;
- general path: the case metric recomputed on paired bootstrap resamples (here a median; in a session the
  evaluator's own compute_test_case_metrics), `kolena_resamples` of them (200).

    python benchmarks/bench_bootstrap.py [samples] [resamples]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from pytest_kolena.checks.regression import Allowance, Judging, bootstrap_worsenings, judge_mean, judge_resampled


def best_of(runs: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(n: int, resamples: int) -> None:
    rng = np.random.default_rng(0)
    base = rng.gamma(2.0, 0.05, n)
    cand = base + rng.normal(0.002, 0.01, n)
    judging = Judging(resamples=resamples)
    allowance = Allowance.parse("nme", "+2%")

    seconds, result = best_of(
        3, lambda: judge_mean("nme", allowance, True, base.mean(), cand.mean(), base, cand, judging)
    )
    print(f"mean path: {n:,} samples in {seconds * 1000:.2f} ms -> {result.test.method}, p={result.test.p_value:.3g}")

    def general():
        def recompute(idx):
            return {"nme": (float(np.median(base[idx])), float(np.median(cand[idx])))}

        worsenings = bootstrap_worsenings(recompute, n, {"nme": True}, judging)
        return judge_resampled("nme", allowance, True, np.median(base), np.median(cand), worsenings["nme"], n, judging)

    seconds, result = best_of(3, general)
    print(
        f"general path (median): {n:,} samples x {resamples:,} resamples in {seconds:.3f} s, p={result.test.p_value:.3g}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000, int(sys.argv[2]) if len(sys.argv) > 2 else 200)
