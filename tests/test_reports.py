"""--kolena-report: Markdown and JSON reports of a run, checked against the run's own results; the report command
that rewrites them from the store."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
from pytest_kolena.testing import KolenaProject

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
SCHEMA = json.loads((ROOT / "pytest_kolena" / "report" / "schema.json").read_text())

TEST_MODULE = """
import json, pytest
from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, degraded_model, mean_shape_model, Model, mean_shape_infer, MEAN_SHAPE

odd = Model("odd <b>|model", infer=mean_shape_infer(MEAN_SHAPE), metadata={{"version": "1"}})

@pytest.mark.kolena(
    models=[{models}],
    evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
    thresholds={{"mean_nme": "<= 0.25", "*mirrored True": {{"mean_nme": "<= 0.5"}}}},
    regression={{"mean_nme": "+2%"}},
    baseline_models={{"mean-shape-degraded": "mean-shape"}},
    columns={{"points": "keypoints"}},
)
def test_keypoints(kolena_result, tmp_path_factory):
    if kolena_result.test_case is not None:  # the run's own sample metrics, to check the JSON report against
        out = tmp_path_factory.getbasetemp().parent / "samples.jsonl"
        with open(out, "a") as handle:
            for s in kolena_result.samples:
                handle.write(json.dumps([kolena_result.model.name, s.sample_id, s.metrics.normalized_mean_error]) + "\\n")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> KolenaProject:
    return KolenaProject(pytester, DATA, stratify=["mirrored"], syspath=[ROOT])


def write_test(pytester: pytest.Pytester, models: str) -> None:
    pytester.makepyfile(test_kp=TEST_MODULE.format(models=models))


