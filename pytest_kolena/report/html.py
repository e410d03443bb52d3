"""The HTML report: one self-contained file (no network, opens from file://) rendering a report document.

`write_html(document, path)` writes it. The page is assembled from four parts, each a section of this module:

- the page's static HTML: header, totals, the item table (failures first), the test cases, and per test case a
  hidden section with its metrics, regression checks and failure texts; every user string through `html.escape`;
- charts: the evaluator's plots drawn by matplotlib, one image per (test case, configuration, plot title) with one
  series per model (a confusion matrix: one panel per model), as small palette PNGs;
- the samples: per test function and suite, a columnar table (sample ids, scalar ground truth and inference fields,
  sample metrics per model and configuration) and per test case its members as a bitset, embedded as JSON in a
  `<script type="application/json">` block that `html_assets/report.js` renders page by page;
- thumbnails: for the `THUMBNAILS` worst samples per model and test case only (by the sample metric behind a case
  metric whose direction is known), ground truth and inference drawn over the image by Pillow, as WebP data URIs;
  so the file grows with the number of test cases, not with the number of samples.

matplotlib and Pillow are the optional extra `html`, imported when a report is written.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import io
import json
import math
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

THUMBNAILS = 8  # worst samples per model and test case given a thumbnail
THUMBNAIL_SIZE = 160  # longest side of a thumbnail, pixels (smaller images are enlarged: the marks stay legible)
THUMBNAIL_LIMIT = 4000  # thumbnails per report at most, whatever the number of test cases
IMAGE_TRIES = 8  # locators of a suite that may fail to open, none opening, before the suite's images are given up
GROUND_TRUTH_COLOUR = "#00b7ff"
INFERENCE_COLOUR = "#ff8a00"
MODEL_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
FAILED = ("error", "failed", "regressed")
MISSING = "\u2013"  # an en dash: no value
ASSETS = "html_assets"

Row = dict[str, Any]


class HtmlDependencyError(ImportError):
    """matplotlib or Pillow is missing: the HTML report needs the extra `html`."""


def write_html(document: dict[str, Any], path: str | Path) -> None:
    """Write the report of `document` (see `document.run_document`) to `path`, as one self-contained HTML file."""
    Path(path).write_text(render_html(document), encoding="utf-8")


def render_html(document: dict[str, Any]) -> str:
    """The whole report page."""
    libraries = _require()
    run = _Run(document)
    data = _page_data(run, _Thumbnails(libraries))
    images = {table["group"] for table in data["suites"] if table["thumbnails"]}
    with libraries.style.context("default"):  # the charts look the same whatever the user's matplotlibrc
        charts = _Charts(libraries, run)
        sections = [_case_section(run, k, charts, run.cases[k].group in images) for k in range(len(run.cases))]
    body = "\n".join([_header(document), _overview(run), *sections])
    return _assemble(str(document["run"].get("id", "")), body, data, run.first_case())


# --- dependencies -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Libraries:
    """The optional dependencies, imported once per report."""

    figure: Any  # matplotlib.figure.Figure
    canvas: Any  # matplotlib.backends.backend_agg.FigureCanvasAgg
    style: Any  # matplotlib.style
    image: Any  # PIL.Image
    draw: Any  # PIL.ImageDraw
    font: Any  # PIL.ImageFont


def _require() -> _Libraries:
    """matplotlib and Pillow, or an error naming the extra that installs them."""
    missing = []
    try:
        import matplotlib.style
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        missing.append("matplotlib")
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        missing.append("Pillow")
    if missing:
        raise HtmlDependencyError(
            f'the HTML report needs {" and ".join(missing)}, not installed: pip install "pytest-kolena[html]"'
        )
    return _Libraries(Figure, FigureCanvasAgg, matplotlib.style, Image, ImageDraw, ImageFont)


# --- text -------------------------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    """Any user string, escaped for HTML text and attribute values."""
    return "" if value is None else html.escape(str(value), quote=True)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: Any) -> str:
    """A metric value as a table shows it."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.4g}"
    return _e(value)


