"""The page's table columns in a compact form (`assets/report.js` decodes them): a column of numbers or booleans as
base64 little-endian float32 (NaN where missing), or, where few values repeat, as a dictionary of its distinct
values and base64 uint8 or uint16 codes into it; text likewise dictionary-coded, or a plain list when most values
differ. Bytes per value: 5.3 for float32, 1.3 or 2.7 for codes, against 6 to 12 as JSON numbers."""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from .run import _kind
from .text import Row

MISSING_CODE = {1: 0xFF, 2: 0xFFFF}  # the code of a missing value, per code width in bytes


def table_column(name: str, values: list[Any], group: str, model: int | None, configuration: int | None) -> Row | None:
    """A column of the page's table (booleans as 0 and 1, NaN and infinities missing); None for a column of
    anything but scalars."""
    kind = _kind(values)
    if kind is None:
        return None
    column: Row = {"name": name, "group": group, "model": model, "configuration": configuration, "kind": kind}
    if kind == "text":
        distinct = list(dict.fromkeys(v for v in values if v is not None))
        if len(distinct) * 2 >= len(values) or len(distinct) >= MISSING_CODE[2]:
            return column | {"values": values}
        return column | {"dict": distinct, **_codes(values, distinct)}
    numbers = [None if v is None or not math.isfinite(v) else float(v) for v in values]
    distinct = sorted({v for v in numbers if v is not None})
    if len(distinct) < MISSING_CODE[2] and len(distinct) * 4 <= len(values):
        return column | {"dict": distinct, **_codes(numbers, distinct)}
    array = np.array([math.nan if v is None else v for v in numbers], dtype="<f4")
    return column | {"f32": _b64(array)}


def _codes(values: list[Any], distinct: list[Any]) -> Row:
    """Each value's index into `distinct` (MISSING_CODE where None), as base64 of uint8 or uint16."""
    width = 1 if len(distinct) < MISSING_CODE[1] else 2
    code = {v: i for i, v in enumerate(distinct)}
    missing = MISSING_CODE[width]
    array = np.array([missing if v is None else code[v] for v in values], dtype="<u1" if width == 1 else "<u2")
    return {"codes": _b64(array), "width": width}


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")


def derived_change(columns: list[Row]) -> list[Row]:
    """The columns with, after each `baseline X` column, a `change X` column the page computes (X - baseline X of
    the same model and configuration: `derived`, the two columns' indices)."""
    out: list[Row] = []
    pending: list[tuple[Row, Row, Row]] = []  # (change column, its candidate column, its baseline column)
    for column in columns:
        out.append(column)
        if not column["name"].startswith("baseline "):
            continue
        name = column["name"][len("baseline ") :]
        place = (column["model"], column["configuration"])
        after = next((c for c in columns if c["name"] == name and (c["model"], c["configuration"]) == place), None)
        if after is not None:
            change = {k: column[k] for k in ("group", "model", "configuration")}
            change |= {"name": f"change {name}", "kind": "number"}
            out.append(change)
            pending.append((change, after, column))
    for change, after, before in pending:
        change["derived"] = [_index(out, after), _index(out, before)]
    return out


def _index(columns: list[Row], column: Row) -> int:
    return next(i for i, c in enumerate(columns) if c is column)
