"""The run as Markdown, for a CI job's summary (`$GITHUB_STEP_SUMMARY`) or a pull request comment: the totals, the
failures with their text, then per test function and suite a table of model x test case x configuration with the
metrics, the regression checks (baseline, candidate, delta with its interval, raw and adjusted decision) and the
verdict, failures first; last, the slices discovery found (--kolena-discover), ranked, each with its stratify line."""

from __future__ import annotations

from typing import Any

from .. import numbers
from ..checks.discovery import REGRESSED
from .document import ABSENT, FAILED, by_place
from .slices import describe, detectable_words, screened_words
from .text import column_rule, rule_beside

SLICES_HEADING = "## Discovered slices"
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
        return numbers.general(value)
    return escape(value)


def signed(value: Any) -> str:
    return "" if value is None else numbers.signed(value)


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


def cell_code(text: Any) -> str:
    """A user string as inline code in a table cell: a pipe escaped (GitHub splits cells before code spans)."""
    return code(text).replace("|", "\\|")


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
    rules = {m: column_rule([item.get("rules", {}) for item in items], m) for m in metrics}
    named = [f"{m} {rules[m]}" if rules[m] else m for m in metrics]
    headers = ["model", "test case", "configuration", *named, *(f"{m}: baseline → candidate, delta" for m in checked)]
    headers += [*([f"verdict in {before}"] if before else []), "verdict", "note"]
    lines = ["| " + " | ".join(escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    for item in items:
        checks = {c["metric"]: c for c in item.get("checks", [])}
        cells = [escape(item["model"]), escape(item["test_case"] or "(suite)"), escape(item["configuration"])]
        cells += [_metric_cell(item, m) + escape(rule_beside(item.get("rules", {}), m, rules[m])) for m in metrics]
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
    for (test, suite), items in by_place(document["items"]).items():
        lines += [f"## {code(test)} on {escape(suite)}", "", *_table(items, before and before["id"]), ""]
    if any(item.get("checks") for item in document["items"]):
        lines += [
            "delta: candidate - baseline, with its interval; p: one-sided p-value of a worsening beyond the allowance, "
            "adjusted over the run's checks (adj); a check regresses when the adjusted p-value is at most "
            "(1 - confidence) / 2. Underpowered: a worsening the size of the allowance would likely be missed.",
            "",
        ]
    return "\n".join(lines + comparison_section(document) + slices_section(document))


def comparison_section(document: dict[str, Any]) -> list[str]:
    """Many runs or models side by side (`comparison.comparison`): a table per test function and suite, a row per
    test case, configuration and metric; the best value in bold; each column against the first."""
    found = document.get("comparison")
    if not found:
        return []
    columns = [c["label"] for c in found["columns"]]
    lines = [
        f"## Side by side: {len(columns)} models of {len(found['runs'])} run(s)",
        "",
        f"Best of each row in bold. Each column is checked against the first ({escape(columns[0])}) on the samples "
        "both hold (a paired test of the sample metric a case metric is the mean of, no allowance; adjusted over "
        "each column's checks; not judged: a metric that is no known mean, or samples not stored).",
        "",
    ]
    for (test, suite), rows in by_place(found["rows"]).items():
        headers = ["test case", "configuration", "metric", *columns]
        lines += [f"### {code(test)} on {escape(suite)}", ""]
        lines += ["| " + " | ".join(escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
        for row in rows:
            better = f" ({row['better']} is better)" if row.get("better") else ""
            cells = [
                escape(row["test_case"] or "(suite)"),
                escape(row["configuration"]),
                escape(row["metric"]) + better,
            ]
            for k, value in enumerate(row["values"]):
                text = number(value)
                text = f"**{text}**" if row.get("best") == k else text
                check = row["checks"][k]
                if check is not None and check.get("p_adjusted") is None:
                    text += " (not judged)"
                elif check is not None:
                    text += f" ({_verdict(check['verdict'])}, p adj {_p(check.get('p_adjusted'))})"
                cells.append(text)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _compared(slice_: dict[str, Any]) -> str:
    """What a found slice is worse than: the baseline, or the rest of the suite (of a slice) with both means."""
    if slice_["kind"] == REGRESSED:
        return "the baseline, on the same samples"
    rest = f"the rest of {escape(slice_['versus'])}" if slice_.get("versus") else "the rest of the suite"
    return f"{number(slice_.get('slice_mean'))} vs {number(slice_.get('other_mean'))} in {rest}"


def _p(value: Any) -> str:
    return "" if value is None else numbers.p_value(value)


def _worse_by(slice_: dict[str, Any]) -> str:
    interval = f" [{signed(slice_['low'])}, {signed(slice_['high'])}]" if slice_.get("low") is not None else ""
    return signed(slice_.get("effect")) + interval


def slices_section(document: dict[str, Any]) -> list[str]:
    """The section of the slices discovery found (none when the run did not search): how many candidates were tried
    and confirmed, the false discovery rate, then the found slices ranked, each with the line that makes it a test
    case."""
    result = document.get("slices")
    if result is None:
        return []
    lines = [SLICES_HEADING, ""]
    if document.get("compared_with"):
        lines += [f"Found in run {code(document['run']['id'])}, the second run.", ""]
    found = result["found"]
    counted = (
        f"{screened_words(result)[len('found ') :]}; false discovery rate {result['alpha']:g} (Benjamini-Hochberg, "
        "over all the run's searches)"
    )
    near = [
        f"- {escape(s['model'])}, {escape(describe(s))} (p={_p(s['p_value'])})" for s in result.get("near_misses", [])
    ]
    if near:
        near = [
            "Near misses: p at most the false discovery rate on the held-out half, not after the correction:",
            "",
            *near,
            "",
        ]
    if result.get("detectable"):
        counted += "; " + detectable_words(result["detectable"])
    if not found:
        return [*lines, f"none found {counted}.", "", *near]
    lines += [f"{len(found)} slice{'s' if len(found) > 1 else ''} found {counted}.", ""]
    several = len({(s["test"], s["suite"]) for s in found}) > 1
    headers = ["rank", "kind", *(["test", "suite"] if several else []), "model", "configuration", "metric", "slice"]
    headers += ["n", "worse by [interval]", "compared with", "adjusted p", "add to kolena_stratify"]
    lines += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for slice_ in found:
        cells = [str(slice_["rank"]), _verdict(slice_["kind"])]
        cells += [cell_code(slice_["test"]), escape(slice_["suite"])] if several else []
        cells += [escape(slice_["model"]), escape(slice_["configuration"]), escape(slice_["metric"])]
        cells += [escape(slice_["label"]), number(slice_["size"]), _worse_by(slice_), _compared(slice_)]
        cells += [_p(slice_.get("p_adjusted")), cell_code(slice_["stratify"])]
        lines.append("| " + " | ".join(cells) + " |")
    return [
        *lines,
        "",
        "worse by: how much worse the slice's mean sample metric is (in the metric's units, whichever its direction), "
        "with its interval, on the held-out half; adjusted p: Benjamini-Hochberg over every candidate of the run. "
        "Add the line to kolena_stratify to make the slice a test case of its own.",
        "",
        *near,
    ]
