"""The Kolena quickstart "Building a Workflow" (facial keypoints, 300-W), run offline with pytest-kolena.

The seed's code, step by step, with three changes:
- the imports read `pytest_kolena.workflow` where the seed reads `kolena.workflow`, and `kolena.initialize` is gone;
- the evaluator is real where the seed "left it as an exercise" and returned random numbers: normalized mean
  error (NME) per sample, mean NME and alignment failure rate per test case, their variance per suite;
- the model is deterministic where the seed's returned random points: it predicts one fixed face template.
The metadata CSV is read from a path given on the command line, or from `DATASET` under `BUCKET`.

    python -m examples.quickstart.quickstart [path/to/metadata.csv]
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from pytest_kolena.workflow import (
    Evaluator,
    EvaluatorConfiguration,
    Image,
    MetricsTestCase,
    MetricsTestSample,
    MetricsTestSuite,
    define_workflow,
    test,
)
from pytest_kolena.workflow import GroundTruth as GT
from pytest_kolena.workflow import Inference as Inf
from pytest_kolena.workflow.annotation import BoundingBox, Keypoints

DATASET = "300-W"
BUCKET = str(Path(__file__).parent)  # the seed: "s3://kolena-public-datasets"


# Step 1: data types, exactly as the seed declares them (no @dataclass decorator).
class TestSample(Image):
    bbox: Optional[BoundingBox] = None


class GroundTruth(GT):
    keypoints: Keypoints
    # In order to compute normalized error, some normalization factor describing
    # the size of the face in the image is required.
    normalization_factor: float


class Inference(Inf):
    keypoints: Keypoints
    confidence: float


wf, TestCase, TestSuite, Model = define_workflow("Facial Keypoints", TestSample, GroundTruth, Inference)


# Step 2: metrics at the three levels.
class TestSampleMetrics(MetricsTestSample):
    normalized_mean_error: float
    # If the normalized mean error is above some configured threshold, this test
    # sample is considered an "alignment failure".
    alignment_failure: bool


class TestCaseMetrics(MetricsTestCase):
    mean_nme: float
    alignment_failure_rate: float


class TestSuiteMetrics(MetricsTestSuite):
    variance_mean_nme: float
    variance_alignment_failure_rate: float


# Step 4: the evaluator, with its configuration.
class NmeThreshold(EvaluatorConfiguration):
    # threshold for NME above which an image is considered an "alignment failure"
    threshold: float

    def display_name(self):
        return f"nme-threshold-{self.threshold}"


def normalized_mean_error(
    ground_truth: GroundTruth, inference: Inference, test_sample: TestSample | None = None
) -> float:
    """Mean point-to-point distance divided by the sample's normalization factor (positive and finite: a bad one
    is an error naming the sample, never a silently wrong NME)."""
    where = f"{test_sample.locator}: " if test_sample is not None else ""
    factor = ground_truth.normalization_factor
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"{where}GroundTruth.normalization_factor is {factor}: the NME divides by it, it must be > 0")
    expected = np.asarray(ground_truth.keypoints.points, dtype=float)
    actual = np.asarray(inference.keypoints.points, dtype=float)
    if expected.shape != actual.shape:
        raise ValueError(f"{where}{len(actual)} inferred keypoints for {len(expected)} ground truth keypoints")
    return float(np.linalg.norm(expected - actual, axis=1).mean() / factor)


class KeypointsEvaluator(Evaluator):
    """NME per sample; mean NME and failure rate per test case; their variance across test cases per suite."""

    def compute_test_sample_metrics(self, test_case, inferences, configuration=None):
        threshold = configuration.threshold if configuration else 0.1
        metrics = []
        for test_sample, ground_truth, inference in inferences:
            nme = normalized_mean_error(ground_truth, inference, test_sample)
            metrics.append(
                (test_sample, TestSampleMetrics(normalized_mean_error=nme, alignment_failure=nme > threshold))
            )
        return metrics

    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None):
        nmes = [m.normalized_mean_error for m in metrics]
        failures = [m.alignment_failure for m in metrics]
        return TestCaseMetrics(mean_nme=float(np.mean(nmes)), alignment_failure_rate=float(np.mean(failures)))

    def compute_test_suite_metrics(self, test_suite, metrics, configuration=None):
        return TestSuiteMetrics(
            variance_mean_nme=float(np.var([m.mean_nme for _, m in metrics])),
            variance_alignment_failure_rate=float(np.var([m.alignment_failure_rate for _, m in metrics])),
        )


# A deterministic model: the same five points (eye corners, nose, mouth corners) for every face.
TEMPLATE = [(100.0, 100.0), (200.0, 100.0), (150.0, 150.0), (110.0, 200.0), (190.0, 200.0)]


def infer(test_sample: TestSample) -> Inference:
    return Inference(Keypoints(TEMPLATE), 1.0)


def build_test_suite(df: pd.DataFrame):
    """Step 3: the seed's single test case over the whole dataset, and its suite."""
    test_samples = [TestSample(locator) for locator in df["locator"]]
    ground_truths = [
        GroundTruth(keypoints=Keypoints(json.loads(record.points)), normalization_factor=record.normalization_factor)
        for record in df.itertuples()
    ]
    ts_with_gt = list(zip(test_samples, ground_truths))  # the seed's `test_sample` typo fixed
    complete_test_case = TestCase(f"{DATASET} :: basic", test_samples=ts_with_gt)
    return TestSuite(f"{DATASET} :: basic", test_cases=[complete_test_case])


def main(metadata_csv: str | None = None):
    df = pd.read_csv(metadata_csv or f"{BUCKET}/{DATASET}/meta/metadata.csv")
    test_suite = build_test_suite(df)
    evaluator = KeypointsEvaluator(configurations=[NmeThreshold(0.01), NmeThreshold(0.05), NmeThreshold(0.1)])
    model = Model("example-model-name", infer=infer, metadata=dict(description="Any freeform metadata can go here"))
    return test(model, test_suite, evaluator)


if __name__ == "__main__":
    results = main(sys.argv[1] if len(sys.argv) > 1 else None)
    for case in results.cases:
        print(f"{case.name} [{case.configuration_name}]: {case.metrics}")
    print(f"suite: {results.suite_metrics}")
