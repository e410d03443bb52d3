"""Slice discovery (`--kolena-discover`) in real pytest runs: a planted weak pair slice is found, ranked first, with
the stratify line that makes it a test case; pasting that line gates it; a model with no weak slice gets none; a
slice that got worse than the baseline is reported, and fails the run only under --kolena-discover-fail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from slice_project import TEST_MODULE, run, write_suite

from pytest_kolena.checks import discovery
from pytest_kolena.data import Stratify, SuiteError
from pytest_kolena.data.slices import groupings


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    write_suite(pytester.path / "data")
    pytester.makepyfile(test_values=TEST_MODULE)
    return pytester


def slice_lines(result: pytest.RunResult) -> list[str]:
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if "kolena slices" in line)
    return lines[start + 1 :]


def test_a_planted_weak_pair_slice_is_found_ranked_first_with_its_stratify_line(project, monkeypatch):
    monkeypatch.setenv("PLANT", "0.15")
    result = run(project, "--kolena-discover")
    assert result.ret == 0  # report only
    found = slice_lines(result)
    assert found[0].startswith("kolena: ") and "candidates tried" in found[0]
    assert found[1].startswith("kolena: at 600 samples, a slice of 10% of them is found 80% of the time"), found
    assert found[2].startswith("  1. weak m on values: a x & b y (n="), found
    assert found[3].strip() == "add to kolena_stratify: a * b"
    assert not any("b y & " in line or " & a x" in line for line in found)  # the pair once, in column order
    # its two halves alone are no weak slices of their own: outside the pair they are at the base rate
    assert not any(": a x (n=" in line or ": b y (n=" in line for line in found), found
    assert "kolena: 2 slice(s) not reported: weak only through a found slice inside them (-v lists them)" in found


def test_with_v_the_slices_not_reported_are_listed_each_with_its_metric_and_effect(project, monkeypatch):
    monkeypatch.setenv("PLANT", "0.15")
    lines = slice_lines(run(project, "--kolena-discover", "-v"))
    start = lines.index("kolena: 2 slice(s) not reported: weak only through a found slice inside them")
    echoed = sorted(lines[start + 1 : start + 3])
    assert [line.split(" (n=")[0] for line in echoed] == ["  weak m on values: a x", "  weak m on values: b y"]
    assert all("): error " in line and " in the rest of the suite (+" in line and "p_adj=" in line for line in echoed)


def test_the_pasted_stratify_line_makes_the_slice_a_test_case_and_discovery_leaves_it(project, monkeypatch):
    monkeypatch.setenv("PLANT", "0.15")
    result = run(project, "--kolena-discover", "-o", "kolena_stratify=a * b")
    result.stdout.fnmatch_lines(["m *values :: a x & b y *passed"])  # a test case of its own
    assert not any("a x & b y (n=" in line for line in slice_lines(result))


@pytest.mark.parametrize("seed", ["1", "2", "3"])
def test_a_model_with_no_weak_slice_gets_none(project, monkeypatch, seed):
    monkeypatch.setenv("NOISE_SEED", seed)
    result = run(project, "--kolena-discover")
    assert result.ret == 0
    assert slice_lines(result)[0].startswith("kolena: 0 slice(s) found among ")


def test_without_the_option_nothing_is_searched(project, monkeypatch):
    monkeypatch.setenv("PLANT", "0.15")
    result = run(project)
    assert result.ret == 0
    assert not any("kolena slices" in line for line in result.outlines)


def test_a_slice_worse_than_the_baseline_is_reported_and_fails_only_when_asked(project, monkeypatch):
    assert run(project, "--kolena-tag=main").ret == 0
    monkeypatch.setenv("PLANT", "0.1")
    reported = run(project, "--kolena-baseline=main", "--kolena-discover")
    assert reported.ret == 0, reported.outlines
    found = slice_lines(reported)
    regressed = [line for line in found if " REGRESSED " in line]
    assert regressed and regressed[0].startswith("  1. REGRESSED m on values: a x & b y (n="), found
    assert "worse than the baseline by" in regressed[0]
    failed = run(project, "--kolena-baseline=main", "--kolena-discover-fail")
    assert failed.ret == pytest.ExitCode.TESTS_FAILED
    failed.stdout.fnmatch_lines(["kolena: * slice(s) regressed: the run fails (--kolena-discover-fail)"])
    failed.stdout.fnmatch_lines(["*passed*"])  # every item passed: discovery alone fails the run


def test_a_baseline_without_a_change_reports_no_regressed_slice(project):
    assert run(project, "--kolena-tag=main").ret == 0
    result = run(project, "--kolena-baseline=main", "--kolena-discover-fail")
    assert result.ret == 0
    assert not any(" REGRESSED " in line for line in slice_lines(result))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("kolena_discover_min_size", "2", "give at least 4"), ("kolena_discover_bins", "1", "give at least 2")],
)
def test_bad_discovery_settings_are_usage_errors(project, key, value, message):
    result = run(project, "--kolena-discover", "-o", f"{key}={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*kolena: {key} is {value}: {message}*"])


def test_a_cross_stratification_splits_by_both_columns():
    frame = pd.DataFrame({"a": ["x", "x", "w", "w"], "b": ["y", "v", "y", "y"]})
    cross = Stratify.parse("a * b")
    assert [(label, rows.tolist()) for label, rows in cross.split(frame, "m.csv")] == [
        ("a w & b y", [2, 3]),
        ("a x & b v", [1]),
        ("a x & b y", [0]),
    ]
    with pytest.raises(SuiteError, match="two stratifications joined by"):
        Stratify.parse("a * b * c")


def test_a_found_slice_is_the_test_case_its_line_makes():
    """Discovery cuts columns exactly as kolena_stratify does: same labels, same rows."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"roll": rng.normal(size=200).round(3), "kind": rng.choice(["u", "v"], 200)})
    singles, skipped = groupings(frame, "m.csv", ["roll", "kind"])
    assert not skipped
    by_line = {g.stratify: g for g in singles}
    assert list(by_line) == ["roll:quantile:4", "roll:quantile:10", "kind"]  # (the deciles searched alone)
    assert not by_line["roll:quantile:10"].pairs
    for grouping in (by_line["roll:quantile:4"].cross(by_line["kind"]), by_line["roll:quantile:10"]):
        strata = dict(Stratify.parse(grouping.stratify).split(frame, "m.csv"))
        for code, label in enumerate(grouping.labels):
            assert strata[label].tolist() == np.flatnonzero(grouping.codes == code).tolist()


