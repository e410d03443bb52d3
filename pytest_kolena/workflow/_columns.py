"""Data objects made again from the typed columns the store wrote (`store/columns.py`), a field at a time: a column
of floats becomes the objects' float fields without a dict per sample."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from ..store.columns import DATA_TYPE_FIELD, decode
from ._dataobject import DataObject, schema_of, unwrap_optional
from .annotation import coordinates_checked


def objects_of(kind: type, array: pa.Array) -> list[Any] | None:
    """Objects of the data object type `kind` from its struct column, a field at a time (the inverse of `encode`),
    or None where this path does not apply (a field kept as text, a union, a subclass, extra fields, missing
    values): then each value goes through `from_dict`. Coordinates are not checked again: they were when written."""
    if not (isinstance(kind, type) and issubclass(kind, DataObject)) or not pa.types.is_struct(array.type):
        return None
    if array.null_count:
        return None
    schema = schema_of(kind)
    stored = {array.type.field(i).name: i for i in range(array.type.num_fields)}
    if set(stored) - set(schema.field_types) - {DATA_TYPE_FIELD}:
        return None  # extra fields: from_dict keeps them
    if DATA_TYPE_FIELD in stored and set(array.field(stored[DATA_TYPE_FIELD]).to_pylist()) != {kind._data_type}:
        return None  # (another class, recorded by its data_type)
    names = [name for name in schema.names if name in stored]
    columns = []
    for name in names:
        field = array.type.field(stored[name])
        values = None if field.metadata else _values(schema.field_types[name], array.field(stored[name]))
        if values is None:
            return None
        columns.append(values)
    with coordinates_checked():
        return [kind(**dict(zip(names, row))) for row in zip(*columns)] if columns else None


def objects_from(kind: type | None, array: pa.Array, field: pa.Field, from_plain: Callable[[Any], Any]) -> list[Any]:
    """The objects of a column `encode` wrote: a field at a time (`objects_of`) where that applies, else each value
    decoded to its plain form and given to `from_plain` (the type's `from_dict`)."""
    made = objects_of(kind, array) if kind is not None and not field.metadata else None
    return made if made is not None else [from_plain(value) for value in decode(array, field)]


def _values(declared: Any, array: pa.Array) -> list[Any] | None:
    """The values of one field, as `from_plain` would give them, or None where this path does not apply."""
    declared, _ = unwrap_optional(declared)
    kind = array.type
    if declared is float and (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
        return [None if v is None else float(v) for v in array.to_pylist()]
    if (declared is int and pa.types.is_integer(kind)) or (declared is bool and pa.types.is_boolean(kind)):
        return array.to_pylist()
    if declared is str and pa.types.is_string(kind):
        return array.to_pylist()
    if isinstance(declared, type) and issubclass(declared, DataObject):
        return objects_of(declared, array)
    origin, args = typing.get_origin(declared), typing.get_args(declared)
    points = origin is list and args and typing.get_origin(args[0]) is tuple  # list[tuple[float, float]]
    if points and all(a is float for a in typing.get_args(args[0])) and _lists_of_lists(kind):
        return [None if row is None else [tuple(map(float, p)) for p in row] for row in array.to_pylist()]
    return None


def _lists_of_lists(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) and pa.types.is_list(kind.value_type)
