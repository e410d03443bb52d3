"""Paired tests of a worsening against an allowance: calibrated where the data allow, p-values that survive a
multiplicity correction, and the power a user can read off. References are computed by hand (exact integer sums,
closed forms of Student's t with 1 and 2 degrees of freedom, a brute-force likelihood maximisation) or are values
printed by scipy.stats (scipy is not a dependency; the call that gave each value is written beside it)."""

import math
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pytest

from pytest_kolena.checks import paired
from pytest_kolena.checks.paired import adjust, bootstrap_test, detectable_worsening, mean_test, mean_tests

Z = NormalDist()
BINARY = paired.BinaryTests(paired.MID_P, paired.SKEWED_SCORE)  # the plugin's choice (regression.BINARY_TESTS)
CONSERVATIVE = paired.BinaryTests(paired.EXACT_BINOMIAL, paired.TANGO)  # the tests before issue 20


def binary(worse: int, better: int, n: int) -> np.ndarray:
    """Per-pair worsenings of a 0/1 sample metric: `worse` pairs got worse, `better` better, the rest unchanged."""
    return np.array([1.0] * worse + [-1.0] * better + [0.0] * (n - worse - better))


def exact_tail(worse: int, discordant: int) -> float:
    """P(Binomial(discordant, 1/2) >= worse), in exact integer arithmetic."""
    return float(Fraction(sum(math.comb(discordant, k) for k in range(worse, discordant + 1)), 2**discordant))


# --- binary, no allowance: the mid-p test on the discordant pairs ---------------------------------------------------


def mid_p(worse: int, discordant: int) -> float:
    """P(X > worse) + P(X = worse) / 2 for X ~ Binomial(discordant, 1/2), in exact integer arithmetic."""
    above = sum(math.comb(discordant, k) for k in range(worse + 1, discordant + 1))
    return float(Fraction(2 * above + math.comb(discordant, worse), 2 ** (discordant + 1)))


def test_four_of_200_worse_is_not_enough_evidence_five_are():
    result = mean_test(binary(4, 0, 200), 0.0, 0.95, binary=BINARY)
    assert result.p_value == pytest.approx(1 / 32, rel=1e-12)  # P(4 of 4 worse) / 2 = 1/32 > 0.025
    assert result.method == paired.MID_P
    assert result.estimate == pytest.approx(0.02) and result.n == 200
    five = mean_test(binary(5, 0, 200), 0.0, 0.95, binary=BINARY)
    assert five.p_value == pytest.approx(1 / 64, rel=1e-12) and five.interval[0] > 0  # regressed
    exact = mean_test(binary(5, 0, 200), 0.0, 0.95, binary=CONSERVATIVE)
    assert exact.p_value == pytest.approx(1 / 32, rel=1e-12) and exact.method == paired.EXACT_BINOMIAL  # missed it


@pytest.mark.parametrize(
    ("worse", "better"), [(0, 0), (0, 7), (1, 0), (3, 1), (7, 1), (7, 2), (10, 10), (25, 12), (60, 40), (140, 40)]
)
def test_mid_p_matches_integer_arithmetic(worse, better):
    result = mean_test(binary(worse, better, 500), 0.0, 0.95, binary=BINARY)
    assert result.p_value == pytest.approx(mid_p(worse, worse + better), rel=1e-10)
    exact = mean_test(binary(worse, better, 500), 0.0, 0.95, binary=CONSERVATIVE)
    assert exact.p_value == pytest.approx(1.0 if worse + better == 0 else exact_tail(worse, worse + better), rel=1e-10)


def test_mid_p_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    for discordant in (1, 2, 9, 40, 333, 2000):
        worse = np.arange(discordant + 1)
        expected = stats.binom.sf(worse, discordant, 0.5) + 0.5 * stats.binom.pmf(worse, discordant, 0.5)
        got = paired.mid_p_tail(worse, np.full(worse.shape, discordant))
        tiny = expected < 1e-290  # below scipy's precision, and far beyond any level
        assert got[~tiny] == pytest.approx(expected[~tiny], rel=1e-10), discordant


