"""The base of every workflow data type: frozen dataclasses checked once per class, and per value.

A subclass may be declared the way the Kolena quickstart declares it (a class body with annotations,
no decorator) or decorated with `@dataclass(frozen=True)`. Either way its fields are kept: the class
is turned into a frozen dataclass the first time it is used, unless its own decorator already did.
The first use also compiles one checker per field, so that making an instance costs a handful of
`isinstance` calls, not a schema walk.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, ClassVar, TypeVar

from ._checks import compile_check, describe
from ._init import make_init

T = TypeVar("T", bound="DataObject")
DATA_TYPE_FIELD = "data_type"

_DATA_TYPES: dict[str, type[DataObject]] = {}


@dataclasses.dataclass(frozen=True)
class _Schema:
    """What a finalized class needs at run time."""

    names: frozenset[str]  # init fields
    field_types: dict[str, Any]  # every field, derived ones included


def schema_of(cls: type[DataObject]) -> _Schema:
    """Finalize `cls` (and its data object bases) on first use and return its compiled schema."""
    schema = cls.__dict__.get("_schema")
    if schema is None:
        for klass in reversed(cls.__mro__):
            if issubclass(klass, DataObject) and "_schema" not in klass.__dict__:
                _finalize(klass)
        schema = cls.__dict__["_schema"]
    return schema


def _first_init(self: DataObject, *args: Any, **kwargs: Any) -> None:
    """Stands in for `__init__` until the class is first used; dataclass() leaves it alone, as any __init__."""
    cls = type(self)
    schema_of(cls)
    cls.__init__(self, *args, **kwargs)


def fields_of(cls: type) -> tuple[dataclasses.Field, ...]:
    """`dataclasses.fields`, after finalizing a data object class that was declared without @dataclass."""
    if isinstance(cls, type) and issubclass(cls, DataObject):
        schema_of(cls)
    return dataclasses.fields(cls)


def _finalize(cls: type[DataObject]) -> None:
    if "__dataclass_fields__" not in cls.__dict__:
        dataclasses.dataclass(frozen=True)(cls)
    hints = _resolved_hints(cls)
    fields = list(dataclasses.fields(cls))
    if cls.__dict__.get("__init__") is _first_init:
        checks = {f.name: compile_check(hints.get(f.name, Any)) for f in fields if f.init}
        finish = cls._finish is not DataObject._finish
        cls.__init__ = make_init(cls, fields, hints, checks, cls._allow_extra, finish)
    names = frozenset(f.name for f in fields if f.init)
    cls._schema = _Schema(names=names, field_types={f.name: hints.get(f.name, Any) for f in fields})


def _resolved_hints(cls: type) -> dict[str, Any]:
    """Field types with string annotations resolved; one that cannot be resolved is left unchecked."""
    try:
        return typing.get_type_hints(cls)
    except NameError:
        return {f.name: (Any if isinstance(f.type, str) else f.type) for f in dataclasses.fields(cls)}


@dataclasses.dataclass(frozen=True)
class DataObject:
    """The base for the data objects of a workflow: test samples, ground truths, inferences, metrics, ..."""

    __test__: ClassVar[bool] = False  # never collected by pytest, whatever a subclass is called
    _allow_extra: ClassVar[bool] = False  # accept unknown keyword arguments as extra attributes (annotations do)
    _data_type: ClassVar[str | None] = None  # e.g. "ANNOTATION/BOUNDING_BOX": written as `data_type` by to_dict

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:  # keep an __init__ the class writes itself
            cls.__init__ = _first_init  # type: ignore[method-assign]
        cls._check_class()
        data_type = cls.__dict__.get("_data_type")
        if data_type is not None:
            _DATA_TYPES.setdefault(data_type, cls)

    @classmethod
    def _check_class(cls) -> None:
        """Check the field types this class declares; families of data objects override it."""

    def _finish(self) -> None:
        """Called once the field values are checked: derive fields (BoundingBox.area), check relations (Curve lengths)."""

    def extras(self) -> dict[str, Any]:
        """Attributes given beyond the declared fields (annotations accept them, as in Kolena)."""
        names = schema_of(type(self)).field_types
        return {k: v for k, v in self.__dict__.items() if k not in names}

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serializable dict of every field (derived ones included), with `data_type` if typed."""
        names, values = schema_of(type(self)).field_types, self.__dict__
        out = {name: to_plain(values[name]) for name in names}
        if len(values) > len(names):  # attributes beyond the fields
            for name, value in self.extras().items():
                out[name] = to_plain(value)
        if self._data_type is not None:
            out[DATA_TYPE_FIELD] = self._data_type
        return out

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Rebuild an object from the output of `to_dict` (or from JSON of it)."""
        schema = schema_of(cls)
        if not isinstance(data, dict):
            raise ValueError(f"{cls.__name__}.from_dict: expected a dict, got {describe(data)}")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key == DATA_TYPE_FIELD:
                continue
            if key in schema.names:
                kwargs[key] = from_plain(schema.field_types[key], value, f"{cls.__name__}.{key}")
            elif key not in schema.field_types and cls._allow_extra:
                kwargs[key] = from_plain(Any, value, f"{cls.__name__}.{key}")
        return cls(**kwargs)

    @classmethod
    def _from_column(cls: type[T], array: Any, field: Any) -> list[T]:
        """The objects of a typed column the store wrote (an Arrow array and its field): how the store, which
        imports nothing of the workflow, makes a handed type's objects (`workflow/_columns.py`)."""
        from ._columns import objects_from

        return objects_from(cls, array, field, cls.from_dict)

    # The names of the Kolena client, for code written against it.
    def _to_dict(self) -> dict[str, Any]:
        return self.to_dict()

    @classmethod
    def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
        return cls.from_dict(data)

    def toDict(self) -> dict[str, Any]:  # noqa: N802 (pandas' JSON fallback looks for this name)
        return self.to_dict()


