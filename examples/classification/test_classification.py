"""The kolena test of the classification example: `pytest --kolena-suite=breast-cancer`.

Both classifiers against thresholds, at three decision thresholds, on the whole held-out half and on its strata.
With `--kolena-baseline`, the gradient-boosted trees (the challenger) are judged against the stored run of the
logistic regression (the champion), sample by sample:

    pytest --kolena-suite=breast-cancer --kolena-tag=champion        # store the runs (on main)
    pytest --kolena-suite=breast-cancer --kolena-baseline=champion   # the challenger against the champion
"""

import pytest

from examples.classification.models import classifier_model
from examples.classification.workflow import CONFIGURATIONS, ClassificationEvaluator, Model, wf

THRESHOLDS = {
    "roc_auc": ">= 0.95",
    "recall": ">= 0.85",  # sensitivity: the share of cancers called malignant
    "accuracy": ">= 0.9",
    "worst_roc_auc": ">= 0.9",  # a suite metric: the weakest test case
    "basic": {"f1": ">= 0.9"},
    # borderline sizes are where cancers get missed: a lower floor, still far above a broken model
    "*size medium": {"recall": ">= 0.7"},
    # 3 malignant samples in 76: one miss is a recall of 0.67, one misranked cancer can cost 0.1 of AUC
    "*size small": {"recall": ">= 0.6", "roc_auc": ">= 0.9"},
}


@pytest.fixture(scope="session")
def logistic_regression() -> Model:
    """The champion, fitted once per session."""
    return classifier_model("logistic-regression")


@pytest.fixture(scope="session")
def gradient_boosting() -> Model:
    """The challenger, fitted once per session."""
    return classifier_model("gradient-boosting")


@pytest.mark.kolena(
    models=["logistic_regression", "gradient_boosting"],
    workflow=wf,  # needed when every model is a fixture name
    evaluator=ClassificationEvaluator(configurations=CONFIGURATIONS),
    thresholds=THRESHOLDS,
    regression={"recall": "+0", "accuracy": "+0", "roc_auc": "+0.02"},  # against --kolena-baseline, when given
    baseline_models={"gradient-boosting": "logistic-regression"},
    stratify=["size", "texture"],  # replaces the ini's kolena_stratify, which is 300-W's
    suites=["breast-cancer"],
)
def test_classification(kolena_result):
    if kolena_result.test_case is not None:
        assert kolena_result.metrics.n_samples == len(kolena_result.samples)
