"""--kolena-report: Markdown and JSON reports of a run, checked against the run's own results; the report command
that rewrites them from the store."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
from keypoints import FAILING, report_of, sample_rows, tiny_suite, write_tests

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
    header = next(line for line in text.splitlines() if line.startswith("| model |"))
    assert "| mean\\_nme &lt;= 0.25 |" in header  # the column's rule; an override beside its value
    mirrored = next(line for line in text.splitlines() if line.startswith("| mean-shape | 300-W :: mirrored True"))
    assert "| 0.455 (&lt;= 0.5) |" in mirrored


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


def test_verbose_summary_shows_the_samples_that_got_worse_the_most_in_each_regressed_test_case(project):
    """A regression lists the samples that got worse the most against the baseline (not the candidate's own worst:
    a sample that was already bad and stayed so tells nothing of the regression), each with its baseline value,
    candidate value and change, and its metadata; in the failure text and under -v."""
    result = champion_then_challenger(project, "-v")
    result.stdout.fnmatch_lines(
        [
            "samples of mean-shape-degraded on 300-W :: mirrored False at nme-threshold-0.08 that got worse the "
            "most, by normalized_mean_error (change: baseline -> candidate):",
            "  *+0.0*: 0.0* -> 0.1*  */300-W/images/einstein-*.jpg (source einstein, *mirrored False*",
        ]
    )
    text = result.stdout.str()
    block = text.split("300-W :: mirrored False at nme-threshold-0.08 that got worse the most")[1].splitlines()[1:6]
    rows = [re.match(r"\s*([-+][\d.e-]+): ([\d.e-]+) -> ([\d.e-]+)  (\S+)", line).groups() for line in block]
    changes = [float(change) for change, *_ in rows]
    assert changes == sorted(changes, reverse=True) and all(c > 0 for c in changes)
    assert all(float(after) - float(before) == pytest.approx(float(c), abs=2e-4) for c, before, after, _ in rows)
    breach_worst = text.split("worst samples by normalized_mean_error:")  # (no threshold breached here)
    assert len(breach_worst) == 1
    failure = text.split("_ test_keypoints[mean-shape-degraded-300-W:mirrored_False-nme-threshold-0.08] _")[1]
    assert "samples that got worse the most, by normalized_mean_error (change: baseline -> candidate):" in failure
    quiet = champion_then_challenger(project)
    assert "samples of mean-shape-degraded on" not in quiet.stdout.str().split("kolena summary")[1]  # (-v only)


def test_a_run_without_reports_stores_no_test_samples_yet_reports_from_the_store(project):
    write_test(project, "mean_shape_model")
    project.runpytest("--kolena-suite=300-W").assert_outcomes(passed=4)
    command = [sys.executable, "-m", "pytest_kolena", "report", "latest", "-o", "later.json"]
    done = subprocess.run(command, cwd=project.path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    suite = json.loads((project.path / "later.json").read_text())["suites"][0]
    assert len(suite["samples"]["ids"]) == 300 and suite["samples"]["test_samples"] == [None] * 300
    assert len(suite["test_cases"]["300-W :: mirrored True"]) == 53


# moved from the review fixes of the reports' work ------------------------------------------------------------


def test_samples_another_model_failed_to_infer_stay_in_reports_and_read_back(project):
    """The first model run fails on 3 samples: the suite's test cases still hold all their samples."""
    from pytest_kolena.report.readback import load_runs

    write_tests(project, {"models": "flaky_model, mean_shape_model"})
    recorder = RunRecorder()
    reports = ["--kolena-report=run.json", "--kolena-report=run.html"]
    result = project.runpytest("--kolena-suite=300-W", *reports, plugins=[recorder])
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the flaky model's items touching the 3 samples error
    result.stdout.fnmatch_lines([f"kolena: report {project.path}/run.html"])
    (suite,) = report_of(project, "run.json")["suites"]
    assert len(suite["samples"]["ids"]) == 300
    assert len(suite["test_cases"]["300-W :: basic"]) == 300
    failing = [i for i, sample_id in enumerate(suite["samples"]["ids"]) if sample_id.startswith(FAILING)]
    assert len(failing) == 3 and all(suite["samples"]["test_samples"][i] for i in failing)
    stored = load_runs(str(project.path / ".kolena"), "latest")
    test = "test_kp.py::test_keypoints"
    for model in ("mean-shape", "flaky"):
        live, back = recorder.runs[(test, "300-W", model)], stored[(test, "300-W", model)]
        assert [len(c.samples) for c in back.cases] == [len(c.samples) for c in live.cases]
        for b, c in zip(back.cases, live.cases):
            assert sample_rows(b.samples) == sample_rows(c.samples)
            assert [f.test_sample for f in b.failures] == [f.test_sample for f in c.failures]
        assert back.n_failed == live.n_failed
    assert stored[(test, "300-W", "flaky")].n_failed == 3
    assert len(stored[(test, "300-W", "mean-shape")].case("300-W :: basic").samples) == 300


