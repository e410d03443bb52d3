"""The suite's samples as one pandas DataFrame, for vectorised evaluators: a row per distinct sample (indexed by its
sample id), a column per leaf field, named by its path: `test_sample.locator`,
`ground_truth.keypoints.points`, `inference.keypoints.points`, `test_sample.metadata.roll_deg`.

Nested data objects and dicts are flattened; lists (a list of boxes) stay one value; a list of (x, y) points (a
keypoints' or a polygon's) is one (k, 2) float array per row. Built column by column, a block of rows at a time:
rows made on demand (a loaded suite's) are let go block by block, only their leaf values kept.
"""

from __future__ import annotations

import dataclasses
import functools
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

    def add(self, values: Any) -> None:
        import numpy as np

        if isinstance(values, (np.ndarray, _Packed)):  # (a block read from a typed column: as it is)
            self.append(values)
            return
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
    (an optional box), its fields' columns hold a missing value (None, or NaN in a numeric column). Where the rows
    hold their inferences as a typed column (`inference_column`, then `pairs` without them: a loaded suite's run),
    the inference's columns are read from it, no inference made (`_typed_leaves`; the columns of the objects)."""
    import pandas as pd

    columns: dict[Path, _Parts] = {}
    column_of = getattr(rows, "inference_column", None)
    for start in range(0, len(rows), BLOCK):
        stop = min(start + BLOCK, len(rows))
        held = column_of(start, stop) if column_of is not None else None
        typed = _typed_leaves(*held, ("inference",)) if held is not None else None
        part = rows.pairs(start, stop) if typed is not None else rows[start:stop]  # type: ignore[attr-defined]
        block: dict[Path, Any] = {}
        for role, values in zip(ROLES if typed is None else ROLES[:2], zip(*part)):
            _columns(list(values), (role,), block)
        block.update(typed or {})
        _merge(columns, block, start, len(part))
    out = _ordered(columns) if columns else {role: [] for role in ROLES}
    return pd.DataFrame(out, index=pd.Index(list(ids), name="sample_id"))


def _typed_leaves(array: Any, kind: type, path: Path) -> dict[Path, Any] | None:
    """The leaf columns of a struct column of data objects of `kind` under `path`, as `_columns` gives them from the
    objects (their declared fields, in order; extras and `data_type` left out): floats and booleans as arrays,
    points and (x, y) pairs packed, other leaves as Python values; None where a field is not one of those (text
    kept as JSON, a union, a nested object missing in some rows): then the objects are made."""
    import pyarrow as pa

    if not pa.types.is_struct(array.type) or array.null_count or not dataclasses.is_dataclass(kind):
        return None
    hints = _hints(kind)
    names = {array.type.field(i).name: i for i in range(array.type.num_fields)}
    out: dict[Path, Any] = {}
    for field in dataclasses.fields(kind):
        index = names.get(field.name)
        if index is None or array.type.field(index).metadata:
            return None
        child, declared, where = array.field(index), hints.get(field.name), (*path, field.name)
        if pa.types.is_struct(child.type):
            nested = _typed_leaves(child, _optional(declared), where)
            if nested is None:
                return None
            out.update(nested)
            continue
        leaf = _typed_leaf(child, declared)
        if leaf is None:
            return None
        out[where] = leaf
    return out


def _typed_leaf(column: Any, declared: Any) -> Any:
    """One leaf column as `_Parts.add` would keep the objects' values, or None where it is no simple leaf."""
    import typing

    import numpy as np
    import pyarrow as pa

    kind, declared = column.type, _optional(declared)
    if pa.types.is_null(kind):
        return [None] * len(column)
    if (declared is float and pa.types.is_float64(kind)) or (declared is bool and pa.types.is_boolean(kind)):
        if column.null_count:
            return column.to_pylist()
        return column.to_numpy(zero_copy_only=False).astype(np.float64 if declared is float else np.bool_)
    if (declared is int and pa.types.is_int64(kind)) or (declared is str and pa.types.is_string(kind)):
        return column.to_pylist()
    origin, args = typing.get_origin(declared), typing.get_args(declared)
    pair = (tuple, (float, float))
    if (origin, args) == pair and pa.types.is_list(kind) and not column.null_count:
        values = column.flatten().to_numpy(zero_copy_only=False)
        if len(values) == 2 * len(column) and (np.diff(column.offsets.to_numpy()) == 2).all():
            return _Packed(values.reshape(-1, 2).astype(np.float64), frozenset(), len(column), False)
        return None
    points = origin is list and len(args) == 1 and (typing.get_origin(args[0]), typing.get_args(args[0])) == pair
    if points and pa.types.is_list(kind) and pa.types.is_list(kind.value_type) and not column.null_count:
        inner = column.flatten()
        counts, sizes = np.diff(column.offsets.to_numpy()), np.diff(inner.offsets.to_numpy())
        if inner.null_count or not (sizes == 2).all():
            return None
        if len(counts) and (counts == counts[0]).all() and counts[0] > 0:
            values = inner.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
            return _Packed(values.reshape(len(column), int(counts[0]), 2), frozenset(), len(column), True)
        return [[tuple(point) for point in row] for row in column.to_pylist()]  # (ragged: lists of tuples)
    return None


def _optional(declared: Any) -> Any:
    """`X` of `Optional[X]`; anything else as it is."""
    import types
    import typing

    args = typing.get_args(declared)
    union = typing.get_origin(declared) in (typing.Union, types.UnionType)
    if union and type(None) in args and len(args) == 2:
        return next(a for a in args if a is not type(None))
    return declared


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(kind)
    except Exception:  # (an annotation that does not resolve: each field then falls back to the objects)
        return {}