def _signed(value: Any) -> str:
    return f"{value:+.4g}" if _finite(value) else MISSING


def _p(value: Any) -> str:
    return f"{value:.2g}" if _finite(value) else MISSING


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


# --- the run, indexed once --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Case:
    """One drill-down: a test case of a test function on a suite (test_case "": the suite item, every sample)."""

    test: str
    suite: str
    test_case: str

    @property
    def group(self) -> tuple[str, str]:
        return self.test, self.suite


def _case_of(row: Row) -> _Case:
    return _Case(row["test"], row["suite"], row.get("test_case") or "")


class _Run:
    """The document with its rows indexed by test case: the test cases in order (per test function and suite, the
    suite's order, then the suite item's), their items, their metrics rows, and each suite's ranking metric."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.items: list[Row] = document.get("items", [])
        self.suites = {(s["test"], s["suite"]): s for s in document.get("suites", [])}
        found: dict[_Case, None] = {}
        for suite in self.suites.values():
            found.update((_Case(suite["test"], suite["suite"], name), None) for name in suite.get("test_cases", {}))
        found.update((_case_of(row), None) for row in [*document.get("cases", []), *self.items])
        groups: dict[tuple[str, str], list[_Case]] = {}
        for case in found:
            groups.setdefault(case.group, []).append(case)
        self.cases = [c for cases in groups.values() for c in sorted(cases, key=lambda c: not c.test_case)]
        self.index = {case: k for k, case in enumerate(self.cases)}
        self.case_items: dict[_Case, list[Row]] = {case: [] for case in self.cases}
        for item in self.items:
            self.case_items[_case_of(item)].append(item)
        self.metrics: dict[_Case, list[Row]] = {case: [] for case in self.cases}  # the cases' and suites' metrics
        for row in [*document.get("cases", []), *document.get("suite_metrics", [])]:
            self.metrics.setdefault(_case_of(row), []).append(row)
        self.ranks = {key: _rank(self, suite) for key, suite in self.suites.items()}
        self.group_models: dict[tuple[str, str], list[str]] = {}
        for row in [*document.get("models", []), *document.get("cases", []), *self.items]:  # in the run's order
            models = self.group_models.setdefault((row["test"], row["suite"]), [])
            models += [] if row["model"] in models else [row["model"]]

    def samples(self, case: _Case) -> dict[str, Any] | None:
        suite = self.suites.get(case.group)
        return None if suite is None else suite.get("samples")

    def members(self, case: _Case) -> list[int] | None:
        """The samples of a test case as indices into its suite's samples; None: every sample."""
        if not case.test_case:
            return None
        return self.suites.get(case.group, {}).get("test_cases", {}).get(case.test_case, [])

    def size(self, case: _Case) -> int | None:
        samples = self.samples(case)
        if samples is None:
            return None
        members = self.members(case)
        return len(samples["ids"]) if members is None else len(members)

    def models(self, group: tuple[str, str]) -> list[str]:
        return self.group_models.get(group, [])

    def first_case(self) -> int | None:
        """The test case opened when the page loads: the first item's (failures come first)."""
        return self.index[_case_of(self.items[0])] if self.items else None


# --- the page: header and overview ------------------------------------------------------------------------------


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
            "<h2>Items <small>failures first; a test case opens its drill-down</small></h2>",
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
        return f'{text} {_badge("not judged")} <span class="reason">{_e(check.get("reason"))}</span>'
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
    return f'<div class="scroll">{_table("items", head, rows)}</div>'


