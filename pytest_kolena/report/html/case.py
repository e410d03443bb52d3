"""One test case's drill-down, hidden until opened: its metrics, its regression checks with every figure of their
verdicts, the failure texts, the charts, and the places the page's script fills with the worst samples and the
samples."""

from __future__ import annotations

from typing import Any

from ...words import NOT_JUDGED
from .charts import _Charts
from .run import _Case, _Run
from .text import MISSING, Row, _badge, _case_label, _e, _finite, _num, _p, _row, _scalar, _signed, _table


def _case_section(run: _Run, k: int, charts: _Charts, images: bool) -> str:
    case = run.cases[k]
    items = run.case_items[case]
    size = run.size(case)
    parts = [
        f'<section class="case" id="case-{k}" hidden>',
        f"<h2>{_e(_case_label(case.test_case))}</h2>",
        f'<p class="about"><code>{_e(case.test)}</code> on {_e(case.suite)}'
        + (f" · {size} samples" if size is not None else "")
        + "</p>",
        _case_metrics_table(run, case),
        _checks_table(items),
        "".join(f'<pre class="message">{_e(i["message"])}</pre>' for i in items if i.get("message")),
        charts.section(case),
    ]
    if run.samples(case) is None:
        parts.append('<p class="muted">no samples stored for this suite</p>')
    else:
        parts += [
            f'<h3>Worst samples</h3><p class="muted">{_e(run.ranks[case.group].describe(images))}</p>',
            f'<div class="gallery" data-case="{k}"></div>',
            f'<h3>Samples</h3><div class="samples" data-case="{k}"></div>',
        ]
    return "\n".join([*filter(None, parts), "</section>"])


def _case_metrics_table(run: _Run, case: _Case) -> str:
    """Rows (model, configuration): the verdict and every scalar metric, with its rule, and the delta and its
    interval where a regression check ran on it."""
    by_key: dict[tuple[str, str], tuple[Row, dict[str, Any]]] = {}
    for row in run.metrics.get(case, []):
        metrics = {k: v for k, v in (row.get("metrics") or {}).items() if _scalar(v)}
        by_key[(row["model"], row.get("configuration") or "")] = ({}, metrics)
    for item in run.case_items[case]:
        key = (item["model"], item.get("configuration") or "")
        by_key[key] = (item, {**by_key.get(key, ({}, {}))[1], **item.get("metrics", {})})
    if not by_key:
        return ""
    names = list(dict.fromkeys(name for _, metrics in by_key.values() for name in metrics))
    rows = []
    for (model, configuration), (item, metrics) in by_key.items():
        checks = {c["metric"]: c for c in item.get("checks", [])}
        rules, other = item.get("rules", {}), (item.get("other") or {}).get("metrics")
        cells = [_e(model), _e(configuration), _badge(item["verdict"]) if item else MISSING]
        for name in names:
            cell = _num(metrics.get(name)) if other is None else f"{_num(other.get(name))} → {_num(metrics.get(name))}"
            if name in rules:
                cell += f'<div class="rule">{_e(rules[name])}</div>'
            if name in checks:
                check = checks[name]
                interval = (
                    f" [{_signed(check['low'])}, {_signed(check['high'])}]" if check.get("low") is not None else ""
                )
                cell += f'<div class="delta">Δ {_signed(check.get("delta"))}{interval}</div>'
            cells.append(cell)
        rows.append(_row(cells))
    return "<h3>Metrics</h3>" + _table("metrics", ["model", "configuration", "verdict", *map(_e, names)], rows)


CHECK_COLUMNS = [
    "model",
    "configuration",
    "metric",
    "baseline",
    "candidate",
    "delta",
    "interval",
    "allowed worsening",
    "test",
    "n",
    "p",
    "p adjusted",
    "raw decision",
    "decision",
    "power",
    "not judged because",
]


def _check_cells(item: Row, check: Row) -> list[str]:
    """Every figure of one check's verdict, in the order of CHECK_COLUMNS."""
    interval = MISSING
    if check.get("low") is not None:
        interval = f"[{_signed(check['low'])}, {_signed(check['high'])}]"
        if _finite(check.get("confidence")):
            interval += f' <span class="muted">{check["confidence"]:.0%}</span>'
    allowed = f"{_e(check['allowance'])} ({_num(check.get('allowed'))})" if check.get("allowance") else MISSING
    if check.get("better"):
        allowed += f' <span class="muted">{_e(check["better"])} is better</span>'
    n = _num(check.get("n")) + (
        f' <span class="muted">({check["dropped"]} left out)</span>' if check.get("dropped") else ""
    )
    family = f' <span class="muted">of {check["family"]}</span>' if check.get("family") else ""
    power = (
        f"detects {_signed(check['detectable'])} beyond"
        if check.get("p") is not None and _finite(check.get("detectable"))
        else ""
    )
    if check.get("underpowered"):
        power = f"{_badge('underpowered')} {power}"
    return [
        _e(item["model"]),
        _e(item.get("configuration")),
        _e(check["metric"]),
        _num(check.get("baseline")),
        _num(check.get("candidate")),
        _signed(check.get("delta")),
        interval,
        allowed,
        _e(check.get("method") or MISSING),
        n,
        _p(check.get("p")),
        _p(check.get("p_adjusted")) + family,
        _badge(check.get("raw_verdict", NOT_JUDGED)),
        _badge(check.get("verdict", NOT_JUDGED)),
        power,
        _e(check.get("reason", "")),
    ]


def _checks_table(items: list[Row]) -> str:
    """Every regression check of the test case, with every figure of its verdict."""
    rows = [_row(_check_cells(item, check)) for item in items for check in item.get("checks", [])]
    if not rows:
        return ""
    return (
        "<h3>Regression checks <small>delta: candidate - baseline; p: one-sided, of a worsening beyond the allowance;"
        " decision on the p-value adjusted over the run's checks</small></h3>"
        f'<div class="scroll-x">{_table("checks", CHECK_COLUMNS, rows)}</div>'
    )
