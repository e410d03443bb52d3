"""Rows of a metadata table into a workflow's TestSample and GroundTruth objects, driven by the declared field types.

A column named like a field feeds it; a mapping covers the rest (`{"points": "keypoints"}`, or a tuple of four
columns for a box). Columns that feed no field become the test sample's `metadata`, when its type declares one.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..fs import is_url
from ..workflow import annotation as ann
from ..workflow._dataobject import fields_of, schema_of
from ..workflow.asset import Asset
from ..workflow.test_sample import METADATA
from . import columns as col
from .errors import SuiteError, located

ColumnMap = Mapping[str | tuple[str, ...], str]  # column (or box columns) -> field
_POINT_TYPES = (ann.Keypoints, ann.Polyline, ann.Polygon)


@dataclasses.dataclass
class FieldSource:
    """Which column(s) feed one field of one of the two types."""

    owner: type
    name: str
    declared: Any
    columns: tuple[str, ...]
    optional: bool
    required: bool


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(tp)):
            return args[0], True
    return tp, False


def plan(
    test_sample_type: type, ground_truth_type: type, header: list[str], mapping: ColumnMap, url: str
) -> list[FieldSource]:
    """Match the CSV's columns to the fields of both types; a required field with no column is an error."""
    by_field: dict[str, tuple[str, ...]] = {}
    for source, field_name in mapping.items():
        wanted = (source,) if isinstance(source, str) else tuple(source)
        missing = [c for c in wanted if c not in header]
        if missing:
            raise located(
                url, f"missing column {missing[0]!r} (mapped to field '{field_name}'); columns: {', '.join(header)}"
            )
        by_field[field_name] = wanted
    sources = []
    known_fields = set()
    for owner in (test_sample_type, ground_truth_type):
        for f in fields_of(owner):
            if not f.init or f.name == METADATA:
                continue
            known_fields.add(f.name)
            declared, optional = _unwrap_optional(schema_of(owner).field_types[f.name])
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            columns = by_field.get(f.name) or ((f.name,) if f.name in header else ())
            if not columns:
                if required:
                    hint = f"; map one with columns={{'<column>': '{f.name}'}}"
                    raise located(
                        url,
                        f"missing column for the required field {owner.__name__}.{f.name}; columns: {', '.join(header)}{hint}",
                    )
                continue
            sources.append(FieldSource(owner, f.name, declared, columns, optional, required))
    unknown = [name for name in by_field if name not in known_fields]
    if unknown:
        raise SuiteError(
            f"{url}: columns are mapped to '{unknown[0]}', which is no field of {test_sample_type.__name__} or {ground_truth_type.__name__}"
        )
    return sources


def _failer(url: str, column: str) -> col.Fail:
    return lambda row, message: located(url, message, row=row, column=column)


def field_values(source: FieldSource, frame: pd.DataFrame, url: str, suite_url: str) -> list[Any]:
    """The values of one field for every row, as the objects the field holds."""
    tp = source.declared
    column = source.columns[0]
    series = frame[column]
    fail = _failer(url, column)
    if not source.optional and len(source.columns) == 1:
        col.require_values(series, fail)
    if len(source.columns) == 4 and _is_box(tp):
        boxes = np.column_stack([_required_floats(frame[c], _failer(url, c)) for c in source.columns])
        return _boxes(boxes)
    if len(source.columns) != 1:
        raise located(
            url,
            f"field '{source.name}' of type {getattr(tp, '__name__', tp)} takes one column, not {len(source.columns)}",
        )
    blank = col.blank_rows(series)
    if not (source.optional and blank.any()):
        values = _parse(tp, series, fail, source, url)
        return resolve_locators(values, suite_url) if source.name == "locator" else values
    present = np.flatnonzero(~blank)  # parse the filled rows only; errors still name the row in the file
    values = _parse(tp, series.iloc[present], lambda row, message: fail(int(present[row]), message), source, url)
    if source.name == "locator":
        values = resolve_locators(values, suite_url)
    full: list[Any] = [None] * len(series)
    for index, value in zip(present, values):
        full[index] = value
    return full


def _required_floats(series: pd.Series, fail: col.Fail) -> np.ndarray:
    col.require_values(series, fail)
    return col.parse_floats(series, fail)


