"""Vectorised parsing of CSV columns into typed arrays; errors name the row and show the value.

Point lists (`"[[x, y], ...]"`) are parsed without `eval` and without a Python loop per cell: the
brackets go, the numbers of the whole column are read by NumPy in one pass, and the count of numbers
per row says where each row's points are.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Fail = Callable[[int, str], Exception]  # (row, message) -> the error to raise


def blank_rows(series: pd.Series) -> np.ndarray:
    """Rows that are NaN, None or only white space."""
    missing = series.isna().to_numpy(dtype=bool, copy=True)
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype("string").str.strip()
        missing |= (text == "").fillna(True).to_numpy(dtype=bool)
    return missing


def require_values(series: pd.Series, fail: Fail) -> None:
    missing = blank_rows(series)
    if missing.any():
        raise fail(int(np.argmax(missing)), "empty or NaN in a required field")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def parse_floats(series: pd.Series, fail: Fail) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & ~blank_rows(series) & ~_nan_text(series)
    if bad.any():
        row = int(np.argmax(bad))
        raise fail(row, f"not a number: {_show(series.iloc[row])}")
    return values


def _nan_text(series: pd.Series) -> np.ndarray:
    if series.dtype != object:
        return np.zeros(len(series), dtype=bool)
    return series.astype("string").str.strip().str.lower().isin(["nan"]).fillna(False).to_numpy(dtype=bool)


def parse_ints(series: pd.Series, fail: Fail) -> np.ndarray:
    values = parse_floats(series, fail)
    fractional = ~np.isnan(values) & (values != np.round(values))
    if fractional.any():
        row = int(np.argmax(fractional))
        raise fail(row, f"not a whole number: {_show(series.iloc[row])}")
    return values


_TRUE = {"true", "1", "yes", "y", "t", "1.0"}
_FALSE = {"false", "0", "no", "n", "f", "0.0"}


def parse_bools(series: pd.Series, fail: Fail) -> np.ndarray:
    text = series.astype("string").str.strip().str.lower()
    true, false = text.isin(_TRUE).fillna(False).to_numpy(bool), text.isin(_FALSE).fillna(False).to_numpy(bool)
    bad = ~(true | false) & ~blank_rows(series)
    if bad.any():
        row = int(np.argmax(bad))
        raise fail(row, f"not a boolean (true/false, yes/no, 1/0): {_show(series.iloc[row])}")
    return np.where(true, True, np.where(false, False, None))


_STRIP = str.maketrans("", "", "[] \t\r\n")


def parse_number_lists(series: pd.Series, fail: Fail) -> tuple[np.ndarray, np.ndarray]:
    """Each cell a JSON list of numbers, nested or flat; returns all numbers and the count per row.

    The cells are joined with ';' into one string, brackets and white space are deleted in one pass, and every
    number is read at once; the positions of ',' and ';' give each row's count.
    """
    cells = series.to_numpy(dtype=object)
    blank = blank_rows(series)
    if blank.any():
        cells = np.where(blank, "", cells)
    joined = ";".join(cells.tolist()).translate(_STRIP)
    raw = np.frombuffer(joined.encode("ascii", errors="replace"), dtype=np.uint8)
    row_ends = np.flatnonzero(raw == ord(";"))
    commas_before = np.searchsorted(np.flatnonzero(raw == ord(",")), np.append(row_ends, len(raw)))
    commas = np.diff(commas_before, prepend=0)
    lengths = np.diff(np.append(row_ends, len(raw)), prepend=-1) - 1
    counts = np.where(lengths > 0, commas + 1, 0)
    numbers = _read_numbers(joined, counts)
    if numbers is None or len(numbers) != counts.sum():
        row = _first_unparsable(series)
        raise fail(row, f"not a list of numbers: {_show(series.iloc[row])}")
    return numbers, counts


def _read_numbers(joined: str, counts: np.ndarray) -> np.ndarray | None:
    """All the numbers of `joined` (rows separated by ';'), or None if one is not a number. Rows of equal length
    are read as a CSV table by pyarrow (multi-threaded C++); ragged ones by NumPy's slower string reader."""
    if len(counts) and counts.min() == counts.max() > 0:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        columns = [f"c{i}" for i in range(int(counts[0]))]
        try:
            table = pacsv.read_csv(
                io.BytesIO(joined.replace(";", "\n").encode()),
                read_options=pacsv.ReadOptions(column_names=columns),
                convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(columns, pa.float64())),
            )
        except (pa.ArrowInvalid, ValueError):
            return None
        return np.column_stack([column.to_numpy(zero_copy_only=False) for column in table.columns]).ravel()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            text = joined.replace(";", ",").replace(",,", ",").strip(",")
            return np.fromstring(text, sep=",") if text else np.zeros(0)
    except (ValueError, DeprecationWarning):
        return None