def test_a_weak_tenth_is_found_at_its_size_not_blurred_into_a_quarter():
    """A numeric column is also cut into tenths, searched alone: a weak top tenth is found as that tenth, with its
    own effect, and the top quarter holding it is not reported besides (weak only through the tenth inside it)."""
    rng = np.random.default_rng(4)
    n = 4000
    frame = pd.DataFrame({"x": rng.uniform(0, 100, n).round(2), "k": rng.choice(["u", "v", "w"], n)})
    singles, _ = groupings(frame, "m.csv", ["x", "k"])
    by_line = {g.stratify: g for g in singles}
    top_tenth, top_quarter = by_line["x:quantile:10"].labels[-1], by_line["x:quantile:4"].labels[-1]
    weak = by_line["x:quantile:10"].codes == len(by_line["x:quantile:10"].labels) - 1
    scores = rng.normal(0, 1, n) + 0.6 * weak
    halves = discovery.proposal_halves([f"s{i}" for i in range(n)])
    search = discovery.search(singles, scores, halves, discovery.WEAK)
    _, reject = discovery.found([c.p_value for c in search.candidates], 0.025)
    threshold = 0.025 * int(reject.sum()) / len(search.candidates)
    keys = [("s", c.label, c.holds, c.outside_p) for c in search.candidates]
    echo = discovery.echoes(keys, list(reject), threshold)
    reported = {c.label: c for c, r, e in zip(search.candidates, reject, echo) if r and not e}
    assert list(reported) == [top_tenth], list(reported)
    assert reported[top_tenth].effect == pytest.approx(0.6, abs=0.2)
    quarter = next(c for c in search.candidates if c.label == top_quarter)  # found (diluted), but an echo
    assert top_tenth in quarter.holds and quarter.effect < reported[top_tenth].effect
    assert [e for c, e in zip(search.candidates, echo) if c.label == top_quarter] == [True]


