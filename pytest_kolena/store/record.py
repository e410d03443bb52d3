"""A writer's part of a run for the store: the results of each test function's model runs, and the item rows."""

from __future__ import annotations

import dataclasses
import datetime
import platform
from collections.abc import Iterable
from typing import Any

from .baseline import git_commit
from .runs import SUITE_ROWS, RunRecord


def new_record(run_id: str, writer: str, tag: str | None, rootdir: str, encode: Any = None) -> RunRecord:
    """An empty record with the run's time, git commit and versions; `encode`: JSON's `default` for the values it
    does not know (the workflow's data objects)."""
    import pytest

    from .. import __version__

    versions = {"pytest-kolena": __version__, "pytest": pytest.__version__, "python": platform.python_version()}
    return RunRecord(
        run_id=run_id,
        writer=writer,
        time=datetime.datetime.now(datetime.UTC).isoformat(),
        tag=tag,
        git_commit=git_commit(cwd=rootdir),
        versions=versions,
        encode=encode,
    )


def add_results(record: RunRecord, test: str, run: Any) -> None:
    """A model's run (RunResults) under its test function: model metadata, inferences, sample, case and suite
    metrics."""
    suite, model = run.test_suite.name, run.model.name
    record.add("model", test, suite, model, run.model.metadata)
    # each sample's inference once: a baseline recomputes its metrics from them
    if run.held_inferences is not None:  # (kept as columns by the run: stored as they are, in one file)
        held, ids = run.held_inferences
        place = ("inference", test, suite, model, None)
        for positions, values in _joined(list(held.blocks())):
            record.add_block(place, [ids[p] for p in positions], values)
    else:
        inferences: dict[str, Any] = {}
        for case in run.cases:
            for sample in case.samples:
                if sample.inference is not None and sample.sample_id not in inferences:
                    inferences[sample.sample_id] = sample.inference
        record.add_samples("inference", test, suite, model, None, inferences)
    sample_metrics: dict[str, dict[str, Any]] = {}  # per configuration, each sample's metrics once
    case_metrics: dict[str, tuple[dict[str, Any], list[Any]]] = {}  # per configuration, by test case; their plots
    for case in run.cases:
        config = case.configuration_name or ""
        metrics, plots = case_metrics.setdefault(config, ({}, []))
        metrics[case.name] = case.metrics
        plots.append({"plots": [p.to_dict() for p in case.plots]})
        known = sample_metrics.setdefault(config, {})
        for sample in case.samples:
            if sample.metrics is not None and sample.sample_id not in known:
                known[sample.sample_id] = sample.metrics
    for config, (metrics, plots) in case_metrics.items():
        record.add_cases(test, suite, model, config, metrics, plots)
    for config, metrics in sample_metrics.items():
        record.add_samples("sample", test, suite, model, config, metrics)
    for config, metrics in run.suite_metrics.items():
        record.add("suite", test, suite, model, _as_dict(metrics), config or "")


def _joined(blocks: list[tuple[list[int], Any]]) -> list[tuple[list[int], Any]]:
    """Encoded blocks of one column type and field metadata joined into one (one file, not one per 8,192
    inferences); blocks kept as objects as they are."""
    import pyarrow as pa

    encoded = [(positions, values) for positions, values in blocks if isinstance(values, tuple)]
    kinds = {(values[0].type, repr(values[1])) for _, values in encoded}
    if len(encoded) < 2 or len(kinds) != 1:
        return blocks
    column = pa.concat_arrays([values[0] for _, values in encoded])
    joined = ([p for positions, _ in encoded for p in positions], (column, encoded[0][1][1]))
    return [joined, *[(positions, values) for positions, values in blocks if not isinstance(values, tuple)]]


def add_suite(record: RunRecord, test: str, run: Any, members: Any, samples: Any = None) -> None:
    """What a report needs of the suite a test function ran on, once (under model ""): the samples of each test
    case (those whose inference failed included: they are the suite's, whichever model ran), the workflow's data
    types (`module:qualname`), and, given `samples`, each sample's test sample and ground truth (written by runs
    that write reports). `members`: each test case's name and its samples' ids, as the engine identified them;
    `samples`: chunks of (ids, test samples, ground truths) and, where the suite keeps them apart, each sample's
    metadata (a dict), each chunk encoded as it comes (a block of its own)."""
    suite = run.test_suite.name
    for name, ids in members:
        record.add("membership", test, suite, SUITE_ROWS, ids, test_case=name)
    for ids, test_samples, ground_truths, *metadata in samples or ():
        values = {i: {"test_sample": ts, "ground_truth": gt} for i, ts, gt in zip(ids, test_samples, ground_truths)}
        for value, row in zip(values.values(), metadata[0] if metadata else ()):
            value["metadata"] = row
        record.add_samples("test_sample", test, suite, SUITE_ROWS, None, values, encoded=True)
    record.add("types", test, suite, SUITE_ROWS, _types(run))


def _types(run: Any) -> dict[str, str]:
    """The data types of a run's results, by import path, so that a stored run can be read back into them."""
    workflow = run.model.workflow
    found = {
        "test_sample": workflow.test_sample_type,
        "ground_truth": workflow.ground_truth_type,
        "inference": workflow.inference_type,
    }
    case = next(iter(run.cases), None)
    sample = next((s for c in run.cases for s in c.samples if s.metrics is not None), None)
    if sample is not None:
        found["sample_metrics"] = type(sample.metrics)
    if case is not None and case.metrics is not None:
        found["case_metrics"] = type(case.metrics)
    suite_metrics = next((m for m in run.suite_metrics.values() if m is not None), None)
    if suite_metrics is not None:
        found["suite_metrics"] = type(suite_metrics)
    return {name: f"{kind.__module__}:{kind.__qualname__}" for name, kind in found.items()}


def add_items(record: RunRecord, rows: Iterable[Any]) -> None:
    """What the items showed (report.properties.ItemRow): the rows of the terminal summary."""
    for row in rows:
        values = dataclasses.asdict(row)
        record.add("item", row.test, row.suite, row.model, values, row.configuration, row.test_case)


def _as_dict(metrics: Any) -> Any:
    return metrics.to_dict() if hasattr(metrics, "to_dict") else metrics
