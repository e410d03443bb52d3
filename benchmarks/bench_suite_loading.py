"""Time and peak memory of loading a large metadata CSV (default 1,000,000 rows, the 300-W format plus metadata).

Each phase runs in a fresh process, so that its peak resident memory is its own:
- read: pandas.read_csv only, for reference (and the DataFrame's own memory, `memory_usage(deep=True)`);
- parse: read, then every column parsed into typed arrays (points, boxes, numbers), as `load_suite` does;
- load: the whole `load_suite`: typed test samples and ground truths, the complete test case and 4 + 5 strata.

    python benchmarks/bench_suite_loading.py [rows]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_csv(folder: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 128, (rows, 5, 2)).round(3)
    boxes = rng.uniform(0, 128, (rows, 4)).round(2)
    (folder / "big" / "meta").mkdir(parents=True)
    with open(folder / "big" / "meta" / "metadata.csv", "w") as out:
        out.write("locator,normalization_factor,points,bbox,occlusion,roll_deg\n")
        occlusions = np.array(["none", "left_eye", "right_eye", "nose", "mouth"])[rng.integers(5, size=rows)]
        roll = rng.uniform(-60, 60, rows).round(1)
        factor = rng.uniform(30, 50, rows).round(3)
        for i in range(rows):
            p = points[i]
            b = boxes[i]
            out.write(
                f'images/{i:07d}.jpg,{factor[i]},"[[{p[0, 0]}, {p[0, 1]}], [{p[1, 0]}, {p[1, 1]}], [{p[2, 0]}, {p[2, 1]}], '
                f'[{p[3, 0]}, {p[3, 1]}], [{p[4, 0]}, {p[4, 1]}]]","[{b[0]}, {b[1]}, {b[2]}, {b[3]}]",{occlusions[i]},{roll[i]}\n'
            )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_phase(phase: str, root: str) -> dict:
    import pandas as pd

    from examples.quickstart import quickstart as qs
    from pytest_kolena.data import load_suite
    from pytest_kolena.data.storage import Storage
    from pytest_kolena.data.suite import read_table
    from pytest_kolena.data.typed import field_values, plan

    url = f"{root}/big/meta/metadata.csv"
    baseline = peak_mb()
    start = time.perf_counter()
    result: dict = {"phase": phase}
    if phase == "read":
        frame = pd.read_csv(url)
        result["dataframe_mb"] = frame.memory_usage(deep=True).sum() / 2**20
    elif phase == "parse":
        frame = read_table(Storage(root), url)
        sources = plan(qs.TestSample, qs.GroundTruth, list(frame.columns), {"points": "keypoints"}, url)
        columns = {}
        for source in sources:  # the typed arrays, without making objects
            from pytest_kolena.data import columns as col

            fail = lambda row, message: ValueError(message)  # noqa: E731
            series = frame[source.columns[0]]
            if source.name in ("keypoints",):
                columns[source.name] = col.parse_points(series, fail, fixed_count=True)
            elif source.name == "bbox":
                columns[source.name] = col.parse_boxes(series, fail)
            elif source.name == "normalization_factor":
                columns[source.name] = col.parse_floats(series, fail)
            else:
                columns[source.name] = field_values(source, frame, url, root)
        result["rows"] = len(frame)
    else:
        suite = load_suite(
            qs.wf, "big", root, columns={"points": "keypoints"}, stratify=["occlusion", "roll_deg:quantile:4"]
        )
        result["rows"] = len(suite.test_cases[0])
        result["test_cases"] = len(suite.test_cases)
    result["seconds"] = time.perf_counter() - start
    result["peak_mb"] = peak_mb()
    result["peak_above_imports_mb"] = peak_mb() - baseline
    return result


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_csv(Path(tmp), rows)
        size = (Path(tmp) / "big" / "meta" / "metadata.csv").stat().st_size / 2**20
        print(f"{rows:,} rows, {size:.0f} MB of CSV written in {time.perf_counter() - start:.1f} s")
        root_dir = Path(__file__).resolve().parents[1]
        for phase in ("read", "parse", "load"):
            output = subprocess.run(
                [sys.executable, __file__, "--phase", phase, tmp],
                capture_output=True,
                text=True,
                cwd=root_dir,
                check=True,
            ).stdout
            print(json.dumps(json.loads(output.splitlines()[-1])))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--phase":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        print(json.dumps(run_phase(sys.argv[2], sys.argv[3])))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
