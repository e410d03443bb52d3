"""Fixes from the review of the --kolena-report work: samples of failed inferences in reports, read-back per suite,
worst samples, side-by-side reports, `suites=` typos, the false-alarm budget's K, reports of empty runs, old runs,
Markdown escaping, run metadata."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
from test_reports import RunRecorder

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401
from pytest_kolena.testing import KolenaProject

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
FAILING = tuple(f"images/einstein-00{i}.jpg#" for i in range(3))  # the samples the flaky model cannot infer
SCHEMA = json.loads((ROOT / "pytest_kolena" / "report" / "schema.json").read_text())

HEAD = """
import pytest
from examples.facial_keypoints.workflow import (
    KeypointsEvaluator, MEAN_SHAPE, Model, NmeThreshold, degraded_model, mean_shape_infer, mean_shape_model, wf,
)

FAILING = ("einstein-000.jpg", "einstein-001.jpg", "einstein-002.jpg")


def flaky_infer(test_sample):
    if test_sample.locator.endswith(FAILING):
        raise RuntimeError("no face found")
    return mean_shape_infer(MEAN_SHAPE)(test_sample)


flaky_model = Model("flaky", infer=flaky_infer)


@pytest.fixture
def champion():
    return mean_shape_model
"""

TEST = """
@pytest.mark.kolena(
    models=[{models}],
    evaluator=KeypointsEvaluator(configurations=[NmeThreshold(0.08)]),
    columns={{"points": "keypoints"}},
    {arguments}
)
def test_{name}(kolena_result):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> KolenaProject:
    return keypoints_project(pytester)


def keypoints_project(pytester: pytest.Pytester) -> KolenaProject:
    """A project on the embedded 300-W suite, stratified by `mirrored`; its tests by `write_tests`."""
    return KolenaProject(pytester, DATA, stratify=["mirrored"], syspath=[ROOT])


def write_tests(pytester: pytest.Pytester, *tests: dict[str, str]) -> None:
    """A test module of kolena tests: each a dict of `models`, `arguments` (marker keywords) and `name`."""
    body = "".join(TEST.format(**({"arguments": "", "name": "keypoints"} | test)) for test in tests)
    pytester.makepyfile(test_kp=HEAD + body)


def report_of(pytester: pytest.Pytester, name: str) -> dict:
    document = json.loads((pytester.path / name).read_text())
    jsonschema.validate(document, SCHEMA)
    return document


def _sample_rows(samples: list) -> list[tuple]:
    return [(s.sample_id, s.test_sample, s.ground_truth, s.inference, s.metrics) for s in samples]


# 1 ---------------------------------------------------------------------------------------------------------------


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
            assert _sample_rows(b.samples) == _sample_rows(c.samples)
            assert [f.test_sample for f in b.failures] == [f.test_sample for f in c.failures]
        assert back.n_failed == live.n_failed
    assert stored[(test, "300-W", "flaky")].n_failed == 3
    assert len(stored[(test, "300-W", "mean-shape")].case("300-W :: basic").samples) == 300


# 2 ---------------------------------------------------------------------------------------------------------------


def tiny_suite(project: KolenaProject) -> None:
    """A second suite beside 300-W: its first 3 rows."""
    data = project.path / "data"
    (data / "tiny" / "meta").mkdir(parents=True)
    (data / "300-W").symlink_to(DATA / "300-W")
    rows = (DATA / "300-W" / "meta" / "metadata.csv").read_text().splitlines()[:4]
    (data / "tiny" / "meta" / "metadata.csv").write_text("\n".join(rows).replace("images/", "../300-W/images/") + "\n")
    project.write_ini(kolena_data=str(data))


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
        assert [_sample_rows(c.samples) for c in stored[key].cases] == [_sample_rows(c.samples) for c in live.cases]


# 3 ---------------------------------------------------------------------------------------------------------------


def metrics_of(**values: float) -> object:
    """A metrics dataclass instance with these fields."""
    return dataclasses.make_dataclass("Metrics", list(values))(**values)


def _samples(*rows: tuple[float, float]) -> list:
    """Samples with sample metrics `a` and `b`, labelled s0, s1, ..."""
    return [
        SimpleNamespace(metrics=metrics_of(a=a, b=b), test_sample=SimpleNamespace(locator=f"s{i}"))
        for i, (a, b) in enumerate(rows)
    ]


