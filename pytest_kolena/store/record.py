"""A writer's part of a run for the store: the results of each test function's model runs, and the item rows."""

from __future__ import annotations

import dataclasses
import datetime
import platform
from collections.abc import Iterable
from typing import Any

from .baseline import git_commit
from .runs import RunRecord


def new_record(run_id: str, writer: str, tag: str | None, rootdir: str) -> RunRecord:
    """An empty record with the run's time, git commit and versions."""
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
    )


def add_results(record: RunRecord, test: str, run: Any) -> None:
    """A model's run (RunResults) under its test function: model metadata, inferences, sample, case and suite
    metrics."""
    suite, model = run.test_suite.name, run.model.name
    record.add("model", test, suite, model, run.model.metadata)
    inferences: dict[str, Any] = {}  # each sample's inference once: a baseline recomputes its metrics from them
    for case in run.cases:
        for sample in case.samples:
            if sample.inference is not None and sample.sample_id not in inferences:
                inferences[sample.sample_id] = sample.inference
    record.add_samples("inference", test, suite, model, None, inferences)
    sample_metrics: dict[str, dict[str, Any]] = {}  # per configuration, each sample's metrics once
    for case in run.cases:
        config = case.configuration_name or ""
        extra = {"plots": [p.to_dict() for p in case.plots]}
        record.add("case", test, suite, model, _plain(case.metrics), config, case.name, extra=extra)
        known = sample_metrics.setdefault(config, {})
        for sample in case.samples:
            if sample.metrics is not None and sample.sample_id not in known:
                known[sample.sample_id] = sample.metrics
    for config, metrics in sample_metrics.items():
        record.add_samples("sample", test, suite, model, config, metrics)
    for config, metrics in run.suite_metrics.items():
        record.add("suite", test, suite, model, _plain(metrics), config or "")


def add_items(record: RunRecord, rows: Iterable[Any]) -> None:
    """What the items showed (report.properties.ItemRow): the rows of the terminal summary."""
    for row in rows:
        values = dataclasses.asdict(row)
        record.add("item", row.test, row.suite, row.model, values, row.configuration, row.test_case)


def _plain(metrics: Any) -> Any:
    return metrics.to_dict() if hasattr(metrics, "to_dict") else metrics
