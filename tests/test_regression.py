"""The paired bootstrap: a real worsening is a regression, noise is not, an improvement never fails."""

import numpy as np
import pytest

from pytest_kolena.checks import RuleError
from pytest_kolena.checks.regression import Allowance, Bootstrap, compare

SETTINGS = Bootstrap(resamples=1000, confidence=0.95, min_samples=20, seed=0)


def judge(base: np.ndarray, cand: np.ndarray, allowance: str = "+0.005", lower_is_better: bool = True, recompute=None):
    return compare(
        "error",
        Allowance.parse("error", allowance),
        lower_is_better,
        float(base.mean()),
        float(cand.mean()),
        {"error": base},
        {"error": cand},
        recompute,
        SETTINGS,
    )


@pytest.fixture
def base():
    return np.random.default_rng(1).gamma(2.0, 0.05, 400)  # per-sample errors around 0.1


def test_real_worsening_is_a_regression(base):
    result = judge(base, base + 0.02)
    assert result.verdict == "regressed"
    assert result.interval[0] > result.allowed
    assert "regressed" in str(result) and "95% interval +0.02 to +0.02" in str(result)


def test_noise_within_the_allowance_passes(base):
    noise = np.random.default_rng(2).normal(0, 0.01, len(base))
    result = judge(base, base + noise)
    assert result.verdict == "passed"
    low, high = result.interval
    assert low < 0.005 and high > 0  # the interval straddles: the change is not distinguishable from noise


def test_improvement_never_fails(base):
    assert judge(base, base - 0.02).verdict == "improved"
    higher_is_better = judge(base, base + 0.02, lower_is_better=False)
    assert higher_is_better.verdict == "improved" and higher_is_better.worsening < 0


def test_relative_allowance(base):
    mean = base.mean()
    assert judge(base, base + 0.01 * mean, allowance="+2%").verdict != "regressed"
    assert judge(base, base + 0.10 * mean, allowance="+2%").verdict == "regressed"


def test_same_seed_same_interval(base):
    cand = base + np.random.default_rng(3).normal(0.001, 0.02, len(base))
    assert judge(base, cand).interval == judge(base, cand).interval


def test_too_few_samples_are_not_judged():
    base = np.full(10, 0.1)
    result = judge(base, base + 0.5)
    assert result.verdict == "passed" and result.interval is None
    assert "too few samples for an interval" in str(result)


def test_general_path_recomputes_the_metric(base):
    cand = base + 0.02
    calls = []

    def recompute(indices):
        calls.append(len(indices))
        return float(np.median(base[indices])), float(np.median(cand[indices]))

    result = compare(
        "error",
        Allowance.parse("error", "+0.005"),
        True,
        float(np.median(base)),
        float(np.median(cand)),
        {"error": base},
        {"error": cand},
        recompute,
        SETTINGS,
    )
    assert result.verdict == "regressed" and len(calls) == 1000 and calls[0] == len(base)


@pytest.mark.parametrize("text", ["2%", "+2 %", "+0.005", "0.5"])
def test_allowance_syntax(text):
    assert Allowance.parse("m", text).amount > 0


@pytest.mark.parametrize("text", ["-2%", "two", "", 0.1])
def test_bad_allowance(text):
    with pytest.raises(RuleError, match="regression allowance for 'm' is .*: write the worsening allowed"):
        Allowance.parse("m", text)