def _first_unparsable(series: pd.Series) -> int:
    """The slow path, only on error: find the first cell that is not a JSON list of numbers."""
    for row, cell in enumerate(series.tolist()):
        try:
            values = np.asarray(json.loads(cell), dtype=float)
        except (TypeError, ValueError):
            return row
        if values.size == 0 and str(cell).strip() not in ("[]",):
            return row
    return 0


def parse_points(series: pd.Series, fail: Fail, fixed_count: bool) -> list[np.ndarray] | np.ndarray:
    """JSON lists of (x, y) points. With `fixed_count`, every row must have as many points as most rows have."""
    numbers, counts = parse_number_lists(series, fail)
    odd = counts % 2 == 1
    if odd.any():
        row = int(np.argmax(odd))
        raise fail(row, f"{counts[row]} numbers do not make (x, y) points: {_show(series.iloc[row])}")
    nan_rows = _rows_with_nan(numbers, counts)
    if nan_rows.any():
        row = int(np.argmax(nan_rows))
        raise fail(row, f"NaN or an infinite number in the points: {_show(series.iloc[row])}")
    n_points = counts // 2
    if fixed_count and len(n_points):
        usual = int(np.bincount(n_points).argmax())
        off = n_points != usual
        if off.any():
            row = int(np.argmax(off))
            raise fail(row, f"wrong number of points: {n_points[row]} where the other rows have {usual}")
        return numbers.reshape(len(n_points), usual, 2)
    return np.split(numbers.reshape(-1, 2), np.cumsum(n_points)[:-1])


def _rows_with_nan(numbers: np.ndarray, counts: np.ndarray) -> np.ndarray:
    nan = ~np.isfinite(numbers)
    if not nan.any():
        return np.zeros(len(counts), dtype=bool)
    row_of = np.repeat(np.arange(len(counts)), counts)
    out = np.zeros(len(counts), dtype=bool)
    out[row_of[nan]] = True
    return out


def parse_boxes(series: pd.Series, fail: Fail) -> np.ndarray:
    """JSON boxes `[x1, y1, x2, y2]` (or `[[x1, y1], [x2, y2]]`) into an (n, 4) array."""
    numbers, counts = parse_number_lists(series, fail)
    off = counts != 4
    if off.any():
        row = int(np.argmax(off))
        raise fail(row, f"a box needs 4 numbers [x1, y1, x2, y2], got {counts[row]}: {_show(series.iloc[row])}")
    boxes = numbers.reshape(-1, 4)
    nan = ~np.isfinite(boxes).all(axis=1)
    if nan.any():
        row = int(np.argmax(nan))
        raise fail(row, f"NaN or an infinite number in the box: {_show(series.iloc[row])}")
    return boxes


def parse_json(series: pd.Series, fail: Fail) -> list[Any]:
    """JSON cells (lists of scalars); one json.loads per cell, never eval."""
    out = []
    for row, cell in enumerate(series.tolist()):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            out.append(None)
            continue
        try:
            out.append(json.loads(cell))
        except (TypeError, ValueError):
            raise fail(row, f"not valid JSON: {_show(cell)}") from None
    return out