def _slices_section(document: dict[str, Any]) -> str:
    """The slices discovery found (--kolena-discover), ranked, each with the line that makes it a test case; "" when
    the run did not search."""
    result = document.get("slices")
    if result is None:
        return ""
    found = result.get("found", [])
    about = "" if not document.get("compared_with") else f" in run <code>{_e(document['run'].get('id'))}</code>"
    counted = (
        f"among {_num(result.get('tried'))} candidates tried ({_num(result.get('screened'))} confirmed on the "
        f"held-out half); false discovery rate {_num(result.get('alpha'))} (Benjamini-Hochberg, over all the run's "
        "searches)"
    )
    parts = [
        '<section id="slices">',
        f"<h2>Discovered slices{about} <small>ranked: regressions first, then by how much worse, in standard "
        "deviations of the metric</small></h2>",
    ]
    if not found:
        return "\n".join([*parts, f'<p class="muted">none found {counted}</p>', "</section>"])
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
            "</section>",
        ]
    )


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


# --- the page: one test case ------------------------------------------------------------------------------------


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


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str, bool))


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
        _badge(check.get("raw_verdict", "not judged")),
        _badge(check.get("verdict", "not judged")),
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


# --- charts -----------------------------------------------------------------------------------------------------


def _label(text: Any) -> str:
    """A user string for matplotlib, taken literally (a `$` would start mathtext)."""
    return str(text if text is not None else "").replace("$", r"\$")


def _floats(values: Any) -> list[float]:
    return [float(v) if _finite(v) else math.nan for v in values]


