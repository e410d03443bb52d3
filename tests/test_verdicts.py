"""Regression verdicts a CI gate can trust, in real sessions on a classification workflow: metrics recomputed from
each run's own inferences, missing sample metrics dropped pairwise, the right sample metric behind a mean, one
false-alarm budget per run, and nothing unjudged or underpowered in silence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# imported once here: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import pytest_kolena.data
import pytest_kolena.store  # noqa: F401

MODULE = """
import dataclasses
import os
from typing import Optional

import numpy as np
import pandas as pd
import pytest

from pytest_kolena.workflow import Evaluator, Image, MetricsTestCase, MetricsTestSample, define_workflow
from pytest_kolena.workflow import GroundTruth as GT
from pytest_kolena.workflow import Inference as Inf


class Sample(Image):
    pass


class Truth(GT):
    label: int


class Guess(Inf):
    label: int  # -1: the model abstains


wf, _, _, Model = define_workflow("Classes", Sample, Truth, Guess)


class SampleMetrics(MetricsTestSample):
    correct: Optional[bool] = None  # None when the model abstained
    false_positive: float = 0.0
    false_negative: float = 0.0


class CaseMetrics(MetricsTestCase):
    accuracy: float = dataclasses.field(metadata={"better": "higher"})
    macro_f1: float = dataclasses.field(metadata={"better": "higher"})
    fp_rate: float = dataclasses.field(metadata={"better": "lower"})
    fn_rate: float = dataclasses.field(metadata={"better": "lower"})


def macro_f1(truth, guess):
    scores = []
    for label in sorted(set(truth) | set(guess)):
        tp = sum(t == label and g == label for t, g in zip(truth, guess))
        predicted, actual = sum(g == label for g in guess), sum(t == label for t in truth)
        scores.append(2 * tp / (predicted + actual) if predicted + actual else 0.0)
    return float(np.mean(scores)) if scores else float("nan")


class ClassesEvaluator(Evaluator):
    def compute_test_sample_metrics(self, test_case, inferences, configuration=None):
        out = []
        for sample, truth, guess in inferences:
            if guess.label < 0:
                out.append((sample, SampleMetrics()))
                continue
            out.append((sample, SampleMetrics(
                correct=guess.label == truth.label,
                false_positive=float(guess.label == 1 and truth.label == 0),
                false_negative=float(guess.label == 0 and truth.label == 1),
            )))
        return out

    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None) -> CaseMetrics:
        answered = [(t.label, g.label) for _, t, g in inferences if g.label >= 0]
        return CaseMetrics(
            accuracy=float(np.mean([t == g for t, g in answered])) if answered else float("nan"),
            macro_f1=macro_f1([t for t, _ in answered], [g for _, g in answered]),
            fp_rate=float(np.mean([m.false_positive for m in metrics])),
            fn_rate=float(np.mean([m.false_negative for m in metrics])),
        )


FRAME = pd.read_csv(os.environ["KOLENA_PREDICTIONS"])


def predictor(column):
    guesses = dict(zip(FRAME.locator, FRAME[column]))
    return lambda sample: Guess(label=int(guesses[sample.locator.rsplit("/", 2)[-2] + "/" + sample.locator.rsplit("/", 1)[-1]]))


@pytest.fixture
def model():
    column = os.environ["KOLENA_MODEL"]
    return Model("classifier", infer=predictor(column))


@pytest.mark.kolena(models=["model"], workflow=wf, evaluator=ClassesEvaluator(), regression={regression})
def test_classes(kolena_result):
    pass
