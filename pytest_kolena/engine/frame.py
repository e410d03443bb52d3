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
    per value; a block of points or of (x, y) pairs packed in one float array (`_Packed`), their per-row values
    made by `values()` once every block is read; `values()` gives what one list of the values would give pandas."""

    def add(self, values: list[Any]) -> None:
        import numpy as np

        kind = type(values[0]) if values else None
        if kind in (float, bool) and all(type(v) is kind for v in values):
            self.append(np.array(values, dtype=np.float64 if kind is float else np.bool_))
        else:
            packed = _Packed.of(values)
            self.append(values if packed is None else packed)

    def values(self) -> Any:
        import numpy as np

        if self and all(isinstance(p, np.ndarray) for p in self) and len({p.dtype for p in self}) == 1:
            return np.concatenate(self)  # (the dtype pandas infers from a list of only floats, or only booleans)
        out: list[Any] = []
        for part in self:
            out.extend(
                part.tolist() if isinstance(part, np.ndarray) else part.rows() if isinstance(part, _Packed) else part
            )
        return out


@dataclasses.dataclass
class _Packed:
    """A block of point lists (lists of (x, y) pairs, as many in each row: a keypoints' points) or of (x, y) pairs (a
    box corner) as one float array, (rows, k, 2) or (rows, 2), and where rows are missing. Their per-row values are
    made when the column is (`rows`), after every block was read: made then, they lie together in memory rather than
    among the block's objects that died, which kept the allocator's arenas from being given back."""

    array: Any
    missing: frozenset[int]  # positions of the rows without a value (None)
    size: int  # rows in the block
    points: bool  # a (k, 2) array per row; else an (x, y) tuple

    @classmethod
    def of(cls, values: list[Any]) -> _Packed | None:
        """The block packed, or None where its values are anything else (rows of different lengths, other lists)."""
        import numpy as np

        present = [v for v in values if v is not None]
        first = present[0] if present else None
        points = isinstance(first, list) and bool(first) and isinstance(first[0], tuple)
        pair = first[0] if points else first
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(type(c) is float for c in pair)):
            return None
        if not all(type(v) is (list if points else tuple) for v in present):  # (a pair that is a list stays one)
            return None
        try:
            array = np.array(present, dtype=np.float64)
        except (ValueError, TypeError):  # (rows of different lengths, or values that are no numbers)
            return None
        if array.ndim != (3 if points else 2) or array.shape[-1] != 2:
            return None
        return cls(array, frozenset(k for k, v in enumerate(values) if v is None), len(values), points)

    def rows(self) -> list[Any]:
        """A (k, 2) float array per row, views of one array (80 bytes of floats for 5 points and one array object,
        not a list, 5 tuples and 10 floats: about 600 bytes), or an (x, y) tuple of floats; None where missing."""
        made = iter(self.array) if self.points else map(tuple, self.array.tolist())
        if not self.missing:
            return list(made)
        return [None if k in self.missing else next(made) for k in range(self.size)]


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
