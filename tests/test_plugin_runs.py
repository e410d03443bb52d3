"""Real pytest sessions with the plugin: items per model x test case x configuration, verdicts, summary, exit codes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
import pytest_kolena.data  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"

INI = f"""
[pytest]
kolena_data = {DATA}
kolena_stratify = mirrored
"""

TEST_MODULE = """
import math
import pytest
from examples.facial_keypoints.workflow import (
    CONFIGURATIONS, KeypointsEvaluator, NmeThreshold, degraded_model, mean_shape_model,
)

THRESHOLDS = {{"mean_nme": "<= 0.25", "variance_mean_nme": "<= 0.02", "*mirrored True": {{"mean_nme": "<= 0.5"}}, "*mirrored False": {{"mean_nme": "<= 0.15"}}}}

@pytest.mark.kolena(models={models}, evaluator=KeypointsEvaluator(configurations={configurations}), thresholds={thresholds}, columns={{"points": "keypoints"}})
def test_keypoints(kolena_result):
    {body}
"""


def write_project(
    pytester: pytest.Pytester,
    models: str = "[mean_shape_model]",
    configurations: str = "[NmeThreshold(0.08)]",
    thresholds: str = "THRESHOLDS",
    body: str = "pass",
    extra: str = "",
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_kp=TEST_MODULE.format(models=models, configurations=configurations, thresholds=thresholds, body=body)
        + extra
    )
    importable(pytester)


def importable(pytester: pytest.Pytester) -> None:
    """The example must import in every process of the run, xdist workers included: a conftest puts it on the path."""
    pytester.makeconftest(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n")
    pytester.syspathinsert(ROOT)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--kolena-suite=300-W", "-p", "no:randomly", *args)


def test_passing_model_items_and_summary(pytester):
    write_project(pytester, body="assert kolena_result.model.name == 'mean-shape'")
    result = run(pytester, "-v")
    assert result.ret == 0
    result.assert_outcomes(passed=4)  # basic, mirrored False, mirrored True, and the suite item
    result.stdout.fnmatch_lines(
        [
            "*test_keypoints?mean-shape-300-W:basic-nme-threshold-0.08? PASSED*",
            "*test_keypoints?mean-shape-300-W:mirrored_False-nme-threshold-0.08? PASSED*",
            "*test_keypoints?mean-shape-300-W-nme-threshold-0.08? PASSED*",
            "*kolena summary*",
            "kolena suite 300-W: 4 passed",
            "model*test case*configuration*mean_nme*verdict",
            "mean-shape*300-W :: basic*nme-threshold-0.08*0.1896*passed",
            "mean-shape*(suite)*nme-threshold-0.08*passed",
        ]
    )


def test_threshold_breach_fails_with_values_and_worst_samples(pytester):
    write_project(pytester, models="[degraded_model]")
    result = run(pytester)
    assert result.ret == 1
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_keypoints?mean-shape-degraded-300-W:mirrored_False-nme-threshold-0.08? _*",
            "model 'mean-shape-degraded' on 300-W :: mirrored False at nme-threshold-0.08: 1 of 1 thresholds breached",
            "  mean_nme = 0.17*, required <= 0.15",
            "  worst samples by normalized_mean_error:",
            f"    *  {DATA}/300-W/images/einstein-*.jpg (source einstein, rotation_deg *, mirrored False,*",
            "*kolena suite 300-W: 1 failed, 3 passed*",
        ]
    )


def test_nan_metric_never_passes(pytester):
    extra = """
class NanEvaluator(KeypointsEvaluator):
    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None):
        out = super().compute_test_case_metrics(test_case, inferences, metrics, configuration)
        return type(out)(mean_nme=math.nan, alignment_failure_rate=0.0, ced_auc=0.0, n_samples=out.n_samples)

@pytest.mark.kolena(models=[mean_shape_model], evaluator=NanEvaluator(configurations=[NmeThreshold(0.08)]), thresholds={"mean_nme": "<= 10"}, columns={"points": "keypoints"})
def test_nan(kolena_result):
    pass