"""


def write_suite(root: Path, frame: pd.DataFrame) -> None:
    """A suite of the given rows: locator, label, slice; the prediction columns go to a file of their own."""
    (root / "data" / "classes" / "meta").mkdir(parents=True)
    frame[["locator", "label", "slice"]].to_csv(root / "data" / "classes" / "meta" / "metadata.csv", index=False)
    frame.to_csv(root / "predictions.csv", index=False)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    def make(frame: pd.DataFrame, regression: str, stratify: str = "", **ini: str) -> pytest.Pytester:
        write_suite(pytester.path, frame)
        lines = [f"{key} = {value}" for key, value in ini.items()]
        pytester.makeini("\n".join(["[pytest]", "kolena_data = data", "kolena_suite = classes", stratify, *lines]))
        pytester.makepyfile(test_classes=MODULE.replace("{regression}", regression))
        monkeypatch.setenv("KOLENA_PREDICTIONS", str(pytester.path / "predictions.csv"))
        return pytester

    return make


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, column: str, *args: str) -> pytest.RunResult:
    monkeypatch.setenv("KOLENA_MODEL", column)
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *args)


def frame_of(labels: np.ndarray, **predictions: np.ndarray) -> pd.DataFrame:
    n = len(labels)
    return pd.DataFrame(
        {
            "locator": [f"images/{i:05d}.jpg" for i in range(n)],
            "label": labels,
            "slice": np.arange(n) % 60,
            **predictions,
        }
    )


def flip(labels: np.ndarray, indices: np.ndarray, classes: int = 2) -> np.ndarray:
    out = labels.copy()
    out[indices] = (labels[indices] + 1) % classes
    return out


def test_a_metric_computed_from_inferences_is_recomputed_from_each_runs_own_inferences(project, monkeypatch):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    base = flip(labels, rng.choice(300, 40, replace=False), 3)
    correct = np.flatnonzero(base == labels)
    worse = flip(base, rng.choice(correct, 30, replace=False), 3)  # 30 more mistakes: macro F1 down ~0.1
    pytester = project(frame_of(labels, base=base, worse=worse), '{"macro_f1": "+0.01"}')
    assert run(pytester, monkeypatch, "base", "--kolena-tag", "main").ret == 0
    result = run(pytester, monkeypatch, "worse", "--kolena-baseline", "main", "-v")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*test_classes?model-classes:basic? REGRESSED*"])
    result.stdout.fnmatch_lines(
        [
            "  macro_f1: baseline 0.8*, candidate 0.7*, delta -0.0* (95% interval -0.1* to -0.0*, n=300*bootstrap*: regressed"
        ]
    )


def test_an_abstaining_sample_is_dropped_pairwise_not_the_whole_column(project, monkeypatch):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 200)
    base = flip(labels, rng.choice(200, 20, replace=False))
    worse = flip(base, rng.choice(np.flatnonzero(base == labels), 20, replace=False))  # accuracy down 10 points
    worse[np.flatnonzero(worse != labels)[0]] = -1  # and one abstention
    pytester = project(frame_of(labels, base=base, worse=worse), '{"accuracy": "+0.01"}')
    assert run(pytester, monkeypatch, "base", "--kolena-tag", "main").ret == 0
    result = run(pytester, monkeypatch, "worse", "--kolena-baseline", "main")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["  accuracy: *n=199, 1 pairs with a missing value left out*score (Tango*: regressed"])


def test_the_sample_metric_behind_a_mean_is_the_right_one_when_two_have_equal_means(project, monkeypatch):
    labels = np.array([1] * 100 + [0] * 100)
    base = labels.copy()
    base[:10] = 0  # 10 false negatives
    base[100:118] = 1  # 18 false positives
    worse = labels.copy()
    worse[:18] = 0  # 8 more false negatives: fn rate 0.05 -> 0.09 (8 worse, 0 better)
    worse[182:200] = 1  # 18 false positives, on other samples: fp rate stays 0.09, = fn rate
    pytester = project(frame_of(labels, base=base, worse=worse), '{"fn_rate": "+0"}')
    assert run(pytester, monkeypatch, "base", "--kolena-tag", "main").ret == 0
    result = run(pytester, monkeypatch, "worse", "--kolena-baseline", "main")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["  fn_rate: baseline 0.05, candidate 0.09, *n=200*mid-p McNemar p=0.002*: regressed"])


def _no_change(seed: int) -> pd.DataFrame:
    """60 slices of 200 samples, accuracy 0.85, the candidate changes 10% of its answers with no change in
    expected accuracy: every difference is noise."""
    rng = np.random.default_rng(seed)
    n = 12_000
    labels = rng.integers(0, 2, n)
    correct = rng.random(n) < 0.85
    base = np.where(correct, labels, 1 - labels)
    changed = rng.random(n) < np.where(correct, 0.05 / 0.85, 0.05 / 0.15)  # as many right->wrong as wrong->right
    return frame_of(labels, base=base, same=np.where(changed, 1 - base, base))


@pytest.mark.slow
def test_a_run_of_60_slices_with_nothing_changed_raises_no_false_alarm(project, monkeypatch):
    pytester = project(_no_change(seed=8), '{"accuracy": "+0"}', "kolena_stratify = slice")
    assert run(pytester, monkeypatch, "base", "--kolena-tag", "main", "-q").ret == 0
    controlled = run(pytester, monkeypatch, "same", "--kolena-baseline", "main", "-q")
    assert controlled.ret == 0
    assert "regressed" not in controlled.stdout.str()
    uncontrolled = run(
        pytester, monkeypatch, "same", "--kolena-baseline", "main", "-q", "-o", "kolena_error_control=none"
    )
    assert uncontrolled.ret == 1  # the same data without control: 2 false alarms of 61 checks
    uncontrolled.stdout.fnmatch_lines(["kolena suite classes: 60 passed, 2 regressed"])
    parallel = run(
        pytester, monkeypatch, "same", "--kolena-baseline", "main", "-q", "-o", "kolena_error_control=none", "-n", "2"
    )
    parallel.stdout.fnmatch_lines(["kolena suite classes: 60 passed, 2 regressed"])  # the same verdicts on 2 workers


def test_unjudged_and_underpowered_checks_say_so(project, monkeypatch):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 200)
    base = flip(labels, rng.choice(200, 30, replace=False))
    same = flip(base, rng.choice(200, 6, replace=False))
    frame = frame_of(labels, base=base, same=same)
    frame["slice"] = np.where(np.arange(200) < 12, "tiny", "large")
    pytester = project(frame, '{"accuracy": "+0.005"}', "kolena_stratify = slice")
    assert run(pytester, monkeypatch, "base", "--kolena-tag", "main").ret == 0
    result = run(pytester, monkeypatch, "same", "--kolena-baseline", "main")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*classes :: slice large *underpowered*passed*accuracy underpowered: a worsening below * is likely missed",
            "*classes :: slice tiny *not judged*passed*accuracy not judged: 12 paired samples with a value, fewer than kolena_min_samples (20)",
        ]
    )


def test_update_baseline_refuses_a_failed_run_unless_forced(project, monkeypatch):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 200)
    base = flip(labels, rng.choice(200, 20, replace=False))
    worse = flip(base, rng.choice(np.flatnonzero(base == labels), 40, replace=False))
    pytester = project(frame_of(labels, base=base, worse=worse), '{"accuracy": "+0.01"}')
    args = ["--kolena-baseline=baselines/", "--kolena-update-baseline"]
    assert run(pytester, monkeypatch, "base", *args).ret == 0
    written = (pytester.path / "baselines" / "classes.json").read_text()
    refused = run(pytester, monkeypatch, "worse", *args)
    assert refused.ret == 1
    refused.stdout.fnmatch_lines(["kolena: baseline NOT rewritten: the run has regressed items; *--kolena-force*"])
    assert (pytester.path / "baselines" / "classes.json").read_text() == written
    forced = run(pytester, monkeypatch, "worse", *args, "--kolena-force")
    forced.stdout.fnmatch_lines(["kolena: baseline of classes rewritten: *classes.json"])
    assert (pytester.path / "baselines" / "classes.json").read_text() != written


def test_a_breach_lists_the_worst_samples_by_its_own_sample_metric_beside_the_regression(project, monkeypatch):
    labels = np.array([1] * 100 + [0] * 100)
    base = labels.copy()
    base[:5] = 0
    worse = labels.copy()
    worse[:30] = 0  # 30 false negatives (25 more), 2 false positives
    worse[100:102] = 1
    pytester = project(frame_of(labels, base=base, worse=worse), '{"fn_rate": "+0"}')
    pytester.makepyfile(
        test_classes=MODULE.replace("{regression}", '{"fn_rate": "+0"}, thresholds={"fn_rate": "<= 0.1"}')
    )
    assert run(pytester, monkeypatch, "base", "--kolena-tag", "main").ret == 0
    result = run(pytester, monkeypatch, "worse", "--kolena-baseline", "main")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "model 'classifier' on classes :: basic: 1 of 1 thresholds breached",
            "  fn_rate = 0.15, required <= 0.1",
            "  worst samples by false_negative:",
            "             1  */images/00000.jpg*",
            "model 'classifier' on classes :: basic: regressed against run * (tag main)",
            "  fn_rate: baseline 0.025, candidate 0.15, *: regressed",
        ]
    )


def test_a_bootstrap_check_judges_the_paired_samples_when_the_baseline_had_other_samples(project, monkeypatch):
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, 330)
    base = flip(labels, rng.choice(330, 45, replace=False), 3)
    frame = frame_of(labels, base=base, same=base)
    pytester = project(frame.head(300), '{"macro_f1": "+0.01"}')  # the baseline ran on 300 samples
    assert run(pytester, monkeypatch, "base", "--kolena-tag", "main").ret == 0
    (pytester.path / "data").rename(pytester.path / "old-data")
    write_suite(pytester.path, frame)  # the suite grew by 30 samples; the model did not change
    result = run(pytester, monkeypatch, "same", "--kolena-baseline", "main")
    assert result.ret == 0, result.stdout.str()
    # the whole test case's macro F1 moved with the new samples; on the paired ones nothing changed
    result.stdout.fnmatch_lines(
        ["kolena suite classes: 2 passed", "classifier  classes :: basic  * ?+0, +0? p=1 (adj 1) *passed"]
    )


def test_the_sample_metric_behind_a_mean_is_found_per_test_case(project, monkeypatch):
    rng = np.random.default_rng(6)
    slice_a = rng.integers(0, 3, 60)  # both models are perfect here: macro F1 = accuracy = 1
    slice_b = np.array([2] * 20 + [0, 1] * 90)
    base_b, worse_b = slice_b.copy(), slice_b.copy()
    base_b[20:35] = 1 - slice_b[20:35]  # the baseline: 15 mistakes on the common classes
    worse_b[:15] = 0  # the candidate: right on those, but misses 15 of the 20 rare ones: same accuracy
    labels = np.concatenate([slice_a, slice_b])
    frame = frame_of(labels, base=np.concatenate([slice_a, base_b]), worse=np.concatenate([slice_a, worse_b]))
    frame["slice"] = np.where(np.arange(260) < 60, "a", "b")
    rules = '{"*slice a": {"macro_f1": "+0.01"}, "*slice b": {"macro_f1": "+0.01"}}'
    pytester = project(frame, rules, "kolena_stratify = slice")
    assert run(pytester, monkeypatch, "base", "--kolena-tag", "main").ret == 0
    result = run(pytester, monkeypatch, "worse", "--kolena-baseline", "main", "-v")
    result.stdout.fnmatch_lines(["*test_classes?model-classes:slice_b? REGRESSED*"])
    result.stdout.fnmatch_lines(["  macro_f1: *bootstrap p=*: regressed"])


def test_a_worse_model_in_a_grown_suite_is_judged_though_its_mean_is_unchanged(project, monkeypatch):
    """Baseline: 90 of 100 right. The suite grows to 200; the candidate gets 80 of the old 100 right and the 100 new
    ones all: 180 of 200, the same 0.9. Judged on the 100 paired samples it regressed; it is not 'identical'."""
    labels = np.zeros(200, dtype=int)
    a = flip(labels, np.arange(0, 100, 10))  # 10 wrong among the first 100
    b = flip(labels, np.arange(0, 100, 5))  # 20 wrong among the first 100, none among the new 100
    pytester = project(frame_of(labels, a=a, b=b), '{"accuracy": "+0"}')
    csv = pytester.path / "data" / "classes" / "meta" / "metadata.csv"
    grown = csv.read_text()
    csv.write_text("\n".join(grown.splitlines()[:101]) + "\n")  # the header and the first 100 samples
    assert run(pytester, monkeypatch, "a", "--kolena-tag", "main").ret == 0
    csv.write_text(grown)
    result = run(pytester, monkeypatch, "b", "--kolena-baseline", "main", "-v")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*test_classes?model-classes:basic? REGRESSED*", "  accuracy: baseline 0.9, candidate 0.9*"]
    )
