"""Bad inputs in real sessions, on a copy of the embedded suite: each one named (file, row, column or sample) and
failing the run, never a silently wrong metric."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

# imported once here: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
import pytest_kolena.data  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "examples" / "data" / "300-W" / "meta" / "metadata.csv"

MODULE = """
import pytest
from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, mean_shape_model

@pytest.mark.kolena(models=[mean_shape_model], evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
                    thresholds={"mean_nme": "<= 0.5"}, columns={"points": "keypoints"})
def test_kp(kolena_result):
    pass
"""


@pytest.fixture
def suite_copy(pytester: pytest.Pytester):
    """Write the embedded suite's metadata, changed by `edit`, as the project's suite 300-W."""

    def write(edit) -> Path:
        frame = pd.read_csv(CSV)
        edit(frame)
        folder = pytester.path / "data" / "300-W" / "meta"
        folder.mkdir(parents=True)
        frame.to_csv(folder / "metadata.csv", index=False)
        pytester.makeini("[pytest]\nkolena_data = data\nkolena_suite = 300-W\n")
        pytester.makeconftest(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n")
        pytester.makepyfile(test_kp=MODULE)
        return folder / "metadata.csv"

    return write


@pytest.mark.parametrize("factor", [-15.0, 0.0, float("inf")])
def test_a_bad_normalization_factor_fails_naming_the_sample_and_the_field(pytester, suite_copy, factor):
    def edit(frame):
        frame.loc[7, "normalization_factor"] = factor

    suite_copy(edit)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            f"*/images/einstein-007.jpg: GroundTruth.normalization_factor is {factor}: the NME divides by it, it must be > 0"
        ]
    )


def test_an_infinite_coordinate_fails_naming_file_row_and_column(pytester, suite_copy):
    def edit(frame):
        frame.loc[3, "points"] = re.sub(r"^\[\[[-\d.]+", "[[-Infinity", frame.loc[3, "points"])

    path = suite_copy(edit)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error
    result.stdout.fnmatch_lines(
        [f"*{path}, row 4 (line 5), column 'points': NaN or an infinite number in the points: *-Infinity*"]
    )


def test_a_csv_in_another_encoding_names_the_file_line_and_the_way_out(pytester, suite_copy):
    def edit(frame):
        frame.loc[5, "source"] = "Zürich"

    path = suite_copy(edit)
    path.write_bytes(path.read_text().encode("latin-1"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            f"*{path}: line 7 is not utf-8 (byte 0xfc): save the file as UTF-8, or give its encoding with the kolena_encoding ini key*"
        ]
    )
    assert pytester.runpytest("-p", "no:cacheprovider", "-o", "kolena_encoding=latin-1").ret == 0


def test_a_repeated_column_name_is_an_error_naming_it(pytester, suite_copy):
    path = suite_copy(lambda frame: None)
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("blur_radius", "roll_deg")
    path.write_text("\n".join(lines) + "\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"*{path}: the header repeats column(s) 'roll_deg': each column needs one name"])


def test_a_baseline_path_that_does_not_exist_is_an_error_not_a_silent_pass(pytester, suite_copy):
    suite_copy(lambda frame: None)
    result = pytester.runpytest("-p", "no:cacheprovider", "--kolena-baseline=kolena-baseline/")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*baseline */kolena-baseline/ does not exist: give an existing baseline file or folder*"]
    )
    written = pytester.runpytest(
        "-p", "no:cacheprovider", "--kolena-baseline=kolena-baseline/", "--kolena-update-baseline"
    )
    assert written.ret == 0
    compared = pytester.runpytest("-p", "no:cacheprovider", "--kolena-baseline=kolena-baseline/")
    compared.stdout.fnmatch_lines(["kolena: compared with the baseline */kolena-baseline/"])


def test_a_pattern_that_matches_no_test_case_is_a_collection_error_listing_them(pytester, suite_copy):
    suite_copy(lambda frame: None)
    pytester.makeini("[pytest]\nkolena_data = data\nkolena_suite = 300-W\nkolena_stratify = mirrored\n")
    pytester.makepyfile(test_kp=MODULE.replace('{"mean_nme": "<= 0.5"}', '{"*mirored True": {"mean_nme": "<= 0.5"}}'))
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*test_kp: the thresholds pattern '*mirored True' matches no test case of the selected suites; "
            "test cases: 300-W :: basic, 300-W :: mirrored False, 300-W :: mirrored True, 300-W (suite metrics)"
        ]
    )


def test_an_unannotated_evaluator_holds_suite_metrics_to_their_thresholds_on_the_suite_item_only(pytester, suite_copy):
    suite_copy(lambda frame: None)
    pytester.makepyfile(
        test_kp="""
import pytest
from examples.quickstart.quickstart import KeypointsEvaluator, NmeThreshold, infer, Model

@pytest.mark.kolena(models=[Model("template", infer=infer)], evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
                    thresholds={"mean_nme": "<= 100", "variance_mean_nme": "<= 1"}, columns={"points": "keypoints"})
def test_kp(kolena_result):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=2)


def test_the_inference_cache_says_what_it_served_and_ignores_inferences_of_changed_code(
    pytester, suite_copy, monkeypatch
):
    suite_copy(lambda frame: None)
    pytester.makepyfile(
        test_kp="""
import os
import pytest
from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, mean_shape_model
from examples.quickstart.quickstart import Model

def before(test_sample):
    return mean_shape_model.infer(test_sample)

def after(test_sample):  # the model's code changed; its version did not
    inference = mean_shape_model.infer(test_sample)
    return inference

MODEL = Model("cached", infer=before if os.environ["CODE"] == "before" else after, metadata={"version": "1"})

@pytest.mark.kolena(models=[MODEL], evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]), columns={"points": "keypoints"})
def test_kp(kolena_result):
    pass
"""
    )
    monkeypatch.setenv("CODE", "before")
    pytester.runpytest("-p", "no:cacheprovider").stdout.fnmatch_lines(
        ["inference of cached: 300 inferred, 0 from the cache"]
    )
    pytester.runpytest("-p", "no:cacheprovider").stdout.fnmatch_lines(
        ["inference of cached: 0 inferred, 300 from the cache"]
    )
    monkeypatch.setenv("CODE", "after")
    pytester.runpytest("-p", "no:cacheprovider").stdout.fnmatch_lines(
        [
            "inference of cached: 300 inferred, 0 from the cache (300 cached by other code of infer ignored: the code changed)"
        ]
    )


def test_a_csv_in_utf_16_or_with_a_byte_order_mark_loads(pytester, suite_copy):
    """The CSV is read from its bytes in the given encoding: UTF-16 (two bytes a character) and a UTF-8 byte order
    mark (what Excel writes) load as the same suite."""
    path = suite_copy(lambda frame: None)
    text = path.read_text()
    path.write_bytes(text.encode("utf-16"))
    assert pytester.runpytest("-p", "no:cacheprovider", "-o", "kolena_encoding=utf-16").ret == 0
    path.write_bytes(text.encode("utf-8-sig"))
    assert pytester.runpytest("-p", "no:cacheprovider").ret == 0
