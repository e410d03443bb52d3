"""Write a report document to a file, in the format its suffix names: `.md`, `.json` or `.html`."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FORMATS = (".md", ".json", ".html")


class ReportError(ValueError):
    """A report that cannot be written: an unknown suffix, a missing optional dependency."""


def check_path(path: str) -> None:
    """A report path whose suffix names no format is a usage error, before the run starts."""
    if Path(path).suffix.lower() not in FORMATS:
        raise ReportError(f"report {path}: the suffix names the format, one of {', '.join(FORMATS)}")


def write_report(document: dict[str, Any], path: str) -> None:
    """One report file; its folder is made if missing."""
    check_path(path)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = target.suffix.lower()
    if suffix == ".json":
        target.write_text(json.dumps(finite(document), allow_nan=False) + "\n", encoding="utf-8")
    elif suffix == ".md":
        from .markdown import markdown

        target.write_text(markdown(document), encoding="utf-8")
    else:
        from .html import write_html

        write_html(document, target)


def write_step_summary(document: dict[str, Any]) -> str | None:
    """The Markdown summary appended to `$GITHUB_STEP_SUMMARY` when that is set (a GitHub Actions job)."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return None
    from .markdown import markdown

    with open(summary, "a", encoding="utf-8") as handle:
        handle.write(markdown(document) + "\n")
    return summary


def finite(value: Any) -> Any:
    """The document with NaN and infinite numbers as null: JSON has no NaN (a metric that could not be computed)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(v) for key, v in value.items()}
    if isinstance(value, (list, Sequence)) and not isinstance(value, (str, bytes)):  # (a list, or sample values)
        return [finite(v) for v in value]
    return value