"""
    write_project(pytester, extra=extra)
    result = run(pytester, "-k", "test_nan")
    assert result.ret == 1
    result.assert_outcomes(failed=3, passed=1)
    result.stdout.fnmatch_lines(["*1 of 1 thresholds breached", "  mean_nme = nan, required <= 10"])


def test_model_exception_is_an_error_of_its_items(pytester):
    extra = """
from examples.quickstart.quickstart import Model

def flaky(test_sample):
    if test_sample.locator.endswith("-007.jpg"):
        raise RuntimeError("GPU fell off the bus")
    return mean_shape_model.infer(test_sample)

flaky_model = Model("flaky", infer=flaky)

@pytest.mark.kolena(models=[flaky_model], evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]), thresholds={"mean_nme": "<= 1"}, columns={"points": "keypoints"})
def test_flaky(kolena_result):
    pass
"""
    write_project(pytester, extra=extra)
    result = run(pytester, "-k", "test_flaky")
    assert result.ret == 1
    result.assert_outcomes(errors=2, passed=2)  # einstein-007 is in basic and in one mirrored stratum
    result.stdout.fnmatch_lines(
        [
            "*model 'flaky': 1 of 300 samples of 300-W :: basic failed to infer; first, */einstein-007.jpg:",
            "*RuntimeError: GPU fell off the bus",
        ]
    )
    assert "During handling of the above exception" not in result.stdout.str()  # each error shown once
    # once for each of the two items (before the short summary, which pytest prints in full when CI is set)
    errors = result.stdout.str().split("short test summary info")[0]
    assert errors.count("RuntimeError: GPU fell off the bus") == 2


def test_evaluator_exception_is_an_error_of_the_case_it_touches(pytester):
    extra = """
class Picky(KeypointsEvaluator):
    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None):
        if test_case.name.endswith("mirrored True"):
            raise ZeroDivisionError("no mirrors please")
        return super().compute_test_case_metrics(test_case, inferences, metrics, configuration)

@pytest.mark.kolena(models=[mean_shape_model], evaluator=Picky(configurations=[NmeThreshold(0.08)]), thresholds={"mean_nme": "<= 1"}, columns={"points": "keypoints"})
def test_picky(kolena_result):
    pass
"""
    write_project(pytester, extra=extra)
    result = run(pytester, "-k", "test_picky")
    assert result.ret == 1
    result.assert_outcomes(passed=2, errors=2)  # the mirrored True case, and the suite metrics that need it
    result.stdout.fnmatch_lines(
        [
            "*evaluator on 300-W :: mirrored True (nme-threshold-0.08): compute_test_case_metrics raised ZeroDivisionError: no mirrors please",
            "*suite metrics of model 'mean-shape' on 300-W: compute_test_suite_metrics raised RuntimeError: not computed because test case(s) 300-W :: mirrored True failed to evaluate",
        ]
    )


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        (
            '{"mean_nmee": "<= 0.1"}',
            "unknown metric 'mean_nmee'; metrics: alignment_failure_rate, ced_auc, mean_nme, n_samples, variance_alignment_failure_rate, variance_mean_nme",
        ),
        (
            '{"mean_nme": "below 0.1"}',
            "threshold for 'mean_nme' is 'below 0.1': write it as an operator and a number, e.g. '<= 0.08' or '>= 0.9'",
        ),
        ('{"mean_nme": 0.1}', "threshold for 'mean_nme' is 0.1: write it as an operator and a number"),
    ],
)
def test_bad_marker_thresholds_are_collection_errors(pytester, thresholds, message):
    write_project(pytester, thresholds=thresholds)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ERROR collecting test_kp.py*", f"kolena: test_kp.py::test_keypoints: {message}*"])


def test_model_that_is_not_a_model_is_a_collection_error(pytester):
    write_project(pytester, models="[42]")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["kolena: test_kp.py::test_keypoints: models[0] is int 42, not a Model nor the name of a fixture returning one"]
    )


def test_unknown_suite_fails_at_once_listing_the_suites(pytester):
    write_project(pytester)
    result = pytester.runpytest("--kolena-suite=AFLW")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            f"kolena: --kolena-suite 'AFLW': suite not found: {DATA}/AFLW/meta/metadata.csv does not exist; suites under {DATA}: 300-W, breast-cancer"
        ]
    )


def test_model_given_as_a_fixture_name(pytester):
    extra = """