class _Charts:
    """The evaluator's plots as images: per test case and configuration, one chart per plot title with one series
    per model (a confusion matrix: one panel per model); a chart equal under several configurations is drawn once."""

    def __init__(self, libraries: _Libraries, run: _Run) -> None:
        self.libraries = libraries
        self.run = run

    def section(self, case: _Case) -> str:
        groups: dict[tuple[str, str, str], list[tuple[str, Row]]] = {}
        for row in self.run.metrics.get(case, []) if case.test_case else []:
            for plot in row.get("plots") or []:
                key = (row.get("configuration") or "", str(plot.get("data_type", "")), str(plot.get("title", "")))
                groups.setdefault(key, []).append((row["model"], plot))
        configurations = {key[0] for key in groups}
        drawn: dict[str, tuple[str, list[str]]] = {}  # the plots' content -> (figure, configurations)
        for (configuration, _, _), plots in groups.items():
            content = json.dumps(plots, sort_keys=True, default=str)
            if content not in drawn:
                drawn[content] = (self.figure(plots, case), [])
            drawn[content][1].append(configuration)
        figures = []
        for figure, used in drawn.values():
            caption = f"<figcaption>{_e(', '.join(used))}</figcaption>" if len(configurations) > 1 else ""
            figures.append(figure.replace("</figure>", caption + "</figure>"))
        return f'<h3>Plots</h3><div class="charts">{"".join(figures)}</div>' if figures else ""

    def figure(self, plots: list[tuple[str, Row]], case: _Case) -> str:
        """A <figure> of one plot type, every model's plot in it; a plot that cannot be drawn says why."""
        kind = str(plots[0][1].get("data_type", ""))
        title = str(plots[0][1].get("title", ""))
        draw = {
            "PLOT/CURVE": self.curves,
            "PLOT/HISTOGRAM": self.histograms,
            "PLOT/BAR": self.bars,
            "PLOT/CONFUSION_MATRIX": self.confusion,
        }.get(kind)
        if draw is None:
            return f'<figure class="not-drawn">plot {_e(title)}: type {_e(kind)} not drawn</figure>'
        panels = len(plots) if kind == "PLOT/CONFUSION_MATRIX" else 1
        figure = self.libraries.figure(figsize=(3.0 * panels + 0.9 if panels > 1 else 4.2, 2.8), dpi=100)
        try:
            draw(figure, plots, case)
            image = _png(self.libraries, figure)
        except Exception as error:  # a plot whose values do not draw (a report is written all the same)
            return f'<figure class="not-drawn">plot {_e(title)} not drawn: {_e(type(error).__name__)}: {_e(error)}</figure>'
        return f'<figure><img class="chart" alt="{_e(title)}" src="{image}"></figure>'

    def colour(self, case: _Case, model: str) -> str:
        models = self.run.models(case.group)
        return MODEL_COLOURS[(models.index(model) if model in models else 0) % len(MODEL_COLOURS)]

    def axes(self, figure: Any, plot: Row) -> Any:
        """One panel with fixed margins (tight_layout would draw every chart twice), titled and scaled as the plot
        says."""
        figure.subplots_adjust(left=0.15, right=0.97, top=0.89, bottom=0.17)
        axes = figure.add_subplot()
        axes.set_title(_label(plot.get("title")), fontsize=9)
        axes.set_xlabel(_label(plot.get("x_label")), fontsize=8)
        axes.set_ylabel(_label(plot.get("y_label")), fontsize=8)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
        if (plot.get("x_config") or {}).get("type") == "log":
            axes.set_xscale("log")
        if (plot.get("y_config") or plot.get("config") or {}).get("type") == "log":
            axes.set_yscale("log")
        return axes

    def curves(self, figure: Any, plots: list[tuple[str, Row]], case: _Case) -> None:
        axes = self.axes(figure, plots[0][1])
        for model, plot in plots:
            for i, curve in enumerate(plot.get("curves") or []):
                label = curve.get("label")
                name = model if not label or label == case.test_case else f"{model}: {label}"
                style = ("-", "--", ":", "-.")[i % 4]
                axes.plot(
                    _floats(curve["x"]),
                    _floats(curve["y"]),
                    style,
                    color=self.colour(case, model),
                    lw=1.3,
                    label=_label(name),
                )
        axes.legend(fontsize=7, frameon=False)

    def histograms(self, figure: Any, plots: list[tuple[str, Row]], case: _Case) -> None:
        axes = self.axes(figure, plots[0][1])
        for model, plot in plots:
            frequency = plot["frequency"]
            nested = bool(frequency) and isinstance(frequency[0], (list, tuple))
            series = zip(plot["labels"], frequency) if nested else [(None, frequency)]
            for i, (label, values) in enumerate(series):
                name = model if label is None else f"{model}: {label}"
                style = ("-", "--", ":", "-.")[i % 4]
                axes.stairs(
                    _floats(values),
                    _floats(plot["buckets"]),
                    color=self.colour(case, model),
                    ls=style,
                    lw=1.3,
                    label=_label(name),
                )
        axes.legend(fontsize=7, frameon=False)

    def bars(self, figure: Any, plots: list[tuple[str, Row]], case: _Case) -> None:
        axes = self.axes(figure, plots[0][1])
        labels = list(dict.fromkeys(str(label) for _, plot in plots for label in plot["labels"]))
        width = 0.8 / len(plots)
        for i, (model, plot) in enumerate(plots):
            values = dict(zip(map(str, plot["labels"]), _floats(plot["values"])))
            positions = [j - 0.4 + width * (i + 0.5) for j in range(len(labels))]
            heights = [values.get(label, math.nan) for label in labels]
            axes.bar(positions, heights, width=width, color=self.colour(case, model), label=_label(model))
        many = len(labels) > 6
        axes.set_xticks(
            range(len(labels)),
            [_label(x) for x in labels],
            rotation=30 if many else 0,
            ha="right" if many else "center",
        )
        axes.legend(fontsize=7, frameon=False)

    def confusion(self, figure: Any, plots: list[tuple[str, Row]], case: _Case) -> None:
        figure.subplots_adjust(left=0.1, right=0.98, top=0.8, bottom=0.2, wspace=0.45)
        for i, (model, plot) in enumerate(plots):
            axes = figure.add_subplot(1, len(plots), i + 1)
            matrix = [_floats(row) for row in plot["matrix"]]
            axes.imshow(matrix, cmap="Blues")
            labels = [_label(label) for label in plot["labels"]]
            axes.set_xticks(range(len(labels)), labels, fontsize=7)
            axes.set_yticks(range(len(labels)), labels, fontsize=7)
            top = max((v for row in matrix for v in row if not math.isnan(v)), default=0)
            for r, row in enumerate(matrix if len(labels) <= 12 else []):
                for c, value in enumerate(row):
                    colour = "white" if top and value > top / 2 else "black"
                    axes.text(c, r, _num(value), ha="center", va="center", fontsize=7, color=colour)
            axes.set_title(_label(f"{model}\n{plot.get('title', '')}"), fontsize=8)
            axes.set_xlabel(_label(plot.get("x_label", "Predicted")), fontsize=8)
            axes.set_ylabel(_label(plot.get("y_label", "Actual")), fontsize=8)