def json_default(value: Any) -> Any:
    """The `default` of a JSON encoder that writes data objects as `to_dict` does, without building the plain
    copy first: the encoder (in C) walks the points, lists and dicts itself; it calls this for what it does not
    know: a data object (its fields, one level), a NumPy array or scalar."""
    if isinstance(value, DataObject):
        out = dict(value.__dict__)
        if value._data_type is not None:
            out[DATA_TYPE_FIELD] = value._data_type
        return out
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot serialize {describe(value)}")  # as to_dict: never a lossy text in its place


def to_plain(value: Any) -> Any:
    """Turn a field value into plain JSON-able Python: DataObjects become dicts, tuples and arrays lists."""
    if value is None or type(value) in (str, bool, int, float):
        return value
    if isinstance(value, DataObject):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return to_plain(value.tolist())
    for base in (bool, int, float, str):  # subclasses such as numpy.float64
        if isinstance(value, base):
            return base(value)
    raise ValueError(f"cannot serialize {describe(value)}")


def registered_type(data_type: str) -> type[DataObject] | None:
    return _DATA_TYPES.get(data_type)


@functools.cache
def unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """`X` of a declared `Optional[X]` (`X | None`), and whether it was optional; any other type as it is."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(tp)):
            return args[0], True
    return tp, False


def _origin_and_args(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    return typing.get_origin(tp), typing.get_args(tp)


def from_plain(tp: Any, value: Any, where: str) -> Any:
    """Rebuild a field value of declared type `tp` from its plain form."""
    if value is None:
        return None
    if tp is float:  # the most common leaf (every coordinate): no type inspection
        return float(value) if type(value) is int else value
    try:
        origin, args = _origin_and_args(tp)
    except TypeError:  # an unhashable annotation
        origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return from_plain(args[0], value, where)
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where}: expected a list, got {describe(value)}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            return tuple(from_plain(a, v, where) for a, v in zip(args, value))
        item = args[0] if args else Any
        return [from_plain(item, v, where) for v in value]
    if origin is dict:
        key_type, value_type = args or (Any, Any)
        return {_key_from_plain(key_type, k): from_plain(value_type, v, where) for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        return _union_from_plain(args, value, where)
    if isinstance(tp, type) and issubclass(tp, DataObject):
        return _object_from_plain(tp, value, where)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is Any and isinstance(value, dict) and DATA_TYPE_FIELD in value:
        found = registered_type(value[DATA_TYPE_FIELD])
        return found.from_dict(value) if found else value
    if tp is Any and isinstance(value, list):
        return [from_plain(Any, v, where) for v in value]
    return value


def _key_from_plain(tp: Any, key: Any) -> Any:
    if tp is int and isinstance(key, str):  # JSON object keys are strings
        return int(key)
    return key


def _object_from_plain(tp: type[DataObject], value: Any, where: str) -> DataObject:
    if isinstance(value, tp):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a {tp.__name__} dict, got {describe(value)}")
    found = registered_type(value.get(DATA_TYPE_FIELD, ""))
    cls = found if found is not None and issubclass(found, tp) else tp
    return cls.from_dict(value)


def _union_from_plain(args: tuple[Any, ...], value: Any, where: str) -> Any:
    data_type = value.get(DATA_TYPE_FIELD) if isinstance(value, dict) else None
    candidates = [a for a in args if a is not type(None)]
    if isinstance(value, dict):  # prefer members of the same data type that declare every key as a field
        keys = value.keys() - {DATA_TYPE_FIELD}

        def fit(arg: Any) -> tuple[bool, int]:
            fields = schema_of(arg).field_types if isinstance(arg, type) and issubclass(arg, DataObject) else {}
            return getattr(arg, "_data_type", None) != data_type, len(keys - fields.keys())

        candidates.sort(key=fit)
    errors = []
    for arg in candidates:
        try:
            plain = from_plain(arg, value, where)
            schema_check = compile_check(arg)
            return schema_check(plain)
        except (ValueError, TypeError) as error:
            errors.append(str(error))
    raise ValueError(f"{where}: {describe(value)} fits none of the declared types ({'; '.join(errors)})")