def test_binomial_tail_far_out_and_large():
    # scipy.stats.binomtest(7, 9, 0.5, alternative="greater").pvalue == 0.08984375
    assert paired.binomial_tail(np.array([7]), np.array([9]))[0] == pytest.approx(0.08984375, rel=1e-12)
    worse = np.array([1000, 1100, 1300, 2000])
    got = paired.binomial_tail(worse, np.full(4, 2000))
    for value, k in zip(got, worse):
        assert value == pytest.approx(exact_tail(int(k), 2000), rel=1e-9)
    assert got[-1] == pytest.approx(2.0**-2000, rel=1e-9) or got[-1] == 0.0  # 2^-2000 is below the double range
    assert paired.binomial_tail(np.array([10, 0]), np.array([9, 0])).tolist() == [0.0, 1.0]


def no_change_size(n: int, churn: float, p_value) -> float:
    """P(p <= 0.025) exactly at no change: m ~ Binomial(n, churn) discordant pairs, worse | m ~ Binomial(m, 1/2)."""
    total = 0.0
    for m in range(n + 1):
        log_m = math.lgamma(n + 1) - math.lgamma(m + 1) - math.lgamma(n - m + 1)
        weight = math.exp(log_m + m * math.log(churn) + (n - m) * math.log1p(-churn))
        if weight < 1e-15:
            continue
        worse = np.arange(m + 1)
        rejected = worse[p_value(worse, np.full(m + 1, m)) <= 0.025]
        total += weight * sum(math.comb(m, int(k)) for k in rejected) / 2**m
    return total


@pytest.mark.parametrize(("n", "churn", "expected"), [(1000, 0.3, 0.02488), (200, 0.2, 0.02417), (500, 0.02, 0.02055)])
def test_mid_p_keeps_false_alarms_below_alpha_exactly(n, churn, expected):
    """The per-check false-alarm rate at no change, summed over every outcome (the worst of calibration.py's grid
    first): below the one-sided 0.025 though not conditionally (given m it exceeds 0.025 for some m)."""
    size = no_change_size(n, churn, paired.mid_p_tail)
    assert size == pytest.approx(expected, abs=1e-5) and size <= 0.025
    assert no_change_size(n, churn, paired.binomial_tail) < size - 0.0025  # the exact test gives away power


def test_no_discordant_pair_is_no_evidence():
    result = mean_test(np.zeros(300), 0.0, 0.95, binary=BINARY)
    assert result.p_value == 0.5 and result.estimate == 0.0  # the mid-p of no data: neither worse nor better
    assert result.interval[0] < 0 < result.interval[1]  # the score interval stays honest about what 300 pairs allow
    assert result.se > 0  # one discordant pair is assumed, so that the detectable worsening is not "zero"


def test_improvement_is_never_a_regression():
    result = mean_test(binary(2, 30, 400), 0.0, 0.95, binary=BINARY)
    assert result.estimate < 0 and result.p_value > 0.99 and result.interval[1] < 0


# --- binary with an allowance: Tango's score test ------------------------------------------------------------------


def brute_force_score(worse: int, better: int, n: int, margin: float) -> float:
    """Tango's statistic with the restricted MLE found by maximising the constrained likelihood numerically:
    p_worse = q + margin, p_better = q, the concordant pairs share 1 - 2q - margin."""
    concordant = n - worse - better

    def loglik(q: np.ndarray) -> np.ndarray:
        return worse * np.log(q + margin) + better * np.log(q) + concordant * np.log(1 - 2 * q - margin)

    low, high = max(0.0, -margin) + 1e-15, (1 - margin) / 2 - 1e-15
    for _ in range(8):  # zoom in on the maximum of a dense grid (the log-likelihood is concave)
        grid = np.linspace(low, high, 2001)
        best = int(np.argmax(loglik(grid)))
        low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    q = (low + high) / 2
    return (worse - better - n * margin) / math.sqrt(n * (2 * q + margin * (1 - margin)))


