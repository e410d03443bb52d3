"""Cost of one paired-bootstrap regression check: 10,000 samples, 1,000 resamples (target: under a second).

- fast path: the case metric is a plain mean of a sample metric (mean NME, failure rate): resampled means of the
  paired differences, one gather per chunk of resamples;
- general path: the evaluator's own compute_test_case_metrics per resample (here a median, for reference).

    python benchmarks/bench_bootstrap.py [samples] [resamples]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from pytest_kolena.checks.regression import Allowance, Bootstrap, compare


def main(n: int, resamples: int) -> None:
    rng = np.random.default_rng(0)
    base = rng.gamma(2.0, 0.05, n)
    cand = base + rng.normal(0.002, 0.01, n)
    settings = Bootstrap(resamples=resamples)
    allowance = Allowance.parse("nme", "+2%")
    columns_base, columns_cand = {"nme": base}, {"nme": cand}
    for label, recompute, base_value, cand_value in (
        ("fast path (mean)", None, base.mean(), cand.mean()),
        (
            "general path (median)",
            lambda idx: (float(np.median(base[idx])), float(np.median(cand[idx]))),
            np.median(base),
            np.median(cand),
        ),
    ):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            result = compare(
                "nme",
                allowance,
                True,
                float(base_value),
                float(cand_value),
                columns_base if recompute is None else {},
                columns_cand,
                recompute,
                settings,
            )
            best = min(best, time.perf_counter() - start)
        print(
            f"{label}: {n:,} samples x {resamples:,} resamples in {best:.3f} s -> {result.verdict}, interval {result.interval[0]:+.5f} to {result.interval[1]:+.5f}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000, int(sys.argv[2]) if len(sys.argv) > 2 else 1_000)
