"""The suite's samples as one pandas DataFrame, for vectorised evaluators: a row per distinct sample (indexed by its
sample id), a column per leaf field, named by its path: `test_sample.locator`,
`ground_truth.keypoints.points`, `inference.keypoints.points`, `test_sample.metadata.roll_deg`.

Nested data objects and dicts are flattened; lists (points, a polygon's vertices, a list of boxes) stay one value.
Built column by column, a block of rows at a time: rows made on demand (a loaded suite's) are let go block by block,
only their leaf values kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

ROLES = ("test_sample", "ground_truth", "inference")
BLOCK = 8192  # rows made and flattened at a time

Path = tuple[str, ...]


def _columns(values: list[Any], path: Path, out: dict[Path, list[Any]]) -> None:
    """The leaf columns of `values` (objects of one field, None where absent) under `path`."""
    first = next((v for v in values if v is not None), None)
    if dataclasses.is_dataclass(first) and not isinstance(first, type):
        for field in dataclasses.fields(first):
            name = field.name
            _columns([getattr(v, name, None) for v in values], (*path, name), out)
    elif isinstance(first, dict):
        keys = dict.fromkeys(k for v in values if isinstance(v, dict) for k in v)
        for key in keys:
            _columns([v.get(key) if isinstance(v, dict) else None for v in values], (*path, str(key)), out)
    else:
        out[path] = values


def _merge(into: dict[Path, list[Any]], block: dict[Path, list[Any]], before: int, size: int) -> None:
    """Append a block's columns to the columns of the rows before it: a column new in this block is None for the
    rows before, a column absent from it None for its rows."""
    for path, values in block.items():
        into.setdefault(path, [None] * before).extend(values)
    for path, values in into.items():
        if path not in block:
            values.extend([None] * size)


def _ordered(columns: dict[Path, list[Any]]) -> dict[str, list[Any]]:
    """The columns in the order one pass over all rows gives (fields in order, keys in order of first appearance,
    depth first), by name; a field None in some blocks and a data object or dict in others keeps only its nested
    columns."""
    children: dict[Path, dict[Path, None]] = {}
    for path in columns:
        for depth in range(1, len(path)):
            children.setdefault(path[:depth], {})[path[: depth + 1]] = None
    out: dict[str, list[Any]] = {}

    def walk(path: Path) -> None:
        nested = children.get(path)
        values = columns.get(path)
        if values is not None and not (nested and all(v is None for v in values)):
            out[".".join(path)] = values
        for child in nested or ():
            walk(child)

    for role in ROLES:
        walk((role,))
    return out


def samples_frame(rows: Sequence[tuple[Any, Any, Any]], ids: Sequence[str]) -> Any:
    """The (test sample, ground truth, inference) rows as a DataFrame; where a nested data object is None in a row
    (an optional box), its fields' columns hold a missing value (None, or NaN in a numeric column)."""
    import pandas as pd

    columns: dict[Path, list[Any]] = {}
    for start in range(0, len(rows), BLOCK):
        part = rows[start : start + BLOCK]
        block: dict[Path, list[Any]] = {}
        for role, values in zip(ROLES, zip(*part)):
            _columns(list(values), (role,), block)
        _merge(columns, block, start, len(part))
    out = _ordered(columns) if columns else {".".join((role,)): [] for role in ROLES}
    return pd.DataFrame(out, index=pd.Index(list(ids), name="sample_id"))
