"""Values of one kind, a value per sample, as one typed Arrow column, and back.

A column of data objects of one class is a struct of their fields (derived fields and `data_type` included, as
`to_dict` writes them), a column of dicts with the same keys a struct of the keys; their fields are columns in
turn. A leaf Arrow can type (numbers, text, booleans, lists of numbers: a keypoint's points are a
`list<list<double>>`) is stored as such; any other leaf (a union of annotation types, a list of data objects, mixed
values) as JSON text, marked so in its field's metadata and decoded on reading. Reading a column gives the plain
values JSON would give: dicts, lists, numbers, text.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from ..workflow._dataobject import DATA_TYPE_FIELD, DataObject, schema_of, unwrap_optional
from ..workflow.annotation import coordinates_checked

JSON_TEXT = {b"kolena.encoding": b"json"}  # the metadata of a field held as JSON text


def encode(values: list[Any], default: Callable[[Any], Any]) -> tuple[pa.Array, dict[bytes, bytes] | None]:
    """A typed column of `values` (None where a sample has none) and its field's metadata; `default` is JSON's
    `default` for the leaves that go to text."""
    present = [value for value in values if value is not None]
    if not present:
        return pa.nulls(len(values)), None
    keys = _common_keys(present)
    if keys:
        children = [_child(values, key) for key in keys]
        fields, arrays = [], []
        for key, child in zip(keys, children):
            array, metadata = encode(child, default)
            arrays.append(array)
            fields.append(pa.field(key, array.type, metadata=metadata))
        mask = pa.array([value is None for value in values]) if len(present) < len(values) else None
        return pa.StructArray.from_arrays(arrays, fields=fields, mask=mask), None
    if _plain(present[0]):
        try:
            array = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, TypeError):
            pass
        else:
            if pa.types.is_boolean(array.type) or not any(type(v) is bool for v in present):
                return array, None
    dumps = json.JSONEncoder(default=default).encode
    return pa.array([None if v is None else dumps(v) for v in values], pa.string()), JSON_TEXT


def _plain(value: Any) -> bool:
    """Whether a value is a scalar or a list of them, nested or not (judged by the first element at each depth):
    what Arrow types exactly. Dicts and data objects inside a list go to text: Arrow would give every dict the keys
    of all."""
    while isinstance(value, (list, tuple)):
        if not value:
            return True
        value = value[0]
    return not isinstance(value, (dict, DataObject))


def _common_keys(present: list[Any]) -> list[str]:
    """The fields of a struct column: the data objects' fields (and `data_type`) when every value is an object of
    one class, or the keys of dicts that all have the same text keys; else none (a leaf)."""
    first = present[0]
    if isinstance(first, DataObject):
        kind, keys = type(first), first.__dict__.keys()
        if all(type(v) is kind and v.__dict__.keys() == keys for v in present):
            return [*keys, *([DATA_TYPE_FIELD] if first._data_type is not None else [])]
        return []
    if isinstance(first, dict) and first and all(isinstance(k, str) for k in first):
        keys = first.keys()
        if all(isinstance(v, dict) and v.keys() == keys for v in present):
            return list(keys)
    return []


def _child(values: list[Any], key: str) -> list[Any]:
    if key == DATA_TYPE_FIELD:
        return [None if v is None else v._data_type if isinstance(v, DataObject) else v[key] for v in values]
    if values and isinstance(next(v for v in values if v is not None), DataObject):
        return [None if v is None else v.__dict__[key] for v in values]
    return [None if v is None else v[key] for v in values]


def decode(column: pa.ChunkedArray | pa.Array, field: pa.Field) -> list[Any]:
    """The plain values of a column written by `encode` (its field: the name, type and metadata it was read with)."""
    values = column.to_pylist()
    decoder = _decoder(field)
    return values if decoder is None else [None if v is None else decoder(v) for v in values]


def _decoder(field: pa.Field) -> Callable[[Any], Any] | None:
    """What turns one read value into its plain form, or None when it is plain already (no JSON leaf in it)."""
    if field.metadata and field.metadata.get(b"kolena.encoding") == b"json":
        return json.loads
    if not pa.types.is_struct(field.type):
        return None
    inner = {
        field.type.field(i).name: d
        for i in range(field.type.num_fields)
        if (d := _decoder(field.type.field(i))) is not None
    }
    if not inner:
        return None

    def decode_struct(value: dict[str, Any]) -> dict[str, Any]:
        for name, decoder in inner.items():
            if value[name] is not None:
                value[name] = decoder(value[name])
        return value

    return decode_struct


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