@pytest.mark.parametrize(
    ("worse", "better", "n", "margin"),
    [(4, 0, 200, 0.01), (10, 5, 200, 0.005), (60, 40, 1000, 0.02), (7, 1, 30, 0.05), (40, 30, 100, 0.2),
     (3, 9, 200, 0.01), (12, 2, 150, -0.03), (5, 20, 100, -0.1)],
)  # fmt: skip
def test_tango_restricted_mle_matches_brute_force(worse, better, n, margin):
    got = paired.tango_score(np.array([worse]), np.array([better]), n, margin)[0]
    assert got == pytest.approx(brute_force_score(worse, better, n, margin), abs=1e-6)


def test_tango_at_zero_margin_is_mcnemar():
    worse, better = np.array([9, 30, 3]), np.array([4, 22, 0])
    plain = paired.tango_score(worse, better, 500, 0.0)
    assert plain == pytest.approx((worse - better) / np.sqrt(worse + better))
    corrected = paired.tango_score(worse, better, 500, 0.0, correction=1.0)
    assert corrected == pytest.approx((worse - better - 1) / np.sqrt(worse + better))


def test_skewness_correction_solves_its_equation_with_the_third_moment_of_the_counts():
    """z = y - g (z^2 - 1) / 6, g the skewness of worse - better under H0 (at Tango's restricted MLE), here from the
    trinomial distribution of the counts enumerated outright."""
    worse, better, n, margin = 9, 2, 40, 0.05
    q = (worse - better - n * margin) / brute_force_score(worse, better, n, margin)  # sqrt(V)
    variance = q**2
    p_better = (variance / n + margin**2 - margin) / 2  # V = n (2 p_better + margin - margin^2)
    b, c = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = b + c <= n
    b, c = b[keep], c[keep]
    lgamma = np.vectorize(math.lgamma)
    log_prob = (
        math.lgamma(n + 1) - lgamma(b + 1) - lgamma(c + 1) - lgamma(n - b - c + 1)
        + b * math.log(p_better + margin) + c * math.log(p_better) + (n - b - c) * math.log1p(-2 * p_better - margin)
    )  # fmt: skip
    prob = np.exp(log_prob)
    d = b - c
    assert (prob * d).sum() == pytest.approx(n * margin) and (prob * (d - n * margin) ** 2).sum() == pytest.approx(
        variance
    )
    skewness = (prob * (d - n * margin) ** 3).sum() / variance**1.5
    for correction in (0.0, 0.75):
        y = paired.tango_score(np.array([worse]), np.array([better]), n, margin, correction)[0]
        z = paired.tango_score(np.array([worse]), np.array([better]), n, margin, correction, skew=True)[0]
        assert z == pytest.approx(y - skewness * (z * z - 1) / 6, abs=1e-6)
        assert z < y  # right-skewed counts: the same y is less evidence
    flipped = paired.tango_score(np.array([better]), np.array([worse]), n, -margin, 0.75, skew=True)[0]
    assert flipped == pytest.approx(
        -paired.tango_score(np.array([worse]), np.array([better]), n, margin, -0.75, True)[0]
    )


def test_skewness_correction_vanishes_at_margin_zero():
    worse, better = np.array([9, 30, 3]), np.array([4, 22, 0])
    skewed = paired.tango_score(worse, better, 500, 0.0, correction=0.75, skew=True)
    assert skewed == pytest.approx((worse - better - 0.75) / np.sqrt(worse + better))


def boundary_size(n: int, churn: float, margin: float, p_value) -> float:
    """P(p <= 0.025) exactly, summed over every (worse, better) outcome of n pairs at the H0 boundary (true
    worsening = margin, a share `churn` of the pairs changed)."""
    worse, better = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = worse + better <= n
    worse, better = worse[keep], better[keep]
    p10, p01 = (churn + margin) / 2, (churn - margin) / 2
    log_factorial = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1)))])
    log_prob = (
        log_factorial[n] - log_factorial[worse] - log_factorial[better] - log_factorial[n - worse - better]
        + worse * math.log(p10) + (n - worse - better) * math.log1p(-churn)
        + np.where(better > 0, better * math.log(p01) if p01 > 0 else -np.inf, 0.0)  # none better at churn = margin
    )  # fmt: skip
    return float(np.exp(log_prob)[p_value(worse, better, n, margin) <= 0.025].sum())


def chosen(worse, better, n, margin):
    return paired.discordant_p_values(worse, better, n, margin, BINARY)


