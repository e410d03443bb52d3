"""Options that take a path or URL keep the configuration: given as `--opt=PATH` they work on every run, given as
`--opt PATH` they are refused with the fix (pytest would take an existing PATH for a test path when it picks the
rootdir and ini file); a run that ran no kolena item keeps an existing report."""

from __future__ import annotations

import pytest
import test_reports
from test_reports import DATA, write_test

project = test_reports.project  # the 300-W project of the report tests, its ini naming the data root


@pytest.fixture
def elsewhere(tmp_path_factory: pytest.TempPathFactory):
    """A folder outside the project, with no ini file above it: where a CI job writes its reports."""
    return tmp_path_factory.mktemp("elsewhere")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--kolena-report", "{elsewhere}/r.md"),
        ("--kolena-data", str(DATA)),
        ("--kolena-store", "{elsewhere}"),
        ("--kolena-store", "s3://bucket/runs"),
        ("--kolena-baseline", "baselines/"),
        ("--kolena-baseline", "{elsewhere}"),
    ],
)
def test_a_path_option_given_apart_is_refused_with_the_fix_on_every_run(project, elsewhere, option, value):
    write_test(project, "mean_shape_model")
    value = value.format(elsewhere=elsewhere)
    for _ in range(2):  # before the report, then with it there
        result = project.runpytest("--kolena-suite=300-W", option, value)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*kolena: {option} {value} as two arguments: give {option}={value} *"])
        (elsewhere / "r.md").write_text("an earlier report\n")
    assert (elsewhere / "r.md").read_text() == "an earlier report\n"


def test_a_path_option_given_apart_in_pytest_addopts_is_refused(project, elsewhere, monkeypatch):
    write_test(project, "mean_shape_model")
    monkeypatch.setenv("PYTEST_ADDOPTS", f"--kolena-report {elsewhere}/r.md")
    result = project.runpytest("--kolena-suite=300-W")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*kolena: --kolena-report {elsewhere}/r.md in PYTEST_ADDOPTS as two arguments*"])


def test_a_baseline_tag_given_apart_is_no_path_and_is_taken(project):
    write_test(project, "mean_shape_model")
    assert project.runpytest("--kolena-suite=300-W", "--kolena-tag", "main").ret == 0
    result = project.runpytest("--kolena-suite=300-W", "--kolena-baseline", "main")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["kolena: compared with the baseline run * (tag main)"])


def test_path_options_with_equals_keep_the_configuration_on_the_rerun(project, elsewhere):
    write_test(project, "mean_shape_model")
    report, texts = elsewhere / "r.md", []
    for run in ("first", "rerun"):  # the rerun with the report there: pytest must not take it for a test path
        result = project.runpytest("--kolena-suite=300-W", f"--kolena-report={report}", f"--kolena-store={elsewhere}")
        assert result.ret == 0, run
        result.stdout.fnmatch_lines(
            [f"kolena: suites 300-W from {DATA}; store {elsewhere}", f"rootdir: {project.path}"]
        )
        result.assert_outcomes(passed=4)
        texts.append(report.read_text())
    assert texts[0] != texts[1] and all("4 passed" in text for text in texts)  # each run's own report


def test_a_run_without_kolena_items_keeps_an_existing_report(project):
    write_test(project, "mean_shape_model")
    project.makepyfile(test_other="def test_other():\n    pass\n")
    assert project.runpytest("--kolena-suite=300-W", "--kolena-report=r.md").ret == 0
    written = (project.path / "r.md").read_text()
    result = project.runpytest(
        "--kolena-suite=300-W", "--kolena-report=r.md", "--kolena-report=new.md", "-m", "not kolena"
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            f"kolena: report {project.path}/r.md kept as it was: no kolena item ran to rewrite it",
            f"kolena: report {project.path}/new.md (no kolena items ran)",
        ]
    )
    assert (project.path / "r.md").read_text() == written
    assert "no kolena items ran" in (project.path / "new.md").read_text()


def test_a_baseline_folder_is_looked_for_in_the_rootdir_only(pytester: pytest.Pytester, monkeypatch):
    """The kind of a baseline reference (files or a stored run) is decided once, against the rootdir: a folder of
    that name in the folder pytest runs from does not make `--kolena-baseline=old` name files."""
    pytester.makeini("[pytest]\n")
    sub = pytester.mkdir("sub")
    (sub / "old").mkdir()
    (sub / "test_plain.py").write_text("def test_plain():\n    pass\n")
    monkeypatch.chdir(sub)
    result = pytester.runpytest("--kolena-baseline=old", "--kolena-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--kolena-update-baseline rewrites baseline files: *(got old)"])
    pytester.mkdir("old")  # in the rootdir: files
    assert pytester.runpytest("--kolena-baseline=old", "--kolena-update-baseline").ret == 0
