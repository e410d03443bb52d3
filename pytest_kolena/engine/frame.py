"""The suite's samples as one pandas DataFrame, for vectorised evaluators: a row per distinct sample (indexed by its
sample id), a column per leaf field, named by its path: `test_sample.locator`,
`ground_truth.keypoints.points`, `inference.keypoints.points`, `test_sample.metadata.roll_deg`.

Nested data objects and dicts are flattened; lists (points, a polygon's vertices, a list of boxes) stay one value.
Built column by column (one list comprehension per field), not row by row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

ROLES = ("test_sample", "ground_truth", "inference")


def _columns(values: list[Any], path: str, out: dict[str, list[Any]]) -> None:
    """The leaf columns of `values` (objects of one field, None where absent) under `path`."""
    first = next((v for v in values if v is not None), None)
    if dataclasses.is_dataclass(first) and not isinstance(first, type):
        for field in dataclasses.fields(first):
            name = field.name
            _columns([getattr(v, name, None) for v in values], f"{path}.{name}", out)
    elif isinstance(first, dict):
        keys = dict.fromkeys(k for v in values if isinstance(v, dict) for k in v)
        for key in keys:
            _columns([v.get(key) if isinstance(v, dict) else None for v in values], f"{path}.{key}", out)
    else:
        out[path] = values


def samples_frame(rows: Sequence[tuple[Any, Any, Any]], ids: Sequence[str]) -> Any:
    """The (test sample, ground truth, inference) rows as a DataFrame; where a nested data object is None in a row
    (an optional box), its fields' columns hold a missing value (None, or NaN in a numeric column)."""
    import pandas as pd

    out: dict[str, list[Any]] = {}
    for role, values in zip(ROLES, zip(*rows) if rows else ([], [], [])):
        _columns(list(values), role, out)
    return pd.DataFrame(out, index=pd.Index(list(ids), name="sample_id"))
