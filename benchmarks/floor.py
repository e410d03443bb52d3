"""The floor: the metrics of the scale benchmark's pytest run, computed by hand with pandas and numpy.

What a numpy user would write for the numbers `examples/facial_keypoints/workflow.py`'s KeypointsEvaluator gives at
NmeThreshold(0.08) on a suite made by `synthetic.make_suite`: read the metadata CSV and the predictions file, parse
every row's points at once into an (n, 5, 2) array, the NME of every sample (mean point-to-point distance over the
normalization factor) and its alignment failure (NME > 0.08), then for each of the plugin's 12 test cases (the whole
suite, "synthetic :: basic"; each `occlusion` value; each `mirrored` value; the `roll_deg` quartiles, cut as
pytest_kolena/data/stratify.py cuts them) the mean NME, the failure rate, the CED AUC and the threshold check
`mean_nme <= 1.0`. No test samples, inferences or metrics objects, no store: the least work that gives the numbers.
The points of all rows are parsed in one call (np.fromstring on the joined column: 0.27 s for 100,000 rows, against
0.7 s for one json.loads of the joined column); `--per-row` parses them the plain way, one json.loads per row.

It prints its own time (from its first line to the metrics, imports excluded) and its peak RSS; the runner
(bench_scale.py) runs it as a child and measures it like a pytest child. `--json OUT` writes the per-case metrics.
`--check JUNIT.xml` compares them with what the plugin showed in a pytest run's JUnit XML (`--junitxml`: each item's
`kolena.metric.*` properties), and exits 1 when a metric differs by more than `--tolerance` (1e-12).

    python benchmarks/floor.py DATA [--suite synthetic] [--per-row] [--json OUT] [--check JUNIT.xml]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import resource
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

THRESHOLD = 0.08  # NmeThreshold(0.08): an alignment failure is an NME above it
MAX_MEAN_NME = 1.0  # the test's threshold, thresholds={"mean_nme": "<= 1.0"}
CED_STEPS = np.linspace(0, 0.08, 81)  # the example's CED, up to NME 0.08
STRATA = ("occlusion", "mirrored")  # categorical, as in kolena_stratify
QUANTILES = ("roll_deg", 4)  # roll_deg:quantile:4
METRICS = ("mean_nme", "alignment_failure_rate", "ced_auc", "n_samples")


def ced_auc(nmes: np.ndarray) -> float:
    """Area under the cumulative error distribution up to NME 0.08, over 0.08 (trapezoids on CED_STEPS)."""
    if len(nmes) == 0:
        return math.nan
    ced = np.searchsorted(np.sort(nmes), CED_STEPS, side="right") / len(nmes)
    return float(np.sum((ced[1:] + ced[:-1]) / 2 * np.diff(CED_STEPS)) / CED_STEPS[-1])


def quantile_cases(values: np.ndarray, column: str, bins: int) -> list[tuple[str, np.ndarray]]:
    """Equal-height bins: edges at the quantiles (repeated edges merged), each bin [low, high) but the last
    [low, high]; empty bins dropped; labelled "column low to high" with %g."""
    present = values[~np.isnan(values)]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1))) if len(present) else np.zeros(0)
    cases = []
    for i, (low, high) in enumerate(itertools.pairwise(edges)):
        inside = (values >= low) & ((values <= high) if i == len(edges) - 2 else (values < high))
        if inside.any():
            cases.append((f"{column} {low:g} to {high:g}", inside))
    return cases


def parse_points(texts: pd.Series) -> np.ndarray:
    """JSON lists of [x, y] pairs, one per row, all of the same length, as an (n, k, 2) array: one parse of all
    the numbers (faster than json.loads, same doubles)."""
    flat = np.fromstring(",".join(texts).replace("[", "").replace("]", ""), sep=",")
    if len(texts) == 0 or len(flat) % (2 * len(texts)):
        raise ValueError(f"{len(flat)} numbers in the points of {len(texts)} rows: not the same number of points")
    return flat.reshape(len(texts), -1, 2)


def compute(data: Path, suite: str = "synthetic", per_row: bool = False) -> dict[str, dict[str, float]]:
    """Per test case name (as the plugin names them, "synthetic :: basic", ...): mean_nme, alignment_failure_rate,
    ced_auc, n_samples, passed. `per_row`: the points parsed the plain way, one json.loads per row."""
    frame = pd.read_csv(data / suite / "meta" / "metadata.csv")
    truth = np.array(frame["points"].map(json.loads).tolist(), float) if per_row else parse_points(frame["points"])
    with np.load(data / "predictions.npz") as stored:
        row = pd.Index(stored["locators"]).get_indexer(frame["locator"])
        if (row < 0).any():
            raise ValueError(f"no prediction for {frame['locator'].iloc[int(np.argmax(row < 0))]}")
        predicted = stored["points"][row]
    factor = frame["normalization_factor"].to_numpy(float)
    nme = np.linalg.norm(truth - predicted, axis=2).mean(axis=1) / factor
    failed = nme > THRESHOLD

    cases = [("basic", np.ones(len(frame), bool))]
    for column in STRATA:
        values = frame[column].astype(str).to_numpy()
        cases += [(f"{column} {value}", values == value) for value in sorted(set(values))]
    cases += quantile_cases(frame[QUANTILES[0]].to_numpy(float), *QUANTILES)

    out = {}
    for name, mask in cases:
        nmes = nme[mask]
        mean = float(nmes.mean())
        out[f"{suite} :: {name}"] = {
            "mean_nme": mean,
            "alignment_failure_rate": float(failed[mask].mean()),
            "ced_auc": ced_auc(nmes),
            "n_samples": int(mask.sum()),
            "passed": mean <= MAX_MEAN_NME,
        }
    return out


def plugin_metrics(junit: Path) -> dict[str, dict[str, float]]:
    """Per test case name: the metrics the plugin showed on its test-case items (`kolena.test_case`,
    `kolena.metric.*` properties of a --junitxml report; one model and one configuration expected)."""
    out: dict[str, dict[str, float]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        name = properties.get("kolena.test_case")
        if not name:  # the suite item, or not a kolena item
            continue
        if name in out:
            raise ValueError(f"{junit}: test case {name!r} shown twice (more than one model or configuration?)")
        metrics = {k.removeprefix("kolena.metric."): v for k, v in properties.items() if k.startswith("kolena.metric.")}
        out[name] = {m: float(metrics[m]) for m in METRICS if m in metrics}
        out[name]["passed"] = properties.get("kolena.verdict") == "passed"
    if not out:
        raise ValueError(f"{junit}: no kolena test-case items (was the run given --junitxml?)")
    return out


def compare(floor: dict[str, dict], plugin: dict[str, dict], tolerance: float = 1e-12) -> tuple[bool, str]:
    """Whether the two agree (the same test cases, every metric within `tolerance`, the same verdicts), and a
    report: the largest absolute difference of each metric."""
    lines = []
    agree = set(floor) == set(plugin)
    if not agree:
        lines.append(f"test cases only in the floor: {sorted(set(floor) - set(plugin))}")
        lines.append(f"test cases only in the plugin's run: {sorted(set(plugin) - set(floor))}")
    common = sorted(set(floor) & set(plugin))
    for metric in METRICS:
        differences = [
            (abs(floor[c][metric] - plugin[c][metric]), c)
            for c in common
            if metric in plugin[c] and not (math.isnan(floor[c][metric]) and math.isnan(plugin[c][metric]))
        ]
        if not differences:
            lines.append(f"{metric}: not in the plugin's report")
            continue
        worst, where = max(differences)
        agree &= worst <= tolerance
        at = f" ({where})" if worst else ""
        lines.append(f"{metric}: max |floor - plugin| {worst:.3g} over {len(differences)} test cases{at}")
    verdicts = [c for c in common if floor[c]["passed"] != plugin[c]["passed"]]
    agree &= not verdicts
    lines.append(f"threshold verdicts: {'the same' if not verdicts else f'differ on {verdicts}'}")
    return agree, "\n".join(lines)


def main() -> int:
    start = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the data root holding SUITE/meta/metadata.csv and predictions.npz")
    parser.add_argument("--suite", default="synthetic", help="the suite's folder under DATA (synthetic)")
    parser.add_argument("--json", type=Path, help="write the per-case metrics here")
    parser.add_argument("--check", type=Path, metavar="JUNIT", help="compare with a pytest run's --junitxml report")
    parser.add_argument("--per-row", action="store_true", help="parse the points with one json.loads per row")
    parser.add_argument("--tolerance", type=float, default=1e-12, help="largest difference taken as equal (1e-12)")
    args = parser.parse_args()
    cases = compute(args.data, args.suite, args.per_row)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    passed = sum(c["passed"] for c in cases.values())
    samples = cases[f"{args.suite} :: basic"]["n_samples"]
    print(
        f"floor: {samples:,} samples, {len(cases)} test cases, {passed} passed in {took:.2f}s, peak RSS {peak:.0f} MB"
    )
    if args.json:
        args.json.write_text(json.dumps(cases, indent=1))
    if args.check:
        agree, report = compare(cases, plugin_metrics(args.check), args.tolerance)
        print(f"check against {args.check}: {'agree' if agree else 'DIFFER'}\n{report}")
        return 0 if agree else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
