"""The kolena test of the facial keypoints example: `pytest examples --kolena-suite=300-W`."""

import pytest

from examples.facial_keypoints.workflow import CONFIGURATIONS, KeypointsEvaluator, mean_shape_model

THRESHOLDS = {
    "mean_nme": "<= 0.25",
    "variance_mean_nme": "<= 0.02",
    # the mean shape fits the usual pose: mirrored faces get a looser bound, the others a tighter one
    "*mirrored True": {"mean_nme": "<= 0.5"},
    "*mirrored False": {"mean_nme": "<= 0.15"},
}


@pytest.mark.kolena(
    models=[mean_shape_model],
    evaluator=KeypointsEvaluator(configurations=CONFIGURATIONS),
    thresholds=THRESHOLDS,
    regression={"mean_nme": "+2%", "ced_auc": "+0.01"},  # against --kolena-baseline, when given
    columns={"points": "keypoints"},
    suites=["300-W"],  # the keypoints workflow's suites: another --kolena-suite (breast-cancer) skips this test
)
def test_facial_keypoints(kolena_result):
    if kolena_result.test_case is not None:
        assert kolena_result.metrics.n_samples == len(kolena_result.samples)