from examples.facial_keypoints.workflow import wf

@pytest.fixture
def my_model():
    return mean_shape_model

@pytest.mark.kolena(models=["my_model"], workflow=wf, evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]), thresholds={"mean_nme": "<= 1"}, columns={"points": "keypoints"})
def test_fixture_model(kolena_result):
    assert kolena_result.model is mean_shape_model
"""
    write_project(pytester, extra=extra)
    result = run(pytester, "-k", "test_fixture_model")
    result.assert_outcomes(passed=4)


def test_k_selects_items_by_test_case(pytester):
    write_project(pytester, configurations="CONFIGURATIONS")
    result = run(pytester, "-k", "mirrored_True and 0.05", "-v")
    result.assert_outcomes(passed=1, deselected=11)
    result.stdout.fnmatch_lines(["*test_keypoints?mean-shape-300-W:mirrored_True-nme-threshold-0.05? PASSED*"])


def test_last_failed_reruns_only_the_breaching_items(pytester):
    write_project(pytester, models="[mean_shape_model, degraded_model]")
    first = run(pytester)
    first.assert_outcomes(passed=7, failed=1)
    again = run(pytester, "--lf", "-v")
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(
        [
            "run-last-failure: rerun previous 1 failure*",
            "*mean-shape-degraded-300-W:mirrored_False-nme-threshold-0.08? FAILED*",
        ]
    )


def test_model_filter(pytester):
    write_project(pytester, models="[mean_shape_model, degraded_model]")
    result = run(pytester, "--kolena-model=mean-shape", "-v")
    result.assert_outcomes(passed=4)
    assert "mean-shape-degraded" not in result.stdout.str()


def test_model_filter_takes_the_model_name_of_a_fixture_model(pytester):
    """--kolena-model names Model.name everywhere: a model bound by a fixture too (its name known when it runs)."""
    extra = """
@pytest.fixture(scope="session")
def degraded():
    return degraded_model

@pytest.mark.kolena(models=[mean_shape_model, "degraded"], evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]), columns={"points": "keypoints"})
def test_fixtures(kolena_result):
    pass
"""
    write_project(pytester, extra=extra)
    result = run(pytester, "-k", "test_fixtures", "--kolena-model=mean-shape-degraded", "-rs")
    result.assert_outcomes(passed=4, skipped=0, deselected=1)
    by_fixture = run(pytester, "-k", "test_fixtures", "--kolena-model=mean-shape", "-rs")
    by_fixture.assert_outcomes(passed=4, skipped=4, deselected=4)
    by_fixture.stdout.fnmatch_lines(["SKIPPED*--kolena-model mean-shape does not select model 'mean-shape-degraded'"])


def test_marker_suites_binds_a_test_to_its_suites(pytester):
    """Two workflows in one project: `--kolena-suite` selects suites, `suites=` keeps each test on its own data."""
    data = pytester.path / "data"
    (data / "tiny" / "meta").mkdir(parents=True)
    (data / "300-W").symlink_to(DATA / "300-W")
    rows = (DATA / "300-W" / "meta" / "metadata.csv").read_text().splitlines()[:4]
    (data / "tiny" / "meta" / "metadata.csv").write_text("\n".join(rows).replace("images/", "../300-W/images/") + "\n")
    extra = """
@pytest.mark.kolena(models=[mean_shape_model], evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]), columns={"points": "keypoints"}, suites=["300-W"])
def test_only_300w(kolena_result):
    assert kolena_result.suite.name == "300-W"
