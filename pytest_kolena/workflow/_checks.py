"""Value checkers compiled once per field type, run when a data object is made.

A checker takes a value and returns it, converted where the conversion is lossless and unsurprising
(an int or a NumPy number given for a float, a tuple given for a list), or raises `FieldValueError`.
"""

from __future__ import annotations

import collections.abc
import numbers
import types
import typing
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], Any]


class FieldValueError(ValueError):
    """A value that does not fit its field's declared type; `path` locates it inside the field."""

    def __init__(self, expected: str, value: Any, path: str = "") -> None:
        super().__init__(expected)
        self.expected = expected
        self.value = value
        self.path = path

    def under(self, prefix: str) -> FieldValueError:
        return FieldValueError(self.expected, self.value, prefix + self.path)


def describe(value: Any, limit: int = 80) -> str:
    """A short `repr` of a value with its type, for error messages."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(value).__name__} {text}"


def type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def _check_str(value: Any) -> Any:
    if isinstance(value, str):
        return value
    raise FieldValueError("a str", value)


def _check_bool(value: Any) -> Any:
    if value is True or value is False:
        return value
    if type(value).__name__ == "bool_":  # numpy.bool_, without importing numpy
        return bool(value)
    raise FieldValueError("a bool", value)


def _check_int(value: Any) -> Any:
    if type(value) is int:
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and type(value).__name__ != "bool_":
        return int(value)
    raise FieldValueError("an int", value)


def _check_float(value: Any) -> Any:
    if type(value) is float:
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and type(value).__name__ != "bool_":
        return float(value)
    raise FieldValueError("a number (float)", value)


def _check_none(value: Any) -> Any:
    if value is None:
        return value
    raise FieldValueError("None", value)


def _check_any(value: Any) -> Any:
    return value


_SCALAR_CHECKS: dict[Any, Check] = {
    str: _check_str,
    bool: _check_bool,
    int: _check_int,
    float: _check_float,
    type(None): _check_none,
    Any: _check_any,
    object: _check_any,
}


def _check_instance(cls: type) -> Check:
    def check(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        raise FieldValueError(f"a {cls.__name__}", value)

    return check


def _check_list(item: Check, expected: str) -> Check:
    def check(value: Any) -> Any:
        if not isinstance(value, (list, tuple)) and type(value).__name__ != "ndarray":
            raise FieldValueError(expected, value)
        out = []
        changed = not isinstance(value, list)
        for i, element in enumerate(value):
            try:
                checked = item(element)
            except FieldValueError as error:
                raise error.under(f"[{i}]") from None
            changed = changed or checked is not element
            out.append(checked)
        return out if changed else value

    return check


def _check_tuple(items: tuple[Check, ...], expected: str) -> Check:
    def check(value: Any) -> Any:
        if not isinstance(value, (list, tuple)) and type(value).__name__ != "ndarray":
            raise FieldValueError(expected, value)
        if len(value) != len(items):
            raise FieldValueError(expected, value)
        out = []
        for item, element in zip(items, value):
            try:
                out.append(item(element))
            except FieldValueError:
                raise FieldValueError(expected, value) from None
        return tuple(out)

    return check


_PLAIN_NUMBERS = frozenset({int, float})


def _check_float_tuple(size: int, general: Check) -> Check:
    def check(value: Any) -> Any:
        if type(value) in (list, tuple) and len(value) == size and set(map(type, value)) <= _PLAIN_NUMBERS:
            return tuple(map(float, value))
        return general(value)

    return check


def _check_points(size: int, point: Check, expected: str) -> Check:
    """List[Tuple[float, ...]] (keypoints, polygons): tight loops for plain numbers, the general path otherwise."""
    general = _check_list(point, expected)

    def check(value: Any) -> Any:
        if type(value) is not list:
            return general(value)
        if size == 2:  # already (x, y) tuples of floats, the usual case: keep the list as it is
            for p in value:
                if type(p) is not tuple or len(p) != 2 or type(p[0]) is not float or type(p[1]) is not float:
                    break
            else:
                return value
        else:
            for p in value:
                if type(p) is not tuple or len(p) != size or not all(type(x) is float for x in p):
                    break
            else:
                return value
        out = []
        for p in value:  # lists or tuples of ints and floats, as json.loads gives them
            if type(p) not in (list, tuple) or len(p) != size or not set(map(type, p)) <= _PLAIN_NUMBERS:
                return general(value)
            out.append(tuple(map(float, p)))
        return out

    return check


def _check_dict(key: Check, val: Check, expected: str) -> Check:
    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise FieldValueError(expected, value)
        out = {}
        for k, v in value.items():
            try:
                out[key(k)] = val(v)
            except FieldValueError as error:
                raise error.under(f"[{k!r}]") from None
        return out

    return check


def _check_union(options: list[Check], expected: str) -> Check:
    def check(value: Any) -> Any:
        for option in options:
            try:
                return option(value)
            except FieldValueError:
                continue
        raise FieldValueError(expected, value)

    return check


def _check_literal(allowed: tuple[Any, ...]) -> Check:
    expected = "one of " + ", ".join(repr(a) for a in allowed)

    def check(value: Any) -> Any:
        if value in allowed:
            return value
        raise FieldValueError(expected, value)

    return check


def compile_check(tp: Any) -> Check:
    """Build the checker for a declared field type."""
    if tp in _SCALAR_CHECKS:
        return _SCALAR_CHECKS[tp]
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return compile_check(args[0])
    if origin in (list, collections.abc.Sequence):
        item = args[0] if args else Any
        if (
            typing.get_origin(item) is tuple
            and typing.get_args(item)
            and all(a is float for a in typing.get_args(item))
        ):
            return _check_points(len(typing.get_args(item)), compile_check(item), f"a list of {type_name(item)}")
        return _check_list(compile_check(item), f"a list of {type_name(item)}")
    if origin is tuple and args and all(a is float for a in args):
        return _check_float_tuple(
            len(args), _check_tuple(tuple(compile_check(a) for a in args), f"a {len(args)}-tuple {type_name(tp)}")
        )
    if origin is tuple:
        return _check_tuple(tuple(compile_check(a) for a in args), f"a {len(args)}-tuple {type_name(tp)}")
    if origin is dict:
        return _check_dict(compile_check(args[0]), compile_check(args[1]), f"a dict {type_name(tp)}")
    if origin in (typing.Union, types.UnionType):
        ordered = sorted(args, key=_union_rank)
        return _check_union([compile_check(a) for a in ordered], "one of " + ", ".join(type_name(a) for a in args))
    if origin is typing.Literal:
        return _check_literal(args)
    if isinstance(tp, type):
        return _check_instance(tp)
    return _check_any


def _union_rank(tp: Any) -> int:
    """Try exact types before converting ones: a bool stays a bool, an int stays an int in Union[int, float]."""
    return {type(None): 0, bool: 1, int: 2, str: 3, float: 5}.get(tp, 4)
