"""Which field types a workflow class may declare, checked once when the class is defined."""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from ._checks import type_name

SCALARS: tuple[type, ...] = (str, bool, int, float)
SUPPORTED = "str, bool, int, float, annotations (e.g. Keypoints), assets (e.g. ImageAsset), lists of these, Optional or Union of these"

Leaf = Callable[[Any], bool]


def own_field_types(cls: type) -> dict[str, Any]:
    """The fields that `cls` itself declares (not inherited), with string annotations resolved."""
    try:
        hints = inspect.get_annotations(cls, eval_str=True)
    except NameError:  # a forward reference not defined yet: check the others, values are checked later
        hints = {k: v for k, v in inspect.get_annotations(cls).items() if not isinstance(v, str)}
    return {
        name: tp
        for name, tp in hints.items()
        if typing.get_origin(tp) is not typing.ClassVar
        and tp is not typing.ClassVar
        and not isinstance(tp, dataclasses.InitVar)
    }


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _refusal(owner: type, name: str, tp: Any, why: str, supported: str) -> TypeError:
    return TypeError(
        f"{owner.__name__}.{name}: unsupported field type {type_name(tp)}: {why}.\nSupported field types: {supported}"
    )


def _why(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is Any:
        return "Any gives no type to check or store"
    if origin is dict or tp is dict:
        return "dicts are not supported (a test sample may declare `metadata: Metadata`)"
    if origin is tuple or tp is tuple:
        return "tuples are not supported; use a list, or an annotation such as Keypoints or BoundingBox"
    if origin is list or tp is list:
        return "nested or untyped lists are not supported"
    if getattr(tp, "__name__", "") == "ndarray" or "ndarray" in repr(tp):
        return "NumPy arrays are not supported; store a list (e.g. `points.tolist()`) or an annotation"
    return "not a supported type"


def check_field(owner: type, name: str, tp: Any, leaf: Leaf, supported: str = SUPPORTED, lists: bool = True) -> None:
    """Raise a TypeError naming `owner`, the field and the type unless `tp` is a leaf, a list of leaves, or a union."""
    if _is_leaf(tp, leaf):
        return
    origin = typing.get_origin(tp)
    if origin is list and lists:
        (item,) = typing.get_args(tp) or (Any,)
        items = typing.get_args(item) if _is_union(item) else (item,)
        if all(_is_leaf(i, leaf) for i in items):
            return
        raise _refusal(owner, name, tp, _why(next(i for i in items if not _is_leaf(i, leaf))), supported)
    if _is_union(tp):
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            check_field(owner, name, arg, leaf, supported, lists)
        return
    why = "lists are not supported here" if origin is list else _why(tp)
    raise _refusal(owner, name, tp, why, supported)


def _is_leaf(tp: Any, leaf: Leaf) -> bool:
    return isinstance(tp, type) and leaf(tp)


def check_metadata_type(owner: type, tp: Any) -> None:
    """A test sample's `metadata` field must be a Dict[str, scalar or list of scalars] (Kolena's Metadata)."""
    if typing.get_origin(tp) is not dict or len(typing.get_args(tp)) != 2:
        raise TypeError(
            f"{owner.__name__}.metadata: must be declared as Metadata (Dict[str, scalar]), got {type_name(tp)}"
        )
    key, value = typing.get_args(tp)
    if key is not str:
        raise TypeError(f"{owner.__name__}.metadata: keys must be str, got {type_name(key)}")
    check_field(
        owner,
        "metadata",
        value,
        lambda t: t in SCALARS or t is type(None),
        "str, bool, int, float, None, lists of these",
    )


def is_value_type(tp: Any) -> bool:
    """Scalars, annotations and assets: what a sample, ground truth, inference or sample metric may hold."""
    from .annotation import Annotation
    from .asset import Asset

    return tp in SCALARS or (isinstance(tp, type) and issubclass(tp, (Annotation, Asset)))


def is_scalar(tp: Any) -> bool:
    return tp in SCALARS


def check_reserved(owner: type, name: str) -> None:
    if name == "data_type":
        raise TypeError(f"{owner.__name__}.data_type: the field name 'data_type' is reserved for serialization")


def check_value_fields(cls: type) -> None:
    """Every field a scalar, annotation, asset, a list of these, or an Optional/Union of these."""
    for name, tp in own_field_types(cls).items():
        check_reserved(cls, name)
        check_field(cls, name, tp, is_value_type)


def check_output_fields(cls: type) -> None:
    """Ground truth and inference fields: value fields, or a group of them for one element of a composite sample."""
    from ._dataobject import DataObject

    for name, tp in own_field_types(cls).items():
        check_reserved(cls, name)
        if isinstance(tp, type) and issubclass(tp, DataObject) and not is_value_type(tp):
            check_value_fields(tp)
        else:
            check_field(cls, name, tp, is_value_type)