"""
    write_project(pytester, thresholds="{}", extra=extra)
    pytester.makeini(f"[pytest]\nkolena_data = {data}\nkolena_stratify = mirrored\n")
    both = run(pytester, "--kolena-suite=tiny", "-v")
    both.assert_outcomes(passed=11)  # test_keypoints: 4 items on 300-W, 3 on tiny; test_only_300w: 4, on 300-W only
    assert "test_only_300w[mean-shape-tiny" not in both.stdout.str()
    alone = pytester.runpytest("--kolena-suite=tiny", "-rs", "-k", "test_only_300w")
    alone.assert_outcomes(skipped=1)
    alone.stdout.fnmatch_lines(["SKIPPED*runs on suites 300-W; --kolena-suite selects tiny"])


def test_marker_suites_must_be_names(pytester):
    extra = """
@pytest.mark.kolena(models=[mean_shape_model], evaluator=KeypointsEvaluator(), suites=[3])
def test_bad(kolena_result):
    pass
"""
    write_project(pytester, extra=extra)
    result = run(pytester, "-k", "test_bad")
    result.stdout.fnmatch_lines(
        ["kolena: test_kp.py::test_bad: suites must be suite names, e.g. suites=?'300-W'?; got ?3?"]
    )


def _summary(output: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "kolena summary" in line)
    end = next(
        i
        for i, line in enumerate(lines)
        if i > start and (line.startswith("=") or re.match(r"\d+ (passed|failed)", line))
    )
    # the run id differs; a second run reads the first one's inferences from the cache
    return [line for line in lines[start + 1 : end] if not line.startswith(("kolena: run ", "inference of "))]


def test_xdist_gives_the_same_summary_and_exit_code(pytester):
    write_project(pytester, models="[mean_shape_model, degraded_model]", configurations="CONFIGURATIONS")
    serial = run(pytester, "-p", "no:cacheprovider")
    parallel = run(pytester, "-p", "no:cacheprovider", "-n", "2")
    assert serial.ret == parallel.ret == 1
    assert _summary(parallel.stdout.str()) == _summary(serial.stdout.str())
    assert "kolena suite 300-W: 3 failed, 21 passed" in _summary(serial.stdout.str())


def test_quiet_and_verbose_summaries(pytester):
    write_project(pytester)
    quiet = _summary(run(pytester, "-q").stdout.str())
    assert quiet == ["kolena suite 300-W: 4 passed"]
    verbose = _summary(run(pytester, "-v").stdout.str())
    assert any(
        re.search(r"mean_nme <= 0.25\s+alignment_failure_rate\s+ced_auc\s+n_samples\s+variance_mean_nme <= 0.02", line)
        for line in verbose
    )


def test_the_summary_shows_the_rule_of_each_thresholded_metric(pytester):
    """The rule most items of a column hold is in its header; an override beside its value: 0.455 under a
    `mean_nme <= 0.25` header is a pass because `*mirrored True` allows 0.5, and the table says so."""
    write_project(pytester)
    lines = _summary(run(pytester).stdout.str())
    header = next(line for line in lines if line.startswith("model "))
    assert re.search(r"mean_nme <= 0.25\s+variance_mean_nme <= 0.02\s+verdict", header)
    rows = {re.split(r"\s{2,}", line)[1]: line for line in lines if line.startswith("mean-shape ")}
    assert re.search(r"0\.455 \(<= 0\.5\)\s+passed", rows["300-W :: mirrored True"])
    assert re.search(r"0\.1327 \(<= 0\.15\)\s+passed", rows["300-W :: mirrored False"])
    assert re.search(r"0\.1896\s+passed", rows["300-W :: basic"])  # the header's rule: nothing beside it


def test_junit_xml_has_one_testcase_per_item_with_metrics(pytester):
    write_project(pytester)
    result = run(pytester, "--junitxml=report.xml")
    assert result.ret == 0
    root = ET.parse(pytester.path / "report.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 4
    props = {p.get("name"): p.get("value") for p in cases[0].findall("properties/property")}
    assert props["kolena.test_case"] == "300-W :: basic" and props["kolena.verdict"] == "passed"
    assert float(props["kolena.metric.mean_nme"]) == pytest.approx(0.1896, abs=1e-4)
    assert "junit_family" not in result.stdout.str()


def test_marker_is_registered_and_options_documented(pytester):
    write_project(pytester)
    assert run(pytester, "--strict-markers").ret == 0
    markers = pytester.runpytest("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.kolena(models, evaluator, thresholds=None, *"])
    helptext = pytester.runpytest("--help")
    helptext.stdout.fnmatch_lines(
        [
            "kolena: ML model regression tests:",
            "*--kolena-suite=NAME*",
            "*--kolena-data=ROOT*",
            "*--kolena-model=NAME*",
            "*kolena_stratify*",
        ]
    )


def test_no_suite_selected_is_an_error_unless_the_kolena_tests_are_deselected(pytester):
    write_project(pytester, extra="\ndef test_unit():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == 1  # a CI job that forgot --kolena-suite is not green
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(['*no kolena suite selected: give --kolena-suite NAME*-m "not kolena"'])
    unit_only = pytester.runpytest("-m", "not kolena")
    assert unit_only.ret == 0
    unit_only.assert_outcomes(passed=1, deselected=1)


@pytest.mark.slow
def test_suites_from_an_s3_bucket(pytester, s3_data_root, s3_endpoint):
    write_project(pytester)
    # in subprocesses: the moto server lives in this process, and must not see its modules dropped by pytester
    result = pytester.runpytest_subprocess(
        "--kolena-suite=300-W", f"--kolena-data={s3_data_root}", "-o", f"kolena_s3_endpoint={s3_endpoint}", "-v"
    )
    assert result.ret == 0
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            f"kolena: suites 300-W from {s3_data_root}; store *",
            "mean-shape*300-W :: basic*nme-threshold-0.08*0.1896*passed",
        ]
    )
    missing = pytester.runpytest_subprocess(
        "--kolena-suite=AFLW", f"--kolena-data={s3_data_root}", "-o", f"kolena_s3_endpoint={s3_endpoint}"
    )
    missing.stdout.fnmatch_lines(
        [f"kolena: --kolena-suite 'AFLW': suite not found: *; suites under {s3_data_root}: 300-W"]
    )


FIXTURES_MODULE = """
import pytest
from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, mean_shape_model

