"""The plugin as pytest loads it: installed through its entry point, quiet in every run."""

import json

import pytest


def test_header_names_the_plugin(pytester: pytest.Pytester):
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["kolena: pytest-kolena *"])
    assert result.ret == 0


def test_importing_workflow_classes_into_a_test_module_collects_no_class(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        from pytest_kolena.workflow import TestCase, TestCases, TestRun, TestSample, TestSuite, Image, MetricsTestSample
        from pytest_kolena.workflow import test, MetricsTestCase

        class TestSampleMetrics(MetricsTestSample):
            nme: float

        class TestCaseMetrics(MetricsTestCase):
            mean_nme: float

        class TestMySample(Image):
            pass

        def test_real():
            assert TestSampleMetrics(0.5).nme == 0.5
        """
    )
    result = pytester.runpytest("-W", "error::pytest.PytestCollectionWarning", "-rw")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*PytestCollectionWarning*")


def test_an_unrelated_run_loads_nothing_of_the_plugin_beyond_its_hooks_and_options(pytester: pytest.Pytester):
    pytester.makeconftest(
        """
        import json, sys

        def pytest_unconfigure(config):  # after every hook of the run: reports, summary, session finish
            ours = sorted(m for m in sys.modules if m.startswith("pytest_kolena"))
            heavy = sorted({"pandas", "shapely", "s3fs", "pyarrow", "numpy", "tabulate", "fsspec"} & set(sys.modules))
            open("modules.json", "w").write(json.dumps({"ours": ours, "heavy": heavy}))
        """
    )
    pytester.makepyfile("def test_plain(): pass")
    pytester.makeini("[pytest]\nkolena_suite = 300-W\n")  # settings read, no kolena test
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    loaded = json.loads((pytester.path / "modules.json").read_text())
    # fs: the options resolve their locations with it (standard library only)
    ours = [
        "pytest_kolena",
        "pytest_kolena.fs",
        "pytest_kolena.options",
        "pytest_kolena.plugin",
        "pytest_kolena.settings",
    ]
    assert loaded == {"ours": ours, "heavy": []}


def test_a_session_without_kolena_items_writes_no_store(pytester: pytest.Pytester):
    pytester.makepyfile("def test_plain(): pass")
    pytester.makeini("[pytest]\nkolena_suite = 300-W\n")
    result = pytester.runpytest()
    assert result.ret == 0
    assert not (pytester.path / ".kolena").exists()
    assert "kolena summary" not in result.stdout.str()
    asked = pytester.runpytest("--kolena-suite=300-W")  # asked on the command line: nothing tested is loud
    assert asked.ret == pytest.ExitCode.USAGE_ERROR
    assert not (pytester.path / ".kolena").exists()