def test_a_test_function_on_two_suites_reads_back_both(project):
    from pytest_kolena.report.readback import load_runs

    tiny_suite(project)
    write_tests(project, {"models": "mean_shape_model"})
    recorder = RunRecorder()
    result = project.runpytest(
        "--kolena-suite=300-W", "--kolena-suite=tiny", "--kolena-report=run.md", plugins=[recorder]
    )
    result.assert_outcomes(passed=7)
    stored = load_runs(str(project.path / ".kolena"), "latest")
    test = "test_kp.py::test_keypoints"
    assert set(stored) == set(recorder.runs) == {(test, "300-W", "mean-shape"), (test, "tiny", "mean-shape")}
    for key, live in recorder.runs.items():
        assert stored[key].test_suite.name == key[1]
        assert [sample_rows(c.samples) for c in stored[key].cases] == [sample_rows(c.samples) for c in live.cases]


@pytest.mark.parametrize(("arguments", "expected"), [("worst=2,", 2), ("", 5)])
def test_the_worst_samples_of_a_report_honour_the_marker(project, arguments, expected):
    write_tests(project, {"models": "degraded_model", "arguments": f'thresholds={{"mean_nme": "<= 0.1"}}, {arguments}'})
    result = project.runpytest("--kolena-suite=300-W", "--kolena-report=run.json", "-v")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    failed = [i for i in report_of(project, "run.json")["items"] if i["verdict"] == "failed" and i["test_case"]]
    assert failed and all(len(i["worst"]["samples"]) == expected for i in failed)
    assert all(i["worst"]["metric"] == "normalized_mean_error" for i in failed)


def _item(test_case: str, verdict: str, value: float, order: int) -> dict:
    return {
        "test": "t.py::t",
        "suite": "s",
        "model": "m",
        "test_case": test_case,
        "configuration": "",
        "order": order,
        "verdict": verdict,
        "metrics": {"x": value},
        "rules": {},
        "checks": [],
        "note": "",
        "message": "",
    }


def _document(run_id: str, items: list[dict]) -> dict:
    from pytest_kolena.report.document import run_document

    info = SimpleNamespace(run_id=run_id, time="2026-01-01T00:00:00", tag=None, git_commit=None)
    rows = [{"level": "item", "test": i["test"], "suite": i["suite"], "values": i} for i in items]
    return run_document(info, rows)


