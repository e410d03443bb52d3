"""The sample metric behind a case metric and its direction: decided once per model run, stored with it, and the
same in the regression check, the failure text, discovery and the reports."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from test_review_fixes import keypoints_project, report_of, write_tests

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
