"""Suites from metadata CSVs: the embedded 300-W suite, typed rows, stratified test cases, local and on S3."""

import json
from pathlib import Path

import pandas as pd

from examples.quickstart import quickstart as qs
from pytest_kolena.data import StorageOptions, Stratify, list_suites, load_suite
from pytest_kolena.workflow import GroundTruth, Image, Metadata, define_workflow
from pytest_kolena.workflow.annotation import BoundingBox, Keypoints

EXAMPLES_DATA = Path(__file__).resolve().parents[1] / "examples" / "data"

ROOT = str(EXAMPLES_DATA)
COLUMNS = {"points": "keypoints"}
STRATA = [Stratify.categorical("occlusion"), Stratify.quantiles("roll_deg", 4), "blur_radius"]


def test_embedded_suite_rows_become_typed_samples():
    suite = load_suite(qs.wf, "300-W", ROOT, columns=COLUMNS)
    frame = pd.read_csv(EXAMPLES_DATA / "300-W" / "meta" / "metadata.csv")
    (case,) = suite.test_cases
    assert case.name == "300-W :: basic" and suite.name == "300-W"
    pairs = case.load_test_samples()
    assert len(pairs) == len(frame) == 300
    sample, truth = pairs[7]
    assert sample.locator == str(EXAMPLES_DATA / "300-W" / frame.locator[7])
    x1, y1, x2, y2 = json.loads(frame.bbox[7])
    assert sample.bbox == BoundingBox((x1, y1), (x2, y2))
    assert truth.keypoints == Keypoints([tuple(p) for p in json.loads(frame.points[7])])
    assert truth.normalization_factor == frame.normalization_factor[7]
    assert all(type(x) is float for point in truth.keypoints.points for x in point)


def test_stratified_test_cases_partition_the_suite():
    suite = load_suite(qs.wf, "300-W", ROOT, columns=COLUMNS, stratify=STRATA)
    frame = pd.read_csv(EXAMPLES_DATA / "300-W" / "meta" / "metadata.csv")
    sizes = {tc.name: len(tc) for tc in suite.test_cases}
    assert {name: size for name, size in sizes.items() if "occlusion" in name} == {
        f"300-W :: occlusion {value}": count for value, count in frame.occlusion.value_counts().items()
    }
    roll = {name: size for name, size in sizes.items() if "roll_deg" in name}
    assert len(roll) == 4 and sum(roll.values()) == 300 and min(roll.values()) >= 74  # equal height
    low, high = frame.roll_deg.min(), frame.roll_deg.max()
    assert f"300-W :: roll_deg {low:g} to {frame.roll_deg.quantile(0.25):g}" in roll
    assert any(name.endswith(f"to {high:g}") for name in roll)
    assert sorted(n for n in sizes if "blur_radius" in n) == [
        f"300-W :: blur_radius {v}" for v in ("0.0", "1.0", "2.0", "3.0")
    ]
    everything = {ts.locator for ts, _ in suite.test_cases[0].load_test_samples()}
    blurred = [tc for tc in suite.test_cases if "blur_radius" in tc.name]
    assert set().union(*({ts.locator for ts, _ in tc.load_test_samples()} for tc in blurred)) == everything


def test_equal_width_and_explicit_bins():
    suite = load_suite(
        qs.wf, "300-W", ROOT, columns=COLUMNS, stratify=["scale:width:3", "rotation_deg:edges:-40,-10,10,40"]
    )
    frame = pd.read_csv(EXAMPLES_DATA / "300-W" / "meta" / "metadata.csv")
    width = {tc.name: len(tc) for tc in suite.test_cases if "scale" in tc.name}
    edges = [frame.scale.min() + i * (frame.scale.max() - frame.scale.min()) / 3 for i in range(4)]
    expected_first = int(((frame.scale >= edges[0]) & (frame.scale < edges[1])).sum())
    assert next(iter(width.values())) == expected_first and sum(width.values()) == 300
    rotation = {tc.name: len(tc) for tc in suite.test_cases if "rotation_deg" in tc.name}
    assert rotation["300-W :: rotation_deg -10 to 10"] == int(
        ((frame.rotation_deg >= -10) & (frame.rotation_deg < 10)).sum()
    )


def test_unmapped_columns_become_metadata_when_the_sample_declares_it(tmp_path):
    class FaceWithMetadata(Image):
        bbox: BoundingBox | None = None
        metadata: Metadata = None

    class Face(GroundTruth):
        keypoints: Keypoints
        normalization_factor: float

    wf, *_ = define_workflow("with metadata", FaceWithMetadata, Face, qs.Inference)
    suite = load_suite(wf, "300-W", ROOT, columns=COLUMNS)
    sample, _ = suite.test_cases[0].load_test_samples()[0]
    frame = pd.read_csv(EXAMPLES_DATA / "300-W" / "meta" / "metadata.csv")
    assert sample.metadata["occlusion"] == frame.occlusion[0]
    assert sample.metadata["roll_deg"] == frame.roll_deg[0] and type(sample.metadata["roll_deg"]) is float
    assert sample.metadata["mirrored"] is bool(frame.mirrored[0])
    assert set(sample.metadata) == set(frame.columns) - {"locator", "points", "bbox", "normalization_factor"}


def test_four_box_columns_map_to_one_bounding_box(tmp_path):
    suite_dir = tmp_path / "faces" / "meta"
    suite_dir.mkdir(parents=True)
    (suite_dir / "metadata.csv").write_text(
        'locator,x1,y1,x2,y2,normalization_factor,points\ns3://b/a.png,1,2,30,40,10,"[[1, 2]]"\n'
    )
    suite = load_suite(qs.wf, "faces", str(tmp_path), columns={"points": "keypoints", ("x1", "y1", "x2", "y2"): "bbox"})
    sample, truth = suite.test_cases[0].load_test_samples()[0]
    assert sample == qs.TestSample("s3://b/a.png", BoundingBox((1, 2), (30, 40)))  # absolute locators stay as they are
    assert truth.keypoints == Keypoints([(1.0, 2.0)])


def test_list_suites():
    assert "300-W" in list_suites(ROOT)


def test_same_suite_from_s3_as_from_the_local_folder(s3_data_root, s3_endpoint):
    options = StorageOptions(endpoint_url=s3_endpoint)
    remote = load_suite(qs.wf, "300-W", s3_data_root, columns=COLUMNS, stratify=STRATA, options=options)
    local = load_suite(qs.wf, "300-W", ROOT, columns=COLUMNS, stratify=STRATA)
    assert [tc.name for tc in remote.test_cases] == [tc.name for tc in local.test_cases]
    local_prefix, remote_prefix = str(EXAMPLES_DATA / "300-W") + "/", f"{s3_data_root}/300-W/"
    for remote_case, local_case in zip(remote.test_cases, local.test_cases, strict=True):
        for (r_ts, r_gt), (l_ts, l_gt) in zip(
            remote_case.load_test_samples(), local_case.load_test_samples(), strict=True
        ):
            assert r_gt == l_gt
            assert r_ts.bbox == l_ts.bbox
            assert r_ts.locator.removeprefix(remote_prefix) == l_ts.locator.removeprefix(local_prefix)
            assert r_ts.locator.startswith(remote_prefix)
    assert list_suites(s3_data_root, options) == ["300-W"]


def test_endpoint_from_the_environment(s3_data_root, s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    suite = load_suite(qs.wf, "300-W", s3_data_root, columns=COLUMNS)
    assert len(suite.test_cases[0]) == 300