def test_three_runs_side_by_side_with_the_best_marked_and_each_checked_against_the_first(project):
    """`report RUN RUN RUN`: every model of every run per test case, the best of a row marked, each column checked
    against the first on the paired samples (the degraded model regressed; the same model again did not)."""
    for models, tag in (("mean_shape_model", "main"), ("degraded_model", "worse"), ("mean_shape_model", "again")):
        write_test(project, models)
        assert project.runpytest("--kolena-suite=300-W", f"--kolena-tag={tag}").ret in (0, 1)
    command = [sys.executable, "-m", "pytest_kolena", "report", "--store", ".kolena", "main", "worse", "again"]
    command += ["-o", "cmp.md", "-o", "cmp.json", "-o", "cmp.html"]
    done = subprocess.run(command, cwd=project.path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    document = json.loads((project.path / "cmp.json").read_text())
    jsonschema.validate(document, SCHEMA)
    found = document["comparison"]
    labels = [c["label"] for c in found["columns"]]
    assert labels == ["mean-shape @ main", "mean-shape-degraded @ worse", "mean-shape @ again"]
    row = next(r for r in found["rows"] if (r["test_case"], r["metric"]) == ("300-W :: basic", "mean_nme"))
    assert row["values"][0] == row["values"][2] < row["values"][1] and row["best"] == 0
    assert row["checks"][0] is None
    assert row["checks"][1]["verdict"] == "regressed" and row["checks"][1]["n"] == 300
    assert row["checks"][2]["verdict"] == "passed"
    auc = next(r for r in found["rows"] if (r["test_case"], r["metric"]) == ("300-W :: basic", "ced_auc"))
    assert auc["better"] == "higher" and auc["checks"][1]["p"] is None  # no mean of a sample metric: not judged
    assert auc["values"][auc["best"]] == max(auc["values"]) > min(auc["values"])  # higher is better: the largest
    text = (project.path / "cmp.md").read_text()
    assert "## Side by side: 3 models of 3 run(s)" in text
    line = next(x for x in text.splitlines() if x.startswith("| 300-W :: basic | nme-threshold-0.08 | mean\\_nme"))
    assert "| **0.1896** | 0.2223 (**regressed**, p adj" in line and "| 0.1896 (passed, p adj" in line
    page = (project.path / "cmp.html").read_text()
    assert '<section id="comparison">' in page and '<b class="best">0.1896</b>' in page


def test_compare_puts_the_models_of_one_run_side_by_side(project):
    champion_then_challenger(project)
    command = [sys.executable, "-m", "pytest_kolena", "report", "--store", ".kolena", "latest", "--compare"]
    done = subprocess.run([*command, "-o", "one.json"], cwd=project.path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads((project.path / "one.json").read_text())["comparison"]
    assert [c["label"] for c in found["columns"]] == ["mean-shape", "mean-shape-degraded"]
    row = next(r for r in found["rows"] if (r["test_case"], r["metric"]) == ("300-W :: mirrored False", "mean_nme"))
    assert row["best"] == 0 and row["checks"][1]["verdict"] == "regressed"


def test_kolena_compare_puts_the_models_of_the_run_side_by_side_in_its_reports(project):
    champion_then_challenger(project, "--kolena-compare", "--kolena-report=run.json", "--kolena-report=run.md")
    found = report_of(project, "run.json")["comparison"]
    assert [c["label"] for c in found["columns"]] == ["mean-shape", "mean-shape-degraded"]
    row = next(r for r in found["rows"] if (r["test_case"], r["metric"]) == ("300-W :: mirrored False", "mean_nme"))
    assert row["best"] == 0 and row["checks"][1]["verdict"] == "regressed"
    assert "## Side by side: 2 models of 1 run(s)" in (project.path / "run.md").read_text()


def test_side_by_side_shows_items_that_only_the_first_run_has():
    from pytest_kolena.report.document import side_by_side
    from pytest_kolena.report.html import render_html
    from pytest_kolena.report.markdown import markdown

    before = _document("before", [_item("s :: kept", "passed", 1.0, 0), _item("s :: gone", "failed", 2.0, 1)])
    after = _document("after", [_item("s :: kept", "passed", 1.5, 0), _item("s :: new", "passed", 3.0, 1)])
    both = side_by_side(before, after)
    jsonschema.validate(both, SCHEMA)
    by_case = {i["test_case"]: i for i in both["items"]}
    assert set(by_case) == {"s :: kept", "s :: gone", "s :: new"}
    gone = by_case["s :: gone"]
    assert gone["verdict"] == "absent" and gone["other"] == {"verdict": "failed", "metrics": {"x": 2.0}}
    assert "other" not in by_case["s :: new"]
    assert both["totals"] == {"passed": 2, "absent": 1}
    row = next(line for line in markdown(both).splitlines() if line.startswith("| m | s :: gone |"))
    assert "| 2 → (absent) |" in row and "| **failed** | absent |" in row
    page = render_html(both)
    assert '<span class="v v-absent">absent</span>' in page and "<b>x</b> 2 → " in page


@pytest.mark.parametrize(
    ("args", "outcomes"),
    [(["-m", "not kolena"], {"passed": 1, "deselected": 1}), (["--kolena-suite=tiny"], {"passed": 1, "skipped": 1})],
    ids=["deselected", "skipped"],
)
def test_a_report_of_a_run_without_kolena_items_says_so(project, args, outcomes):
    tiny_suite(project)
    write_tests(project, {"models": "mean_shape_model", "arguments": 'suites=["300-W"],'})
    project.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = project.runpytest("--kolena-report=run.md", "--kolena-report=run.json", *args)
    result.assert_outcomes(**outcomes)
    result.stdout.fnmatch_lines([f"kolena: report {project.path}/run.md (no kolena items ran)"])
    assert "no kolena items ran" in (project.path / "run.md").read_text()
    assert report_of(project, "run.json")["items"] == []


def test_a_run_stored_without_sample_membership_still_has_itssamples_of():
    """Runs stored before `membership` and `test_sample` rows: the samples come from their inference rows."""
    from pytest_kolena.report.document import run_document

    def row(level: str, sample_id: str, values: dict, configuration: str | None = None) -> dict:
        place = {"test": "t", "suite": "s", "model": "m", "configuration": configuration, "test_case": None}
        return place | {"level": level, "sample_id": sample_id, "values": values, "extra": None}

    rows = [
        row("inference", "a.jpg", {"p": 1}),
        row("inference", "b.jpg", {"p": 2}),
        row("sample", "a.jpg", {"nme": 0.1}, "c"),
        row("sample", "b.jpg", {"nme": 0.2}, "c"),
    ]
    info = SimpleNamespace(run_id="old", time="2025-01-01T00:00:00", tag=None, git_commit=None)
    (suite,) = run_document(info, rows)["suites"]
    assert suite["samples"]["ids"] == ["a.jpg", "b.jpg"]
    assert suite["samples"]["inferences"] == {"m": [{"p": 1}, {"p": 2}]}
    assert suite["samples"]["metrics"] == {"m": {"c": {"nme": [0.1, 0.2]}}}


def test_markdown_cells_escape_line_breaks_and_markup():
    from pytest_kolena.report.markdown import escape

    cell = escape("a\r\nb\rc [link](x) ![img](y) *bold* _it_ |")
    assert "\r" not in cell and "\n" not in cell
    for raw in "[]!*_":
        assert all(cell[i - 1] == "\\" for i, char in enumerate(cell) if char == raw)
    assert cell.startswith("a b c \\[link\\](x)")


def test_the_suite_rows_model_is_no_model_of_the_run(tmp_path):
    from pytest_kolena.store import RunRecord, RunStore
    from pytest_kolena.store.baseline import BaselineError, find_run

    record = RunRecord(run_id="r1", writer="main", time="2026-01-01T00:00:00")
    record.add("case", "t", "s", "m", {"x": 1.0}, "c", "s :: basic")
    record.add("membership", "t", "s", "", ["a.jpg"], test_case="s :: basic")
    store = RunStore(str(tmp_path / "store"))
    store.write(record)
    assert store.info("r1").models == ("m",)
    assert find_run("m", store).run_id == "r1"
    with pytest.raises(BaselineError):
        find_run("", store)


def test_chunks_typed_apart_read_as_one_column_where_a_chunk_had_only_missing_values():
    """The suite's samples are stored in chunks, each typed on its own: a chunk whose optional field is empty
    everywhere has that field typed null. The report still reads them as one typed column (decoded as read), with
    the same values as decoded chunk by chunk; chunks that differ otherwise are decoded (no column of both)."""
    import pyarrow as pa

    from pytest_kolena.report.sample_values import SampleValues, in_suite_order
    from pytest_kolena.store.columns import decode, encode
    from pytest_kolena.workflow._dataobject import json_default

    first = [{"x": 1.0, "note": None}, {"x": 2.0, "note": None}]
    second = [{"x": 3.0, "note": "dark"}, {"x": 4.0, "note": None}]
    parts = []
    for k, chunk in enumerate((first, second)):
        column, metadata = encode(chunk, json_default)
        parts.append(([f"s{k}{i}" for i in range(2)], column, pa.field("value", column.type, metadata=metadata)))
    assert parts[0][2].type != parts[1][2].type
    ids = [i for part_ids, _, _ in parts for i in part_ids]
    values = in_suite_order(parts, ids)
    assert isinstance(values, SampleValues)
    assert list(values) == first + second == [v for _, c, f in parts for v in decode(c, f)]
    assert values.scalar_fields() == {"x": [1.0, 2.0, 3.0, 4.0], "note": [None, None, "dark", None]}
    other, metadata = encode([{"x": [1, 2], "note": None}] * 2, json_default)  # (x a list here: no one column)
    parts[1] = (parts[1][0], other, pa.field("value", other.type, metadata=metadata))
    assert in_suite_order(parts, ids) is None
