"""The floor: the metrics of the scale benchmark's pytest run, computed by hand with pandas and numpy.

What a numpy user would write for the same numbers as `examples/facial_keypoints/workflow.py`'s KeypointsEvaluator
at NmeThreshold(0.08) on a suite made by `bench_session.make_suite`: read the metadata CSV and the predictions,
parse every row's points at once (or, `--per-row`, one row at a time), NME per sample, then per test case (the whole suite, each `occlusion` value, each
`mirrored` value, `roll_deg` quartiles: the plugin's own strata) the mean NME, the alignment failure rate and the
CED AUC, and the threshold `mean_nme <= 1.0`. Prints its wall time and peak RSS; `--json OUT` writes the per-case
mean NMEs for a comparison with the plugin's.

    python benchmarks/floor.py DATA [--suite synthetic] [--json OUT] [--per-row]
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

THRESHOLD = 0.08
CED_STEPS = np.linspace(0, 0.08, 81)


def ced_auc(nmes: np.ndarray) -> float:
    ced = np.searchsorted(np.sort(nmes), CED_STEPS, side="right") / len(nmes)
    return float(np.sum((ced[1:] + ced[:-1]) / 2 * np.diff(CED_STEPS)) / CED_STEPS[-1])


def quartile_cases(values: np.ndarray, label: str) -> list[tuple[str, np.ndarray]]:
    edges = np.unique(np.quantile(values, np.linspace(0, 1, 5)))
    cases = []
    for i, (low, high) in enumerate(itertools.pairwise(edges)):
        inside = (values >= low) & ((values <= high) if i == len(edges) - 2 else (values < high))
        cases.append((f"{label} {low:g} to {high:g}", inside))
    return cases


def compute(data: Path, suite: str, per_row: bool = False) -> dict[str, dict[str, float]]:
    frame = pd.read_csv(data / suite / "meta" / "metadata.csv")
    if per_row:  # the plain way: one json.loads per row
        truth = np.array(frame["points"].map(json.loads).tolist(), dtype=float)
    else:  # one json.loads for the whole column
        truth = np.array(json.loads("[" + ",".join(frame["points"]) + "]"), dtype=float)  # (n, 5, 2)
    with np.load(data / "predictions.npz") as stored:
        order = pd.Index(stored["locators"]).get_indexer(frame["locator"])
        predicted = stored["points"][order]
    nme = np.linalg.norm(truth - predicted, axis=2).mean(axis=1) / frame["normalization_factor"].to_numpy(float)
    failed = nme > THRESHOLD
    cases = [(f"{suite} :: basic", np.ones(len(frame), bool))]
    for column in ("occlusion", "mirrored"):
        values = frame[column].astype(str)
        cases += [(f"{suite} :: {column} {v}", (values == v).to_numpy()) for v in sorted(values.unique())]
    cases += [(f"{suite} :: {n}", m) for n, m in quartile_cases(frame["roll_deg"].to_numpy(float), "roll_deg")]
    out = {}
    for name, mask in cases:
        nmes = nme[mask]
        mean = float(nmes.mean())
        out[name] = {
            "mean_nme": mean,
            "alignment_failure_rate": float(failed[mask].mean()),
            "ced_auc": ced_auc(nmes),
            "n_samples": int(mask.sum()),
            "passed": mean <= 1.0,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the data root holding SUITE/meta/metadata.csv and predictions.npz")
    parser.add_argument("--suite", default="synthetic")
    parser.add_argument("--json", type=Path, help="write the per-case metrics here")
    parser.add_argument("--per-row", action="store_true", help="parse the points with one json.loads per row")
    args = parser.parse_args()
    start = time.perf_counter()
    cases = compute(args.data, args.suite, args.per_row)
    took = time.perf_counter() - start
    passed = sum(c["passed"] for c in cases.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"floor: {len(cases)} test cases, {passed} passed, {took:.2f} s, peak RSS {peak:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()
