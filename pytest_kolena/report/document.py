"""The report document: one stored run as plain, JSON-ready data, the single source of every report format.

Its shape is `schema.json` beside this module (versioned by `VERSION`). Samples are columnar, per test function and
suite: one list of sample ids, the test samples and ground truths in that order, each test case's samples as
indices into it, and per model its inferences and, per configuration, a list per sample metric. `slices`: what slice
discovery found (`slices.discovered`), None when the run did not search (no --kolena-discover). A stored run's test
samples, ground truths and inferences stay their typed columns (`sample_values.SampleValues`: a sequence decoded as
it is read), so that a report of a million samples decodes only what it shows; the JSON writer decodes them all.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .. import words
from ..words import ABSENT

VERSION = 1
VERDICT_ORDER = words.ORDER
FAILED = words.FAILING
SAMPLE_LEVELS = ("test_sample", "inference", "sample", "baseline", "baseline_inference")


def _order(item: dict[str, Any]) -> tuple:
    """Failures first (errors, breached thresholds, regressions); then as the items ran."""
    return item["verdict"] not in FAILED, item["test"], item["order"]


def stored_document(store: Any, info: Any) -> dict[str, Any]:
    """The report document of a run in a store (RunStore): its per-sample values read as typed columns."""
    rows, blocks = store.read(info.run_id)
    return run_document(info, rows, blocks)


def run_document(info: Any, rows: list[dict[str, Any]], blocks: list[Any] = ()) -> dict[str, Any]:
    """The report document of a stored run: `info` its RunInfo-like metadata, `rows` its rows (RunStore.rows), or its
    rows but those of samples and those as typed blocks (RunStore.read)."""
    from .slices import discovered  # (here: it imports the discovery checks, and NumPy)

    items, cases, suite_metrics, models = [], [], [], []
    links: dict[tuple[str, str, str], Any] = {}
    suites: dict[tuple[str, str], dict[str, Any]] = {}
    sample_rows: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    sample_parts: dict[tuple[str, str], list[SamplePart]] = defaultdict(list)
    for block in blocks:
        sample_parts[(block.place["test"], block.place["suite"])].append(_part(block))

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
        sample_parts[key] += parts_of_rows(found)
    for key, parts in sample_parts.items():
        suite = suite_of({"test": key[0], "suite": key[1]})
        suite["samples"] = _samples(parts, suite["test_cases"])
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


@dataclasses.dataclass
class SamplePart:
    """The values of one level of many samples, of one model and configuration: a dict per sample (`values`), or,
    read from typed columns, a list per field (`columns`)."""

    level: str
    model: str
    configuration: str
    ids: list[str]
    values: list[Any] | None = None
    columns: dict[str, list[Any]] | None = None
    typed: tuple[Any, Any] | None = None  # (column, field) of test samples or inferences, decoded when read

    def decoded(self) -> list[Any]:
        """A value per sample."""
        if self.values is None and self.typed is not None:
            from ..store.columns import decode

            self.values = decode(*self.typed)
        return self.values or []

    def by_field(self) -> dict[str, list[Any]]:
        """A list per field, None where a sample has no value of it."""
        if self.columns is not None:
            return self.columns
        values = self.decoded()
        names = dict.fromkeys(name for value in values for name in (value or {}))
        return {name: [(value or {}).get(name) for value in values] for name in names}


def _part(block: Any) -> SamplePart:
    """A typed block of the store (RunStore.read) as a part: sample metrics a list per field, read column by column."""
    import pyarrow as pa

    from ..store.columns import decode

    place, field = block.place, block.field
    part = SamplePart(place["level"], place["model"], place["configuration"] or "", block.ids)
    if place["level"] in ("sample", "baseline") and pa.types.is_struct(field.type):
        children = block.column.flatten()  # (the struct's validity applied: a sample without metrics is None)
        part.columns = {field.type.field(i).name: decode(c, field.type.field(i)) for i, c in enumerate(children)}
    else:
        part.typed = (block.column, field)
    return part


def parts_of_rows(rows: list[dict[str, Any]]) -> list[SamplePart]:
    """Sample rows (a run stored before typed columns, or read row by row) as parts."""
    parts: dict[tuple[str, str, str], SamplePart] = {}
    for row in rows:
        key = (row["level"], row["model"], row["configuration"] or "")
        part = parts.setdefault(key, SamplePart(*key, [], []))
        part.ids.append(row["sample_id"])
        part.values.append(row["values"])  # type: ignore[union-attr]
    return list(parts.values())


def _samples(parts: list[SamplePart], membership: dict[str, list[str]]) -> dict[str, Any]:
    """The samples of one test function on one suite, columnar (see the module's docstring). Test samples, ground
    truths and inferences read as typed columns stay so (`SampleValues`), decoded when read."""
    described_parts = [p for p in parts if p.level == "test_sample"]
    ids = (
        list(dict.fromkeys(i for p in described_parts for i in p.ids))
        or list(dict.fromkeys(s for members in membership.values() for s in members))
        or list(dict.fromkeys(i for p in parts for i in p.ids))  # a run stored before membership rows
    )
    test_samples, ground_truths, metadata = _described(described_parts, ids)
    position = {sample_id: i for i, sample_id in enumerate(ids)}
    inferences: dict[str, Any] = {}
    metrics: dict[str, dict[str, dict[str, list[Any]]]] = {}
    baseline: dict[str, dict[str, dict[str, list[Any]]]] = {}  # the baseline's sample metrics, where judged
    for model in dict.fromkeys(p.model for p in parts if p.level == "inference"):
        inferences[model] = _in_order([p for p in parts if p.level == "inference" and p.model == model], ids, position)
    drawn: dict[str, Any] = {}  # the baseline's inferences of the samples that got worse the most
    for model in dict.fromkeys(p.model for p in parts if p.level == "baseline_inference"):
        kept = [p for p in parts if p.level == "baseline_inference" and p.model == model]
        drawn[model] = _in_order(kept, ids, position)
    for part in parts:
        if part.level not in ("sample", "baseline"):
            continue
        places = _places(part, position)
        by_model = metrics if part.level == "sample" else baseline
        columns = by_model.setdefault(part.model, {}).setdefault(part.configuration, {})
        for name, values in part.by_field().items():
            target = columns.setdefault(name, [None] * len(ids))
            for at, k in places:
                if values[k] is not None or target[at] is None:
                    target[at] = values[k]
    return {
        "ids": ids,
        "test_samples": test_samples,
        "ground_truths": ground_truths,
        "inferences": inferences,
        "metrics": metrics,
        **({"metadata": metadata} if metadata is not None else {}),
        **({"baseline": baseline} if baseline else {}),
        **({"baseline_inferences": drawn} if drawn else {}),
    }


def _places(part: SamplePart, position: dict[str, int]) -> list[tuple[int, int]]:
    """(index into the suite's samples, index into the part) of the part's samples of the suite."""
    places = [(position.get(i), k) for k, i in enumerate(part.ids)]
    return [(at, k) for at, k in places if at is not None]


def _in_order(parts: list[SamplePart], ids: list[str], position: dict[str, int]) -> Sequence[Any]:
    """One model's inferences in the suite's order (None for a sample without one): typed parts as one column
    decoded when read, else a list (a later part's value of a sample wins)."""
    from .sample_values import in_suite_order

    if all(p.typed is not None for p in parts):
        found = in_suite_order([(p.ids, *p.typed) for p in parts], ids)  # type: ignore[misc]
        if found is not None:
            return found
    target: list[Any] = [None] * len(ids)
    for part in parts:
        values = part.decoded()
        for at, k in _places(part, position):
            target[at] = values[k]
    return target


def _described(parts: list[SamplePart], ids: list[str]) -> tuple[Sequence[Any], Sequence[Any], Sequence[Any] | None]:
    """The test samples, the ground truths and the metadata (None where not stored apart) of the suite's samples,
    in its order (None where not stored)."""
    from .sample_values import SampleValues, in_suite_order

    if parts and all(p.typed is not None for p in parts):
        both = in_suite_order([(p.ids, *p.typed) for p in parts], ids)  # type: ignore[misc]
        if both is not None and _has_children(both.field.type, ("test_sample", "ground_truth")):
            children, kind = both.column.flatten(), both.field.type

            def child(name: str) -> SampleValues:
                return SampleValues(children[kind.get_field_index(name)], kind.field(name), both.rows)

            metadata = child("metadata") if _has_children(kind, ("metadata",)) else None
            return child("test_sample"), child("ground_truth"), metadata
    described = {i: v for p in parts for i, v in zip(p.ids, p.decoded())}
    kept = any("metadata" in (v or {}) for v in described.values())
    return (
        [(described.get(s) or {}).get("test_sample") for s in ids],
        [(described.get(s) or {}).get("ground_truth") for s in ids],
        [(described.get(s) or {}).get("metadata") for s in ids] if kept else None,
    )


def _has_children(kind: Any, names: tuple[str, ...]) -> bool:
    import pyarrow as pa

    return pa.types.is_struct(kind) and all(kind.get_field_index(name) >= 0 for name in names)


def by_place(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Rows (items, comparison rows) by test function and suite, in order."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["test"], row["suite"])].append(row)
    return groups


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
