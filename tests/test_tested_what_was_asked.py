"""A gate is green only when it tested what was asked: a suite or model name that matches nothing, a selection
that leaves no kolena item to run, a baseline with nothing to compare are loud, named failures, never skips that
exit 0; a verdict does not depend on which other items were selected."""

from __future__ import annotations

import pytest
from keypoints import keypoints_project, report_of, tiny_suite, write_tests

# imported here, once: pytester's in-process runs forget modules they import, and NumPy cannot load twice
import examples.facial_keypoints.workflow  # noqa: F401

ONE_SUITE = 'suites=["300-W"],'


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    return keypoints_project(pytester)


# names that match nothing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["300-w", "NOPE"])
@pytest.mark.parametrize("arguments", [ONE_SUITE, ""], ids=["suites-marker", "no-suites-marker"])
def test_a_suite_name_that_matches_no_suite_is_an_error_naming_the_nearest(project, name, arguments):
    write_tests(project, {"models": "mean_shape_model", "arguments": arguments})
    result = project.runpytest(f"--kolena-suite={name}")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    hint = "; did you mean '300-W'?" if name == "300-w" else ""
    result.stdout.fnmatch_lines(
        [
            f"*kolena: --kolena-suite {name!r}: suite not found: *examples/data/{name}/meta/metadata.csv does not "
            f"exist{hint}; suites under *examples/data: 300-W, breast-cancer"
        ]
    )


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_model_name_that_matches_no_model_fails_the_run(project, xdist):
    write_tests(project, {"models": "mean_shape_model, degraded_model", "arguments": ONE_SUITE})
    result = project.runpytest("--kolena-suite=300-W", "--kolena-model=mean-shap", *xdist)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        [
            "kolena: --kolena-model 'mean-shap' matches no model of the kolena tests; did you mean 'mean-shape'? "
            "(models: mean-shape, mean-shape-degraded)",
            "kolena: no kolena item ran: --kolena-model mean-shap selects none of the models of "
            "test_kp.py::test_keypoints: mean-shape, mean-shape-degraded*",
        ]
    )


def test_a_typo_beside_a_right_model_name_fails_the_run_after_the_right_one_ran(project):
    write_tests(project, {"models": "mean_shape_model, degraded_model"})
    result = project.runpytest("--kolena-suite=300-W", "--kolena-model=mean-shape", "--kolena-model=mean-shape-degradd")
    result.assert_outcomes(passed=4)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["kolena: --kolena-model 'mean-shape-degradd' matches no model*mean-shape-degraded'?*"])


def test_a_fixture_bound_model_is_known_by_its_name_once_its_fixture_ran(project):
    """`champion` returns mean-shape: known only when the fixture runs, so the typo is found at the end."""
    write_tests(project, {"models": "'champion'", "arguments": "workflow=wf,"})
    right = project.runpytest("--kolena-suite=300-W", "--kolena-model=mean-shape")
    right.assert_outcomes(passed=4)
    assert right.ret == pytest.ExitCode.OK
    typo = project.runpytest("--kolena-suite=300-W", "--kolena-model=mean-shap")
    typo.assert_outcomes(skipped=4)
    assert typo.ret == pytest.ExitCode.USAGE_ERROR
    typo.stdout.fnmatch_lines(
        [
            "kolena: --kolena-model 'mean-shap' matches no model*did you mean 'mean-shape'?*",
            "kolena: no kolena item ran: --kolena-model mean-shap does not select model 'mean-shape'*",
        ]
    )


def test_a_selection_that_leaves_no_kolena_item_to_run_fails(project):
    """`tiny` is a suite, but the only kolena test runs on 300-W: nothing was tested."""
    tiny_suite(project)
    write_tests(project, {"models": "mean_shape_model", "arguments": ONE_SUITE})
    project.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = project.runpytest("--kolena-suite=tiny")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        ["kolena: no kolena item ran: test_kp.py::test_keypoints runs on suites 300-W; --kolena-suite selects tiny*"]
    )
    deselected = project.runpytest("--kolena-suite=tiny", "-m", "not kolena")  # the explicit way
    deselected.assert_outcomes(passed=1, deselected=1)
    assert deselected.ret == pytest.ExitCode.OK


# a baseline with nothing to compare -------------------------------------------------------------------------------

REGRESSION = 'regression={"mean_nme": "+2%"},'


