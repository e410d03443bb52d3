"""The end-of-session summary: per suite and test function, a table of model x test case x configuration with
metrics and verdicts.

Built from the item rows of the reports, so that it is the same with pytest-xdist (the controller sees every
worker's reports) as without.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from .. import numbers
from .properties import ItemRow
from .text import column_rule, rule_beside


def _format(value: Any) -> str:
    if isinstance(value, float):
        return numbers.general(value)
    return "" if value is None else str(value)


def tally(rows: list[ItemRow]) -> str:
    counts = Counter(row.verdict for row in rows)
    return ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))


def table_lines(rows: list[ItemRow], verbosity: int) -> list[str]:
    """One table: the thresholded metrics (every metric with -v), the deltas, the verdict."""
    from tabulate import tabulate

    if verbosity > 0:
        metrics = list(dict.fromkeys(m for row in rows for m in row.metrics))
    else:
        metrics = list(dict.fromkeys(m for row in rows for m in row.thresholded))
    deltas = list(dict.fromkeys(m for row in rows for m in row.deltas))
    notes = any(row.note for row in rows)
    rules = {m: column_rule([row.rules for row in rows], m) for m in metrics}
    table = [
        [
            row.model,
            row.test_case or "(suite)",
            row.configuration,
            *(_format(row.metrics.get(m)) + rule_beside(row.rules, m, rules[m]) for m in metrics),
            *(row.deltas.get(m, "") for m in deltas),
            row.verdict,
            *([row.note] if notes else []),
        ]
        for row in rows
    ]
    headers = [
        "model",
        "test case",
        "configuration",
        *(f"{m} {rules[m]}" if rules[m] else m for m in metrics),
        *(f"delta {m} [interval] p (adj)" for m in deltas),
        "verdict",
        *(["note"] if notes else []),
    ]
    lines = tabulate(table, headers=headers, tablefmt="simple").splitlines()
    if deltas:
        lines.extend(LEGEND)
    return lines


LEGEND = [
    "delta: candidate - baseline [its interval]; p: one-sided p-value of a worsening beyond the allowance",
    "(adj: adjusted over the run's checks, kolena_error_control); regressed when adj <= (1 - confidence) / 2;",
    "underpowered: the check would likely miss a worsening the size of its allowance",
]


def summary_lines(rows: list[ItemRow], verbosity: int) -> list[str]:
    """-q: one line per suite; default: a table per test function with the thresholded metrics; -v: every metric."""
    by_suite: dict[str, dict[str, list[ItemRow]]] = defaultdict(lambda: defaultdict(list))
    for row in sorted(rows, key=lambda r: (r.suite, r.test, r.order)):
        by_suite[row.suite][row.test].append(row)
    lines = []
    for suite, by_test in by_suite.items():
        lines.append(f"kolena suite {suite}: {tally([r for test_rows in by_test.values() for r in test_rows])}")
        if verbosity < 0:
            continue
        for test, test_rows in by_test.items():
            lines.append(f"{test}: {tally(test_rows)}")
            lines.extend(table_lines(test_rows, verbosity))
            if verbosity > 0:
                lines.extend(worst_lines(test_rows))
            lines.extend(dict.fromkeys(f"inference of {r.model}: {r.inference}" for r in test_rows if r.inference))
            lines.append("")
    return lines


def worst_lines(rows: list[ItemRow]) -> list[str]:
    """-v: the worst samples of each failing test case, by the sample metric behind its breached threshold, or, for
    a regression, by how much each got worse against the baseline."""
    lines = []
    for row in rows:
        if not row.worst.get("samples"):
            continue
        at = f" at {row.configuration}" if row.configuration else ""
        metric = row.worst["metric"]
        if row.worst.get("by") == "change":
            lines.append(
                f"samples of {row.model} on {row.test_case}{at} that got worse the most, by {metric} "
                "(change: baseline -> candidate):"
            )
            lines.extend(
                f"  {change:>+10.4g}: {_format(before)} -> {_format(after)}  {label}"
                for change, label, before, after in row.worst["samples"]
            )
        else:
            lines.append(f"worst samples of {row.model} on {row.test_case}{at} by {metric}:")
            lines.extend(f"  {_format(value):>10}  {label}" for value, label in row.worst["samples"])
    return lines
