"""dlib's 68-point model on the embedded 300-W suite, champion (mean shape) against challenger, end to end."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
from examples.facial_keypoints.dlib_landmarks import missing_reason
from pytest_kolena.testing import KolenaProject

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"

needs_dlib = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))

# the example's own test module, collected in a pytester project (its fixture comes with it)
TEST_MODULE = (
    "from examples.facial_keypoints.test_champion_challenger import dlib_landmarks, test_champion_challenger\n"
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    project = KolenaProject(pytester, DATA, syspath=[ROOT])
    project.module("test_cc", TEST_MODULE)
    return project


def mean_nme(xml_path: Path) -> dict[tuple[str, str], float]:
    """(model, test case) -> mean NME, from the JUnit XML's kolena properties."""
    values = {}
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        if "kolena.metric.mean_nme" in properties:
            key = (properties["kolena.model"], properties["kolena.test_case"])
            values[key] = float(properties["kolena.metric.mean_nme"])
    return values


@needs_dlib
def test_dlib_beats_the_mean_shape_where_it_is_weakest_and_the_gate_blocks_its_one_regression(project):
    first = project.runpytest("--kolena-suite=300-W", "--kolena-tag=champion", f"--junitxml={project.path}/a.xml")
    first.assert_outcomes(passed=2 * 17)  # 2 models x (16 test cases + the suite item)
    nme = mean_nme(project.path / "a.xml")
    dlib, mean_shape = "dlib-68", "mean-shape"
    # a real model on 128-pixel, blurred, occluded faces: figures with a tolerance, and the comparisons that matter
    assert 0.12 < nme[dlib, "300-W :: basic"] < 0.18
    assert nme[dlib, "300-W :: mirrored True"] < 0.2 < 0.4 < nme[mean_shape, "300-W :: mirrored True"]
    assert nme[dlib, "300-W :: occlusion none"] < nme[dlib, "300-W :: occlusion mouth"]
    assert nme[dlib, "300-W :: blur_radius 0.0"] < nme[dlib, "300-W :: blur_radius 3.0"]

    second = project.runpytest("--kolena-suite=300-W", "--kolena-baseline=champion", "-rA")
    assert second.ret == pytest.ExitCode.TESTS_FAILED
    second.stdout.fnmatch_lines(
        [
            "*model 'dlib-68' on 300-W :: mirrored False at nme-threshold-0.08: regressed against model "
            "'mean-shape' in run * (tag champion)",
            "*REGRESSED test_cc.py::test_champion_challenger?dlib_landmarks-300-W:mirrored_False-nme-threshold-0.08?*",
        ]
    )
    summary = second.stdout.str()
    assert "dlib-68     300-W :: mirrored True" in summary
    improved = [line for line in summary.splitlines() if line.startswith("dlib-68") and " improved" in line]
    assert any("mirrored True" in line for line in improved)
    assert not [line for line in summary.splitlines() if line.startswith("mean-shape") and "regressed" in line]


def test_without_the_extra_the_dlib_items_are_skipped_with_the_install_command(project):
    project.makeconftest(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nsys.modules['dlib'] = None  # as if dlib-bin were missing\n"
    )
    result = project.runpytest("--kolena-suite=300-W", "-rs", "-p", "no:randomly")
    result.assert_outcomes(passed=17, skipped=17)
    result.stdout.fnmatch_lines(['SKIPPED ?17? *dlib\'s landmark model needs dlib-bin: pip install -e "??examples?"'])
