"""The suite's samples as one pandas DataFrame, for vectorised evaluators: a row per distinct sample (indexed by its
sample id), a column per leaf field, named by its path: `test_sample.locator`,
`ground_truth.keypoints.points`, `inference.keypoints.points`, `test_sample.metadata.roll_deg`.

Nested data objects and dicts are flattened; lists (a list of boxes) stay one value; a list of (x, y) points (a
keypoints' or a polygon's) is one (k, 2) float array per row. Built column by column, a block of rows at a time:
rows made on demand (a loaded suite's) are let go block by block, only their leaf values kept.
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


class _Parts(list):
    """A column's values a block at a time: a block of plain floats (or booleans) as one NumPy array, not an object
    per value; a block of point lists as one (rows, k, 2) array, a view of it per row (`_point_arrays`); `values()`
    gives what one list of the values would give pandas."""

    def add(self, values: list[Any]) -> None:
        import numpy as np

        kind = type(values[0]) if values else None
        if kind in (float, bool) and all(type(v) is kind for v in values):
            self.append(np.array(values, dtype=np.float64 if kind is float else np.bool_))
        else:
            points = _point_arrays(values)
            self.append(values if points is None else points)

    def values(self) -> Any:
        import numpy as np

        if self and all(isinstance(p, np.ndarray) for p in self) and len({p.dtype for p in self}) == 1:
            return np.concatenate(self)  # (the dtype pandas infers from a list of only floats, or only booleans)
        return [v for part in self for v in (part.tolist() if isinstance(part, np.ndarray) else part)]


def _point_arrays(values: list[Any]) -> list[Any] | None:
    """A block of point lists (lists of (x, y) number pairs, as many in each row) as a (k, 2) float array per row,
    views of one array of the block: 80 bytes of floats for 5 points and one array object, not a list, 5 tuples and
    10 floats (about 600 bytes); None where the values are anything else. Missing rows stay None."""
    import numpy as np

    present = [v for v in values if v is not None]
    first = present[0] if present else None
    if not (isinstance(first, list) and first and isinstance(first[0], tuple) and len(first[0]) == 2):
        return None
    if not all(type(c) in (float, int) for c in first[0]):
        return None
    try:
        block = np.array(present, dtype=np.float64)
    except (ValueError, TypeError):  # (rows of different lengths, or values that are no numbers)
        return None
    if block.ndim != 3 or block.shape[2] != 2:
        return None
    rows = iter(block)
    return [None if v is None else next(rows) for v in values]


def _merge(into: dict[Path, _Parts], block: dict[Path, list[Any]], before: int, size: int) -> None:
    """Append a block's columns to the columns of the rows before it: a column new in this block is None for the
    rows before, a column absent from it None for its rows."""
    for path, values in block.items():
        if path not in into:
            into[path] = _Parts()
            if before:
                into[path].add([None] * before)
        into[path].add(values)
    for path, parts in into.items():
        if path not in block:
            parts.add([None] * size)


def _ordered(columns: dict[Path, _Parts]) -> dict[str, Any]:
    """The columns in the order one pass over all rows gives (fields in order, keys in order of first appearance,
    depth first), by name; a field None in some blocks and a data object or dict in others keeps only its nested
    columns."""
    children: dict[Path, dict[Path, None]] = {}
    for path in columns:
        for depth in range(1, len(path)):
            children.setdefault(path[:depth], {})[path[: depth + 1]] = None
    out: dict[str, Any] = {}

    def walk(path: Path) -> None:
        nested = children.get(path)
        parts = columns.get(path)
        values = parts.values() if parts is not None else None
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

    columns: dict[Path, _Parts] = {}
    for start in range(0, len(rows), BLOCK):
        part = rows[start : start + BLOCK]
        block: dict[Path, list[Any]] = {}
        for role, values in zip(ROLES, zip(*part)):
            _columns(list(values), (role,), block)
        _merge(columns, block, start, len(part))
    out = _ordered(columns) if columns else {role: [] for role in ROLES}
    return pd.DataFrame(out, index=pd.Index(list(ids), name="sample_id"))