def test_worst_of_lists_nothing_when_no_sample_metric_is_behind_the_case_metric():
    """A case metric (an F1, say: 0.9) that is no sample metric's mean has no link: no sample is "worst" by a guess;
    one that is the mean of `a` on every test case is linked to it (matched: an evaluator function cannot confirm)."""
    from pytest_kolena.checks import Breach, Threshold
    from pytest_kolena.checks.thresholds import Rules
    from pytest_kolena.links import decide_links
    from pytest_kolena.report.text import failure_text, worst_of

    samples = _samples((0.1, 0.0), (0.9, 1.0), (0.5, 1.0), (0.5, 0.5))
    for i, sample in enumerate(samples):
        sample.sample_id = f"s{i}"
    spec = SimpleNamespace(rules=Rules(()), lower_is_better={}, better={"f1": False}, evaluator=lambda *a: None)

    def links(f1: float) -> dict:
        case = SimpleNamespace(configuration_name=None, metrics=metrics_of(f1=f1), samples=samples)
        return decide_links(spec, SimpleNamespace(cases=[case]))[None]

    unlinked = links(0.9)["f1"]
    assert unlinked.sample_metric is None and unlinked.lower_is_better is False
    assert worst_of(samples, unlinked.sample_metric, lower_is_better=False) == {}
    breach = Breach(Threshold("f1", ">=", 0.95), 0.9)
    assert "worst samples" not in failure_text("model 'm' on s :: basic", [breach], 1, samples, 3, {"f1": None})
    linked = links(0.5)["f1"]  # the mean of a: the samples by a, lowest first
    assert (linked.sample_metric, linked.evidence, linked.trusted) == ("a", "matched", None)
    assert worst_of(samples, linked.sample_metric, lower_is_better=False, count=2) == {
        "metric": "a",
        "samples": [[0.1, "s0"], [0.5, "s2"]],
    }


@pytest.mark.parametrize(("arguments", "expected"), [("worst=2,", 2), ("", 5)])
def test_the_worst_samples_of_a_report_honour_the_marker(project, arguments, expected):
    write_tests(project, {"models": "degraded_model", "arguments": f'thresholds={{"mean_nme": "<= 0.1"}}, {arguments}'})
    result = project.runpytest("--kolena-suite=300-W", "--kolena-report=run.json", "-v")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    failed = [i for i in report_of(project, "run.json")["items"] if i["verdict"] == "failed" and i["test_case"]]
    assert failed and all(len(i["worst"]["samples"]) == expected for i in failed)
    assert all(i["worst"]["metric"] == "normalized_mean_error" for i in failed)


# 4 ---------------------------------------------------------------------------------------------------------------


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
    rows = [{"level": "item", "test": i["test"], "suite": i["suite"], "values": json.dumps(i)} for i in items]
    return run_document(info, rows)


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


# 5 ---------------------------------------------------------------------------------------------------------------


def test_a_marker_suite_that_is_no_suite_at_the_data_root_is_a_collection_error(project):
    write_tests(project, {"models": "mean_shape_model", "arguments": 'suites=["300W"],'})
    result = project.runpytest("--kolena-suite=300-W")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*kolena: test_kp.py::test_keypoints: suites= names '300W', no suite under *examples/data; "
            "suites there: 300-W, breast-cancer"
        ]
    )


# 6 ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("models", "args"),
    [
        ("degraded_model, 'champion'", ["--kolena-model=mean-shape-degraded"]),  # the fixture's model is skipped
        ("degraded_model, mean_shape_model", ["-k", "degraded"]),  # mean-shape's items are deselected
    ],
    ids=["skipped-fixture-model", "deselected-model"],
)
def test_only_the_model_runs_judged_share_the_false_alarm_budget(project, models, args):
    """The adjusted p-values of the degraded model are the same as when it is the only model of the test."""
    arguments = 'regression={"mean_nme": "+2%"}, baseline_models={"mean-shape-degraded": "mean-shape"},'
    write_tests(project, {"models": "mean_shape_model", "arguments": arguments})
    project.runpytest("--kolena-suite=300-W", "--kolena-tag=main").assert_outcomes(passed=4)
    write_tests(project, {"models": "degraded_model", "arguments": arguments})
    alone = project.runpytest("--kolena-suite=300-W", "--kolena-baseline=main", "--kolena-report=alone.json")
    write_tests(project, {"models": models, "arguments": arguments})
    both = project.runpytest("--kolena-suite=300-W", "--kolena-baseline=main", "--kolena-report=both.json", *args)
    assert alone.ret == both.ret == pytest.ExitCode.TESTS_FAILED

    def adjusted(name: str) -> dict[str, float]:
        items = report_of(project, name)["items"]
        return {i["test_case"]: c["p_adjusted"] for i in items if i["model"] != "mean-shape" for c in i["checks"]}

    expected = adjusted("alone.json")
    assert len(expected) == 3 and min(expected.values()) < 0.025
    assert adjusted("both.json") == expected


# 7 ---------------------------------------------------------------------------------------------------------------


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


# 8 ---------------------------------------------------------------------------------------------------------------


def test_a_run_stored_without_sample_membership_still_has_its_samples():
    """Runs stored before `membership` and `test_sample` rows: the samples come from their inference rows."""
    from pytest_kolena.report.document import run_document

    def row(level: str, sample_id: str, values: dict, configuration: str | None = None) -> dict:
        place = {"test": "t", "suite": "s", "model": "m", "configuration": configuration, "test_case": None}
        return place | {"level": level, "sample_id": sample_id, "values": json.dumps(values), "extra": None}

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


# 11 --------------------------------------------------------------------------------------------------------------


def test_markdown_cells_escape_line_breaks_and_markup():
    from pytest_kolena.report.markdown import escape

    cell = escape("a\r\nb\rc [link](x) ![img](y) *bold* _it_ |")
    assert "\r" not in cell and "\n" not in cell
    for raw in "[]!*_":
        assert all(cell[i - 1] == "\\" for i, char in enumerate(cell) if char == raw)
    assert cell.startswith("a b c \\[link\\](x)")


# 13 --------------------------------------------------------------------------------------------------------------


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
