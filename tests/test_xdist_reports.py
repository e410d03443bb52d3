"""Reports of a run under pytest-xdist are those of the serial run, failure texts included (no `[gw0] linux --
Python ...` line, the worker's platform and interpreter path, at their head)."""

from __future__ import annotations

import json

import pytest
import test_reports
from test_reports import champion_then_challenger

project = test_reports.project  # the 300-W project of the report tests: a champion stored, a degraded challenger


def reports(project: pytest.Pytester, name: str) -> tuple[str, dict]:
    """The Markdown and JSON reports `name`.md and `name`.json, the run's own id and time left out."""
    document = json.loads((project.path / f"{name}.json").read_text())
    run = document.pop("run")
    markdown = (project.path / f"{name}.md").read_text().replace(run["id"], "RUN").replace(run["time"], "TIME")
    return markdown, document


def test_reports_under_xdist_are_the_serial_ones_failure_texts_included(project):
    args = ("--kolena-reset", "-p", "no:randomly")  # every inference made in both runs, items in file order
    serial = champion_then_challenger(project, *args, "--kolena-report=serial.md", "--kolena-report=serial.json")
    spread = project.runpytest(
        "--kolena-suite=300-W",
        "--kolena-baseline=main",
        *args,
        "-n",
        "2",
        "--kolena-report=xdist.md",
        "--kolena-report=xdist.json",
    )
    assert serial.ret == spread.ret == pytest.ExitCode.TESTS_FAILED
    (serial_md, serial_json), (xdist_md, xdist_json) = reports(project, "serial"), reports(project, "xdist")
    messages = [item["message"] for item in xdist_json["items"] if item["message"]]
    assert len(messages) == 2 and all(m.startswith("model 'mean-shape-degraded' on 300-W") for m in messages)
    assert xdist_md == serial_md
    assert xdist_json == serial_json
