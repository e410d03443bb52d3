"""The mean shape: the average of the ground-truth keypoints, each expressed in its face box's unit square.

It is the classic starting point of landmark regressors (e.g. the initial shape of cascaded regression), and the
whole "training" of the baseline model. It is estimated on the embedded suite's ground truths, a stand-in for a
training set here (a real model estimates it on training data, not on the suite it is tested on):

    python -m examples.facial_keypoints.mean_shape   # rewrites mean_shape.json
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

SUITE_CSV = Path(__file__).resolve().parents[1] / "data" / "300-W" / "meta" / "metadata.csv"
MEAN_SHAPE_FILE = Path(__file__).resolve().parent / "mean_shape.json"


def in_unit_box(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(n, k, 2) points to the unit square of their (n, 4) boxes [x1, y1, x2, y2]."""
    origin, size = boxes[:, None, :2], (boxes[:, 2:] - boxes[:, :2])[:, None, :]
    return (points - origin) / size


def estimate(csv_path: Path = SUITE_CSV) -> np.ndarray:
    frame = pd.read_csv(csv_path)
    points = np.array([json.loads(p) for p in frame.points])
    boxes = np.array([json.loads(b) for b in frame.bbox])
    return in_unit_box(points, boxes).mean(axis=0)


def load() -> np.ndarray:
    return np.array(json.loads(MEAN_SHAPE_FILE.read_text()))


if __name__ == "__main__":
    MEAN_SHAPE_FILE.write_text(json.dumps(estimate().round(4).tolist()) + "\n")
    print(MEAN_SHAPE_FILE.read_text())
