"""Champion and challenger: the mean-shape model in production, dlib's 68-point model proposed to replace it.

    pytest --kolena-suite=300-W --kolena-tag=champion        # on main: store both models' runs
    pytest --kolena-suite=300-W --kolena-baseline=champion   # compare dlib-68 with the stored mean-shape run

On the second run, `dlib-68` is judged against the champion's stored run, test case by test case, sample by sample
(`baseline_models`): where it is significantly worse, its item fails as regressed. Without the `examples` extra the
dlib items are skipped, with the command that installs it.
"""

import pytest

from examples.facial_keypoints.dlib_landmarks import dlib_landmarks_model, missing_reason
from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, mean_shape_model


@pytest.fixture(scope="session")
def dlib_landmarks():
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    return dlib_landmarks_model()


@pytest.mark.kolena(
    models=[mean_shape_model, "dlib_landmarks"],
    evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
    thresholds={"mean_nme": "<= 0.5"},  # a sanity bound: the gate here is the comparison with the champion
    regression={"mean_nme": "+2%"},
    baseline_models={"dlib-68": "mean-shape"},
    columns={"points": "keypoints"},
    stratify=["occlusion", "mirrored", "roll_deg:quantile:4", "blur_radius"],  # where does each model fail?
    suites=["300-W"],
)
def test_champion_challenger(kolena_result):
    pass
