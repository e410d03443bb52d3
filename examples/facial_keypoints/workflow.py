"""Facial keypoints on the 300-W format: the seed quickstart's workflow done for real.

The data types are the seed's (`examples/quickstart/quickstart.py`). The evaluator computes, per sample, the
normalized mean error (NME: mean point-to-point distance over the normalization factor, the inter-ocular
distance here) and the alignment failure (NME above the configured threshold); per test case, the mean NME, the
failure rate, and the field's cumulative error distribution (CED) as a curve with its area up to NME 0.08; per
suite, the variance of both across test cases.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from examples.facial_keypoints import mean_shape
from examples.quickstart.quickstart import (
    GroundTruth,
    Inference,
    Model,
    NmeThreshold,
    TestSample,
    TestSampleMetrics,
    normalized_mean_error,
    wf,
)
from pytest_kolena.workflow import Curve, CurvePlot, Evaluator, MetricsTestCase, MetricsTestSuite
from pytest_kolena.workflow.annotation import Keypoints

__all__ = ["GroundTruth", "Inference", "NmeThreshold", "TestSample", "wf"]

CED_LIMIT = 0.08  # the 300-W convention: the CED and its AUC are taken up to NME 0.08
CED_STEPS = np.linspace(0, CED_LIMIT, 81)
CONFIGURATIONS = [NmeThreshold(0.05), NmeThreshold(0.08), NmeThreshold(0.1)]


class KeypointsCaseMetrics(MetricsTestCase):
    # "better" tells regression checks which way is a worsening, once, here
    mean_nme: float = dataclasses.field(metadata={"better": "lower"})
    alignment_failure_rate: float = dataclasses.field(metadata={"better": "lower"})
    ced_auc: float = dataclasses.field(metadata={"better": "higher"})  # area under the CED up to NME 0.08, over 0.08
    n_samples: int = dataclasses.field(metadata={"better": "higher"})


class KeypointsSuiteMetrics(MetricsTestSuite):
    variance_mean_nme: float
    variance_alignment_failure_rate: float


def cumulative_error(nmes: np.ndarray) -> np.ndarray:
    """The fraction of samples with an NME at or below each step of CED_STEPS."""
    if len(nmes) == 0:
        return np.full(len(CED_STEPS), np.nan)
    return (np.sort(nmes)[None, :] <= CED_STEPS[:, None]).mean(axis=1)


def ced_auc(nmes: np.ndarray) -> float:
    """Area under the CED up to CED_LIMIT, normalized to [0, 1] (trapezoids)."""
    ced = cumulative_error(nmes)
    return float(np.sum((ced[1:] + ced[:-1]) / 2 * np.diff(CED_STEPS)) / CED_LIMIT)


class KeypointsEvaluator(Evaluator):
    """NME per sample; mean NME, failure rate, CED and its AUC per test case; their variance per suite."""

    def compute_test_sample_metrics(self, test_case, inferences, configuration=None) -> list:
        threshold = configuration.threshold if configuration else 0.08
        out = []
        for test_sample, ground_truth, inference in inferences:
            nme = normalized_mean_error(ground_truth, inference, test_sample)
            out.append((test_sample, TestSampleMetrics(normalized_mean_error=nme, alignment_failure=nme > threshold)))
        return out

    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None) -> KeypointsCaseMetrics:
        nmes = np.array([m.normalized_mean_error for m in metrics])
        failures = np.array([m.alignment_failure for m in metrics], dtype=float)
        return KeypointsCaseMetrics(
            mean_nme=float(nmes.mean()) if len(nmes) else float("nan"),
            alignment_failure_rate=float(failures.mean()) if len(failures) else float("nan"),
            ced_auc=ced_auc(nmes),
            n_samples=len(nmes),
        )

    def compute_test_case_plots(self, test_case, inferences, metrics, configuration=None) -> list:
        nmes = np.array([m.normalized_mean_error for m in metrics])
        curve = Curve(x=CED_STEPS.tolist(), y=cumulative_error(nmes).tolist(), label=test_case.name)
        return [
            CurvePlot(
                title="Cumulative error distribution", x_label="NME", y_label="fraction of samples", curves=[curve]
            )
        ]

    def compute_test_suite_metrics(self, test_suite, metrics, configuration=None) -> KeypointsSuiteMetrics:
        return KeypointsSuiteMetrics(
            variance_mean_nme=float(np.var([m.mean_nme for _, m in metrics])),
            variance_alignment_failure_rate=float(np.var([m.alignment_failure_rate for _, m in metrics])),
        )


class VectorisedKeypointsEvaluator(KeypointsEvaluator):
    """KeypointsEvaluator with its sample metrics computed by numpy over the whole suite at once: the DataFrame form
    (`compute_test_sample_metrics_frame`), for suites of 10^5 samples and more. Same metrics, same errors."""

    def compute_test_sample_metrics_frame(self, frame, configuration=None) -> list:
        threshold = configuration.threshold if configuration else 0.08
        locators = frame["test_sample.locator"]
        factor = frame["ground_truth.normalization_factor"].to_numpy(dtype=float)
        bad = ~(np.isfinite(factor) & (factor > 0))
        if bad.any():
            first = int(bad.argmax())
            raise ValueError(
                f"{locators.iloc[first]}: GroundTruth.normalization_factor is {factor[first]}: the NME divides by it, "
                "it must be > 0"
            )
        expected, actual = frame["ground_truth.keypoints.points"], frame["inference.keypoints.points"]
        counts, inferred = expected.map(len).to_numpy(), actual.map(len).to_numpy()
        if (counts != inferred).any() or (counts != counts[0]).any():
            first = int(np.argmax((counts != inferred) | (counts != counts[0])))
            raise ValueError(
                f"{locators.iloc[first]}: {inferred[first]} inferred keypoints for {counts[first]} ground truth "
                "keypoints (or a number of keypoints other than the suite's first sample's)"
            )
        distances = np.linalg.norm(np.array(expected.tolist(), float) - np.array(actual.tolist(), float), axis=2)
        nme = distances.mean(axis=1) / factor
        return [
            TestSampleMetrics(normalized_mean_error=value, alignment_failure=failed)
            for value, failed in zip(nme.tolist(), (nme > threshold).tolist())
        ]


def mean_shape_infer(shape: np.ndarray):
    """A model that places `shape` (points in the unit square) in the sample's face box."""

    def infer(test_sample: TestSample) -> Inference:
        if test_sample.bbox is None:
            raise ValueError(f"{test_sample.locator}: the mean-shape model needs a face box (bbox)")
        box = test_sample.bbox
        (x1, y1), (x2, y2) = box.top_left, box.bottom_right
        points = np.array([x1, y1]) + shape * np.array([x2 - x1, y2 - y1])
        return Inference(Keypoints([tuple(p) for p in points.tolist()]), 1.0)

    return infer


MEAN_SHAPE = mean_shape.load()
mean_shape_model = Model(
    "mean-shape",
    infer=mean_shape_infer(MEAN_SHAPE),
    metadata={"description": "mean shape placed in the detector box", "version": "1"},
)
# the same model with its shape shrunk by 20% around its centre: what a regression looks like
degraded_model = Model(
    "mean-shape-degraded",
    infer=mean_shape_infer(MEAN_SHAPE.mean(axis=0) + 0.8 * (MEAN_SHAPE - MEAN_SHAPE.mean(axis=0))),
    metadata={"description": "deliberately degraded mean shape, for tests", "version": "1"},
)
