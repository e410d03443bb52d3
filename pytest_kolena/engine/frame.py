"""The suite's samples as one pandas DataFrame, for vectorised evaluators: a row per distinct sample (indexed by its
sample id), a column per leaf field, named by its path: `test_sample.normalization_factor`,
`ground_truth.keypoints.points`, `inference.keypoints.points`, `test_sample.metadata.roll_deg`.

Nested data objects and dicts are flattened; lists (points, a polygon's vertices, a list of boxes) stay one value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

ROLES = ("test_sample", "ground_truth", "inference")


def _leaves(value: Any, path: str, out: dict[str, Any]) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _leaves(getattr(value, field.name), f"{path}.{field.name}", out)
    elif isinstance(value, dict):
        for key, item in value.items():
            _leaves(item, f"{path}.{key}", out)
    else:
        out[path] = value


def samples_frame(rows: Sequence[tuple[Any, Any, Any]], ids: Sequence[str]) -> Any:
    """The (test sample, ground truth, inference) rows as a DataFrame; a data object that is None in a row (an
    optional box) is None in its own column, and missing in its fields' columns."""
    import pandas as pd

    records = []
    for row in rows:
        record: dict[str, Any] = {}
        for role, value in zip(ROLES, row):
            _leaves(value, role, record)
        records.append(record)
    return pd.DataFrame.from_records(records, index=pd.Index(list(ids), name="sample_id"))
