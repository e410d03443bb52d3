"""The identity of a test sample: its fields but metadata, as a hashable key."""

from __future__ import annotations

from typing import Any

from ._dataobject import DataObject
from .test_sample import METADATA


def sample_key(sample: DataObject) -> tuple:
    """Two test samples with equal fields (metadata aside) are the same sample: inferred once, matched across cases.

    Hashable values (str, numbers, frozen annotations of tuples) stand for themselves; lists and dicts are frozen.
    """
    values: list[Any] = [type(sample)]
    for name, value in sample.__dict__.items():
        if name == METADATA:
            continue
        try:
            hash(value)
        except TypeError:
            value = _frozen(value)
        values.append(value)
    return tuple(values)


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, DataObject):
        return (type(value), *(_frozen(v) for v in value.__dict__.values()))
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value
