"""Binary classification of breast masses, malignant or benign, from 30 features of a biopsy image.

A test sample is one fine needle aspirate (FNA): its 30 features inline, in sklearn's order (`split.py`), and a
locator naming its row in sklearn's bundled data. The ground truth is the diagnosis; an inference is the model's
probability that the mass is malignant. Malignant is the positive class (a screening test: a missed cancer is the
costly error), although sklearn codes it 0.

The evaluator's configurations are decision thresholds: a sample is called malignant when its score is at or above
the threshold. Per test case: accuracy, recall (sensitivity), specificity, precision, F1 and ROC AUC, a confusion
matrix and a ROC curve. A metric a test case cannot define is NaN, and `undefined` says which and why:

- ROC AUC needs both classes: NaN on a test case of one class;
- recall needs a malignant sample, specificity a benign one;
- precision needs a sample called malignant: NaN when none is (sklearn's default would give 0 with a warning,
  which reads as "every call was wrong" when no call was made); F1 = 2TP / (2TP + FP + FN) is then 0 if the test
  case has malignant samples (all missed), NaN if it has none.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import roc_curve

from examples.classification.split import NEGATIVE, POSITIVE
from pytest_kolena.workflow import (
    ConfusionMatrix,
    Curve,
    CurvePlot,
    Evaluator,
    EvaluatorConfiguration,
    Metadata,
    MetricsTestCase,
    MetricsTestSample,
    MetricsTestSuite,
    Plot,
    define_workflow,
)
from pytest_kolena.workflow import GroundTruth as GT
from pytest_kolena.workflow import Inference as Inf
from pytest_kolena.workflow import TestSample as Sample
from pytest_kolena.workflow.annotation import ClassificationLabel, ScoredClassificationLabel

LOCATOR_PREFIX = "sklearn://breast_cancer/"  # + the row number in sklearn.datasets.load_breast_cancer()


class Biopsy(Sample):
    """One fine needle aspirate: its row in sklearn's data, its 30 features, and metadata columns to stratify by."""

    locator: str
    features: list[float]
    metadata: Metadata = dataclasses.field(default_factory=dict)


class GroundTruth(GT):
    diagnosis: ClassificationLabel  # "malignant" or "benign"


class Inference(Inf):
    malignancy: ScoredClassificationLabel  # label "malignant", score its probability in [0, 1]


wf, TestCase, TestSuite, Model = define_workflow("Breast Cancer Diagnosis", Biopsy, GroundTruth, Inference)


class DecisionThreshold(EvaluatorConfiguration):
    threshold: float  # a score at or above it calls the sample malignant

    def display_name(self) -> str:
        return f"threshold-{self.threshold}"


CONFIGURATIONS = [DecisionThreshold(0.3), DecisionThreshold(0.5), DecisionThreshold(0.7)]


class SampleMetrics(MetricsTestSample):
    # first: a failure text ranks samples by the first sample metric when no other is behind the breached metric
    correct: bool
    called_malignant: bool
    detected: Optional[bool]  # a malignant sample called malignant; None on a benign sample
    cleared: Optional[bool]  # a benign sample called benign; None on a malignant sample
    score: float  # the inference's probability of malignancy, for a look at the samples


class CaseMetrics(MetricsTestCase):
    n_samples: int
    n_malignant: int
    accuracy: float = dataclasses.field(metadata={"better": "higher", "mean_of": "correct"})
    recall: float = dataclasses.field(metadata={"better": "higher", "mean_of": "detected"})  # sensitivity
    specificity: float = dataclasses.field(metadata={"better": "higher", "mean_of": "cleared"})
    precision: float = dataclasses.field(metadata={"better": "higher"})
    f1: float = dataclasses.field(metadata={"better": "higher"})
    roc_auc: float = dataclasses.field(metadata={"better": "higher"})
    undefined: str = ""  # the metrics that are NaN on this test case, and why


class SuiteMetrics(MetricsTestSuite):
    worst_recall: float  # the lowest recall of a test case: the stratum where most cancers are missed
    worst_roc_auc: float


def _check(test_sample: Biopsy, ground_truth: GroundTruth, inference: Inference) -> None:
    """A label or a score the metrics cannot use is an error naming the sample, never a silently wrong metric."""
    if ground_truth.diagnosis.label not in (POSITIVE, NEGATIVE):
        raise ValueError(
            f"{test_sample.locator}: GroundTruth.diagnosis is {ground_truth.diagnosis.label!r}, "
            f"not {POSITIVE!r} or {NEGATIVE!r}"
        )
    malignancy = inference.malignancy
    if malignancy.label != POSITIVE or not (0.0 <= malignancy.score <= 1.0):
        raise ValueError(
            f"{test_sample.locator}: Inference.malignancy is ({malignancy.label!r}, {malignancy.score}): "
            f"expected label {POSITIVE!r} with a probability in [0, 1]"
        )


