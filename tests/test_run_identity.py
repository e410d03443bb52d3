"""One identity for runs and samples: a model is named by Model.name however it is bound, a run by its test function,
a sample by its whole test sample; champion and challenger; settings checked at start; the user's warnings kept."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
import pytest_kolena.data
import pytest_kolena.store  # noqa: F401
from pytest_kolena.testing import KolenaProject

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"

HEADER = """
import warnings
import pytest
from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, degraded_model, mean_shape_model, wf
from examples.quickstart.quickstart import Model

EVALUATOR = KeypointsEvaluator(configurations=[NmeThreshold(0.08)])
KOLENA = dict(evaluator=EVALUATOR, columns={"points": "keypoints"}, regression={"mean_nme": "+2%"})
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> KolenaProject:
    return KolenaProject(pytester, DATA, suite="300-W", stratify=["mirrored"], syspath=[ROOT])


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *args)


def stored_rows(pytester: pytest.Pytester, level: str) -> list[dict]:
    from pytest_kolena.store import RunStore

    store = RunStore(str(pytester.path / ".kolena"))
    return [row for info in store.runs() for row in store.rows(info.run_id) if row["level"] == level]


def test_a_model_bound_through_a_fixture_is_named_by_model_name_everywhere(project):
    project.makepyfile(
        test_kp=HEADER
        + """
@pytest.fixture
def candidate():
    return degraded_model

@pytest.mark.kolena(models=["candidate"], workflow=wf, thresholds={"mean_nme": "<= 0.15"}, **KOLENA)
def test_kp(kolena_result):
    pass
"""
    )
    result = run(project, "--junitxml=report.xml")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["model 'mean-shape-degraded' on 300-W :: basic at nme-threshold-0.08: *"])
    result.stdout.fnmatch_lines(["mean-shape-degraded  300-W :: basic*failed"])  # the summary
    assert "model 'candidate'" not in result.stdout.str()
    cases = ET.parse(project.path / "report.xml").getroot().findall(".//testcase")
    models = {
        p.get("value") for c in cases for p in c.findall("properties/property") if p.get("name") == "kolena.model"
    }
    assert models == {"mean-shape-degraded"}
    assert {row["model"] for row in stored_rows(project, "case")} == {"mean-shape-degraded"}
    assert {row["model"] for row in stored_rows(project, "item")} == {"mean-shape-degraded"}


TWO_FUNCTIONS = """
MODELS = {"good": mean_shape_model, "bad": Model("mean-shape", infer=degraded_model.infer)}

@pytest.mark.kolena(models=[Model("mean-shape", infer=mean_shape_model.infer)], **KOLENA)
def test_first(kolena_result):
    pass

@pytest.mark.kolena(models=[MODELS[__import__("os").environ["SECOND"]]], **KOLENA)
def test_second(kolena_result):
    pass
"""


def test_two_test_functions_binding_one_model_name_are_each_judged_against_their_own_baseline(project, monkeypatch):
    project.makepyfile(test_kp=HEADER + TWO_FUNCTIONS)
    monkeypatch.setenv("SECOND", "bad")  # on main, the second function's "mean-shape" is the degraded model
    assert run(project, "--kolena-tag", "main").ret == 0
    unchanged = run(project, "--kolena-baseline", "main", "-v")
    assert unchanged.ret == 0
    assert "REGRESSED" not in unchanged.stdout.str() and "IMPROVED" not in unchanged.stdout.str()
    unchanged.stdout.fnmatch_lines(
        [
            "test_kp.py::test_second: 4 passed",
            "*delta mean_nme*",
            "mean-shape  300-W :: basic *+0 not judged*passed*mean_nme not judged: identical to the baseline*",
        ]
    )
    monkeypatch.setenv("SECOND", "good")  # the second function's model improved; the first one's did not change
    improved = run(project, "--kolena-baseline", "main", "-v")
    assert improved.ret == 0
    improved.stdout.fnmatch_lines(["*test_second?mean-shape-300-W:basic-nme-threshold-0.08? IMPROVED*"])
    improved.stdout.fnmatch_lines(["*test_first?mean-shape-300-W:basic-nme-threshold-0.08? PASSED*"])


def test_summary_is_grouped_by_test_function(project, monkeypatch):
    project.makepyfile(test_kp=HEADER + TWO_FUNCTIONS)
    monkeypatch.setenv("SECOND", "bad")
    lines = run(project, "-n", "2").stdout.str().splitlines()
    first, second = lines.index("test_kp.py::test_first: 4 passed"), lines.index("test_kp.py::test_second: 4 passed")
    assert first < second
    first_block = lines[first : second - 1]
    assert sum("300-W :: basic" in line for line in first_block) == 1  # rows do not interleave
    assert any("(suite)" in line for line in first_block)


