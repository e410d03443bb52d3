"""The page's static HTML above the test cases: the header, the totals, the item table (failures first), the
discovered slices, the test cases with each model's verdicts, and the models."""

from __future__ import annotations

from typing import Any

from ...words import NOT_JUDGED
from ..document import by_place
from ..slices import describe, detectable_words
from .run import _Case, _case_of, _Run
from .text import FAILED, Row, _badge, _case_label, _e, _num, _p, _row, _short_test, _signed, _table


def _header(document: dict[str, Any]) -> str:
    run = document["run"]
    about = [f"<b>run</b> <code>{_e(run.get('id'))}</code>", _e(run.get("time"))]
    if run.get("tag"):
        about.append(f"<b>tag</b> <code>{_e(run['tag'])}</code>")
    if run.get("git_commit"):
        about.append(f"<b>commit</b> <code>{_e(str(run['git_commit'])[:12])}</code>")
    before = document.get("compared_with")
    if before:
        about.append(f"<b>side by side with</b> <code>{_e(before.get('id'))}</code> (before → after)")
    return f'<header><h1>pytest-kolena report</h1><p class="about">{" · ".join(about)}</p></header>'


def _overview(run: _Run) -> str:
    totals = run.document.get("totals", {})
    badges = " ".join(f'<span class="total">{_badge(v)} <b>{n}</b></span>' for v, n in totals.items())
    return "\n".join(
        [
            '<section id="overview">',
            f'<div class="totals">{badges or "no kolena items ran"} <span class="muted">{len(run.items)} items</span></div>',
            _comparison_section(run.document),
            "<h2>Items <small>by severity: regressed (the largest worsening first), failed, errors, improved, the "
            "rest; a test case opens its drill-down</small></h2>",
            _items_table(run),
            _slices_section(run.document),
            "<h2>Test cases</h2>",
            _cases_tables(run),
            _models_table(run.document.get("models", [])),
            "</section>",
        ]
    )


def _check_brief(check: Row) -> str:
    """One check in a cell: baseline → candidate, the delta with its interval, raw and adjusted p and decision."""
    text = f"<b>{_e(check['metric'])}</b> {_num(check.get('baseline'))} → {_num(check.get('candidate'))}"
    text += f", Δ {_signed(check.get('delta'))}"
    if check.get("p") is None:
        return f'{text} {_badge(NOT_JUDGED)} <span class="reason">{_e(check.get("reason"))}</span>'
    verdict = check.get("verdict", "")
    text += f" [{_signed(check.get('low'))}, {_signed(check.get('high'))}]"
    text += f" p {_p(check.get('p'))}, adj {_p(check.get('p_adjusted'))} {_badge(verdict)}"
    if check.get("raw_verdict") not in (None, verdict):
        text += f' <span class="muted">unadjusted:</span> {_badge(check["raw_verdict"])}'
    return text + (" " + _badge("underpowered") if check.get("underpowered") else "")


def _metric_lines(item: Row) -> str:
    """The item's ruled metrics with their rules (every metric where none is ruled); before → after side by side."""
    metrics, rules = item.get("metrics", {}), item.get("rules", {})
    other = (item.get("other") or {}).get("metrics")
    lines = []
    for name in [m for m in rules if m in metrics] or list(metrics) or list(other or {}):
        value = _num(metrics.get(name)) if other is None else f"{_num(other.get(name))} → {_num(metrics.get(name))}"
        rule = f' <span class="rule">{_e(rules[name])}</span>' if name in rules else ""
        lines.append(f"<div><b>{_e(name)}</b> {value}{rule}</div>")
    return "".join(lines)


