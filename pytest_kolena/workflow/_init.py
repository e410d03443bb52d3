"""Generate the `__init__` of a data object class: arguments, checks inlined for the common types, fields set.

The generated code is what a hand-written constructor would be: a value of the exact declared type
passes one `type(v) is float` test; anything else goes to the field's compiled checker, which
converts it (an int for a float) or raises a ValueError that names the class, the field and the value.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any

from ._checks import Check, FieldValueError, describe

_EXACT = {str: "str", float: "float", int: "int"}


def _fast_test(tp: Any, var: str, env: dict[str, Any]) -> str | None:
    """A Python expression true when `var` certainly fits `tp` unchanged; None when only the checker can tell."""
    if tp in _EXACT:
        return f"type({var}) is {_EXACT[tp]}"
    if tp is bool:
        return f"({var} is True or {var} is False)"
    if tp is type(None):
        return f"{var} is None"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is tuple and args and all(a in _EXACT for a in args):
        items = " and ".join(f"type({var}[{i}]) is {_EXACT[a]}" for i, a in enumerate(args))
        return f"(type({var}) is tuple and len({var}) == {len(args)} and {items})"
    if origin in (typing.Union, types.UnionType):
        tests = [_fast_test(arg, var, env) for arg in typing.get_args(tp)]
        # exact-type tests only: a union member that converts (float given an int) must go to the checker
        if all(t is not None for t in tests):
            return "(" + " or ".join(tests) + ")"
        return None
    if (
        isinstance(tp, type)
        and origin is None
        and tp.__module__ != "builtins"
        and not issubclass(tp, (list, tuple, dict))
    ):
        name = f"_type_{len(env)}"
        env[name] = tp
        return f"isinstance({var}, {name})"
    return None


def _reporting(owner: str, name: str, check: Check) -> Check:
    def slow_check(value: Any) -> Any:
        try:
            return check(value)
        except FieldValueError as error:
            raise ValueError(
                f"{owner}.{name}{error.path}: expected {error.expected}, got {describe(error.value)}"
            ) from None

    return slow_check


def make_init(
    cls: type,
    fields: list[dataclasses.Field],
    hints: dict[str, Any],
    checks: dict[str, Check],
    allow_extra: bool,
    finish: bool,
) -> Callable[..., None]:
    """Build `cls.__init__` for its init fields, in dataclass order and with dataclass defaults."""
    env: dict[str, Any] = {"_MISSING": dataclasses.MISSING}
    positional, keyword_only, body = [], [], []
    for f in fields:
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            env[f"_default_{f.name}"] = f.default
            param = f"{f.name}=_default_{f.name}"
        elif f.default_factory is not dataclasses.MISSING:
            env[f"_factory_{f.name}"] = f.default_factory
            param = f"{f.name}=_MISSING"
            body.append(f"    if {f.name} is _MISSING: {f.name} = _factory_{f.name}()")
        else:
            param = f.name
        (keyword_only if f.kw_only else positional).append(param)
        env[f"_check_{f.name}"] = _reporting(cls.__name__, f.name, checks[f.name])
        test = _fast_test(hints.get(f.name, Any), f.name, env)
        call = f"{f.name} = _check_{f.name}({f.name})"
        body.append(f"    if not {test}: {call}" if test else f"    {call}")
    names = [f.name for f in fields if f.init]
    body.append("    self.__dict__.update({" + ", ".join(f"{n!r}: {n}" for n in names) + "})")
    if allow_extra:
        body.append("    if _extra: self.__dict__.update(_extra)")
    if finish:
        body.append("    self._finish()")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    params = ["self", *positional]
    if keyword_only:
        params += ["*", *keyword_only]
    if allow_extra:
        params.append("**_extra")
    source = f"def __init__({', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<{cls.__qualname__}.__init__>", "exec"), env, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init