def champion_then_challenger(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A stored champion run, then the degraded model against it (a regression on mirrored False)."""
    write_test(project, "mean_shape_model")
    project.runpytest("--kolena-suite=300-W", "--kolena-tag=main").assert_outcomes(passed=4)
    write_test(project, "mean_shape_model, degraded_model")
    (project.path.parent / "samples.jsonl").unlink(missing_ok=True)
    return project.runpytest("--kolena-suite=300-W", "--kolena-baseline=main", *args)


def test_json_report_follows_its_schema_and_holds_the_runs_results(project):
    result = champion_then_challenger(project, "--kolena-report=out/run.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"kolena: report {project.path}/out/run.json"])
    document = json.loads((project.path / "out" / "run.json").read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["totals"] == {"regressed": 2, "passed": 6}
    failures = [(i["model"], i["test_case"], i["verdict"]) for i in document["items"][:2]]  # failures first
    degraded = "mean-shape-degraded"
    assert failures == [(degraded, "300-W :: basic", "regressed"), (degraded, "300-W :: mirrored False", "regressed")]
    first = document["items"][1]
    check = first["checks"][0]
    assert check["metric"] == "mean_nme" and check["verdict"] == check["raw_verdict"] == "regressed"
    assert check["low"] > 0 and check["p_adjusted"] <= 0.025 and check["n"] == 247
    assert math.isclose(check["delta"], check["candidate"] - check["baseline"], rel_tol=1e-9)
    assert "regressed against model 'mean-shape'" in first["message"]
    # the sample metrics are the ones the test functions saw, sample by sample
    seen = [json.loads(line) for line in (project.path.parent / "samples.jsonl").read_text().splitlines()]
    (suite,) = document["suites"]
    samples = suite["samples"]
    index = {sample_id: i for i, sample_id in enumerate(samples["ids"])}
    assert len(index) == 300 and len(suite["test_cases"]["300-W :: mirrored True"]) == 53
    for model, sample_id, nme in seen:
        assert samples["metrics"][model]["nme-threshold-0.08"]["normalized_mean_error"][index[sample_id]] == nme
    case = next(c for c in document["cases"] if c["model"] == "mean-shape" and c["test_case"] == "300-W :: basic")
    assert case["plots"][0]["title"] == "Cumulative error distribution"
    assert samples["test_samples"][0]["locator"].endswith(".jpg")
    assert samples["ground_truths"][0]["keypoints"]["points"]


def test_markdown_report_has_failures_first_and_every_check_and_goes_to_the_step_summary(project, monkeypatch):
    step_summary = project.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    result = champion_then_challenger(project, "--kolena-report=run.md")
    text = (project.path / "run.md").read_text()
    assert step_summary.read_text().strip() == text.strip()
    result.stdout.fnmatch_lines(["kolena: Markdown summary added to $GITHUB_STEP_SUMMARY*"])
    assert "**2 regressed**, 6 passed" in text
    assert (
        text.index("## Failures")
        < text.index("### mean-shape-degraded on 300-W :: mirrored False")
        < text.index("| model |")
    )
    row = next(line for line in text.splitlines() if line.startswith("| mean-shape-degraded | 300-W :: mirrored False"))
    assert "**regressed**" in row and " → " in row and "p=" in row and "(adj " in row


def test_user_strings_are_escaped_in_markdown(project):
    write_test(project, "odd")
    project.runpytest("--kolena-suite=300-W", "--kolena-report=run.md").assert_outcomes(passed=4)
    text = (project.path / "run.md").read_text()
    assert "odd &lt;b&gt;\\|model" in text and "<b>" not in text


def test_a_report_with_an_unknown_suffix_is_a_usage_error(project):
    write_test(project, "mean_shape_model")
    result = project.runpytest("--kolena-suite=300-W", "--kolena-report=run.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*kolena: --kolena-report*run.txt: the suffix names the format, one of .md, .json, .html"]
    )


def test_nan_metrics_are_null_in_json(project):
    project.makepyfile(
        test_nan="""
import dataclasses, math, pytest
from examples.facial_keypoints.workflow import KeypointsEvaluator, NmeThreshold, mean_shape_model

class NanEvaluator(KeypointsEvaluator):
    def compute_test_case_metrics(self, test_case, inferences, metrics, configuration=None):
        result = super().compute_test_case_metrics(test_case, inferences, metrics, configuration)
        return dataclasses.replace(result, ced_auc=math.nan)

@pytest.mark.kolena(models=[mean_shape_model], evaluator=NanEvaluator(configurations=[NmeThreshold(0.08)]), columns={"points": "keypoints"})
def test_nan(kolena_result):
    pass
"""
    )
    project.runpytest("--kolena-suite=300-W", "--kolena-report=run.json").assert_outcomes(passed=4)
    document = json.loads((project.path / "run.json").read_text())  # strict JSON: json.loads takes NaN, so look
    assert "NaN" not in (project.path / "run.json").read_text()
    assert all(item["metrics"]["ced_auc"] is None for item in document["items"] if item["test_case"])


def test_reports_from_the_store_are_the_ones_the_run_wrote(project):
    champion_then_challenger(project, "--kolena-report=live.md", "--kolena-report=live.json")

    def report(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "pytest_kolena", "report", "--store", ".kolena", *args]
        return subprocess.run(command, cwd=project.path, capture_output=True, text=True, check=False)

    done = report("latest", "-o", "again.md", "-o", "again.json")
    assert done.returncode == 0, done.stderr
    assert (project.path / "again.md").read_text() == (project.path / "live.md").read_text()
    assert json.loads((project.path / "again.json").read_text()) == json.loads((project.path / "live.json").read_text())
    both = report("main", "latest", "-o", "both.md", "-o", "both.json")
    assert both.returncode == 0, both.stderr
    side = json.loads((project.path / "both.json").read_text())
    jsonschema.validate(side, SCHEMA)
    assert side["compared_with"]["tag"] == "main"
    mean_shape = next(i for i in side["items"] if i["model"] == "mean-shape" and i["test_case"] == "300-W :: basic")
    assert mean_shape["other"]["metrics"]["mean_nme"] == mean_shape["metrics"]["mean_nme"]
    assert (
        "| mean-shape | 300-W :: basic | nme-threshold-0.08 | 0.1896 → 0.1896 |"
        in (project.path / "both.md").read_text()
    )
    missing = report("no-such-run", "-o", "x.md")
    assert (
        missing.returncode == 2
        and "run 'no-such-run' is no run id, tag" in missing.stderr
        and "tags: main" in missing.stderr
    )


def test_reports_are_the_same_under_xdist(project):
    write_test(project, "mean_shape_model, degraded_model")
    project.runpytest("--kolena-suite=300-W", "--kolena-report=one.json").assert_outcomes(passed=8)
    project.runpytest("--kolena-suite=300-W", "-n", "2", "--kolena-reset", "--kolena-report=two.json").assert_outcomes(
        passed=8
    )
    one, two = (json.loads((project.path / name).read_text()) for name in ("one.json", "two.json"))
    for document in (one, two):
        del document["run"]
    by_key = [sorted(d["items"], key=lambda i: (i["model"], i["test_case"])) for d in (one, two)]
    assert by_key[0] == by_key[1]
    assert one["suites"][0]["samples"]["metrics"] == two["suites"][0]["samples"]["metrics"]


class RunRecorder:
    """A plugin keeping the RunResults each kolena item saw (the objects `test()` returns)."""

    def __init__(self) -> None:
        self.runs: dict[tuple[str, str, str], object] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item):
        result = item.funcargs.get("kolena_result")
        if result is not None:
            self.runs[(item.nodeid.split("[")[0], result.suite.name, result.model.name)] = result.run


def test_a_stored_run_reads_back_into_the_results_the_tests_saw(project):
    from pytest_kolena.report.readback import load_runs

    write_test(project, "mean_shape_model, degraded_model")
    recorder = RunRecorder()
    # a run that writes a report stores the test samples and ground truths it needs
    project.runpytest("--kolena-suite=300-W", "--kolena-report=run.md", plugins=[recorder]).assert_outcomes(passed=8)
    stored = load_runs(str(project.path / ".kolena"), "latest")
    assert (
        set(stored)
        == set(recorder.runs)
        == {("test_kp.py::test_keypoints", "300-W", m) for m in ("mean-shape", "mean-shape-degraded")}
    )
    for key, live in recorder.runs.items():
        back = stored[key]
        assert back.model.name == live.model.name and back.model.metadata == live.model.metadata
        assert [t.name for t in back.test_suite.test_cases] == [t.name for t in live.test_suite.test_cases]
        assert back.suite_metrics == live.suite_metrics
        assert len(back.cases) == len(live.cases) == 3
        for b, c in zip(back.cases, live.cases):
            assert (b.name, b.configuration_name, b.metrics, b.plots) == (
                c.name,
                c.configuration_name,
                c.metrics,
                c.plots,
            )
            assert [(s.sample_id, s.test_sample, s.ground_truth, s.inference, s.metrics) for s in b.samples] == [
                (s.sample_id, s.test_sample, s.ground_truth, s.inference, s.metrics) for s in c.samples
            ]


def test_verbose_summary_shows_the_worst_samples_of_each_failing_test_case(project):
    result = champion_then_challenger(project, "-v")
    result.stdout.fnmatch_lines(
        [
            "worst samples of mean-shape-degraded on 300-W :: mirrored False at nme-threshold-0.08 by normalized_mean_error:",
            "*0.* */300-W/images/einstein-*.jpg",
        ]
    )
    quiet = champion_then_challenger(project)
    assert "worst samples of" not in quiet.stdout.str().split("kolena summary")[1]


def test_a_run_without_reports_stores_no_test_samples_yet_reports_from_the_store(project):
    write_test(project, "mean_shape_model")
    project.runpytest("--kolena-suite=300-W").assert_outcomes(passed=4)
    command = [sys.executable, "-m", "pytest_kolena", "report", "latest", "-o", "later.json"]
    done = subprocess.run(command, cwd=project.path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    suite = json.loads((project.path / "later.json").read_text())["suites"][0]
    assert len(suite["samples"]["ids"]) == 300 and suite["samples"]["test_samples"] == [None] * 300
    assert len(suite["test_cases"]["300-W :: mirrored True"]) == 53
