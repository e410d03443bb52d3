"""Text helpers of the page: user strings escaped, numbers as the tables show them, badges, rows and tables."""

from __future__ import annotations

import html
import math
import re
from typing import Any

from ... import numbers, words

FAILED = words.FAILING
MISSING = "\u2013"  # an en dash: no value

Row = dict[str, Any]


def _e(value: Any) -> str:
    """Any user string, escaped for HTML text and attribute values."""
    return "" if value is None else html.escape(str(value), quote=True)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str, bool))


def _num(value: Any) -> str:
    """A metric value as a table shows it."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return numbers.general(value)
    return _e(value)


def _signed(value: Any) -> str:
    return numbers.signed(value) if _finite(value) else MISSING


def _p(value: Any) -> str:
    return numbers.p_value(value) if _finite(value) else MISSING


def _badge(verdict: str) -> str:
    kind = re.sub(r"[^a-z]+", "-", str(verdict).lower())
    return f'<span class="v v-{kind}">{_e(verdict)}</span>'


def _row(cells: list[str], css: str = "") -> str:
    return f'<tr class="{css}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _table(css: str, head: list[str], rows: list[str]) -> str:
    header = "".join(f"<th>{h}</th>" for h in head)
    return f'<table class="{css}"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _short_test(test: str) -> str:
    return test.rsplit("::", 1)[-1]


def _case_label(test_case: str) -> str:
    return test_case or "(suite metrics: every sample)"