def roc_auc(truth: np.ndarray, scores: np.ndarray) -> float:
    """The area under the ROC curve as the Mann-Whitney statistic (ties count half): the chance that a random
    malignant sample scores above a random benign one. Equal to sklearn's `roc_auc_score`, about 20 times faster,
    which matters in the regression gate's bootstrap (the metric is recomputed on every resample). NaN on one
    class."""
    n_positive = int(truth.sum())
    n_negative = len(truth) - n_positive
    if n_positive == 0 or n_negative == 0:
        return math.nan
    ranks = rankdata(scores)
    return float((ranks[truth].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def case_metrics(truth: np.ndarray, scores: np.ndarray, threshold: float) -> CaseMetrics:
    """The metrics of one test case from its labels (True: malignant) and scores."""
    called = scores >= threshold
    tp, fp = int((called & truth).sum()), int((called & ~truth).sum())
    fn, tn = int((~called & truth).sum()), int((~called & ~truth).sum())
    n_malignant, n_benign = tp + fn, fp + tn
    undefined = []
    if n_malignant == 0 or n_benign == 0:
        missing = POSITIVE if n_malignant == 0 else NEGATIVE
        undefined.append(f"roc_auc: no {missing} sample")
    if n_malignant == 0:
        undefined.append(f"recall: no {POSITIVE} sample")
    if n_benign == 0:
        undefined.append(f"specificity: no {NEGATIVE} sample")
    if tp + fp == 0:
        undefined.append(f"precision: no sample called {POSITIVE} at threshold {threshold:g}")
    if 2 * tp + fp + fn == 0:
        undefined.append(f"f1: no {POSITIVE} sample and none called {POSITIVE}")
    return CaseMetrics(
        n_samples=len(truth),
        n_malignant=n_malignant,
        accuracy=_ratio(tp + tn, len(truth)),
        recall=_ratio(tp, tp + fn),
        specificity=_ratio(tn, tn + fp),
        precision=_ratio(tp, tp + fp),
        f1=_ratio(2 * tp, 2 * tp + fp + fn),
        roc_auc=roc_auc(truth, scores),
        undefined="; ".join(undefined),
    )


def _threshold(configuration: EvaluatorConfiguration | None) -> float:
    return configuration.threshold if isinstance(configuration, DecisionThreshold) else 0.5


def _arrays(inferences: list) -> tuple[np.ndarray, np.ndarray]:
    """The labels (True: malignant) and the scores of a test case's samples."""
    truth = np.array([gt.diagnosis.label == POSITIVE for _, gt, _ in inferences], dtype=bool)
    scores = np.array([inference.malignancy.score for _, _, inference in inferences], dtype=float)
    return truth, scores


class ClassificationEvaluator(Evaluator):
    """Per sample, the call at the configured threshold; per test case, the metrics above and two plots; per
    suite, the weakest test case's recall and ROC AUC."""

    once_per_sample = True  # the sample metrics do not depend on the test case

    def compute_test_sample_metrics(
        self, test_case, inferences, configuration: DecisionThreshold | None = None
    ) -> list[tuple[Biopsy, SampleMetrics]]:
        threshold = _threshold(configuration)
        out = []
        for test_sample, ground_truth, inference in inferences:
            _check(test_sample, ground_truth, inference)
            malignant = ground_truth.diagnosis.label == POSITIVE
            score = inference.malignancy.score
            called = score >= threshold
            metrics = SampleMetrics(
                correct=called == malignant,
                called_malignant=called,
                detected=called if malignant else None,
                cleared=None if malignant else not called,
                score=score,
            )
            out.append((test_sample, metrics))
        return out

    def compute_test_case_metrics(
        self, test_case, inferences, metrics: list[SampleMetrics], configuration: DecisionThreshold | None = None
    ) -> CaseMetrics:
        truth, scores = _arrays(inferences)
        return case_metrics(truth, scores, _threshold(configuration))

    def compute_test_case_plots(
        self, test_case, inferences, metrics: list[SampleMetrics], configuration: DecisionThreshold | None = None
    ) -> list[Plot]:
        truth, scores = _arrays(inferences)
        threshold = _threshold(configuration)
        called = scores >= threshold
        matrix = [
            [int((truth & called).sum()), int((truth & ~called).sum())],
            [int((~truth & called).sum()), int((~truth & ~called).sum())],
        ]
        plots: list[Plot] = [
            ConfusionMatrix(
                title=f"Confusion matrix at threshold {threshold:g}", labels=[POSITIVE, NEGATIVE], matrix=matrix
            )
        ]
        if truth.any() and not truth.all():  # a ROC curve needs both classes
            fpr, tpr, _ = roc_curve(truth, scores)
            curve = Curve(x=fpr.tolist(), y=tpr.tolist(), label=f"AUC {roc_auc(truth, scores):.3f}")
            plots.append(
                CurvePlot(
                    title="ROC curve", x_label="false positive rate", y_label="true positive rate", curves=[curve]
                )
            )
        return plots

    def compute_test_suite_metrics(
        self, test_suite, metrics: list[tuple], configuration: DecisionThreshold | None = None
    ) -> SuiteMetrics:
        def worst(name: str) -> float:
            values = [getattr(m, name) for _, m in metrics if not math.isnan(getattr(m, name))]
            return min(values) if values else math.nan

        return SuiteMetrics(worst_recall=worst("recall"), worst_roc_auc=worst("roc_auc"))
