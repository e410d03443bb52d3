"""The samples as the page's script reads them: per test function and suite a columnar table (sample ids, scalar
ground truth and inference fields, sample metrics per model and configuration), per test case its members as a bitset
and its worst samples, whose thumbnails go into the suite's table."""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from .run import THUMBNAILS, _kind, _numbers, _Rank, _Run
from .text import Row, _scalar
from .thumbnails import _Thumbnails


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
    """One suite's samples as the page's JS reads them (see assets/report.js)."""
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
