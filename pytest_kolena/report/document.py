"""The report document: one stored run as plain, JSON-ready data, the single source of every report format.

Its shape is `schema.json` beside this module (versioned by `VERSION`). Samples are columnar, per test function and
suite: one list of sample ids, the test samples and ground truths in that order, each test case's samples as
indices into it, and per model its inferences and, per configuration, a list per sample metric. `slices`: what slice
discovery found (`slices.discovered`), None when the run did not search (no --kolena-discover).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .. import words
from ..words import ABSENT

VERSION = 1
VERDICT_ORDER = words.ORDER
FAILED = words.FAILING
SAMPLE_LEVELS = ("test_sample", "inference", "sample")


def _order(item: dict[str, Any]) -> tuple:
    """Failures first (errors, breached thresholds, regressions); then as the items ran."""
    return item["verdict"] not in FAILED, item["test"], item["order"]


def run_document(info: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The report document of a stored run: `info` its RunInfo-like metadata, `rows` its rows (RunStore.rows)."""
    from .slices import discovered  # (here: it imports the discovery checks, and NumPy)

    items, cases, suite_metrics, models = [], [], [], []
    links: dict[tuple[str, str, str], Any] = {}
    suites: dict[tuple[str, str], dict[str, Any]] = {}
    sample_rows: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)

    def suite_of(row: dict[str, Any]) -> dict[str, Any]:
        key = (row["test"], row["suite"])
        if key not in suites:
            suites[key] = {"test": key[0], "suite": key[1], "types": {}, "test_cases": {}, "samples": None}
        return suites[key]

    for row in rows:
        level = row["level"]
        if level in SAMPLE_LEVELS:
            sample_rows[(row["test"], row["suite"])].append(row)
        elif level == "item":
            items.append(row["values"])
        elif level == "case":
            extra = row["extra"] or {}
            cases.append(_place(row) | {"metrics": row["values"], "plots": extra.get("plots", [])})
        elif level == "suite":
            suite_metrics.append(_place(row) | {"metrics": row["values"]})
        elif level == "model":
            models.append(
                {"test": row["test"], "suite": row["suite"], "model": row["model"]} | {"metadata": row["values"] or {}}
            )
        elif level == "links":  # (read back onto the model's entry below)
            links[(row["test"], row["suite"], row["model"])] = row["values"]
        elif level == "types":
            suite_of(row)["types"] = row["values"]
        elif level == "membership":
            suite_of(row)["test_cases"][row["test_case"]] = row["values"]
    for model in models:
        model["links"] = links.get((model["test"], model["suite"], model["model"]), {})
    for key, found in sample_rows.items():
        suite_of({"test": key[0], "suite": key[1]})["samples"] = _samples(found, suite_of(found[0])["test_cases"])
    for suite in suites.values():  # membership by index into the suite's sample list
        ids = {sample_id: i for i, sample_id in enumerate((suite["samples"] or {}).get("ids", []))}
        suite["test_cases"] = {
            name: [ids[s] for s in members if s in ids] for name, members in suite["test_cases"].items()
        }
    items.sort(key=_order)
    return {
        "format": "pytest-kolena-report",
        "version": VERSION,
        "run": {
            "id": info.run_id,
            "time": info.time,
            "tag": info.tag,
            "git_commit": info.git_commit,
        },
        "totals": _totals(items),
        "items": items,
        "models": models,
        "cases": cases,
        "suite_metrics": suite_metrics,
        "suites": list(suites.values()),
        "slices": discovered(rows),
    }


def _place(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "test": row["test"],
        "suite": row["suite"],
        "model": row["model"],
        "configuration": row["configuration"] or "",
        "test_case": row["test_case"] or "",
    }


def _totals(items: list[dict[str, Any]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item in items:
        totals[item["verdict"]] = totals.get(item["verdict"], 0) + 1
    return dict(
        sorted(totals.items(), key=lambda pair: VERDICT_ORDER.index(pair[0]) if pair[0] in VERDICT_ORDER else 0)
    )


def _samples(rows: list[dict[str, Any]], membership: dict[str, list[str]]) -> dict[str, Any]:
    """The samples of one test function on one suite, columnar (see the module's docstring)."""
    described = {r["sample_id"]: r["values"] for r in rows if r["level"] == "test_sample"}
    ids = (
        list(described)
        or list(dict.fromkeys(s for members in membership.values() for s in members))
        or list(dict.fromkeys(r["sample_id"] for r in rows))  # a run stored before membership rows
    )
    position = {sample_id: i for i, sample_id in enumerate(ids)}
    inferences: dict[str, list[Any]] = {}
    metrics: dict[str, dict[str, dict[str, list[Any]]]] = {}
    for row in rows:
        i = position.get(row["sample_id"])
        if i is None or row["level"] == "test_sample":
            continue
        values = row["values"]
        if row["level"] == "inference":
            if row["model"] not in inferences:
                inferences[row["model"]] = [None] * len(ids)
            inferences[row["model"]][i] = values
            continue
        columns = metrics.setdefault(row["model"], {}).setdefault(row["configuration"] or "", {})
        for name, value in (values or {}).items():
            if name not in columns:
                columns[name] = [None] * len(ids)
            columns[name][i] = value
    return {
        "ids": ids,
        "test_samples": [described.get(s, {}).get("test_sample") for s in ids],
        "ground_truths": [described.get(s, {}).get("ground_truth") for s in ids],
        "inferences": inferences,
        "metrics": metrics,
    }


def item_key(item: dict[str, Any]) -> tuple[str, ...]:
    return item["test"], item["suite"], item["model"], item["test_case"], item["configuration"]


def side_by_side(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The document of `after`, each item with `other`: the same item's verdict and metrics in `before`; an item of
    `before` only is listed too, with the verdict `absent` (a test, model or test case the second run lost). Its
    slices are `after`'s."""
    earlier = {item_key(item): item for item in before["items"]}
    later = {item_key(item) for item in after["items"]}
    items = [
        item | ({"other": _other(earlier[item_key(item)])} if item_key(item) in earlier else {})
        for item in after["items"]
    ]
    items += [_absent(item) for key, item in earlier.items() if key not in later]
    items.sort(key=_order)
    return after | {"compared_with": before["run"], "items": items, "totals": _totals(items)}


def _other(item: dict[str, Any]) -> dict[str, Any]:
    return {"verdict": item["verdict"], "metrics": item["metrics"]}


def _absent(item: dict[str, Any]) -> dict[str, Any]:
    """An item of the first run missing from the second: its place, and its figures as `other`."""
    place = {name: item[name] for name in ("test", "suite", "model", "test_case", "configuration", "order")}
    empty = {"metrics": {}, "rules": {}, "checks": [], "message": ""}
    return place | empty | {"verdict": ABSENT, "note": "not in this run", "other": _other(item)}
