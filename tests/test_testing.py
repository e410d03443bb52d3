"""pytest_kolena.testing: the pytester helper users get, driving the gate of a CI job end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
from pytest_kolena.testing import KolenaProject

ROOT = Path(__file__).resolve().parents[1]

GATED = """
import os

import pytest

from examples.facial_keypoints.workflow import KeypointsEvaluator, Model, NmeThreshold, degraded_model, mean_shape_model

# the same model name: a new version of the model the baseline holds
MODELS = {"good": mean_shape_model, "bad": Model("mean-shape", infer=degraded_model.infer), "same": mean_shape_model}
CHOSEN = MODELS[os.environ["GATE_MODEL"]]


@pytest.mark.kolena(
    models=[CHOSEN],
    evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
    regression={"mean_nme": "+2%"},
    columns={"points": "keypoints"},
)
def test_gate(kolena_result):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> KolenaProject:
    project = KolenaProject(pytester, ROOT / "examples" / "data", suite="300-W", stratify=["mirrored"], syspath=[ROOT])
    project.module("test_gate", GATED)
    return project


def test_the_gate_of_a_ci_job_end_to_end(project, monkeypatch):
    project.gate(
        good=lambda: monkeypatch.setenv("GATE_MODEL", "good"), bad=lambda: monkeypatch.setenv("GATE_MODEL", "bad")
    )
    assert len(list((project.path / ".kolena" / "runs").iterdir())) == 5  # every step stored its run


def test_a_gate_whose_bad_model_is_not_worse_fails_naming_the_step(project, monkeypatch):
    with pytest.raises(AssertionError, match="the bad model against the good one: pytest exited <ExitCode.OK: 0>"):
        project.gate(
            good=lambda: monkeypatch.setenv("GATE_MODEL", "good"), bad=lambda: monkeypatch.setenv("GATE_MODEL", "same")
        )