def score(correction: float, skew: bool):
    def p_value(worse, better, n, margin):
        return 0.5 * np.vectorize(math.erfc)(paired.tango_score(worse, better, n, margin, correction, skew) / 2**0.5)

    return p_value


@pytest.mark.parametrize(
    ("n", "churn", "margin"),
    [(200, 0.012, 0.01), (200, 0.05, 0.01), (310, 0.025, 0.02), (785, 0.2, 0.2), (140, 0.06, 0.05), (500, 0.01, 0.01)],
)
def test_allowance_on_accuracy_keeps_false_alarms_below_alpha(n, churn, margin):
    """True worsening exactly at the allowance: "regressed" at most 2.5% of the time, summed over every outcome
    (among them the worst of calibration.py's dense grid, and where the candidates below exceed)."""
    assert boundary_size(n, churn, margin, chosen) <= 0.025


def test_without_its_corrections_the_score_test_would_be_liberal():
    """Why the test with an allowance carries both corrections, and 0.75 of a step rather than half of one."""
    assert boundary_size(200, 0.02, 0.02, score(0.0, False)) > 0.049  # plain Tango
    assert boundary_size(500, 0.015, 0.01, score(0.0, True)) > 0.033  # skewness-corrected only
    assert boundary_size(310, 0.025, 0.02, score(0.5, True)) > 0.0253  # half a step
    assert boundary_size(200, 0.02, 0.02, score(1.0, False)) <= 0.025  # the test before issue 20: calibrated too


def test_allowance_decides():
    diffs = binary(30, 10, 1000)  # 2 points worse
    strict = mean_test(diffs, 0.0, 0.95, binary=BINARY)
    lenient = mean_test(diffs, 0.03, 0.95, binary=BINARY)
    assert strict.p_value < 0.01 and lenient.p_value > 0.5
    assert lenient.method == paired.SKEWED_SCORE and strict.interval[1] == lenient.interval[1]
    assert lenient.interval[0] < strict.interval[0]  # the low end inverts the check's own (corrected) test


def test_allowance_of_a_whole_unit_can_never_be_exceeded():
    assert mean_test(binary(200, 0, 200), 1.0, 0.95, binary=BINARY).p_value == 1.0
    assert mean_test(binary(200, 0, 200), 0.9, 0.95, binary=BINARY).p_value < 0.01


def test_tango_interval_inverts_the_score_test():
    worse, better, n = np.array([30, 4, 200]), np.array([10, 0, 0]), 200
    low, high = paired.tango_interval(worse, better, n, 0.95)
    z = Z.inv_cdf(0.975)
    assert paired.tango_score(worse[:2], better[:2], n, low[:2]) == pytest.approx([z, z], abs=1e-6)
    assert paired.tango_score(worse[:2], better[:2], n, high[:2]) == pytest.approx([-z, -z], abs=1e-6)
    assert np.all(low <= (worse - better) / n) and np.all((worse - better) / n <= high)
    assert high[2] == pytest.approx(1.0) and 0.95 < low[2] < 1  # every pair worse: the interval reaches 1


@pytest.mark.parametrize("tests", [BINARY, CONSERVATIVE])
@pytest.mark.parametrize("n", [30, 57, 131])
def test_interval_and_p_values_never_disagree(tests, n):
    """Every outcome of n pairs, allowances 0 to 0.1, three confidences: the low end lies beyond the allowance
    exactly when the p-value is at most alpha, the high end below 0 exactly when an improvement's p-value is."""
    worse, better = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = worse + better <= n
    worse, better = worse[keep].astype(float), better[keep].astype(float)
    for confidence in (0.9, 0.95, 0.99):
        alpha = (1 - confidence) / 2
        improved = paired.discordant_p_values(better, worse, n, 0.0, tests) <= alpha
        for allowed in (0.0, 0.004, 0.01, 0.05, 0.1):
            checks = paired.discordant_tests(worse, better, n, allowed, confidence, tests)
            assert np.array_equal(checks.low > allowed, checks.p_value <= alpha), (confidence, allowed)
            assert np.array_equal(checks.high < 0, improved), (confidence, allowed)
            assert np.all((checks.low <= checks.estimate) & (checks.estimate <= checks.high))