def _items_table(run: _Run) -> str:
    if not run.items:
        return '<p class="muted">no items</p>'
    several = len({(i["test"], i["suite"]) for i in run.items}) > 1
    side = "compared_with" in run.document
    head = ["verdict", *(["before"] if side else []), *(["test", "suite"] if several else [])]
    head += ["model", "test case", "configuration", "metrics", "regression checks", "note"]
    rows = []
    for item in run.items:
        case = _case_of(item)
        verdict = _badge(item["verdict"])
        if item.get("message"):
            verdict += f"<details><summary>text</summary><pre>{_e(item['message'])}</pre></details>"
        cells = [verdict]
        if side:
            cells.append(_badge(item["other"]["verdict"]) if item.get("other") else '<span class="muted">absent</span>')
        if several:
            cells += [f'<span title="{_e(item["test"])}">{_e(_short_test(item["test"]))}</span>', _e(item["suite"])]
        cells += [
            _e(item["model"]),
            f'<a href="#case-{run.index[case]}">{_e(_case_label(case.test_case))}</a>',
            f'<span class="nowrap">{_e(item.get("configuration"))}</span>',
            _metric_lines(item),
            "".join(f"<div>{_check_brief(c)}</div>" for c in item.get("checks", [])),
            _e(item.get("note", "")),
        ]
        rows.append(_row(cells, "fail" if item["verdict"] in FAILED else ""))
    return _table("items", head, rows)


def _slices_section(document: dict[str, Any]) -> str:
    """The slices discovery found (--kolena-discover), ranked, each with the line that makes it a test case; "" when
    the run did not search."""
    result = document.get("slices")
    if result is None:
        return ""
    found = result.get("found", [])
    about = "" if not document.get("compared_with") else f" in run <code>{_e(document['run'].get('id'))}</code>"
    counted = (
        f"among {_num(result.get('tried'))} candidates tried ({_num(result.get('screened'))} screened: tested on "
        f"the held-out half); false discovery rate {_num(result.get('alpha'))} (Benjamini-Hochberg, over all the "
        "run's searches)"
    )
    if result.get("detectable"):
        counted += "; " + _e(detectable_words(result["detectable"]))
    near = "".join(
        f"<li>{_e(s['model'])}: {_e(describe(s))} (p {_p(s.get('p_value'))})</li>"
        for s in result.get("near_misses", [])
    )
    near = (
        f'<p class="muted">Near misses: p at most the false discovery rate on the held-out half, not after the '
        f"correction</p><ul>{near}</ul>"
        if near
        else ""
    )
    parts = [
        '<section id="slices">',
        f"<h2>Discovered slices{about} <small>ranked: regressions first, then by how much worse, in standard "
        "deviations of the metric</small></h2>",
    ]
    if not found:
        return "\n".join([*parts, f'<p class="muted">none found {counted}</p>', near, "</section>"])
    several = len({(s["test"], s["suite"]) for s in found}) > 1
    head = ["rank", "kind", *(["test", "suite"] if several else []), "model", "configuration", "metric", "slice", "n"]
    head += ["worse by [interval]", "compared with", "adjusted p", "add to kolena_stratify"]
    rows = []
    for slice_ in found:
        cells = [_num(slice_.get("rank")), _badge(slice_["kind"])]
        if several:
            cells += [
                f'<span title="{_e(slice_["test"])}">{_e(_short_test(slice_["test"]))}</span>',
                _e(slice_["suite"]),
            ]
        cells += [_e(slice_["model"]), f'<span class="nowrap">{_e(slice_.get("configuration"))}</span>']
        cells += [_e(slice_["metric"]), _e(slice_["label"]), _num(slice_.get("size"))]
        interval = f" [{_signed(slice_['low'])}, {_signed(slice_['high'])}]" if slice_.get("low") is not None else ""
        cells += [f'<span class="nowrap">{_signed(slice_.get("effect"))}{interval}</span>', _slice_compared(slice_)]
        cells += [_p(slice_.get("p_adjusted")), f"<code>{_e(slice_['stratify'])}</code>"]
        rows.append(_row(cells, "fail" if slice_["kind"] == "regressed" else ""))
    return "\n".join(
        [
            *parts,
            f'<p class="about">{len(found)} slice{"s" if len(found) > 1 else ""} found {counted}</p>',
            f'<div class="scroll">{_table("slices", head, rows)}</div>',
            "<p class=\"muted\">worse by: how much worse the slice's mean sample metric is (in the metric's units, "
            "whichever its direction), with its interval, on the held-out half; adjusted p: Benjamini-Hochberg over "
            "every candidate of the run. Add the line to kolena_stratify to make the slice a test case of its own.</p>",
            near,
            "</section>",
        ]
    )