def test_a_test_renamed_since_its_baseline_fails_saying_what_the_baseline_holds(project):
    write_tests(project, {"models": "mean_shape_model", "arguments": REGRESSION})
    assert project.runpytest("--kolena-suite=300-W", "--kolena-tag=main").ret == pytest.ExitCode.OK
    write_tests(project, {"models": "mean_shape_model", "arguments": REGRESSION, "name": "keypoints_v2"})
    result = project.runpytest("--kolena-suite=300-W", "--kolena-baseline=main")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(
        [
            "model 'mean-shape' on 300-W :: basic at nme-threshold-0.08: nothing to compare: the baseline run * (tag "
            "main) holds no run of model 'mean-shape' in test_kp.py::test_keypoints_v2 on 300-W at nme-threshold-0.08; "
            "it holds test_kp.py::test_keypoints (models mean-shape; suites 300-W; configurations nme-threshold-0.08). "
            "A renamed test function, model or configuration?*",
        ]
    )


def test_a_model_compared_with_itself_is_not_judged_and_leaves_the_other_verdicts_alone(project):
    """Champion and challenger against the champion's stored run: the champion's metrics all equal its baseline's,
    so it is not judged; the challenger's adjusted p-values are those of a run without the champion, serial or not."""
    arguments = REGRESSION + ' baseline_models={"mean-shape-degraded": "mean-shape"},'
    write_tests(project, {"models": "mean_shape_model", "arguments": arguments})
    assert project.runpytest("--kolena-suite=300-W", "--kolena-tag=main").ret == pytest.ExitCode.OK

    def checks(name: str, *args: str) -> dict[tuple[str, str], dict]:
        result = project.runpytest("--kolena-suite=300-W", "--kolena-baseline=main", f"--kolena-report={name}", *args)
        assert result.ret == pytest.ExitCode.TESTS_FAILED  # the challenger regressed
        items = report_of(project, name)["items"]
        return {(i["model"], i["test_case"]): c for i in items for c in i["checks"]}

    write_tests(project, {"models": "degraded_model", "arguments": arguments})
    alone = checks("alone.json")
    write_tests(project, {"models": "mean_shape_model, degraded_model", "arguments": arguments})
    both, under_xdist = checks("both.json"), checks("xdist.json", "-n", "2")
    champion = [check for (model, _), check in both.items() if model == "mean-shape"]
    assert len(champion) == 3
    assert all(c["verdict"] == "not judged" and c["reason"].startswith("identical to the baseline") for c in champion)
    challenger = {key: c["p_adjusted"] for key, c in both.items() if key[0] != "mean-shape"}
    assert challenger == {key: c["p_adjusted"] for key, c in alone.items()}
    assert challenger == {key: c["p_adjusted"] for key, c in under_xdist.items() if key[0] != "mean-shape"}
    assert min(challenger.values()) <= 0.025


def test_a_renamed_configuration_is_named_as_what_the_baseline_lacks(project):
    write_tests(project, {"models": "mean_shape_model", "arguments": REGRESSION})
    assert project.runpytest("--kolena-suite=300-W", "--kolena-tag=main").ret == pytest.ExitCode.OK
    project.makepyfile(test_kp=project.path.joinpath("test_kp.py").read_text().replace("0.08", "0.1"))
    result = project.runpytest("--kolena-suite=300-W", "--kolena-baseline=main")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(
        [
            "*holds no run of model 'mean-shape' in test_kp.py::test_keypoints on 300-W at nme-threshold-0.1; it holds "
            "test_kp.py::test_keypoints (models mean-shape; suites 300-W; configurations nme-threshold-0.08)*"
        ]
    )


def test_listing_the_items_is_not_a_selection_error(project):
    """--collect-only runs no item: neither 'no kolena item ran' nor a fixture's model unknown is an error then."""
    write_tests(
        project, {"models": "'champion'", "arguments": "workflow=wf,"}, {"models": "degraded_model", "name": "other"}
    )
    result = project.runpytest("--kolena-suite=300-W", "--kolena-model=mean-shape", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    assert "kolena:" not in result.stdout.str()


def test_suite_options_given_where_no_kolena_test_is_collected_fail(project):
    """`pytest --kolena-suite=300-W tests/` where the kolena tests are elsewhere: nothing was tested."""
    project.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = project.runpytest("--kolena-suite=300-W")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["kolena: --kolena-suite 300-W given, but no kolena test was collected*"])


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


@pytest.mark.parametrize(
    ("models", "args"),
    [
        ("degraded_model, 'champion'", ["--kolena-model=mean-shape-degraded"]),  # the fixture's model is skipped
        ("degraded_model, mean_shape_model", ["-k", "degraded"]),  # mean-shape's items are deselected
    ],
    ids=["skipped-fixture-model", "deselected-model"],
)
def test_a_model_runs_verdicts_do_not_depend_on_the_other_models_selected(project, models, args):
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
