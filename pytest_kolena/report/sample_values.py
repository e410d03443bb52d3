"""One level's values of a suite's samples in a report document (its test samples, ground truths, or one model's
inferences), kept as the typed column the store read and decoded when read: a report of a million samples reads a
few of them (the worst samples' thumbnails) and its scalar fields as columns, never a dict per sample."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

CHUNK = 8192  # values decoded at a time when iterated


class SampleValues(Sequence):
    """The values of a typed column (`field`: its name, type and metadata) in the suite's sample order: `rows[k]` is
    the column's row of the suite's k-th sample (-1: it has none, None), or None when the orders agree."""

    def __init__(self, column: Any, field: Any, rows: np.ndarray | None = None) -> None:
        self.column = column
        self.field = field
        self.rows = rows
        self.changed: dict[int, Any] = {}  # values set since (the document is plain data: code may edit it)

    def __len__(self) -> int:
        return len(self.column) if self.rows is None else len(self.rows)

    def __getitem__(self, index: int | slice) -> Any:  # type: ignore[override]
        if isinstance(index, slice):
            return self._decode(np.arange(len(self))[index])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._decode(np.array([index]))[0]

    def __setitem__(self, index: int, value: Any) -> None:
        self[index]  # (an index out of range raises)
        self.changed[index % len(self)] = value

    def __iter__(self) -> Iterator[Any]:
        for start in range(0, len(self), CHUNK):
            yield from self._decode(np.arange(start, min(start + CHUNK, len(self))))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(other) == len(self) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{len(self)} sample values of type {self.field.type}, decoded as read>"

    def _decode(self, positions: np.ndarray) -> list[Any]:
        import pyarrow as pa

        from ..store.columns import decode

        rows = positions if self.rows is None else self.rows[positions]
        present = rows >= 0
        taken = decode(self.column.take(pa.array(rows[present], pa.int64())), self.field)
        if not present.all():
            values = iter(taken)
            taken = [next(values) if p else None for p in present.tolist()]
        if self.changed:
            taken = [self.changed.get(k, value) for k, value in zip(positions.tolist(), taken)]
        return taken

    def scalar_fields(self) -> dict[str, list[Any]] | None:
        """The values' top-level fields that are plain scalars (numbers, text, booleans), and the label and score of
        their top-level labels, each as a column (`name`, `name score`), read from the column's children without
        decoding the rest; None where the column is no struct."""
        import pyarrow as pa

        kind = self.field.type
        if not pa.types.is_struct(kind) or self.changed:
            return None
        column = self.column.flatten() if self.rows is None else self.column.take(_taken(self.rows)).flatten()
        out: dict[str, list[Any]] = {}
        for i in range(kind.num_fields):
            child, values = kind.field(i), column[i]
            if child.name == "data_type" or child.metadata:
                continue
            if _is_scalar(child.type):
                out[child.name] = _with_missing(values.to_pylist(), self.rows)
            elif pa.types.is_struct(child.type) and _is_label(child.type, values):
                parts = values.flatten()
                names = [child.type.field(k).name for k in range(child.type.num_fields)]
                out[child.name] = _with_missing(parts[names.index("label")].to_pylist(), self.rows)
                if "score" in names:
                    out[f"{child.name} score"] = _with_missing(parts[names.index("score")].to_pylist(), self.rows)
        return out


def _taken(rows: np.ndarray) -> Any:
    import pyarrow as pa

    return pa.array(np.where(rows >= 0, rows, 0), pa.int64())


def _with_missing(values: list[Any], rows: np.ndarray | None) -> list[Any]:
    if rows is None or (rows >= 0).all():
        return values
    return [None if row < 0 else value for value, row in zip(values, rows.tolist())]


def _is_scalar(kind: Any) -> bool:
    import pyarrow as pa

    return (
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_string(kind)
    )


def _is_label(kind: Any, values: Any) -> bool:
    """A struct column of labels (`data_type` ANNOTATION/LABEL on every value that has one)."""
    names = [kind.field(k).name for k in range(kind.num_fields)]
    if "data_type" not in names or "label" not in names:
        return False
    types = set(values.flatten()[names.index("data_type")].drop_null().unique().to_pylist())
    return types == {"ANNOTATION/LABEL"}


def in_suite_order(parts: list[tuple[list[str], Any, Any]], ids: list[str]) -> SampleValues | None:
    """The values of typed parts (sample ids, column, field) in the order of `ids` (a later part's value of a sample
    wins, as when the parts are decoded one after the other); None where the parts' columns differ in type, but for
    values all missing in a part (`_unified`)."""
    import pyarrow as pa

    if not parts or any(field.metadata != parts[0][2].metadata for _, _, field in parts):
        return None
    field = _unified([f for _, _, f in parts])
    if field is None:
        return None
    columns = [c if c.type == field.type else c.cast(field.type) for _, c, _ in parts]
    column = columns[0] if len(columns) == 1 else pa.concat_arrays(columns)
    all_ids = [i for part_ids, _, _ in parts for i in part_ids]
    if all_ids == ids:
        return SampleValues(column, field)
    row_of = {sample_id: k for k, sample_id in enumerate(all_ids)}
    rows = np.fromiter((row_of.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))
    return SampleValues(column, field, rows)


def _unified(fields: list[Any]) -> Any:
    """The one field the parts' columns can all be read as: theirs where they agree; where a part's value (or a
    field of it) is all missing, so typed null, the others' type (a chunk of samples whose optional field was empty
    everywhere); None where they differ otherwise."""
    import pyarrow as pa

    first = fields[0]
    if all(f.type == first.type for f in fields):
        return first
    try:
        schemas = [pa.schema([f.with_name("v")]) for f in fields]
        unified = pa.unify_schemas(schemas, promote_options="permissive").field("v")
    except (pa.ArrowInvalid, pa.ArrowTypeError, NotImplementedError):
        return None
    if not all(_nulls_only_differ(f.type, unified.type) for f in fields):
        return None
    return unified.with_name(first.name).with_metadata(first.metadata)


def _nulls_only_differ(kind: Any, unified: Any) -> bool:
    import pyarrow as pa

    if kind == unified or pa.types.is_null(kind):
        return True
    if not (pa.types.is_struct(kind) and pa.types.is_struct(unified)) or kind.num_fields != unified.num_fields:
        return False
    return all(
        kind.field(i).name == unified.field(i).name
        and kind.field(i).metadata == unified.field(i).metadata
        and _nulls_only_differ(kind.field(i).type, unified.field(i).type)
        for i in range(kind.num_fields)
    )
