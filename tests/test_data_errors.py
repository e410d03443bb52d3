"""Each way a suite can be wrong gives one clear error: what, and where (file, row, column)."""

import re

import pytest

from examples.quickstart import quickstart as qs
from pytest_kolena.data import StorageOptions, Stratify, SuiteError, load_suite
from pytest_kolena.data.storage import Storage

HEADER = "locator,normalization_factor,points,occlusion\n"
GOOD = 'a.png,10,"[[1, 2], [3, 4]]",none\n'


@pytest.fixture
def write_suite(tmp_path):
    def write(text: str, name: str = "faces") -> str:
        folder = tmp_path / name / "meta"
        folder.mkdir(parents=True)
        (folder / "metadata.csv").write_text(text)
        return str(folder / "metadata.csv")

    return write


def load(root, name="faces", **kwargs):
    return load_suite(qs.wf, name, str(root), columns={"points": "keypoints"}, **kwargs)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ('b.png,ten,"[[1, 2], [3, 4]]",none\n', "row 2 (line 3), column 'normalization_factor': not a number: 'ten'"),
        (
            'b.png,10,"[[1, 2], [3, x]]",none\n',
            "row 2 (line 3), column 'points': not a list of numbers: '[[1, 2], [3, x]]'",
        ),
        (
            'b.png,10,"[[1, 2], [3, 4], [5, 6]]",none\nc.png,10,"[[1, 2], [3, 4]]",none\n',
            "row 2 (line 3), column 'points': wrong number of points: 3 where the other rows have 2",
        ),
        (
            'b.png,10,"[[1, 2], [3]]",none\n',
            "row 2 (line 3), column 'points': 3 numbers do not make (x, y) points: '[[1, 2], [3]]'",
        ),
        (
            'b.png,10,"[[1, 2], [NaN, 4]]",none\n',
            "row 2 (line 3), column 'points': NaN or an infinite number in the points: '[[1, 2], [NaN, 4]]'",
        ),
        (
            'b.png,10,"[[1, 2], [-Infinity, 4]]",none\n',
            "row 2 (line 3), column 'points': NaN or an infinite number in the points: '[[1, 2], [-Infinity, 4]]'",
        ),
        ("b.png,10,,none\n", "row 2 (line 3), column 'points': empty or NaN in a required field"),
        (
            'b.png,,"[[1, 2], [3, 4]]",none\n',
            "row 2 (line 3), column 'normalization_factor': empty or NaN in a required field",
        ),
        (',10,"[[1, 2], [3, 4]]",none\n', "row 2 (line 3), column 'locator': empty or NaN in a required field"),
        (
            'b.png,10,"[[1, 2], [3, 4]]",none\na.png,10,"[[1, 2], [3, 4]]",none\n',
            "rows 1 and 3 (lines 2 and 4) hold the same test sample (locator 'a.png')",
        ),
    ],
)
def test_bad_values_name_the_file_row_and_column(write_suite, tmp_path, rows, message):
    path = write_suite(HEADER + GOOD + rows)
    separator = ": " if message.startswith("rows") else ", "
    with pytest.raises(SuiteError, match=re.escape(f"{path}{separator}{message}")):
        load(tmp_path)


def test_missing_column_lists_the_columns(write_suite, tmp_path):
    path = write_suite('locator,points\na.png,"[[1, 2]]"\n')
    with pytest.raises(
        SuiteError,
        match=re.escape(
            f"{path}: missing column for the required field GroundTruth.normalization_factor; columns: locator, points"
        ),
    ):
        load(tmp_path)


def test_mapping_to_a_missing_column(write_suite, tmp_path):
    path = write_suite("locator,normalization_factor\na.png,1\n")
    with pytest.raises(
        SuiteError,
        match=re.escape(
            f"{path}: missing column 'points' (mapped to field 'keypoints'); columns: locator, normalization_factor"
        ),
    ):
        load(tmp_path)


def test_mapping_to_an_unknown_field(write_suite, tmp_path):
    write_suite(HEADER + GOOD)
    with pytest.raises(
        SuiteError, match="columns are mapped to 'landmarks', which is no field of TestSample or GroundTruth"
    ):
        load_suite(qs.wf, "faces", str(tmp_path), columns={"points": "keypoints", "occlusion": "landmarks"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        (HEADER, "a header (locator, normalization_factor, points, occlusion) but no rows"),
    ],
)
def test_empty_files(write_suite, tmp_path, text, message):
    path = write_suite(text)
    with pytest.raises(SuiteError, match=re.escape(f"{path}: {message}")):
        load(tmp_path)


def test_ragged_csv(write_suite, tmp_path):
    path = write_suite(HEADER + GOOD + 'b.png,10,"[[1, 2]]",none,extra,more\n')
    with pytest.raises(SuiteError, match=re.escape(f"{path}: not a readable CSV: Error tokenizing data")):
        load(tmp_path)