def test_where_the_score_statistic_and_the_mid_p_test_disagree_the_interval_follows_the_test():
    """4 of 4 changed pairs worse: the score statistic at margin 0 is 4 / sqrt(4) = 2 > 1.96, but the mid-p is 1/32."""
    worse, better = np.array([4.0]), np.array([0.0])
    assert paired.tango_score(worse, better, 200, 0.0, skew=True)[0] == pytest.approx(2.0)
    check = paired.discordant_tests(worse, better, 200, 0.0, 0.95, BINARY)
    assert check.p_value[0] == pytest.approx(1 / 32) and -0.002 < check.low[0] <= 0 < check.high[0]
    score_alone = paired.tango_interval(worse, better, 200, 0.95)[0][0]  # Tango's plain score interval
    assert score_alone > 0


# --- continuous: the paired t-test --------------------------------------------------------------------------------


def test_t_test_by_hand_two_degrees_of_freedom():
    diffs = np.array([0.1, 0.3, 0.2])  # mean 0.2, sd 0.1, t = 0.2 / (0.1 / sqrt 3) = 2 sqrt 3
    result = mean_test(diffs, 0.0, 0.95, binary=None)
    t = 2 * math.sqrt(3)
    assert result.p_value == pytest.approx(0.5 - t / (2 * math.sqrt(2 + t * t)), rel=1e-12)  # t with 2 df
    half = 0.95 / math.sqrt(2 * 0.975 * 0.025) * 0.1 / math.sqrt(3)  # t quantile with 2 df in closed form
    assert result.interval == pytest.approx((0.2 - half, 0.2 + half), rel=1e-12)
    assert result.se == pytest.approx(0.1 / math.sqrt(3)) and result.method == paired.PAIRED_T


def test_t_test_one_degree_of_freedom_is_cauchy():
    result = mean_test(np.array([0.5, 1.5]), 0.25, 0.9, binary=None)  # mean 1, se 0.5: t = (1 - 0.25) / 0.5
    assert result.p_value == pytest.approx(0.5 - math.atan(1.5) / math.pi, rel=1e-12)
    half = math.tan(math.pi * 0.45) * 0.5
    assert result.interval == pytest.approx((1 - half, 1 + half), rel=1e-12)


def test_t_test_against_scipy():
    diffs = np.array([0.12, -0.05, 0.3, 0.08, 0.15, -0.02, 0.22, 0.05, 0.11, 0.09])
    result = mean_test(diffs, 0.02, 0.9, binary=None)
    # scipy.stats.ttest_1samp(diffs, 0.02, alternative="greater").pvalue
    assert result.p_value == pytest.approx(0.014643543848576171, rel=1e-10)
    # scipy.stats.ttest_1samp(diffs, 0).confidence_interval(0.9)
    assert result.interval == pytest.approx((0.0448042629354745, 0.1651957370645255), rel=1e-12)


@pytest.mark.parametrize(
    ("t", "df", "expected"),  # scipy.stats.t.sf(t, df)
    [(1.5, 9, 0.08392532802853753), (2.5, 29, 0.009162672169213043), (-0.7, 29, 0.7552474256927582),
     (3.0, 199, 0.001522413362553087), (6.0, 999, 1.3781345344522111e-09), (40.0, 19, 4.153878599669217e-20)],
)  # fmt: skip
def test_student_t_tail(t, df, expected):
    assert paired.student_t_sf(np.array([t]), df)[0] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    ("q", "df", "expected"),  # scipy.stats.t.ppf(q, df)
    [(0.975, 9, 2.262157162798205), (0.975, 199, 1.9719565442517533), (0.995, 29, 2.756385903670605)],
)
def test_student_t_quantile(q, df, expected):
    assert paired.t_quantile(q, df) == pytest.approx(expected, rel=1e-12)


def test_student_t_tail_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    for df in (3, 50, 5000, 10**6):
        for t in (0.001, 0.8, 2.0, 4.5, 12.0):
            x = mpmath.mpf(df) / (df + mpmath.mpf(t) ** 2)
            expected = float(mpmath.betainc(mpmath.mpf(df) / 2, mpmath.mpf(1) / 2, 0, x, regularized=True) / 2)
            assert paired.student_t_sf(np.array([t]), df)[0] == pytest.approx(expected, rel=1e-9), (t, df)


