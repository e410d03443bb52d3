"""How long it takes to build seed-typed samples (TestSample with a bbox, GroundTruth with 5 keypoints).

Kolena's pydantic-based types take about 3.2 s for 100,000 such samples on a 2-core machine.

    python benchmarks/bench_datatypes.py [n]
"""

from __future__ import annotations

import sys
import time

from pytest_kolena.workflow import GroundTruth, Image
from pytest_kolena.workflow.annotation import BoundingBox, Keypoints


class TestSample(Image):
    bbox: BoundingBox | None = None


class FaceGroundTruth(GroundTruth):
    keypoints: Keypoints
    normalization_factor: float


def build(n: int, as_json: bool) -> float:
    """Seconds to build n (TestSample, GroundTruth) pairs; as_json: values as json.loads gives them (lists, ints)."""
    if as_json:
        rows = [([10, 20], [110, 140], [[i, 2], [3, 4], [5, 6], [7, 8], [9, 10]], 100) for i in range(n)]
    else:
        rows = [
            ((10.0, 20.0), (110.0, 140.0), [(float(i), 2.0), (3.0, 4.0), (5.0, 6.0), (7.0, 8.0), (9.0, 10.0)], 100.0)
            for i in range(n)
        ]
    start = time.perf_counter()
    for i, (top_left, bottom_right, points, factor) in enumerate(rows):
        TestSample(f"s3://bucket/{i}.png", BoundingBox(top_left, bottom_right))
        FaceGroundTruth(Keypoints(points), factor)
    return time.perf_counter() - start


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    build(1000, False)  # first use finalizes the classes
    for label, as_json in (("tuples of floats", False), ("JSON lists of ints", True)):
        best = min(build(n, as_json) for _ in range(3))
        print(f"{n:,} seed samples from {label}: {best:.3f} s ({best / n * 1e6:.2f} us per sample)")
