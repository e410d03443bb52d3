"""The samples as the page's script reads them: per test function and suite a columnar table (sample ids, scalar
ground truth and inference fields, sample metrics per model and configuration), per test case its members as a bitset
and its worst samples, whose thumbnails go into the suite's table."""

from __future__ import annotations

import base64
import functools
from typing import Any

import numpy as np

from ...words import REGRESSED
from .columns import derived_change, table_column
from .run import THUMBNAILS, _numbers, _Rank, _Run
from .text import Row, _scalar
from .thumbnails import _Thumbnails

TABLE_LIMIT = 100_000  # samples of a suite the page's table holds at most; beyond, the worst of each test case
KEPT_PER_CASE = 500  # then, the worst samples per model of each test case the table holds


def _fields(values: list[Any]) -> dict[str, list[Any]]:
    """The scalar fields of ground truths or inferences, and the label and score of their top-level labels, as
    columns; constant columns left out (they tell no sample apart)."""
    typed = getattr(values, "scalar_fields", None)  # (values kept as their typed column: read field by field)
    fields = typed() if typed is not None else None
    if fields is not None:
        return {name: column for name, column in fields.items() if len(set(map(repr, column))) > 1}
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


def _suite_table(suite: Row, rank: _Rank, kept: np.ndarray | None = None) -> Row:
    """One suite's samples as the page's JS reads them (see assets/report.js); `kept`: the samples the table holds
    when not all (indices into the suite's samples, in order)."""
    samples = suite["samples"]
    n = len(samples["ids"])
    metrics = samples.get("metrics", {})
    models = list(dict.fromkeys([*samples.get("inferences", {}), *metrics]))
    configurations = list(dict.fromkeys(c for by in metrics.values() for c in by))
    truths = samples.get("ground_truths") or [None] * n
    candidates = [(name, values, "ground truth", None, None) for name, values in _fields(truths).items()]
    baseline = samples.get("baseline", {})
    for m, model in enumerate(models):
        inferences = samples.get("inferences", {}).get(model) or [None] * n
        candidates += [(name, values, model, m, None) for name, values in _fields(inferences).items()]
        for c, configuration in enumerate(configurations):
            by_name = metrics.get(model, {}).get(configuration, {})
            candidates += [(name, values, model, m, c) for name, values in by_name.items()]
            for name, before in baseline.get(model, {}).get(configuration, {}).items():
                if name in by_name and not _same(before, by_name[name]):  # (a run equal to its baseline: nothing)
                    candidates += [(f"baseline {name}", before, model, m, c)]
    candidates += [(name, values, "metadata", None, None) for name, values in _fields(_metadata(samples, n)).items()]
    if kept is not None:
        chosen = kept.tolist()
        candidates = [(name, [values[i] for i in chosen], *rest) for name, values, *rest in candidates]
    columns = derived_change([c for c in (table_column(*candidate) for candidate in candidates) if c is not None])
    sort = [
        next((i for i, col in enumerate(columns) if col["configuration"] == c and col["name"] == rank.metric), None)
        for c in range(len(configurations))
    ]
    ids = samples["ids"] if kept is None else [samples["ids"][i] for i in kept.tolist()]
    prefix = _common_prefix(ids)  # (sent once: "images/s0" of 100,000 ids)
    return {
        "group": (suite["test"], suite["suite"]),
        "id_prefix": prefix,
        "ids": [i[len(prefix) :] for i in ids],
        "models": models,
        "configurations": configurations,
        "columns": columns,
        "sort": sort,
        "descending": rank.worse_high,
        "thumbnails": {},
        "note": "" if kept is None else _kept_note(len(kept), n, rank),
    }


def _metadata(samples: Row, n: int) -> Any:
    """Each sample's metadata: stored apart (the suite's columns that feed no field), else its test sample's
    `metadata` field."""
    if samples.get("metadata") is not None:
        return samples["metadata"]
    test_samples = samples.get("test_samples") or [None] * n
    first = next((v for v in test_samples[:100] if isinstance(v, dict)), None)
    if first is None or not isinstance(first.get("metadata"), dict):
        return [None] * n
    return [(v or {}).get("metadata") for v in test_samples]


def _common_prefix(ids: list[str]) -> str:
    """The text every id starts with ("" for fewer than two): that of the first and the last in sorted order."""
    if len(ids) < 2:
        return ""
    first, last = min(ids), max(ids)
    size = next((k for k, (a, b) in enumerate(zip(first, last)) if a != b), min(len(first), len(last)))
    return first[:size]


def _same(before: list[Any], after: list[Any]) -> bool:
    """Whether the baseline's values of a sample metric are the candidate's, sample for sample."""
    return len(before) == len(after) and all(b == a or (b != b and a != a) for b, a in zip(before, after))


def _kept_note(kept: int, n: int, rank: _Rank) -> str:
    by = f"by {rank.metric}" if rank.metric else "the first"
    return (
        f"This suite has {n:,} samples: the table holds {kept:,}, the {KEPT_PER_CASE:,} worst of each test case per "
        f"model ({by}). Every sample is in the run store (read it with pandas or DuckDB)."
    )


def _worst(
    scores: dict[str, np.ndarray], members: list[int] | None, worse_high: bool, count: int = THUMBNAILS
) -> dict[str, list[int]]:
    """Model -> its `count` worst samples of a test case (missing values never), worst first."""
    found = {}
    for model, values in scores.items():
        indices = np.arange(len(values)) if members is None else np.asarray(members, dtype=int)
        chosen = values[indices]
        keep = ~np.isnan(chosen)
        indices, chosen = indices[keep], chosen[keep]
        order = np.lexsort((indices, -chosen if worse_high else chosen))[:count]
        found[model] = indices[order].tolist()
    return found