def test_constant_differences():
    worse = mean_test(np.full(50, 0.01), 0.005, 0.95, binary=None)
    assert worse.p_value == 0.0 and worse.interval == (0.01, 0.01) and worse.se == 0.0
    within = mean_test(np.full(50, 0.01), 0.01, 0.95, binary=None)
    assert within.p_value == 1.0
    assert mean_test(np.full(50, 0.1), 0.0, 0.95, binary=None).p_value == 0.0  # 0.1 * 50 / 50 may round: no matter


def test_too_few_pairs_are_not_judged():
    one = mean_test(np.array([0.3]), 0.0, 0.95, binary=None)
    assert math.isnan(one.p_value) and one.n == 1
    none = mean_test(np.zeros(0), 0.0, 0.95, binary=BINARY)
    assert math.isnan(none.p_value) and none.n == 0


def test_rows_are_independent_checks():
    rng = np.random.default_rng(0)
    diffs = rng.normal(0.01, 0.1, (5, 40))
    batch = mean_tests(diffs, 0.005, 0.95, binary=None)
    for row in range(5):
        assert batch[row] == mean_test(diffs[row], 0.005, 0.95, binary=None)
    counts = rng.choice([-1.0, 0.0, 1.0], p=[0.05, 0.85, 0.1], size=(5, 200))
    batch = mean_tests(counts, 0.01, 0.95, binary=BINARY)
    assert all(batch[row] == mean_test(counts[row], 0.01, 0.95, binary=BINARY) for row in range(5))


@pytest.mark.parametrize(
    ("diffs", "allowed", "binary", "message"),
    [(np.array([0.1, np.nan, 0.2]), 0.0, None, "NaN"), (np.array([1.0, 0.5, 0.0]), 0.0, BINARY, "-1, 0 or 1"),
     (np.array([0.1, 0.2]), -0.01, None, ">= 0")],
)  # fmt: skip
def test_misuse_is_refused(diffs, allowed, binary, message):
    with pytest.raises(ValueError, match=message):
        mean_test(diffs, allowed, 0.95, binary=binary)


def test_unknown_binary_tests_are_refused():
    with pytest.raises(ValueError, match="no_allowance must be one of"):
        paired.BinaryTests(paired.TANGO, paired.TANGO)
    with pytest.raises(ValueError, match="allowance must be one of"):
        paired.BinaryTests(paired.MID_P, paired.PAIRED_T)


# --- metrics that are not a plain mean: bootstrap ------------------------------------------------------------------


def test_bootstrap_p_value_can_pass_a_correction_over_60_checks():
    resampled = np.linspace(-1, 1, 1001) * 0.01 + 0.04  # spread 0.01 around 0.04: every resample is a worsening
    result = bootstrap_test(0.04, resampled, 0.0, 0.95, 300)
    se = float(np.std(resampled, ddof=1))
    assert result.se == pytest.approx(se)
    assert result.p_value == pytest.approx(Z.cdf(-0.04 / se), rel=1e-9)
    assert result.p_value < 0.05 / 60 < 1 / 1001  # counting resamples could never go below 1/1001
    assert result.interval == pytest.approx(tuple(np.percentile(resampled, [2.5, 97.5])))
    assert result.method == paired.BOOTSTRAP and result.n == 300


def test_bootstrap_within_allowance_and_nan_resamples():
    resampled = np.array([0.01, 0.02, np.nan, 0.03, 0.02])
    result = bootstrap_test(0.02, resampled, 0.02, 0.9, 50)
    assert result.p_value == pytest.approx(0.5) and result.se == pytest.approx(np.std([0.01, 0.02, 0.03, 0.02], ddof=1))
    flat = bootstrap_test(0.02, np.full(100, 0.02), 0.01, 0.95, 50)
    assert flat.p_value == 0.0 and flat.interval == (0.02, 0.02)
    assert math.isnan(bootstrap_test(0.02, np.full(10, np.nan), 0.0, 0.95, 50).p_value)


