"""The seed quickstart, run start to end offline, with its numbers checked against hand computation."""

import json

import pandas as pd
import pytest

from examples.quickstart import quickstart as qs
from pytest_kolena.workflow import test
from pytest_kolena.workflow.annotation import Keypoints

# Each face is the model's template moved by (dx, dy): every point is off by the same distance.
SHIFTS = {"a.png": (3, 4), "b.png": (6, 8), "c.png": (0, 0), "d.png": (5, 12)}  # distances 5, 10, 0, 13
NORMALIZATION = {"a.png": 100.0, "b.png": 100.0, "c.png": 50.0, "d.png": 130.0}  # NME 0.05, 0.1, 0.0, 0.1


@pytest.fixture
def metadata_csv(tmp_path):
    rows = [
        {
            "locator": f"s3://bucket/300-W/{name}",
            "normalization_factor": NORMALIZATION[name],
            "points": json.dumps([[x + dx, y + dy] for x, y in qs.TEMPLATE]),
        }
        for name, (dx, dy) in SHIFTS.items()
    ]
    path = tmp_path / "metadata.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def test_seed_quickstart_returns_hand_computed_metrics(metadata_csv):
    results = qs.main(metadata_csv)

    assert results.n_samples == 4 and results.n_failed == 0
    assert [c.configuration_name for c in results.cases] == [
        "nme-threshold-0.01",
        "nme-threshold-0.05",
        "nme-threshold-0.1",
    ]
    # NMEs 0.05, 0.1, 0.0, 0.1: mean 0.0625; failures are NME strictly above the threshold
    expected_failure_rate = {0.01: 3 / 4, 0.05: 2 / 4, 0.1: 0 / 4}
    for threshold, rate in expected_failure_rate.items():
        case = results.case("300-W :: basic", f"nme-threshold-{threshold}")
        assert case.metrics.mean_nme == pytest.approx(0.0625)
        assert case.metrics.alignment_failure_rate == pytest.approx(rate)
    sample_nmes = {s.test_sample.locator.rsplit("/", 1)[1]: s.metrics.normalized_mean_error for s in case.samples}
    assert sample_nmes == pytest.approx({"a.png": 0.05, "b.png": 0.1, "c.png": 0.0, "d.png": 0.1})
    # one test case: no variance across test cases
    assert results.test_suite_metrics("nme-threshold-0.05").variance_mean_nme == 0.0


def test_stratified_suite_variance_and_single_inference_per_sample(metadata_csv):
    df = pd.read_csv(metadata_csv)
    complete = qs.build_test_suite(df).test_cases[0]
    pairs = complete.load_test_samples()
    near = qs.TestCase("300-W :: near", test_samples=[p for p in pairs if p[0].locator.endswith(("a.png", "c.png"))])
    far = qs.TestCase("300-W :: far", test_samples=[p for p in pairs if p[0].locator.endswith(("b.png", "d.png"))])
    suite = qs.TestSuite("300-W :: strata", test_cases=[complete, near, far])
    calls = []

    def counting_infer(test_sample):
        calls.append(test_sample.locator)
        return qs.infer(test_sample)

    model = qs.Model("counting", infer=counting_infer)
    results = test(model, suite, qs.KeypointsEvaluator(configurations=[qs.NmeThreshold(0.05)]))

    assert sorted(calls) == sorted(f"s3://bucket/300-W/{n}" for n in SHIFTS)  # 8 memberships, 4 inferences
    assert results.case("300-W :: near").metrics.mean_nme == pytest.approx(0.025)
    assert results.case("300-W :: far").metrics.mean_nme == pytest.approx(0.1)
    assert results.case("300-W :: far").metrics.alignment_failure_rate == pytest.approx(1.0)
    means, rates = [0.0625, 0.025, 0.1], [0.5, 0.0, 1.0]
    suite_metrics = results.test_suite_metrics()
    assert suite_metrics.variance_mean_nme == pytest.approx(pd.Series(means).var(ddof=0))
    assert suite_metrics.variance_alignment_failure_rate == pytest.approx(pd.Series(rates).var(ddof=0))


def test_shipped_quickstart_data_runs(capsys):
    results = qs.main()
    assert results.ok
    assert results.case("300-W :: basic", "nme-threshold-0.1").metrics.mean_nme == pytest.approx(0.06875)


def test_ground_truth_points_from_json_are_float_pairs(metadata_csv):
    pairs = qs.build_test_suite(pd.read_csv(metadata_csv)).test_cases[0].load_test_samples()
    keypoints = pairs[0][1].keypoints
    assert isinstance(keypoints, Keypoints)
    assert keypoints.points[0] == (103.0, 104.0) and type(keypoints.points[0][0]) is float