def test_unknown_suite_lists_the_suites_that_exist(write_suite, tmp_path):
    write_suite(HEADER + GOOD, name="faces")
    write_suite(HEADER + GOOD, name="cars")
    (tmp_path / "not-a-suite").mkdir()
    with pytest.raises(
        SuiteError,
        match=re.escape(
            f"suite 'people' not found: {tmp_path}/people/meta/metadata.csv does not exist; suites under {tmp_path}: cars, faces"
        ),
    ):
        load(tmp_path, name="people")


def test_stratification_errors(write_suite, tmp_path):
    path = write_suite(HEADER + GOOD)
    with pytest.raises(
        SuiteError,
        match=re.escape(
            f"{path}: cannot stratify by missing column 'age'; columns: locator, normalization_factor, points, occlusion"
        ),
    ):
        load(tmp_path, stratify=[Stratify.categorical("age")])
    with pytest.raises(
        SuiteError, match=re.escape(f"{path}, row 1 (line 2), column 'occlusion': not a number: 'none'")
    ):
        load(tmp_path, stratify=["occlusion:quantile:2"])
    with pytest.raises(
        SuiteError, match=re.escape("stratification 'occlusion:cubes:2': expected 'column', 'column:width:N'")
    ):
        Stratify.parse("occlusion:cubes:2")
    with pytest.raises(
        SuiteError,
        match=re.escape("stratification of 'age': edges must be two or more increasing numbers, got [3.0, 1.0]"),
    ):
        Stratify.edges("age", [3, 1])


def test_bad_value_of_an_optional_column_after_an_empty_one_names_its_row(write_suite, tmp_path):
    path = write_suite(
        'locator,normalization_factor,points,bbox\na.png,1,"[[1, 2]]",\nb.png,1,"[[1, 2]]","[1, 2, 3]"\n'
    )
    with pytest.raises(SuiteError, match=re.escape(f"{path}, row 2 (line 3), column 'bbox': a box needs 4 numbers")):
        load(tmp_path)


def test_value_the_type_refuses_names_the_row(write_suite, tmp_path):
    path = write_suite('locator,normalization_factor,points,bbox\na.png,1,"[[1, 2]]","[1, 2, 3]"\n')
    with pytest.raises(
        SuiteError,
        match=re.escape(
            f"{path}, row 1 (line 2), column 'bbox': a box needs 4 numbers [x1, y1, x2, y2], got 3: '[1, 2, 3]'"
        ),
    ):
        load(tmp_path)


def test_s3_unknown_suite_lists_the_bucket_suites(s3_data_root, s3_endpoint):
    with pytest.raises(
        SuiteError,
        match=re.escape(
            f"suite 'AFLW' not found: {s3_data_root}/AFLW/meta/metadata.csv does not exist; suites under {s3_data_root}: 300-W"
        ),
    ):
        load(s3_data_root, name="AFLW", options=StorageOptions(endpoint_url=s3_endpoint))


def test_s3_missing_bucket(s3_data_root, s3_endpoint):
    with pytest.raises(
        SuiteError,
        match=re.escape(
            f"s3://no-such-bucket/300-W/meta/metadata.csv: bucket 'no-such-bucket' does not exist at endpoint {s3_endpoint}"
        ),
    ):
        Storage("s3://no-such-bucket", StorageOptions(endpoint_url=s3_endpoint)).read_bytes(
            "s3://no-such-bucket/300-W/meta/metadata.csv"
        )


def test_s3_missing_key(s3_data_root, s3_endpoint):
    url = f"{s3_data_root}/300-W/meta/missing.csv"
    with pytest.raises(SuiteError, match=re.escape(f"{url}: no such key at endpoint {s3_endpoint}")):
        Storage(s3_data_root, StorageOptions(endpoint_url=s3_endpoint)).read_bytes(url)


def test_s3_refused_credentials(s3_endpoint, s3_endpoint_with_iam):
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    endpoint = s3_endpoint_with_iam
    with pytest.raises(SuiteError, match=re.escape(f"access refused by endpoint {endpoint} (")) as refused:
        load("s3://kolena-suites", name="300-W", options=StorageOptions(endpoint_url=endpoint))
    assert re.search(r"\((InvalidAccessKeyId|403)\): check the credentials \(AWS_ACCESS_KEY_ID", str(refused.value))


def test_s3_unreachable_endpoint(s3_endpoint):
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    endpoint = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(SuiteError, match=re.escape(f"cannot reach endpoint {endpoint}")):
        load("s3://kolena-suites", name="300-W", options=StorageOptions(endpoint_url=endpoint, connect_timeout=1))


def test_an_infinite_corner_of_a_four_column_box_names_its_row_and_column(tmp_path, write_suite):
    write_suite(
        'locator,x1,y1,x2,y2,normalization_factor,points\na.png,1,2,30,40,10,"[[1, 2]]"\nb.png,1,2,inf,40,10,"[[1, 2]]"\n'
    )
    with pytest.raises(
        SuiteError, match=re.escape("row 2 (line 3), column 'x2': NaN or an infinite number in the box")
    ):
        load_suite(qs.wf, "faces", str(tmp_path), columns={"points": "keypoints", ("x1", "y1", "x2", "y2"): "bbox"})
