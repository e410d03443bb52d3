"""The classification example (`examples/classification/`) end to end: its run through the repository's own
configuration, its figures against scikit-learn's, the champion/challenger gate, a broken challenger, the suite's
rebuild, and no leakage of the suite into training."""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.classification.test_classification  # noqa: F401
from examples.classification.models import ESTIMATORS, classifier_model, one_thread, version_of
from examples.classification.split import split
from examples.classification.workflow import ClassificationEvaluator, DecisionThreshold, case_metrics, wf
from pytest_kolena.data import load_suite
from pytest_kolena.testing import KolenaProject
from pytest_kolena.workflow import ConfusionMatrix, CurvePlot, test

pytestmark = pytest.mark.slow  # every test here runs a cluster or the real models

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
SUITE_CSV = DATA / "breast-cancer" / "meta" / "metadata.csv"
MODELS = ("logistic-regression", "gradient-boosting")
THRESHOLDS = (0.3, 0.5, 0.7)
CASES = {
    "breast-cancer :: basic",
    "breast-cancer :: size large",
    "breast-cancer :: size medium",
    "breast-cancer :: size small",
    "breast-cancer :: texture coarse",
    "breast-cancer :: texture smooth",
}
EXAMPLE = "from examples.classification.test_classification import gradient_boosting, logistic_regression, test_classification\n"
# the challenger with its scores flipped (1 - p) on large tumours: a model broken on one stratum, in the example's
# own kolena test less its thresholds, so that only the regression gate can stop it (same test function: the
# baseline is looked up per test function)
BROKEN = """
import pytest

from examples.classification import test_classification as example
from examples.classification.models import classifier_model
from examples.classification.test_classification import logistic_regression
from examples.classification.workflow import Inference, Model
from pytest_kolena.workflow.annotation import ScoredClassificationLabel

GATE_ONLY = {k: v for k, v in example.test_classification.pytestmark[0].kwargs.items() if k != "thresholds"}


@pytest.fixture(scope="session")
def gradient_boosting():
    real = classifier_model("gradient-boosting")

    def infer_batch(samples):
        out = []
        for sample, inference in zip(samples, real.infer_batch(samples)):
            score = inference.malignancy.score
            flipped = sample.metadata["size"] == "large"
            out.append(Inference(ScoredClassificationLabel("malignant", 1 - score if flipped else score)))
        return out

    return Model("gradient-boosting", infer_batch=infer_batch)


@pytest.mark.kolena(**GATE_ONLY)
def test_classification(kolena_result):
    pass
"""


@functools.cache
def independent_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The split as the example's README documents it, made here without the example's code: features, malignant
    (True/False), training rows, held-out rows."""
    data = load_breast_cancer()
    rows = np.arange(len(data.target))
    train, held_out = train_test_split(rows, test_size=0.5, random_state=0, stratify=data.target)
    malignant = np.asarray(data.target_names)[data.target] == "malignant"
    return data.data, malignant, np.sort(train), np.sort(held_out)


@functools.cache
def independent_scores(name: str) -> np.ndarray:
    """The model's probability of malignancy on the held-out rows, fitted here from the documented split and the
    example's hyperparameters (one thread, as the example does)."""
    features, malignant, train, held_out = independent_split()
    with one_thread():
        fitted = clone(ESTIMATORS[name]).fit(features[train], malignant[train].astype(int))
        return fitted.predict_proba(features[held_out])[:, list(fitted.classes_).index(1)]


def suite_rows() -> np.ndarray:
    locators = pd.read_csv(SUITE_CSV)["locator"]
    assert locators.str.fullmatch(r"sklearn://breast_cancer/\d+").all()
    return locators.str.rsplit("/", n=1).str[1].astype(int).to_numpy()


