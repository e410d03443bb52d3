"""Values of one kind, a value per sample, as one typed Arrow column, and back.

A column of data objects of one class is a struct of their fields (derived fields and `data_type` included, as
`to_dict` writes them), a column of dicts with the same keys a struct of the keys; their fields are columns in
turn. A leaf Arrow can type (numbers, text, booleans, lists of numbers: a keypoint's points are a
`list<list<double>>`) is stored as such; any other leaf (a union of annotation types, a list of data objects, mixed
values) as JSON text, marked so in its field's metadata and decoded on reading. Reading a column gives the plain
values JSON would give: dicts, lists, numbers, text; the workflow makes its objects again from them
(`workflow/_columns.py`). A data object is known here by its shape, not its class (the store imports nothing of
the workflow): a dataclass whose class declares `_data_type`, as the workflow's DataObject does.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa

JSON_TEXT = {b"kolena.encoding": b"json"}  # the metadata of a field held as JSON text
DATA_TYPE_FIELD = "data_type"  # where a data object's `_data_type` is written (as DataObject.to_dict writes it)


def is_data_object(value: Any) -> bool:
    """A workflow data object (an instance, not a class): a dataclass whose class declares `_data_type`."""
    return dataclasses.is_dataclass(value) and not isinstance(value, type) and hasattr(type(value), "_data_type")


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
    return not (isinstance(value, dict) or is_data_object(value))


def _common_keys(present: list[Any]) -> list[str]:
    """The fields of a struct column: the data objects' fields (and `data_type`) when every value is an object of
    one class, or the keys of dicts that all have the same text keys; else none (a leaf)."""
    first = present[0]
    if is_data_object(first):
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
        return [None if v is None else v._data_type if is_data_object(v) else v[key] for v in values]
    if values and is_data_object(next(v for v in values if v is not None)):
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