def test_slices_that_are_test_cases_are_not_candidates():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 2, 400)
    scores = np.where(codes == 1, 1.0, 0.0) + rng.normal(0, 0.1, 400)
    grouping = discovery.Grouping(("k",), "k", ("k 0", "k 1"), codes)
    halves = discovery.proposal_halves([str(i) for i in range(400)])
    found = discovery.search([grouping], scores, halves, discovery.WEAK)
    assert [c.label for c in found.candidates] == ["k 1"]
    excluded = discovery.fingerprints([np.flatnonzero(codes == 1)], 400)
    assert discovery.search([grouping], scores, halves, discovery.WEAK, excluded=excluded).candidates == []


def test_under_xdist_the_workers_searches_are_judged_once_on_the_controller(project, monkeypatch):
    monkeypatch.setenv("PLANT", "0.15")
    result = run(project, "--kolena-discover", "-n", "2", "-o", "kolena_stratify=c")
    assert result.ret == 0
    found = slice_lines(result)
    assert found[1].startswith("kolena: at 600 samples, a slice of 10% of them is found 80% of the time"), found
    assert found[2].startswith("  1. weak m on values: a x & b y (n="), found
    assert sum("a x & b y (n=" in line for line in found) == 1  # the run computed by both workers counts once


def test_a_0_1_metric_that_mostly_fails_gives_no_false_slice():
    """Small slices where every held-out sample failed are common when 90% fail: no slice of an unrelated column."""
    alarms = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        codes = rng.integers(0, 60, 4000)
        grouping = discovery.Grouping(("c",), "c", tuple(f"c {i}" for i in range(60)), codes)
        failed = (rng.random(4000) < 0.9).astype(float)
        halves = discovery.proposal_halves([f"{seed}-{i}" for i in range(4000)])
        search = discovery.search([grouping], failed, halves, discovery.WEAK, binary=True)
        alarms += bool(discovery.found([c.p_value for c in search.candidates], 0.025)[1].any())
    assert alarms <= 3  # 0.025 x 40 = 1 expected at most; Welch's t on such slices gave 10 of 40


def test_a_discovery_column_that_is_not_in_the_csv_is_named(project, monkeypatch):
    result = run(project, "--kolena-discover", "-o", "kolena_discover_columns=a\nnope")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["kolena: columns not searched: nope (no column 'nope' in */values/meta/metadata.csv)"])


def test_a_discovery_that_fails_is_said_and_the_run_is_still_stored(project):
    project.makeconftest(  # a discovery that raises, as an unforeseen table might make it
        "import pytest_kolena.discover\n\n\n"
        "def broken(*args, **kwargs):\n"
        "    raise ValueError('an unforeseen metadata table')\n\n\n"
        "pytest_kolena.discover.discover_run = broken\n"
    )
    result = run(project, "--kolena-discover", "--kolena-tag=kept")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["kolena: discovery FAILED on model 'm' on values: ValueError: an unforeseen metadata table"]
    )
    assert run(project, "--kolena-baseline=kept").ret == 0  # the run was stored: it is a baseline


def test_a_numeric_column_with_a_text_value_is_named_as_not_searched(project):
    path = project.path / "data" / "values" / "meta" / "metadata.csv"
    frame = pd.read_csv(path)
    frame["d"] = frame["d"].astype(object)
    frame.loc[5, "d"] = "1.5 cm"
    frame.to_csv(path, index=False)
    result = run(project, "--kolena-discover")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["kolena: columns not searched: d (* distinct values (an identifier?))"])