def _kept(
    run: _Run, group: tuple[str, str], n: int, scores: dict[str, np.ndarray], worse: dict[int, dict[str, list[int]]]
) -> np.ndarray | None:
    """The samples a suite's table holds: all up to TABLE_LIMIT; beyond, the KEPT_PER_CASE worst of each test case
    per model (the first of each where no metric ranks them) and those that got worse the most (`worse`, by the
    case's index in the run: `_got_worse`), in the suite's order."""
    if n <= TABLE_LIMIT:
        return None
    chosen: set[int] = set()
    for k, case in enumerate(run.cases):
        if case.group != group:
            continue
        members = run.members(case)
        chosen.update(i for indices in worse[k].values() for i in indices)
        if scores:
            worst = _worst(scores, members, run.ranks[group].worse_high, KEPT_PER_CASE)
            chosen.update(i for indices in worst.values() for i in indices)
        else:
            chosen.update(range(min(n, KEPT_PER_CASE)) if members is None else members[:KEPT_PER_CASE])
    return np.array(sorted(chosen), dtype=np.int64)


def _got_worse(run: _Run, case: Any, suite: Row, members: list[int] | None) -> dict[str, list[int]]:
    """Model -> the `THUMBNAILS` samples of a test case it regressed on that got worse the most against its
    baseline, by the suite's ranking metric (the first configuration), worst first; only models with the
    baseline's values of that metric."""
    rank = run.ranks[case.group]
    samples = suite["samples"]
    regressed = [i["model"] for i in run.case_items[case] if i["verdict"] == REGRESSED]
    found = {}
    for model in dict.fromkeys(regressed):
        by_configuration = samples.get("metrics", {}).get(model, {})
        configuration = next(iter(by_configuration), "")
        after = by_configuration.get(configuration, {}).get(rank.metric or "")
        before = samples.get("baseline", {}).get(model, {}).get(configuration, {}).get(rank.metric or "")
        if before is None or after is None:
            continue
        change = _numbers(after) - _numbers(before)
        worsening = change if rank.worse_high else -change
        indices = np.arange(len(worsening)) if members is None else np.asarray(members, dtype=int)
        chosen = worsening[indices]
        keep = chosen > 0  # (NaN never)
        order = np.lexsort((indices[keep], -chosen[keep]))[:THUMBNAILS]
        found[model] = indices[keep][order].tolist()
    return found


def _table_row(kept: np.ndarray | None, index: int) -> int:
    """The row of the suite's table holding sample `index` (one of the samples it keeps)."""
    return index if kept is None else int(np.searchsorted(kept, index))


def _page_data(run: _Run, thumbnails: _Thumbnails) -> Row:
    """The JSON the page's JS reads: per suite its table, per test case its members and worst samples (with their
    thumbnails in the suite's table)."""
    tables, position, scores, kept = [], {}, {}, {}
    worse_of = {  # each test case's samples that got worse the most, once (the table's choice and the gallery)
        k: _got_worse(run, case, run.suites[case.group], run.members(case))
        for k, case in enumerate(run.cases)
        if (run.suites.get(case.group) or {}).get("samples") is not None
    }
    for group, suite in run.suites.items():
        if suite.get("samples") is None:
            continue
        rank = run.ranks[group]
        by_model = suite["samples"].get("metrics", {})
        first = {model: next(iter(by.values()), {}).get(rank.metric or "") for model, by in by_model.items()}
        scores[group] = {model: _numbers(values) for model, values in first.items() if values}
        kept[group] = _kept(run, group, len(suite["samples"]["ids"]), scores[group], worse_of)
        position[group] = len(tables)
        tables.append(_suite_table(suite, rank, kept[group]))
    cases: list[Row | None] = []
    for k, case in enumerate(run.cases):
        if case.group not in position:
            cases.append(None)
            continue
        table, suite, rows = tables[position[case.group]], run.suites[case.group], kept[case.group]
        members = run.members(case)
        worst = _worst(scores[case.group], members, run.ranks[case.group].worse_high)
        worse = worse_of[k]
        row_of = functools.partial(_table_row, rows)
        for model, indices in [*worst.items(), *worse.items()]:
            m = table["models"].index(model)
            for i in indices:
                key = f"{row_of(i)}:{m}"
                if key not in table["thumbnails"] and (uri := thumbnails.draw(suite, i, model)):
                    table["thumbnails"][key] = uri
        for model, indices in worse.items():
            m = table["models"].index(model)
            for i in indices:
                if uri := thumbnails.draw(suite, i, model, baseline=True):
                    table["thumbnails"][f"{row_of(i)}:{m}:baseline"] = uri
        if rows is not None:
            members = np.flatnonzero(np.isin(rows, members)).tolist() if members is not None else None
        cases.append(
            {
                "suite": position[case.group],
                "members": _bitset(members, len(table["ids"])),
                "worsened": [[table["models"].index(m), [row_of(i) for i in idx]] for m, idx in worse.items()],
                "worst": [
                    [table["models"].index(model), [row_of(i) for i in indices]] for model, indices in worst.items()
                ],
            }
        )
    return {"suites": tables, "cases": cases}
