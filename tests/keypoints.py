"""A kolena project on the embedded 300-W suite for pytester tests: its test module written from marker arguments,
a second suite beside it, its JSON reports checked against their schema."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
from pytest_kolena.testing import KolenaProject

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
FAILING = tuple(f"images/einstein-00{i}.jpg#" for i in range(3))  # the samples the flaky model cannot infer
SCHEMA = json.loads((ROOT / "pytest_kolena" / "report" / "schema.json").read_text())

HEAD = """
import pytest
from examples.facial_keypoints.workflow import (
    KeypointsEvaluator, MEAN_SHAPE, Model, NmeThreshold, degraded_model, mean_shape_infer, mean_shape_model, wf,
)

FAILING = ("einstein-000.jpg", "einstein-001.jpg", "einstein-002.jpg")


def flaky_infer(test_sample):
    if test_sample.locator.endswith(FAILING):
        raise RuntimeError("no face found")
    return mean_shape_infer(MEAN_SHAPE)(test_sample)


flaky_model = Model("flaky", infer=flaky_infer)


@pytest.fixture
def champion():
    return mean_shape_model
"""

TEST = """
@pytest.mark.kolena(
    models=[{models}],
    evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
    columns={{"points": "keypoints"}},
    {arguments}
)
def test_{name}(kolena_result):
    pass
"""


def keypoints_project(pytester: pytest.Pytester) -> KolenaProject:
    """A project on the embedded 300-W suite, stratified by `mirrored`; its tests by `write_tests`."""
    return KolenaProject(pytester, DATA, stratify=["mirrored"], syspath=[ROOT])


def write_tests(pytester: pytest.Pytester, *tests: dict[str, str]) -> None:
    """A test module of kolena tests: each a dict of `models`, `arguments` (marker keywords) and `name`."""
    body = "".join(TEST.format(**({"arguments": "", "name": "keypoints"} | test)) for test in tests)
    pytester.makepyfile(test_kp=HEAD + body)


def report_of(pytester: pytest.Pytester, name: str) -> dict:
    document = json.loads((pytester.path / name).read_text())
    jsonschema.validate(document, SCHEMA)
    return document


def sample_rows(samples: list) -> list[tuple]:
    return [(s.sample_id, s.test_sample, s.ground_truth, s.inference, s.metrics) for s in samples]


def tiny_suite(project: KolenaProject) -> None:
    """A second suite beside 300-W: its first 3 rows."""
    data = project.path / "data"
    (data / "tiny" / "meta").mkdir(parents=True)
    (data / "300-W").symlink_to(DATA / "300-W")
    rows = (DATA / "300-W" / "meta" / "metadata.csv").read_text().splitlines()[:4]
    (data / "tiny" / "meta" / "metadata.csv").write_text("\n".join(rows).replace("images/", "../300-W/images/") + "\n")
    project.write_ini(kolena_data=str(data))


def metrics_of(**values: float) -> object:
    """A metrics dataclass instance with these fields."""
    return dataclasses.make_dataclass("Metrics", list(values))(**values)


def samples_of(*rows: tuple[float, float]) -> list:
    """Samples with sample metrics `a` and `b`, labelled s0, s1, ..."""
    return [
        SimpleNamespace(metrics=metrics_of(a=a, b=b), test_sample=SimpleNamespace(locator=f"s{i}"))
        for i, (a, b) in enumerate(rows)
    ]
