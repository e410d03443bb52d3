"""Rows of a metadata table into a workflow's TestSample and GroundTruth objects, driven by the declared field types.

A column named like a field feeds it; a mapping covers the rest (`{"points": "keypoints"}`, or a tuple of four
columns for a box). Columns that feed no field become the test sample's `metadata`, when its type declares one.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..fs import is_url
from ..workflow import annotation as ann
from ..workflow._dataobject import fields_of, schema_of, unwrap_optional
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
            declared, optional = unwrap_optional(schema_of(owner).field_types[f.name])
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


class Column:
    """The values of one field for every row in a compact form (arrays, text), made into the objects the field holds
    for the rows asked for."""

    def __init__(self, values: Any, make: Callable[[Any], list[Any]] = lambda chosen: chosen.tolist()) -> None:
        self.values = values  # a NumPy array (or a list) indexed by row
        self.make = make  # the chosen values -> the field's objects

    def take(self, rows: np.ndarray) -> list[Any]:
        if isinstance(self.values, np.ndarray):
            return self.make(self.values[rows])
        return self.make([self.values[row] for row in rows.tolist()])


class OptionalColumn(Column):
    """A column of an optional field with blank rows: the filled rows' column, None elsewhere."""

    def __init__(self, present: Column, where: np.ndarray) -> None:
        super().__init__(where)
        self.present = present  # the filled rows' values
        self.where = where  # row -> its index among the filled rows, -1 where blank

    def take(self, rows: np.ndarray) -> list[Any]:
        index = self.where[rows]
        filled = index >= 0
        made = iter(self.present.take(index[filled]))
        return [next(made) if f else None for f in filled.tolist()]


def field_values(source: FieldSource, frame: pd.DataFrame, url: str, suite_url: str) -> Column:
    """The values of one field for every row, parsed and checked: errors name the row, the column and the value."""
    tp = source.declared
    column = source.columns[0]
    series = frame[column]
    fail = _failer(url, column)
    if not source.optional and len(source.columns) == 1:
        col.require_values(series, fail)
    if len(source.columns) == 4 and _is_box(tp):
        boxes = np.column_stack([_required_floats(frame[c], _failer(url, c)) for c in source.columns])
        infinite = ~np.isfinite(boxes)
        if infinite.any():
            row, k = np.argwhere(infinite)[0]
            raise located(
                url, f"NaN or an infinite number in the box: {boxes[row, k]}", row=int(row), column=source.columns[k]
            )
        return Column(boxes, _boxes)
    if len(source.columns) != 1:
        raise located(
            url,
            f"field '{source.name}' of type {getattr(tp, '__name__', tp)} takes one column, not {len(source.columns)}",
        )
    blank = col.blank_rows(series)
    if not (source.optional and blank.any()):
        return _located_column(_parse(tp, series, fail, source, url), source, suite_url)
    present = np.flatnonzero(~blank)  # parse the filled rows only; errors still name the row in the file
    parsed = _parse(tp, series.iloc[present], lambda row, message: fail(int(present[row]), message), source, url)
    where = np.full(len(series), -1)
    where[present] = np.arange(len(present))
    return OptionalColumn(_located_column(parsed, source, suite_url), where)


def _located_column(column: Column, source: FieldSource, suite_url: str) -> Column:
    """A locator column with its relative locators joined to the suite's folder."""
    if source.name == "locator":
        column.values = np.array(resolve_locators(column.values.tolist(), suite_url), dtype=object)
    return column


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


