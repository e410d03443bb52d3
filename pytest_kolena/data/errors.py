"""Errors of suite loading, each naming where the problem is: file, row, column."""

from __future__ import annotations


class SuiteError(ValueError):
    """A test suite could not be loaded; the message says what is wrong and where."""


def located(url: str, message: str, row: int | None = None, column: str | None = None) -> SuiteError:
    """A SuiteError for `url`; `row` is the 0-based data row, reported as the 1-based row and its CSV line."""
    where = [url]
    if row is not None:
        where.append(f"row {row + 1} (line {row + 2})")
    if column is not None:
        where.append(f"column '{column}'")
    return SuiteError(f"{', '.join(where)}: {message}")