seen = []

@pytest.mark.kolena(models=[mean_shape_model], evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]), columns={"points": "keypoints"})
def test_results(kolena_suite, kolena_result):
    seen.append(id(kolena_suite))
    assert kolena_suite.name == "300-W"
    assert [tc.name for tc in kolena_suite.test_cases] == ["300-W :: basic", "300-W :: mirrored False", "300-W :: mirrored True"]
    assert kolena_result.configuration.display_name() == "nme-threshold-0.08"
    if kolena_result.test_case is None:
        assert kolena_result.kind == "suite" and kolena_result.metrics.variance_mean_nme >= 0
    else:
        assert kolena_result.kind == "test case"
        assert len(kolena_result.samples) == kolena_result.metrics.n_samples == len(kolena_result.test_case)
        first = kolena_result.samples[0]
        assert first.metrics.normalized_mean_error >= 0 and len(first.inference.keypoints.points) == 5
        assert kolena_result.plots[0].title == "Cumulative error distribution"

def test_zz_suite_built_once():
    assert len(seen) == 4 and len(set(seen)) == 1
"""


def test_fixtures_expose_the_suite_and_the_item_results(pytester):
    pytester.makeini(INI)
    pytester.makepyfile(test_fixtures=FIXTURES_MODULE)
    importable(pytester)
    result = run(pytester)
    result.assert_outcomes(passed=5)
