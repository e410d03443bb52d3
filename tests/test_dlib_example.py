"""dlib's 68-point model on the embedded 300-W suite, champion (mean shape) against challenger, end to end."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
from examples.facial_keypoints import dlib_landmarks as dl
from examples.facial_keypoints.dlib_landmarks import missing_reason
from examples.quickstart.quickstart import TestSample
from pytest_kolena.testing import KolenaProject
from pytest_kolena.workflow.annotation import BoundingBox

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
def test_dlib_beats_the_mean_shape_and_the_gate_lets_it_replace_the_champion(project):
    first = project.runpytest("--kolena-suite=300-W", "--kolena-tag=champion", f"--junitxml={project.path}/a.xml")
    first.assert_outcomes(passed=2 * 17)  # 2 models x (16 test cases + the suite item)
    nme = mean_nme(project.path / "a.xml")
    dlib, mean_shape = "dlib-68", "mean-shape"
    # a real model on 128-pixel, blurred, occluded faces: figures with a tolerance, and the comparisons that matter
    assert 0.10 < nme[dlib, "300-W :: basic"] < 0.15 < nme[mean_shape, "300-W :: basic"]
    assert nme[dlib, "300-W :: mirrored True"] < 0.2 < 0.4 < nme[mean_shape, "300-W :: mirrored True"]
    assert nme[dlib, "300-W :: occlusion none"] < 0.1 < nme[dlib, "300-W :: occlusion mouth"]
    assert nme[dlib, "300-W :: blur_radius 0.0"] < nme[dlib, "300-W :: blur_radius 3.0"]

    second = project.runpytest("--kolena-suite=300-W", "--kolena-baseline=champion", "-rA")
    assert second.ret == pytest.ExitCode.OK
    summary = second.stdout.str()
    rows = [line for line in summary.splitlines() if line.startswith("dlib-68 ")]
    cases = ("300-W :: basic", "300-W :: mirrored True", "300-W :: occlusion none")
    improved = {case for case in cases if any(case in line and " improved " in line for line in rows)}
    assert improved == set(cases)
    assert not [line for line in rows if " regressed" in line]
    second.stdout.fnmatch_lines(["kolena suite 300-W: * improved, * passed"])


def test_without_the_extra_the_dlib_items_are_skipped_with_the_install_command(project):
    project.makeconftest(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nsys.modules['dlib'] = None  # as if dlib-bin were missing\n"
    )
    result = project.runpytest("--kolena-suite=300-W", "-rs", "-p", "no:randomly")
    result.assert_outcomes(passed=17, skipped=17)
    result.stdout.fnmatch_lines(['SKIPPED ?17? *dlib\'s landmark model needs dlib-bin: pip install -e "??examples?"'])


def _sample(index: int) -> tuple[np.ndarray, list[float], np.ndarray]:
    """An embedded 300-W sample: its image, its face box and its five points."""
    from PIL import Image

    with open(DATA / "300-W" / "meta" / "metadata.csv", newline="") as file:
        row = next(r for r in csv.DictReader(file) if r["locator"].endswith(f"{index:03d}.jpg"))
    image = np.asarray(Image.open(DATA / "300-W" / row["locator"]).convert("L"))
    return image, json.loads(row["bbox"]), np.array(json.loads(row["points"]))


def _beside_another_face(tmp_path: Path, index: int) -> tuple[TestSample, np.ndarray]:
    """An embedded sample with a second, unannotated face to its right that dlib's detector scores far higher (Grace
    Hopper's portrait, which matplotlib ships): the test sample (its box is the embedded one) and its five points."""
    from PIL import Image

    cbook = pytest.importorskip("matplotlib.cbook")
    image, box, points = _sample(index)
    portrait = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("L").resize((128, 150))
    canvas = np.zeros((150, 300), dtype=np.uint8)
    canvas[:128, :128] = image
    canvas[:, 172:] = np.asarray(portrait)
    path = tmp_path / f"two-faces-{index:03d}.png"
    Image.fromarray(canvas).save(path)
    return TestSample(str(path), bbox=BoundingBox(box[:2], box[2:])), points


def _nme(inference, points: np.ndarray) -> float:
    return float(
        np.linalg.norm(np.array(inference.keypoints.points) - points, axis=1).mean()
        / np.linalg.norm(points[0] - points[1])
    )


@needs_dlib
def test_hog_takes_the_detection_of_the_annotated_face_not_a_higher_scoring_one(tmp_path):
    sample, points = _beside_another_face(tmp_path, 93)
    found = dl.detections(dl.read_grey(sample.locator), dl.start_box(sample.bbox))
    annotated = [d for d in found if d.overlap >= dl.MIN_OVERLAP]
    other = [d for d in found if d.overlap == 0]
    assert len(annotated) == 1 and len(other) == 1 and other[0].score > annotated[0].score + 0.5  # the premise

    inference = dl.landmarks_infer("hog")(sample)
    assert inference.confidence == 1.0
    assert inference.keypoints.extras()["face_box"] == "hog"
    assert inference.keypoints.extras()["score"] == round(annotated[0].score, 3)
    assert _nme(inference, points) < 0.15  # on the annotated face, not on the portrait at x >= 172
    assert max(x for x, _ in inference.keypoints.points) < 128


@needs_dlib
def test_hog_without_a_detection_of_the_annotated_face_says_so_with_confidence_zero(tmp_path):
    sample, points = _beside_another_face(tmp_path, 0)  # blurred, its nose hidden: the detector misses it
    inference = dl.landmarks_infer("hog")(sample)
    assert inference.confidence == 0.0
    extras = inference.keypoints.extras()
    assert extras["face_box"] == "suite"
    assert "found 1 face, none overlapping the suite's face box by 0.3" in extras["reason"]
    assert extras["reason"].endswith("the suite's box was used")
    assert inference.keypoints.points == dl.landmarks_infer("suite")(sample).keypoints.points
    assert _nme(inference, points) < 0.3
