"""Many runs or models side by side: per test case, configuration and case metric a value per column (a model of a
run), the best of the row marked, and each column after the first checked against the first.

A check pairs the samples of the test case by sample id and tests the case metric on the sample metric it is the
mean of (its link, declared or confirmed), with no allowance: any worsening beyond noise. The checks of one column
are one family, adjusted together (Benjamini-Hochberg) as a run's regression checks are. A metric that is not a
known mean, or a column without the first's samples, is shown but not checked.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ..checks.regression import Allowance, Comparison, Judging, decide, judge_mean, not_judged

RowKey = tuple[str, str, str, str]  # (test, suite, test case, configuration)


@dataclasses.dataclass(frozen=True)
class Column:
    """One model of one run."""

    document: int  # index of its run among those compared
    model: str
    label: str


def columns_of(documents: list[dict[str, Any]]) -> list[Column]:
    """Every model of every run, in the runs' order; labelled by the model alone for one run, else `model @ run`
    (the run's tag, else its id)."""
    found = [
        (k, model)
        for k, document in enumerate(documents)
        for model in dict.fromkeys(c["model"] for c in document["cases"])
    ]
    several = len(documents) > 1
    return [Column(k, model, f"{model} @ {_run_name(documents[k])}" if several else model) for k, model in found]


def _run_name(document: dict[str, Any]) -> str:
    run = document["run"]
    return str(run.get("tag") or run.get("id"))


def comparison(documents: list[dict[str, Any]], judging: Judging | None = None) -> dict[str, Any]:
    """The side-by-side table of every model of `documents`: `{"runs", "columns", "rows"}`, a row per test case,
    configuration and numeric case metric with each column's value, the best column, and each column's check
    against the first (Comparison.to_dict, None for the first and where a column has no value)."""
    judging = judging or Judging()
    columns = columns_of(documents)
    values = {
        (_key(case), case["model"], k): case.get("metrics") or {}
        for k, document in enumerate(documents)
        for case in document["cases"]
    }
    keys = list(dict.fromkeys(_key(case) for document in documents for case in document["cases"]))
    rows = []
    for key in keys:
        metrics = [values.get((key, c.model, c.document), {}) for c in columns]
        names = dict.fromkeys(n for m in metrics for n, v in m.items() if _number(v))
        for name in names:
            link = _link(documents, columns, key, name)
            row_values = [m.get(name) if _number(m.get(name)) else None for m in metrics]
            rows.append(
                {
                    "test": key[0],
                    "suite": key[1],
                    "test_case": key[2],
                    "configuration": key[3],
                    "metric": name,
                    "better": link.get("better"),
                    "values": row_values,
                    "best": _best(row_values, link.get("better")),
                }
            )
    for c in range(1, len(columns)):
        checks = [_check(documents, columns, c, row, judging) for row in rows]
        decided = iter(decide([check for check in checks if check is not None], judging))
        for row, check in zip(rows, checks):
            row.setdefault("checks", [None] * len(columns))[c] = next(decided).to_dict() if check is not None else None
    for row in rows:
        row.setdefault("checks", [None] * len(columns))
    runs = [{"id": d["run"].get("id"), "tag": d["run"].get("tag"), "time": d["run"].get("time")} for d in documents]
    return {"runs": runs, "columns": [dataclasses.asdict(c) for c in columns], "rows": rows}


def _key(case: dict[str, Any]) -> RowKey:
    return case["test"], case["suite"], case.get("test_case") or "", case.get("configuration") or ""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _link(documents: list[dict[str, Any]], columns: list[Column], key: RowKey, metric: str) -> dict[str, Any]:
    """The metric's link (its sample metric and better direction) from the first column whose model has one."""
    for column in columns:
        for model in documents[column.document]["models"]:
            if (model["test"], model["suite"], model["model"]) == (key[0], key[1], column.model):
                link = ((model.get("links") or {}).get(key[3]) or {}).get(metric)
                if link and link.get("better"):
                    return link
    return {}


def _best(values: list[float | None], better: str | None) -> int | None:
    """The column with the best value (the first of equals); None without a direction or two values."""
    present = [(v, k) for k, v in enumerate(values) if v is not None]
    if better not in ("lower", "higher") or len(present) < 2:
        return None
    return min(present, key=lambda pair: pair[0] if better == "lower" else -pair[0])[1]  # (min: the first of equals)


def _check(
    documents: list[dict[str, Any]], columns: list[Column], c: int, row: dict[str, Any], judging: Judging
) -> Comparison | None:
    """Column `c` against the first on one row: paired on the sample metric behind it; None where either has no
    value (nothing to compare); not judged where the metric is no known mean or the samples are not stored."""
    first, other = columns[0], columns[c]
    base, cand = row["values"][0], row["values"][c]
    if base is None or cand is None or row["better"] not in ("lower", "higher"):
        return None
    metric, lower = row["metric"], row["better"] == "lower"
    allowance = Allowance(metric, 0.0, False)
    link = _link(documents, [first], _row_key(row), metric)
    sample_metric = link.get("sample_metric") if link.get("evidence") in ("declared", "confirmed") else None
    if sample_metric is None:
        return not_judged(metric, allowance, lower, base, cand, "not a known mean of a sample metric")
    paired = _paired(documents[first.document], documents[other.document], first.model, other.model, row, sample_metric)
    if paired is None:
        return not_judged(metric, allowance, lower, base, cand, "the runs do not hold the samples' metrics")
    return judge_mean(metric, allowance, lower, base, cand, *paired, judging)


def _row_key(row: dict[str, Any]) -> RowKey:
    return row["test"], row["suite"], row["test_case"], row["configuration"]


def _paired(
    before: dict[str, Any], after: dict[str, Any], model_before: str, model_after: str, row: dict[str, Any], name: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """The sample metric's values of the test case's samples in both runs, paired by sample id."""
    first = _case_values(before, model_before, row, name)
    second = _case_values(after, model_after, row, name)
    if first is None or second is None:
        return None
    shared = [sample_id for sample_id in first if sample_id in second]
    return np.array([first[i] for i in shared], dtype=float), np.array([second[i] for i in shared], dtype=float)


def _case_values(document: dict[str, Any], model: str, row: dict[str, Any], name: str) -> dict[str, float] | None:
    """Sample id -> the sample metric's value (NaN where missing) of the test case's samples in one run."""
    suite = next((s for s in document["suites"] if (s["test"], s["suite"]) == (row["test"], row["suite"])), None)
    samples = (suite or {}).get("samples")
    if not samples:
        return None
    column = samples.get("metrics", {}).get(model, {}).get(row["configuration"], {}).get(name)
    if column is None:
        return None
    members = suite["test_cases"].get(row["test_case"]) if row["test_case"] else range(len(samples["ids"]))
    if members is None:
        return None
    ids = samples["ids"]
    return {ids[i]: float(column[i]) if isinstance(column[i], (int, float)) else math.nan for i in members}
