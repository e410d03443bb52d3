"""The data and its one fixed split: the suite holds the held-out half, the models train on the other half.

`build_suite.py` writes the held-out rows to the suite CSV and `models.py` fits on the training rows; both take them
from `split()`, so a test sample never reaches training. Row numbers are positions in
`sklearn.datasets.load_breast_cancer()` (its bundled copy of the UCI data: no download).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

POSITIVE, NEGATIVE = "malignant", "benign"  # malignant is the positive class, as in a screening test
SPLIT = {"test_size": 0.5, "random_state": 0, "stratify": "target"}  # train_test_split's arguments, documented


@dataclasses.dataclass(frozen=True)
class Split:
    """The dataset's features and labels, with the row numbers of each half."""

    features: np.ndarray  # (569, 30), sklearn's feature order
    diagnosis: np.ndarray  # (569,) "malignant" or "benign"
    feature_names: tuple[str, ...]
    train_rows: np.ndarray  # sorted row numbers
    test_rows: np.ndarray

    def training_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Features of the training rows, and 1 for malignant, 0 for benign."""
        return self.features[self.train_rows], (self.diagnosis[self.train_rows] == POSITIVE).astype(int)


@functools.cache
def split() -> Split:
    """The split of `SPLIT`. sklearn codes malignant as 0 and benign as 1: the labels here are the names."""
    data = load_breast_cancer()
    names = np.asarray(data.target_names)[data.target]
    rows = np.arange(len(data.target))
    train, test = train_test_split(
        rows, test_size=SPLIT["test_size"], random_state=SPLIT["random_state"], stratify=data.target
    )
    return Split(data.data, names, tuple(data.feature_names), np.sort(train), np.sort(test))
