"""The end-of-session summary: one table per suite of model x test case x configuration, with metrics and verdicts.

Built from the reports' user properties, so that it is the same with pytest-xdist (the controller sees every
worker's reports) as without.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

PREFIX = "kolena."
METRIC = "kolena.metric."
DELTA = "kolena.delta."


@dataclasses.dataclass
class Row:
    suite: str
    model: str
    test_case: str
    configuration: str
    verdict: str
    metrics: dict[str, Any]
    thresholded: list[str]
    order: int
    deltas: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_properties(cls, properties: list[tuple[str, Any]]) -> Row | None:
        values = {k: v for k, v in properties if k.startswith(PREFIX)}
        if "kolena.suite" not in values:
            return None
        return cls(
            suite=str(values["kolena.suite"]),
            model=str(values["kolena.model"]),
            test_case=str(values.get("kolena.test_case", "")),
            configuration=str(values.get("kolena.configuration", "")),
            verdict=str(values.get("kolena.verdict", "error")),
            metrics={k[len(METRIC) :]: v for k, v in values.items() if k.startswith(METRIC)},
            thresholded=[m for m in str(values.get("kolena.thresholded", "")).split(",") if m],
            order=int(values.get("kolena.order", 0)),
            deltas={k[len(DELTA) :]: str(v) for k, v in values.items() if k.startswith(DELTA)},
        )


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def summary_lines(rows: list[Row], verbosity: int) -> list[str]:
    """-q: one line per suite; default: thresholded metrics; -v: every metric."""
    from tabulate import tabulate

    by_suite: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_suite[row.suite].append(row)
    lines = []
    for suite, suite_rows in by_suite.items():
        counts = defaultdict(int)
        for row in suite_rows:
            counts[row.verdict] += 1
        tally = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
        lines.append(f"kolena suite {suite}: {tally}")
        if verbosity < 0:
            continue
        if verbosity > 0:
            metrics = list(dict.fromkeys(m for row in suite_rows for m in row.metrics))
        else:
            metrics = list(dict.fromkeys(m for row in suite_rows for m in row.thresholded))
        deltas = list(dict.fromkeys(m for row in suite_rows for m in row.deltas))
        table = [
            [
                row.model,
                row.test_case or "(suite)",
                row.configuration,
                *(_format(row.metrics.get(m)) for m in metrics),
                *(row.deltas.get(m, "") for m in deltas),
                row.verdict,
            ]
            for row in suite_rows
        ]
        headers = [
            "model",
            "test case",
            "configuration",
            *metrics,
            *(f"delta {m} [interval]" for m in deltas),
            "verdict",
        ]
        lines.extend(tabulate(table, headers=headers, tablefmt="simple").splitlines())
        lines.append("")
    return lines