def _png(libraries: _Libraries, figure: Any) -> str:
    """A figure as a palette PNG data URI (a quarter of the size of matplotlib's RGBA PNG, for flat charts)."""
    canvas = libraries.canvas(figure)
    canvas.draw()
    image = libraries.image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=64, method=libraries.image.Quantize.FASTOCTREE).save(out, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


# --- samples: the ranking metric --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Rank:
    """The sample metric that orders a suite's samples worst first, and how it was chosen."""

    metric: str | None
    worse_high: bool  # a higher value is worse
    behind: str | None  # the case metric it is the mean of, whose direction is known

    def describe(self, images: bool) -> str:
        if self.metric is None:
            return "No numeric sample metric to rank the samples by."
        way = "higher" if self.worse_high else "lower"
        why = f"the sample metric behind {self.behind}" if self.behind else "the first sample metric, direction assumed"
        ranked = f"The {THUMBNAILS} worst samples per model, by {self.metric} ({way} is worse: {why})."
        if not images:
            return ranked + " No test sample of this suite has a locator to a readable image: no thumbnails."
        return ranked + " Only these samples have a thumbnail: ground truth in blue, inference in orange."


def _directions(items: list[Row]) -> dict[str, str]:
    """Case metric -> "lower" or "higher" is better: from the regression checks, else from the threshold rules."""
    found: dict[str, str] = {}
    for item in items:
        for check in item.get("checks", []):
            if check.get("better") in ("lower", "higher"):
                found.setdefault(check["metric"], check["better"])
    for item in items:
        for metric, rule in (item.get("rules") or {}).items():
            operator = re.search(r"[<>]", str(rule))
            if operator:
                found.setdefault(metric, "lower" if operator.group() == "<" else "higher")
    return found


def _rank(run: _Run, suite: Row) -> _Rank:
    """The sample metric whose mean over a test case is a case metric of known direction (tried on a few test cases
    of the first model and configuration); else the first numeric sample metric, a higher value taken as worse."""
    samples = suite.get("samples")
    if not samples or not samples.get("metrics"):
        return _Rank(None, True, None)
    model, by_configuration = next(iter(samples["metrics"].items()))
    configuration, columns = next(iter(by_configuration.items()), ("", {}))
    numeric = [name for name, values in columns.items() if _kind(values) in ("number", "bool")]
    if not numeric:
        return _Rank(None, True, None)
    group = (suite["test"], suite["suite"])
    directions = _directions([i for i in run.items if (i["test"], i["suite"]) == group])
    found: list[_Rank] = []
    tried = 0
    for name, members in suite.get("test_cases", {}).items():
        rows = run.metrics.get(_Case(*group, name), [])
        row = next((r for r in rows if (r["model"], r.get("configuration") or "") == (model, configuration)), None)
        if row is None or not members or tried == 3:
            continue
        tried += 1
        for metric, better in directions.items():
            value = (row.get("metrics") or {}).get(metric)
            for sample_metric in numeric if _finite(value) else []:
                mean = _mean(columns[sample_metric], members)
                if mean is not None and math.isclose(mean, value, rel_tol=1e-6, abs_tol=1e-12):
                    found.append(_Rank(sample_metric, better == "lower", metric))
        if found:  # the one defined on the most samples (accuracy's 0/1 column rather than recall's, say)
            return max(found, key=lambda rank: np.count_nonzero(~np.isnan(_numbers(columns[rank.metric]))))
    return _Rank(numeric[0], True, None)


def _numbers(values: list[Any]) -> np.ndarray:
    """A column as floats: booleans as 0 and 1, anything else that is not a number as NaN."""
    return np.array([float(v) if isinstance(v, (int, float)) else math.nan for v in values], dtype=float)


def _mean(values: list[Any], members: list[int]) -> float | None:
    chosen = _numbers(values)[members]
    chosen = chosen[~np.isnan(chosen)]
    return float(chosen.mean()) if len(chosen) else None


# --- samples: the embedded table --------------------------------------------------------------------------------


def _kind(values: list[Any]) -> str | None:
    """ "bool", "number" or "text" for a column of scalars (None and NaN allowed); None for anything else."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return None
    if kinds == {bool}:
        return "bool"
    if kinds <= {int, float, bool}:
        return "number"
    return "text" if kinds == {str} else None


def _column(name: str, values: list[Any], group: str, model: int | None, configuration: int | None) -> Row | None:
    """A column of the page's table: numbers to 6 significant digits (NaN and infinities: null), booleans as 0 and
    1, text dictionary-coded when values repeat; None for a column of anything but scalars."""
    kind = _kind(values)
    if kind is None:
        return None
    column: Row = {"name": name, "group": group, "model": model, "configuration": configuration, "kind": kind}
    if kind == "text":
        distinct = list(dict.fromkeys(v for v in values if v is not None))
        if len(distinct) * 2 >= len(values):
            return column | {"values": values}
        code = {v: i for i, v in enumerate(distinct)}
        return column | {"dict": distinct, "codes": [None if v is None else code[v] for v in values]}
    rounded = [None if v is None or not math.isfinite(v) else int(v) if isinstance(v, bool) else v for v in values]
    return column | {"values": [float(f"{v:.6g}") if isinstance(v, float) else v for v in rounded]}


def _fields(values: list[Any]) -> dict[str, list[Any]]:
    """The scalar fields of ground truths or inferences, and the label and score of their top-level labels, as
    columns; constant columns left out (they tell no sample apart)."""
    names: dict[tuple[str, str], None] = {}  # (field, "" or the part of a label)
    for value in values[:100]:
        for key, field in (value or {}).items():
            if key != "data_type" and _scalar(field):
                names[(key, "")] = None
            elif isinstance(field, dict) and field.get("data_type") == "ANNOTATION/LABEL":
                names.update({(key, "label"): None, **({(key, "score"): None} if "score" in field else {})})
    columns = {}
    for key, part in names:
        column = [(value or {}).get(key) for value in values]
        if part:
            column = [field.get(part) if isinstance(field, dict) else None for field in column]
        if len(set(map(repr, column))) > 1:
            columns[key if part in ("", "label") else f"{key} {part}"] = column
    return columns


def _bitset(members: list[int] | None, n: int) -> str | None:
    """A test case's members as a little-endian bitset over the suite's samples, base64; None: every sample."""
    if members is None or len(members) == n:
        return None
    bits = np.zeros(n, dtype=bool)
    bits[members] = True
    return base64.b64encode(np.packbits(bits, bitorder="little").tobytes()).decode("ascii")


def _suite_table(suite: Row, rank: _Rank) -> Row:
    """One suite's samples as the page's JS reads them (see html_assets/report.js)."""
    samples = suite["samples"]
    n = len(samples["ids"])
    metrics = samples.get("metrics", {})
    models = list(dict.fromkeys([*samples.get("inferences", {}), *metrics]))
    configurations = list(dict.fromkeys(c for by in metrics.values() for c in by))
    truths = samples.get("ground_truths") or [None] * n
    candidates = [(name, values, "ground truth", None, None) for name, values in _fields(truths).items()]
    for m, model in enumerate(models):
        inferences = samples.get("inferences", {}).get(model) or [None] * n
        candidates += [(name, values, model, m, None) for name, values in _fields(inferences).items()]
        for c, configuration in enumerate(configurations):
            by_name = metrics.get(model, {}).get(configuration, {})
            candidates += [(name, values, model, m, c) for name, values in by_name.items()]
    columns = [column for column in (_column(*candidate) for candidate in candidates) if column is not None]
    sort = [
        next((i for i, col in enumerate(columns) if col["configuration"] == c and col["name"] == rank.metric), None)
        for c in range(len(configurations))
    ]
    return {
        "group": (suite["test"], suite["suite"]),
        "ids": samples["ids"],
        "models": models,
        "configurations": configurations,
        "columns": columns,
        "sort": sort,
        "descending": rank.worse_high,
        "thumbnails": {},
    }


def _worst(scores: dict[str, np.ndarray], members: list[int] | None, worse_high: bool) -> dict[str, list[int]]:
    """Model -> its `THUMBNAILS` worst samples of a test case (missing values never), worst first."""
    found = {}
    for model, values in scores.items():
        indices = np.arange(len(values)) if members is None else np.asarray(members, dtype=int)
        chosen = values[indices]
        keep = ~np.isnan(chosen)
        indices, chosen = indices[keep], chosen[keep]
        order = np.lexsort((indices, -chosen if worse_high else chosen))[:THUMBNAILS]
        found[model] = indices[order].tolist()
    return found


def _page_data(run: _Run, thumbnails: _Thumbnails) -> Row:
    """The JSON the page's JS reads: per suite its table, per test case its members and worst samples (with their
    thumbnails in the suite's table)."""
    tables, position, scores = [], {}, {}
    for group, suite in run.suites.items():
        if suite.get("samples") is None:
            continue
        rank = run.ranks[group]
        position[group] = len(tables)
        tables.append(_suite_table(suite, rank))
        by_model = suite["samples"].get("metrics", {})
        first = {model: next(iter(by.values()), {}).get(rank.metric or "") for model, by in by_model.items()}
        scores[group] = {model: _numbers(values) for model, values in first.items() if values}
    cases: list[Row | None] = []
    for case in run.cases:
        if case.group not in position:
            cases.append(None)
            continue
        table, suite = tables[position[case.group]], run.suites[case.group]
        members = run.members(case)
        worst = _worst(scores[case.group], members, run.ranks[case.group].worse_high)
        for model, indices in worst.items():
            m = table["models"].index(model)
            for i in indices:
                if f"{i}:{m}" not in table["thumbnails"] and (uri := thumbnails.draw(suite, i, model)):
                    table["thumbnails"][f"{i}:{m}"] = uri
        cases.append(
            {
                "suite": position[case.group],
                "members": _bitset(members, len(table["ids"])),
                "worst": [[table["models"].index(model), indices] for model, indices in worst.items()],
            }
        )
    return {"suites": tables, "cases": cases}


# --- thumbnails -------------------------------------------------------------------------------------------------


class _Thumbnails:
    """Images read through fsspec, ground truth and inference drawn over them in two colours, as WebP data URIs."""

    def __init__(self, libraries: _Libraries) -> None:
        self.libraries = libraries
        self.font = libraries.font.load_default()
        self.images: dict[str, tuple[Any, float, float] | None] = {}
        self.failures: dict[int, int] = {}  # suite (by id) -> its locators that failed to open, when none opened
        self.count = 0

    def draw(self, suite: Row, index: int, model: str) -> str | None:
        samples = suite["samples"]
        locator = (samples["test_samples"][index] or {}).get("locator")
        if self.count >= THUMBNAIL_LIMIT or not isinstance(locator, str):
            return None
        base = self.image(id(suite), locator)
        if base is None:
            return None
        image, sx, sy = base
        image = image.copy()
        canvas = self.libraries.draw.Draw(image)
        truths = samples.get("ground_truths") or []
        inferences = samples.get("inferences", {}).get(model) or []
        self.annotate(canvas, truths[index] if index < len(truths) else None, GROUND_TRUTH_COLOUR, sx, sy, 0)
        self.annotate(
            canvas, inferences[index] if index < len(inferences) else None, INFERENCE_COLOUR, sx, sy, image.size[1]
        )
        out = io.BytesIO()
        image.save(out, "WEBP", quality=65, method=2)
        self.count += 1
        return "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode("ascii")

    def image(self, suite: int, locator: str) -> tuple[Any, float, float] | None:
        """The image at `locator` scaled to THUMBNAIL_SIZE, with its scale factors; None when it cannot be read, and
        for every locator of a suite whose first IMAGE_TRIES locators could not be."""
        if locator in self.images:
            return self.images[locator]
        if self.failures.get(suite, 0) >= IMAGE_TRIES:
            return None
        import fsspec

        found = None
        try:
            with fsspec.open(locator, "rb") as handle:
                image = self.libraries.image.open(handle)
                width, height = image.size
                image.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))  # a JPEG decoded at a reduced scale
                image = image.convert("RGB")
            factor = THUMBNAIL_SIZE / max(image.size)
            size = (max(1, round(image.size[0] * factor)), max(1, round(image.size[1] * factor)))
            image = image.resize(size, self.libraries.image.Resampling.BILINEAR)
            found = (image, size[0] / width, size[1] / height)
            self.failures[suite] = -(10**9)  # one opened: the suite's images are worth trying, every one
        except Exception:  # a locator that is no readable image: a scheme fsspec lacks, a missing file, text
            self.failures[suite] = self.failures.get(suite, 0) + 1
        self.images[locator] = found
        return found

    def annotate(self, canvas: Any, value: Any, colour: str, sx: float, sy: float, bottom: int) -> None:
        """Keypoints (ground truth: rings, inference: dots), polylines, polygons, boxes, and labels in a corner
        (ground truth: top, inference: `bottom`, the image's height)."""
        labels = []
        for annotation in _annotations(value):
            kind = str(annotation.get("data_type", "")).split("/", 1)[-1]
            try:
                if kind in ("KEYPOINTS", "POLYLINE", "POLYGON"):
                    points = [(float(x) * sx, float(y) * sy) for x, y in annotation["points"]]
                    if kind == "POLYGON":
                        canvas.polygon(points, outline=colour, width=2)
                    elif kind == "POLYLINE":
                        canvas.line(points, fill=colour, width=2)
                    for x, y in points if kind == "KEYPOINTS" else []:
                        if bottom:
                            canvas.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
                        else:
                            canvas.ellipse([x - 3, y - 3, x + 3, y + 3], outline=colour, width=2)
                elif kind == "BOUNDING_BOX":
                    (x0, y0), (x1, y1) = annotation["top_left"], annotation["bottom_right"]
                    box = [min(x0, x1) * sx, min(y0, y1) * sy, max(x0, x1) * sx, max(y0, y1) * sy]
                    canvas.rectangle(box, outline=colour, width=2)
                    if "label" in annotation:
                        canvas.text((box[0] + 3, box[1] + 2), str(annotation["label"]), fill=colour, font=self.font)
                if kind in ("LABEL", "POLYGON") and "label" in annotation:
                    score = annotation.get("score")
                    labels.append(str(annotation["label"]) + (f" {score:.2f}" if _finite(score) else ""))
            except (KeyError, TypeError, ValueError):  # an annotation of an unexpected shape: not drawn
                continue
        for i, text in enumerate(labels[:4]):
            y = bottom - 14 - 12 * i if bottom else 2 + 12 * i
            box = canvas.textbbox((3, y), text, font=self.font)
            canvas.rectangle([box[0] - 2, box[1] - 1, box[2] + 2, box[3] + 1], fill="#000000")
            canvas.text((3, y), text, fill=colour, font=self.font)


def _annotations(value: Any, depth: int = 0) -> Iterator[Row]:
    """The annotations inside a ground truth or an inference (fields, lists of them), by their data_type."""
    if isinstance(value, dict) and str(value.get("data_type", "")).startswith("ANNOTATION/"):
        yield value
        return
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for child in children if depth < 3 else []:
        if isinstance(child, (dict, list)):
            yield from _annotations(child, depth + 1)


# --- assembly ---------------------------------------------------------------------------------------------------


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