def _comparison_section(document: dict[str, Any]) -> str:
    """Many runs or models side by side (`report/comparison.py`): a table per test function and suite, the best of
    each row marked, each column's check against the first; "" without a comparison."""
    found = document.get("comparison")
    if not found:
        return ""
    columns = [c["label"] for c in found["columns"]]
    groups = by_place(found["rows"])
    parts = [
        '<section id="comparison">',
        f"<h2>Side by side <small>{len(columns)} models of {len(found['runs'])} run(s); the best of each row in bold; "
        f"each column checked against the first ({_e(columns[0])}) on the samples both hold: a paired test of the "
        "sample metric a case metric is the mean of, no allowance, adjusted over each column's checks</small></h2>",
    ]
    for (test, suite), rows in groups.items():
        body = []
        for row in rows:
            better = f' <span class="muted">{_e(row["better"])} is better</span>' if row.get("better") else ""
            cells = [_e(_case_label(row["test_case"])), _e(row["configuration"]), _e(row["metric"]) + better]
            for k, value in enumerate(row["values"]):
                text = _num(value)
                text = f'<b class="best">{text}</b>' if row.get("best") == k else text
                check = row["checks"][k]
                if check is not None and check.get("p_adjusted") is None:
                    text += f" {_badge(NOT_JUDGED)}"
                elif check is not None:
                    text += f' {_badge(check["verdict"])} <span class="muted">adj p {_p(check["p_adjusted"])}</span>'
                cells.append(text)
            body.append(_row(cells))
        head = ["test case", "configuration", "metric", *(_e(c) for c in columns)]
        parts.append(f"<h3><code>{_e(test)}</code> on {_e(suite)}</h3>{_table('comparison', head, body)}")
    return "\n".join([*parts, "</section>"])


def _slice_compared(slice_: Row) -> str:
    if slice_["kind"] == "regressed":
        return "the baseline, on the same samples"
    rest = f"the rest of {_e(slice_['versus'])}" if slice_.get("versus") else "the rest of the suite"
    return f"{_num(slice_.get('slice_mean'))} vs {_num(slice_.get('other_mean'))} in {rest}"


def _cases_tables(run: _Run) -> str:
    """Per test function and suite: each test case, its size and each model's verdicts."""
    groups: dict[tuple[str, str], list[_Case]] = {}
    for case in run.cases:
        groups.setdefault(case.group, []).append(case)
    parts = []
    for group, cases in groups.items():
        models = run.models(group)
        rows = []
        for case in cases:
            cells = [f'<a href="#case-{run.index[case]}">{_e(_case_label(case.test_case))}</a>', _num(run.size(case))]
            for model in models:
                mine = [item for item in run.case_items[case] if item["model"] == model]
                cells.append(
                    " ".join(f'<span title="{_e(i["configuration"])}">{_badge(i["verdict"])}</span>' for i in mine)
                )
            rows.append(_row(cells))
        head = ["test case", "samples", *(_e(m) for m in models)]
        parts.append(f"<h3><code>{_e(group[0])}</code> on {_e(group[1])}</h3>{_table('cases', head, rows)}")
    return "\n".join(parts)


def _models_table(models: list[Row]) -> str:
    rows = [
        _row(
            [
                _e(model["model"]),
                f'<span title="{_e(model["test"])}">{_e(_short_test(model["test"]))}</span>',
                _e(model["suite"]),
                ", ".join(f"{_e(k)}: {_e(v)}" for k, v in (model.get("metadata") or {}).items()),
            ]
        )
        for model in models
    ]
    return f"<h2>Models</h2>{_table('models', ['model', 'test', 'suite', 'metadata'], rows)}" if rows else ""
