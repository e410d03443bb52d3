"""The sample metric behind a case metric and its direction: decided once per model run, stored with it, and the
same in the regression check, the failure text, discovery and the reports."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from keypoints import keypoints_project, metrics_of, report_of, samples_of, write_tests

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
from pytest_kolena.checks.thresholds import Rules
from pytest_kolena.links import decide_links
from pytest_kolena.workflow import Evaluator


@dataclasses.dataclass(frozen=True)
class Score:
    score: float


@dataclasses.dataclass(frozen=True)
class Scores:
    median_score: float
    mean_score: float


class MedianEvaluator(Evaluator):
    """`median_score` equals the mean of `score` on a symmetric test case by coincidence, not on its subsets."""

    def compute_test_sample_metrics(self, test_case, inferences, configuration=None):
        raise NotImplementedError

    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None):
        values = sorted(m.score for m in metrics)
        middle = len(values) // 2
        median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
        return Scores(median_score=median, mean_score=sum(values) / len(values))


def test_a_case_metric_equal_to_a_mean_by_coincidence_is_not_trusted_by_the_regression_check():
    samples = [SimpleNamespace(sample_id=f"s{i}", metrics=Score(float(i)), test_sample=i) for i in range(21)]
    for sample in samples:
        sample.ground_truth = sample.inference = None
    case = SimpleNamespace(
        configuration_name=None, metrics=Scores(10.0, 10.0), samples=samples, test_case=None, configuration=None
    )
    spec = SimpleNamespace(rules=Rules(()), lower_is_better={}, better={}, evaluator=MedianEvaluator())
    links = decide_links(spec, SimpleNamespace(cases=[case]))[None]
    assert (links["mean_score"].sample_metric, links["mean_score"].evidence) == ("score", "confirmed")
    assert links["mean_score"].trusted == "score"
    assert (links["median_score"].sample_metric, links["median_score"].evidence) == ("score", "matched")
    assert links["median_score"].trusted is None  # judged by recomputing it, not as a mean


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    return keypoints_project(pytester)


def test_the_stored_links_name_the_sample_metric_every_report_ranks_by(project):
    write_tests(project, {"models": "degraded_model", "arguments": 'thresholds={"mean_nme": "<= 0.1"},'})
    result = project.runpytest("--kolena-suite=300-W", "--kolena-report=run.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["  worst samples by normalized_mean_error:"])
    document = report_of(project, "run.json")
    (model,) = document["models"]
    assert model["links"]["nme-threshold-0.08"]["mean_nme"] == {
        "sample_metric": "normalized_mean_error",
        "better": "lower",
        "evidence": "confirmed",
    }
    failed = [i for i in document["items"] if i["verdict"] == "failed" and i["test_case"]]
    assert failed and {i["worst"]["metric"] for i in failed} == {"normalized_mean_error"}


def test_case_metrics_of_another_kind_than_a_dataclass_have_no_links_and_no_crash():
    """An evaluator that returns a SimpleNamespace (the plugin accepts it): nothing is known behind its metrics."""
    samples = [SimpleNamespace(sample_id=f"s{i}", metrics=Score(float(i))) for i in range(5)]
    case = SimpleNamespace(configuration_name=None, metrics=SimpleNamespace(mean_score=2.0), samples=samples)
    spec = SimpleNamespace(rules=Rules(()), lower_is_better={}, better={}, evaluator=MedianEvaluator())
    assert decide_links(spec, SimpleNamespace(cases=[case])) == {None: {}}


def test_worst_of_lists_nothing_when_no_sample_metric_is_behind_the_case_metric():
    """A case metric (an F1, say: 0.9) that is no sample metric's mean has no link: no sample is "worst" by a guess;
    one that is the mean of `a` on every test case is linked to it (matched: an evaluator function cannot confirm)."""
    from pytest_kolena.checks import Breach, Threshold
    from pytest_kolena.checks.thresholds import Rules
    from pytest_kolena.links import decide_links
    from pytest_kolena.report.text import failure_text, worst_of

    samples = samples_of((0.1, 0.0), (0.9, 1.0), (0.5, 1.0), (0.5, 0.5))
    for i, sample in enumerate(samples):
        sample.sample_id = f"s{i}"
    spec = SimpleNamespace(rules=Rules(()), lower_is_better={}, better={"f1": False}, evaluator=lambda *a: None)

    def links(f1: float) -> dict:
        case = SimpleNamespace(configuration_name=None, metrics=metrics_of(f1=f1), samples=samples)
        return decide_links(spec, SimpleNamespace(cases=[case]))[None]

    unlinked = links(0.9)["f1"]
    assert unlinked.sample_metric is None and unlinked.lower_is_better is False
    assert worst_of(samples, unlinked.sample_metric, lower_is_better=False) == {}
    breach = Breach(Threshold("f1", ">=", 0.95), 0.9)
    assert "worst samples" not in failure_text("model 'm' on s :: basic", [breach], 1, samples, 3, {"f1": None})
    linked = links(0.5)["f1"]  # the mean of a: the samples by a, lowest first
    assert (linked.sample_metric, linked.evidence, linked.trusted) == ("a", "matched", None)
    assert worst_of(samples, linked.sample_metric, lower_is_better=False, count=2) == {
        "metric": "a",
        "samples": [[0.1, "s0"], [0.5, "s2"]],
    }