def junit_rows(path: Path) -> dict[tuple[str, str, str], dict[str, str]]:
    """(model, test case, configuration) -> the item's kolena properties, from the JUnit XML."""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        if "kolena.model" in properties:
            out[properties["kolena.model"], properties["kolena.test_case"], properties["kolena.configuration"]] = (
                properties
            )
    return out


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project holding the example's kolena test, with the repository's data and a store of its own."""
    project = KolenaProject(pytester, DATA, store="store", syspath=[ROOT])
    project.module("test_cc", EXAMPLE)
    return project


def test_the_example_passes_through_the_repository_config_with_sklearns_own_figures(tmp_path):
    # the command a user types, from the repository's root, with its pyproject.toml (kolena_data, and a
    # kolena_stratify for 300-W that the marker's stratify replaces); the keypoints examples are collected too
    xml = tmp_path / "run.xml"
    command = ["--kolena-suite=breast-cancer", f"--kolena-store={tmp_path / 'store'}", f"--junitxml={xml}", "-rs"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *command, "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == pytest.ExitCode.OK, result.stdout + result.stderr
    pytest.LineMatcher(result.stdout.splitlines()).fnmatch_lines(
        [
            "kolena suite breast-cancer: 42 passed",  # 2 models x 3 thresholds x (6 test cases + the suite)
            "SKIPPED*test_champion_challenger.py*runs on suites 300-W; --kolena-suite selects breast-cancer",
            "SKIPPED*test_facial_keypoints.py*runs on suites 300-W; --kolena-suite selects breast-cancer",
        ]
    )
    rows = junit_rows(xml)
    assert {case for _, case, _ in rows} == CASES | {""}  # the marker's strata, not the ini's occlusion etc.

    features, malignant, _, held_out = independent_split()
    frame = pd.DataFrame(
        {"radius": features[held_out, 0], "texture": features[held_out, 1], "malignant": malignant[held_out]}
    )
    members = {
        "breast-cancer :: basic": np.ones(len(frame), bool),
        "breast-cancer :: size small": (frame.radius < 12).to_numpy(),
        "breast-cancer :: size medium": ((frame.radius >= 12) & (frame.radius < 15)).to_numpy(),
        "breast-cancer :: size large": (frame.radius >= 15).to_numpy(),
        "breast-cancer :: texture smooth": (frame.texture < 20).to_numpy(),
        "breast-cancer :: texture coarse": (frame.texture >= 20).to_numpy(),
    }
    for name in MODELS:
        scores = independent_scores(name)
        for case, inside in members.items():
            truth, score = frame.malignant.to_numpy()[inside], scores[inside]
            for threshold in THRESHOLDS:
                metrics = rows[name, case, f"threshold-{threshold}"]
                called = score >= threshold
                assert int(metrics["kolena.metric.n_samples"]) == inside.sum()
                assert int(metrics["kolena.metric.n_malignant"]) == truth.sum()
                expected = {
                    "accuracy": accuracy_score(truth, called),
                    "recall": recall_score(truth, called),
                    "precision": precision_score(truth, called),
                    "f1": f1_score(truth, called),
                    "roc_auc": roc_auc_score(truth, score),
                }
                for metric, value in expected.items():
                    assert float(metrics[f"kolena.metric.{metric}"]) == pytest.approx(value, abs=1e-9), (
                        name,
                        case,
                        threshold,
                        metric,
                    )
        # a real model on this data: the whole held-out half is ranked almost perfectly
        assert float(rows[name, "breast-cancer :: basic", "threshold-0.5"]["kolena.metric.roc_auc"]) >= 0.95


def test_the_challenger_is_judged_against_the_champion_and_is_not_significantly_worse(project):
    first = project.runpytest("--kolena-suite=breast-cancer", "--kolena-tag=champion")
    assert first.ret == pytest.ExitCode.OK
    first.assert_outcomes(passed=42)

    xml = project.path / "second.xml"
    second = project.runpytest("--kolena-suite=breast-cancer", "--kolena-baseline=champion", f"--junitxml={xml}")
    assert second.ret == pytest.ExitCode.OK
    second.assert_outcomes(passed=42)
    second.stdout.fnmatch_lines(
        [
            "kolena suite breast-cancer: 42 passed",  # no item regressed, none improved
            "inference of logistic-regression: 0 inferred, 285 from the cache",  # the models' versions key the cache
            "inference of gradient-boosting: 0 inferred, 285 from the cache",
            "kolena: compared with the baseline run * (tag champion)",
        ]
    )
    rows = junit_rows(xml)
    # the challenger is compared with the champion's stored run (baseline_models), not with a run of its own
    checks = json.loads(rows["gradient-boosting", "breast-cancer :: basic", "threshold-0.5"]["kolena.checks"])
    accuracy = next(c for c in checks if c["metric"] == "accuracy")
    champion = rows["logistic-regression", "breast-cancer :: basic", "threshold-0.5"]
    assert accuracy["baseline"] == pytest.approx(float(champion["kolena.metric.accuracy"]), abs=1e-12)
    # its largest difference: 7 samples the champion got right and the challenger wrong, 1 the other way round;
    # the one-sided mid-p McNemar p is 5/256 = 0.0195, not significant once adjusted over the run's checks
    _, malignant, _, held_out = independent_split()
    malignant = malignant[held_out]
    correct = {name: (independent_scores(name) >= 0.5) == malignant for name in MODELS}
    worse = int((correct["logistic-regression"] & ~correct["gradient-boosting"]).sum())
    better = int((~correct["logistic-regression"] & correct["gradient-boosting"]).sum())
    assert (worse, better) == (7, 1)
    tails = [binomtest(k, worse + better, 0.5, alternative="greater").pvalue for k in (worse, worse + 1)]
    assert accuracy["p"] == pytest.approx(sum(tails) / 2)  # the mid-p: P(X > 7) + P(X = 7) / 2
    assert accuracy["p_adjusted"] > 0.025 and accuracy["verdict"] not in ("regressed", "improved")
    verdicts = {key: row["kolena.verdict"] for key, row in rows.items()}
    assert set(verdicts.values()) == {"passed"}


def test_a_challenger_broken_on_large_tumours_is_caught_as_regressed(project):
    assert project.runpytest("--kolena-suite=breast-cancer", "--kolena-tag=champion").ret == pytest.ExitCode.OK
    project.makepyfile(test_cc=BROKEN)
    xml = project.path / "broken.xml"
    result = project.runpytest("--kolena-suite=breast-cancer", "--kolena-baseline=champion", f"--junitxml={xml}", "-rf")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=30, failed=12)
    result.stdout.fnmatch_lines(
        [
            "*model 'gradient-boosting' on breast-cancer :: size large at threshold-0.5: regressed against model "
            "'logistic-regression' in run * (tag champion)",
            "  recall: baseline 1, candidate 0.012987, delta -0.987 (95% interval *, n=77, 7 pairs with a missing "
            "value left out)*mid-p McNemar*: regressed",
            "kolena suite breast-cancer: 30 passed, 12 regressed",
            "REGRESSED test_cc.py::test_classification?gradient_boosting-breast-cancer:size_large-threshold-0.3?*",
        ]
    )
    verdicts = {key: row["kolena.verdict"] for key, row in junit_rows(xml).items()}
    # every test case holding large tumours, at every threshold; the others (no large tumour) and the champion
    # (compared with its own stored run) pass
    touched = {"breast-cancer :: basic", "breast-cancer :: size large"} | {c for c in CASES if "texture" in c}
    regressed = {("gradient-boosting", case, f"threshold-{t}") for case in touched for t in THRESHOLDS}
    assert {key for key, verdict in verdicts.items() if verdict == "regressed"} == regressed
    assert {verdict for key, verdict in verdicts.items() if key not in regressed} == {"passed"}


def test_the_committed_suite_is_what_build_suite_writes(tmp_path):
    out = tmp_path / "metadata.csv"
    subprocess.run(
        [sys.executable, "-m", "examples.classification.build_suite", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": ""},
    )
    assert out.read_bytes() == SUITE_CSV.read_bytes()


def test_the_suite_is_the_held_out_half_and_no_suite_row_is_trained_on():
    features, malignant, train, held_out = independent_split()
    rows = suite_rows()
    assert np.array_equal(rows, held_out)  # exactly the documented held-out half, each row once
    assert np.array_equal(split().train_rows, train)  # what models.py fits on
    assert not set(rows) & set(split().train_rows.tolist())
    # by value too: no feature vector of the suite is one the models were trained on
    suite_features = pd.read_csv(SUITE_CSV)["features"].map(json.loads)
    trained = {tuple(row) for row in features[train].tolist()}
    assert not any(tuple(vector) in trained for vector in suite_features)
    assert np.array_equal(np.array(suite_features.tolist()), features[held_out])  # sklearn's values, exactly
    assert int((pd.read_csv(SUITE_CSV)["diagnosis"] == "malignant").sum()) == int(malignant[held_out].sum())


def test_a_model_version_changes_with_its_hyperparameters_and_its_training_rows():
    features, labels = split().training_data()
    version = classifier_model("logistic-regression").metadata["version"]
    assert version == version_of(ESTIMATORS["logistic-regression"], features, labels)
    changed_c = clone(ESTIMATORS["logistic-regression"]).set_params(classify__C=0.5)
    assert version_of(changed_c, features, labels) != version
    assert version_of(ESTIMATORS["logistic-regression"], features[1:], labels[1:]) != version
    assert classifier_model("gradient-boosting").metadata["version"] != version


def test_a_test_case_of_one_class_gives_nan_with_the_reason_and_no_roc_curve():
    benign_only = case_metrics(np.zeros(5, bool), np.array([0.1, 0.2, 0.2, 0.4, 0.6]), 0.7)
    assert math.isnan(benign_only.roc_auc) and math.isnan(benign_only.recall)
    assert math.isnan(benign_only.precision) and math.isnan(benign_only.f1)  # nothing called malignant
    assert benign_only.accuracy == 1.0 and benign_only.specificity == 1.0
    assert benign_only.undefined == (
        "roc_auc: no malignant sample; recall: no malignant sample; "
        "precision: no sample called malignant at threshold 0.7; f1: no malignant sample and none called malignant"
    )
    missed = case_metrics(np.ones(3, bool), np.array([0.1, 0.2, 0.3]), 0.5)  # every cancer missed
    assert missed.recall == 0.0 and missed.f1 == 0.0 and math.isnan(missed.precision)

    # through a whole run: a suite stratified by the diagnosis itself (each stratum one class) does not crash
    suite = load_suite(wf, "breast-cancer", str(DATA), stratify=["diagnosis"])
    evaluator = ClassificationEvaluator(configurations=[DecisionThreshold(0.5)])
    results = test(classifier_model("logistic-regression"), suite, evaluator)
    assert results.n_failed == 0
    benign = results.case("breast-cancer :: diagnosis benign", "threshold-0.5")
    assert math.isnan(benign.metrics.roc_auc) and "roc_auc: no malignant sample" in benign.metrics.undefined
    assert [type(p) for p in benign.plots] == [ConfusionMatrix]  # no ROC curve of one class
    basic = results.case("breast-cancer :: basic", "threshold-0.5")
    assert [type(p) for p in basic.plots] == [ConfusionMatrix, CurvePlot] and basic.metrics.undefined == ""
