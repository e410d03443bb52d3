"""The run as Markdown, for a CI job's summary (`$GITHUB_STEP_SUMMARY`) or a pull request comment: the totals, the
failures with their text, then per test function and suite a table of model x test case x configuration with the
metrics, the regression checks (baseline, candidate, delta with its interval, raw and adjusted decision) and the
verdict, failures first."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from .document import ABSENT, FAILED

NO_ITEMS = "no kolena items ran: every kolena test was deselected or skipped"


_CELL = str.maketrans(
    {
        "\\": "\\\\",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "\\|",
        "\n": " ",
        "\r": " ",
        "`": "\\`",
        "[": "\\[",
        "]": "\\]",
        "!": "\\!",
        "*": "\\*",
        "_": "\\_",
    }
)


def escape(text: Any) -> str:
    """A user string made safe in a Markdown table cell or heading: no HTML, no column break, no link, image or
    emphasis, one line."""
    value = "" if text is None else str(text)
    return value.replace("\r\n", "\n").translate(_CELL)


def code(text: Any) -> str:
    """A user string as inline code (a run id, a test's node id): shown as written, on one line."""
    value = "" if text is None else str(text)
    return "`" + " ".join(value.replace("`", "'").splitlines()) + "`"


def number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.4g}"
    return escape(value)


def signed(value: Any) -> str:
    return "" if value is None else f"{value:+.4g}"


def check_cell(check: dict[str, Any]) -> str:
    """`0.1327 → 0.1508, +0.01817 [+0.009633, +0.0267], p=0.00021 (adj 0.0066)`; or why it was not judged."""
    head = f"{number(check['baseline'])} → {number(check['candidate'])}, {signed(check['delta'])}"
    if check.get("p") is None:
        return f"{head}, not judged: {escape(check.get('reason'))}"
    cell = f"{head} [{signed(check['low'])}, {signed(check['high'])}], p={number(check['p'])}"
    cell += f" (adj {number(check['p_adjusted'])})"
    if check["raw_verdict"] != check["verdict"]:
        cell += f", unadjusted: {check['raw_verdict']}"
    return cell + (", underpowered" if check.get("underpowered") else "")


def _title(item: dict[str, Any]) -> str:
    place = item["test_case"] or f"{item['suite']} (suite metrics)"
    at = f" at {item['configuration']}" if item["configuration"] else ""
    return f"{item['model']} on {place}{at}"


def _totals(totals: dict[str, int]) -> str:
    return ", ".join(f"**{n} {verdict}**" if verdict in FAILED else f"{n} {verdict}" for verdict, n in totals.items())


def _verdict(verdict: str) -> str:
    return f"**{verdict}**" if verdict in FAILED else verdict


def _metric_cell(item: dict[str, Any], metric: str) -> str:
    """The metric's value; in a side-by-side report, `before → after` (`(absent)` after an item the run lost)."""
    value = "(absent)" if item["verdict"] == ABSENT else number(item["metrics"].get(metric))
    other = item.get("other")
    return f"{number(other['metrics'].get(metric))} → {value}" if other else value


def _table(items: list[dict[str, Any]], before: str | None) -> list[str]:
    metrics = list(dict.fromkeys(m for item in items for m in item.get("rules", {})))
    metrics = metrics or list(dict.fromkeys(m for item in items for m in item["metrics"]))
    checked = list(dict.fromkeys(c["metric"] for item in items for c in item.get("checks", [])))
    headers = ["model", "test case", "configuration", *metrics, *(f"{m}: baseline → candidate, delta" for m in checked)]
    headers += [*([f"verdict in {before}"] if before else []), "verdict", "note"]
    lines = ["| " + " | ".join(escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    for item in items:
        checks = {c["metric"]: c for c in item.get("checks", [])}
        cells = [escape(item["model"]), escape(item["test_case"] or "(suite)"), escape(item["configuration"])]
        cells += [_metric_cell(item, m) for m in metrics]
        cells += [check_cell(checks[m]) if m in checks else "" for m in checked]
        if before:
            cells.append(_verdict(item["other"]["verdict"]) if item.get("other") else "(absent)")
        cells += [_verdict(item["verdict"]), escape(item.get("note", ""))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(document: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    run = document["run"]
    lines = [f"# pytest-kolena run {code(run['id'])}", ""]
    about = [
        f"tag {code(run['tag'])}" if run.get("tag") else "",
        f"commit {code(run['git_commit'])}" if run.get("git_commit") else "",
    ]
    lines += [", ".join(filter(None, [escape(run["time"]), *about])), ""]
    before = document.get("compared_with")
    if before:
        lines += [f"Side by side with run {code(before['id'])}: each metric as `before → after`.", ""]
    lines += [_totals(document["totals"]) or NO_ITEMS, ""]
    failures = [item for item in document["items"] if item["verdict"] in FAILED]
    if failures:
        lines += ["## Failures", ""]
        for item in failures:
            lines += [
                f"### {escape(_title(item))}: {item['verdict']}",
                "",
                "```text",
                item.get("message", "").replace("```", "'''"),
                "```",
                "",
            ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in document["items"]:
        groups[(item["test"], item["suite"])].append(item)
    for (test, suite), items in groups.items():
        lines += [f"## {code(test)} on {escape(suite)}", "", *_table(items, before and before["id"]), ""]
    if any(item.get("checks") for item in document["items"]):
        lines += [
            "delta: candidate - baseline, with its interval; p: one-sided p-value of a worsening beyond the allowance, "
            "adjusted over the run's checks (adj); a check regresses when the adjusted p-value is at most "
            "(1 - confidence) / 2. Underpowered: a worsening the size of the allowance would likely be missed.",
            "",
        ]
    return "\n".join(lines)