def test_challenger_is_compared_with_the_champions_run_and_the_text_names_it(project, monkeypatch):
    project.makepyfile(
        test_kp=HEADER
        + """
import os

champion = Model("champion", infer=mean_shape_model.infer)
challenger = Model("challenger", infer=degraded_model.infer)

@pytest.mark.kolena(models=[challenger if os.environ.get("CHALLENGE") else champion],
                    baseline_models={"challenger": "champion"}, **KOLENA)
def test_kp(kolena_result):
    pass
"""
    )
    assert run(project, "--kolena-tag", "main").ret == 0
    monkeypatch.setenv("CHALLENGE", "1")
    result = run(project, "--kolena-baseline", "main")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "model 'challenger' on 300-W :: basic at nme-threshold-0.08: regressed against model 'champion' in run * (tag main)"
        ]
    )


def test_samples_with_one_locator_and_different_boxes_are_kept_apart(project):
    frame = pd.read_csv(DATA / "300-W" / "meta" / "metadata.csv").head(40)
    twins = frame.head(10).copy()
    twins["bbox"] = [json.dumps([v + 1.5 for v in json.loads(b)]) for b in twins["bbox"]]  # another face box
    suite = project.path / "data" / "twins" / "meta"
    suite.mkdir(parents=True)
    for image in frame.locator:
        target = project.path / "data" / "twins" / image
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((DATA / "300-W" / image).read_bytes())
    pd.concat([frame, twins]).to_csv(suite / "metadata.csv", index=False)
    project.makepyfile(
        test_kp=HEADER
        + "\n@pytest.mark.kolena(models=[mean_shape_model], **KOLENA)\ndef test_kp(kolena_result):\n    pass\n"
    )
    args = ["--kolena-suite=twins", "--kolena-data=data", "--kolena-baseline=baselines/", "--kolena-update-baseline"]
    result = run(project, *args)
    assert result.ret == 0, result.stdout.str()
    written = json.loads((project.path / "baselines" / "twins.json").read_text())
    samples = written["tests"]["test_kp.py::test_kp"]["mean-shape"]["configurations"]["nme-threshold-0.08"]["samples"]
    assert len(samples) == 50
    assert len({row["sample_id"] for row in stored_rows(project, "sample")}) == 50
    assert sum(name.startswith("images/einstein-000.jpg#") for name in samples) == 2


def test_a_bad_setting_is_a_usage_error_at_start_naming_it(project):
    project.makepyfile("def test_plain():\n    pass\n")
    result = run(project, "-o", "kolena_resamples=many")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*kolena_resamples*many*integer*"])
    result = run(project, "--kolena-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--kolena-update-baseline rewrites baseline files: give --kolena-baseline*"])


def test_the_users_own_warnings_are_not_silenced(project):
    project.makepyfile(
        test_kp=HEADER
        + """
def infer(test_sample):
    warnings.warn("the model is uneasy", RuntimeWarning)
    return mean_shape_model.infer(test_sample)

@pytest.mark.kolena(models=[Model("uneasy", infer=infer)], **KOLENA)
def test_kp(kolena_result):
    pass
"""
    )
    result = run(project)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*RuntimeWarning: the model is uneasy*"])


def test_updating_the_baseline_from_a_partial_run_keeps_the_other_entries(project, monkeypatch):
    project.makepyfile(test_kp=HEADER + TWO_FUNCTIONS)
    monkeypatch.setenv("SECOND", "bad")
    args = ["--kolena-baseline=baselines/", "--kolena-update-baseline"]
    assert run(project, *args).ret == 0
    assert run(project, *args, "-k", "test_first").ret == 0
    written = json.loads((project.path / "baselines" / "300-W.json").read_text())
    assert sorted(written["tests"]) == ["test_kp.py::test_first", "test_kp.py::test_second"]


def test_two_test_functions_binding_the_same_model_infer_it_once(project):
    project.makepyfile(
        test_kp=HEADER
        + """
CALLS = []

def infer(test_sample):
    CALLS.append(test_sample.locator)
    return mean_shape_model.infer(test_sample)

MODEL = Model("shared", infer=infer)

@pytest.mark.kolena(models=[MODEL], **KOLENA)
def test_first(kolena_result):
    pass

@pytest.mark.kolena(models=[MODEL], **KOLENA)
def test_second(kolena_result):
    pass

def test_zz_inferred_once():
    assert len(CALLS) == 300
"""
    )
    result = run(project)
    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines(["test_kp.py::test_first: 4 passed", "*", "test_kp.py::test_second: 4 passed"])