def _parse(tp: Any, series: pd.Series, fail: col.Fail, source: FieldSource, url: str) -> Column:
    if tp is str:
        return Column(np.array(series.astype(str).tolist(), dtype=object))
    if tp is float:
        return Column(col.parse_floats(series, fail))
    if tp is int:
        return Column(col.parse_ints(series, fail), lambda chosen: [int(v) for v in chosen.tolist()])
    if tp is bool:
        return Column(col.parse_bools(series, fail))
    if _is_box(tp):
        return Column(col.parse_boxes(series, fail), _boxes)
    if tp in _POINT_TYPES:
        return Column(
            col.parse_points(series, fail, fixed_count=tp is ann.Keypoints), lambda chosen: _points_to(tp, chosen)
        )
    if tp in (ann.Label, ann.BitmapMask) or (
        isinstance(tp, type) and issubclass(tp, Asset) and _init_fields(tp) == ["locator"]
    ):
        return Column(np.array(series.astype(str).tolist(), dtype=object), lambda chosen: [tp(v) for v in chosen])
    if typing.get_origin(tp) is list:
        return Column(col.parse_json(series, fail), list)
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


class MetadataColumn(Column):
    """The columns that feed no field, kept compact (numbers as arrays, text as codes into its distinct values), made
    into a dict of plain Python values per row (NaN becomes None), as `DataFrame.to_dict("records")` gives them."""

    def __init__(self, frame: pd.DataFrame) -> None:
        super().__init__(None)
        self.names = [str(c) for c in frame.columns]
        self.parts: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]] = []  # (values or codes, uniques, blank)
        for name in frame.columns:
            series = frame[name]
            blank = series.isna().to_numpy(dtype=bool)
            if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
                self.parts.append((series.to_numpy(), None, blank))
            else:
                codes, uniques = pd.factorize(series, use_na_sentinel=True)
                self.parts.append((codes, np.asarray([*uniques.astype(object).tolist(), None], dtype=object), blank))

    def take(self, rows: np.ndarray) -> list[dict[str, Any]]:
        columns = []
        for values, uniques, blank in self.parts:
            chosen = (uniques[values[rows]] if uniques is not None else values[rows]).tolist()
            if blank[rows].any():
                chosen = [None if b else v for v, b in zip(chosen, blank[rows].tolist())]
            columns.append(chosen)
        names = self.names
        return [dict(zip(names, row)) for row in zip(*columns)] if columns else [{} for _ in range(len(rows))]


def metadata_column(frame: pd.DataFrame, used: set[str]) -> Column:
    """The columns that feed no field, per row, as a dict of plain Python values (NaN becomes None)."""
    return MetadataColumn(frame[[c for c in frame.columns if c not in used]])


@dataclasses.dataclass
class RowMaker:
    """Makes the objects of one type (test sample or ground truth) for rows of the table, from its fields' columns;
    an object the type refuses is an error naming the row."""

    owner: type
    names: list[str]
    columns: list[Column]
    url: str

    def __call__(self, rows: np.ndarray) -> list[Any]:
        owner, names = self.owner, self.names
        with ann.coordinates_checked():  # (the columns' coordinates were checked as they were parsed)
            lists = [column.take(rows) for column in self.columns]
            try:
                return [owner(**dict(zip(names, row))) for row in zip(*lists)] if lists else [owner() for _ in rows]
            except (TypeError, ValueError):
                pass
        for row, values in zip(rows.tolist(), zip(*lists) if lists else [()] * len(rows)):  # find the row
            try:
                owner(**dict(zip(names, values)))
            except (TypeError, ValueError) as error:
                raise located(self.url, str(error), row=row) from None
        raise AssertionError("unreachable: the rows were made on the second pass")


def row_makers(
    test_sample_type: type,
    ground_truth_type: type,
    frame: pd.DataFrame,
    sources: list[FieldSource],
    url: str,
    suite_url: str,
) -> tuple[RowMaker, RowMaker]:
    """What makes the test samples and the ground truths of any rows of the table."""
    columns = {(s.owner, s.name): field_values(s, frame, url, suite_url) for s in sources}
    used = {c for s in sources for c in s.columns}
    makers = []
    for owner in (test_sample_type, ground_truth_type):
        names = [s.name for s in sources if s.owner is owner]
        chosen = [columns[(owner, n)] for n in names]
        if METADATA in {f.name for f in fields_of(owner)}:
            names.append(METADATA)
            chosen.append(metadata_column(frame, used))
        makers.append(RowMaker(owner, names, chosen, url))
    return makers[0], makers[1]