def _is_box(tp: Any) -> bool:
    return tp is ann.BoundingBox  # variants need a label or a score, which one column does not give


def _boxes(array: np.ndarray) -> list[ann.BoundingBox]:
    return [ann.BoundingBox((x1, y1), (x2, y2)) for x1, y1, x2, y2 in array.tolist()]


def _points_to(tp: type, rows: Any) -> list[Any]:
    if isinstance(rows, np.ndarray):
        return [tp(list(map(tuple, points))) for points in rows.tolist()]
    return [tp(list(map(tuple, points.tolist()))) for points in rows]


def _parse(tp: Any, series: pd.Series, fail: col.Fail, source: FieldSource, url: str) -> list[Any]:
    if tp is str:
        return series.astype(str).tolist()
    if tp is float:
        return col.parse_floats(series, fail).tolist()
    if tp is int:
        return [int(v) for v in col.parse_ints(series, fail).tolist()]
    if tp is bool:
        return col.parse_bools(series, fail).tolist()
    if _is_box(tp):
        return _boxes(col.parse_boxes(series, fail))
    if tp in _POINT_TYPES:
        return _points_to(tp, col.parse_points(series, fail, fixed_count=tp is ann.Keypoints))
    if tp in (ann.Label, ann.BitmapMask) or (
        isinstance(tp, type) and issubclass(tp, Asset) and _init_fields(tp) == ["locator"]
    ):
        return [tp(value) for value in series.astype(str).tolist()]
    if typing.get_origin(tp) is list:
        return col.parse_json(series, fail)
    name = getattr(tp, "__name__", str(tp))
    raise located(
        url,
        f"field {source.owner.__name__}.{source.name} of type {name} cannot be read from a CSV column",
        column=source.columns[0],
    )


def _init_fields(tp: type) -> list[str]:
    return [f.name for f in fields_of(tp) if f.init]


def locator_prefix(suite_url: str) -> str:
    """What a relative locator is joined to: the suite's folder, with a trailing '/'."""
    return suite_url.rstrip("/") + "/"


def resolve_locators(values: list[str], suite_url: str) -> list[str]:
    """Locators without a scheme and not absolute are relative to the suite's folder."""
    prefix = locator_prefix(suite_url)
    return [v if is_url(v) or v.startswith("/") else prefix + v for v in values]


def metadata_records(frame: pd.DataFrame, used: set[str]) -> list[dict[str, Any]]:
    """The columns that feed no field, per row, as plain Python values (NaN becomes None)."""
    rest = [c for c in frame.columns if c not in used]
    if not rest:
        return [{} for _ in range(len(frame))]
    table = frame[rest].astype(object)
    return table.where(table.notna(), None).to_dict("records")


def build_rows(
    test_sample_type: type,
    ground_truth_type: type,
    frame: pd.DataFrame,
    sources: list[FieldSource],
    url: str,
    suite_url: str,
) -> list[tuple[Any, Any]]:
    """One (test sample, ground truth) pair per row."""
    values = {(s.owner, s.name): field_values(s, frame, url, suite_url) for s in sources}
    used = {c for s in sources for c in s.columns}
    built = []
    for owner in (test_sample_type, ground_truth_type):
        names = [s.name for s in sources if s.owner is owner]
        lists = [values[(owner, n)] for n in names]
        if METADATA in {f.name for f in fields_of(owner)}:
            names.append(METADATA)
            lists.append(metadata_records(frame, used))
        built.append(_build(owner, names, lists, len(frame), url))
    return list(zip(*built))


def _build(owner: type, names: list[str], lists: list[list[Any]], n_rows: int, url: str) -> list[Any]:
    rows = zip(*lists) if lists else ((),) * n_rows
    try:
        return [owner(**dict(zip(names, row))) for row in rows]
    except (TypeError, ValueError):
        pass
    for index, row in enumerate(zip(*lists) if lists else ((),) * n_rows):  # find the row, for the message
        try:
            owner(**dict(zip(names, row)))
        except (TypeError, ValueError) as error:
            raise located(url, str(error), row=index) from None
    raise AssertionError("unreachable: the rows built on the second pass")
