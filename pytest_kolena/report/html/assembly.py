"""The page assembled: the template of `assets/` filled with the body, the samples' JSON, the style and the script,
under a content security policy that allows no network."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib import resources
from typing import Any

from .text import Row, _e

ASSETS = "assets"


def _asset(name: str) -> str:
    return (resources.files(__package__) / ASSETS / name).read_text(encoding="utf-8")


def script_json(value: Any) -> str:
    """JSON safe inside a `<script>` element: `<`, `>` and `&` as \\u escapes (so no `</script>`, no `<!--`), and
    the two line separators older JavaScript refused in strings."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, safe in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, safe)
    return text


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _assemble(run_id: str, body: str, data: Row, first: int | None) -> str:
    """The template filled in one pass (inserted text is never scanned for placeholders). Its content security
    policy allows no network at all, and no script or style but the page's own (by their hashes)."""
    style, script = _asset("report.css"), _asset("report.js")
    policy = (
        f"default-src 'none'; img-src data:; style-src {_hash(style)}; script-src {_hash(script)}; "
        "base-uri 'none'; form-action 'none'"
    )
    parts = {
        "title": _e(f"pytest-kolena report {run_id}"),
        "policy": _e(policy),
        "style": style,
        "body": body,
        "first": "" if first is None else str(first),
        "data": script_json(data),
        "script": script,
    }
    return re.sub(r"\{\{(\w+)\}\}", lambda match: parts[match.group(1)], _asset("template.html"))