# --- across checks: Benjamini-Hochberg and Holm --------------------------------------------------------------------


P = np.array([0.01, 0.04, 0.03, 0.005])


def test_benjamini_hochberg_by_hand():
    # sorted 0.005 0.01 0.03 0.04, times m / rank = 0.02 0.02 0.04 0.04, running minimum from the top
    adjusted, reject = adjust(P, "bh", 0.05)
    assert adjusted == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert reject.tolist() == [True, True, True, True]


def test_holm_by_hand():
    # sorted 0.005 0.01 0.03 0.04, times (m - rank + 1) = 0.02 0.03 0.06 0.04, running maximum
    adjusted, reject = adjust(P, "holm", 0.05)
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert reject.tolist() == [True, False, False, True]


def test_none_is_raw():
    adjusted, reject = adjust(P, "none", 0.02)
    assert adjusted.tolist() == P.tolist() and reject.tolist() == [True, False, False, True]


def test_unjudged_checks_are_outside_the_family():
    with_nan = np.array([0.01, np.nan, 0.04, 0.03, np.nan, 0.005])
    for method in ("bh", "holm"):
        adjusted, reject = adjust(with_nan, method, 0.05)
        alone, alone_reject = adjust(P, method, 0.05)
        judged = ~np.isnan(with_nan)
        assert adjusted[judged] == pytest.approx(alone) and reject[judged].tolist() == alone_reject.tolist()
        assert np.isnan(adjusted[~judged]).all() and not reject[~judged].any()


def test_adjusted_are_monotone_and_capped():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 40) ** 3
    order = np.argsort(p)
    for method in ("bh", "holm"):
        adjusted, _ = adjust(p, method, 0.05)
        assert np.all(np.diff(adjusted[order]) >= 0) and adjusted.max() <= 1 and np.all(adjusted >= p)
    assert adjust(np.array([0.9, 0.8]), "holm", 0.05)[0].tolist() == [1.0, 1.0]


def test_sixty_slices_of_resample_counts_can_never_be_rejected_by_holm():
    smallest = np.full(60, 1 / 1001)
    assert not adjust(smallest, "holm", 0.05)[1].any()  # why bootstrap_test does not count resamples


def test_families_per_row():
    rows = np.array([[0.01, 0.04, 0.03, 0.005], [0.5, np.nan, 0.001, 0.2]])
    adjusted, reject = adjust(rows, "holm", 0.05)
    assert adjusted[0] == pytest.approx(adjust(rows[0], "holm", 0.05)[0])
    # second family, 3 judged: sorted 0.001 0.2 0.5, times 3 2 1 = 0.003 0.4 0.5
    assert adjusted[1][[0, 2, 3]] == pytest.approx([0.5, 0.003, 0.4]) and np.isnan(adjusted[1][1])
    assert reject.tolist() == [[True, False, False, True], [False, False, True, False]]
    with pytest.raises(ValueError, match="unknown correction"):
        adjust(P, "bonferroni", 0.05)


# --- power ---------------------------------------------------------------------------------------------------------


def test_detectable_worsening():
    se = 0.004
    found = detectable_worsening(se, 0.05)
    assert found == pytest.approx((Z.inv_cdf(0.95) + Z.inv_cdf(0.8)) * se)  # 2.486 standard errors
    # a true worsening of that size is found 80% of the time by a one-sided z-test at 0.05
    assert 1 - Z.cdf(Z.inv_cdf(0.95) - found / se) == pytest.approx(0.8)
    assert detectable_worsening(se, 0.05 / 60, 0.9) > found  # a corrected level needs a larger worsening


def test_t_quantiles_agree_with_the_scalar_quantile_for_every_df():
    from pytest_kolena.checks.paired import t_quantile, t_quantiles

    df = np.array([1.0, 2.0, 3.5, 10.0, 29.7, 100.0, 999.3, 9999.0, 20000.0, 1e6])
    expected = [t_quantile(0.975, float(d)) for d in df]
    assert np.allclose(t_quantiles(0.975, df), expected, rtol=0, atol=1e-12)
    assert np.isnan(t_quantiles(0.975, np.array([0.5, np.nan]))).all()
