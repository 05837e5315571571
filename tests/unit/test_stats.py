"""The report's statistics against scipy/statsmodels, published examples and simulations.

`lambdas.logic.stats` is pure Python; numpy, scipy and statsmodels (dev extra) only check
it. Simulations are seeded; each tolerance is a number of binomial standard deviations,
sqrt(r (1 - r) / runs), so a failure means a real bias, not bad luck with the seed.
"""

from __future__ import annotations

import doctest
import math
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import integrate
from scipy import stats as sps
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)

from lambdas.logic import stats
from lambdas.logic.stats import (
    BeatControl,
    Comparison,
    Counts,
    SrmResult,
    mean_test,
    prob_beat_control_mean,
    prob_beat_control_rate,
    proportion_test,
    sequential_interval,
    srm_test,
)

ALPHA = 0.05
# Cumulative visitors, conversions, value and value^2 of simulated runs: (runs, days, arm).
Days = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]

# (control conversions, control visitors, variant conversions, variant visitors)
RATE_CASES = [
    (500, 10_000, 580, 10_000),
    (104, 11_037, 189, 11_034),
    (12, 250, 9, 180),
    (3_100, 52_000, 3_050, 48_500),
    (990, 1_000, 995, 1_000),
    (1, 40, 6, 41),
]


def _binomial_sd(rate: float, runs: int) -> float:
    return math.sqrt(rate * (1 - rate) / runs)


def _counts(values: NDArray[np.float64], conversions: int = 0) -> Counts:
    return Counts(
        visitors=len(values),
        conversions=conversions,
        value=float(values.sum()),
        value_sq=float((values**2).sum()),
    )


def _revenue(rng: np.random.Generator, n: int, rate: float, scale: float) -> NDArray[np.float64]:
    """Value per visitor: mostly zeros, log-normal order values for the converters."""
    buys = rng.random(n) < rate
    return np.where(buys, scale * rng.lognormal(3.5, 0.8, n), 0.0)


# --- the module's own examples ---------------------------------------------------------------


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(stats, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10
    assert result.failed == 0


# --- distributions against scipy -------------------------------------------------------------


@pytest.mark.parametrize("df", [1, 1.5, 2, 3, 5, 7.3, 10, 30, 100, 1e3, 1e4, 3e4, 1e5, 1e6, 1e8])
def test_student_t_sf_matches_scipy(df: float) -> None:
    # Large df rest on the asymptotic Gamma ratio and lose a few digits past 1e6.
    rel = 1e-9 if df <= 1e6 else 1e-7
    for t in [*(-np.logspace(-3, 2, 25)), 0.0, *np.logspace(-3, 2, 25)]:
        expected = sps.t.sf(t, df)
        if expected > 1e-300:
            assert stats._t_sf(float(t), df) == pytest.approx(expected, rel=rel, abs=0)


@pytest.mark.parametrize("df", [1, 2, 3.7, 10, 57.2, 1e3, 1e5, 1e7])
def test_student_t_quantile_matches_scipy(df: float) -> None:
    for p in [0.4, 0.1, 0.025, 0.005, 1e-5, 1e-9]:
        assert stats._t_isf(p, df) == pytest.approx(sps.t.isf(p, df), rel=1e-9)


def test_chi_square_sf_matches_scipy_over_a_grid() -> None:
    grid = [*np.linspace(0.01, 5, 25), 7.5, 10, 15, 20, 30, 40, 60, 80, 120, 200, 400, 700]
    for df in range(1, 61):
        for x in grid:
            expected = sps.chi2.sf(x, df)
            assert stats._chi2_sf(float(x), df) == pytest.approx(expected, rel=1e-10, abs=1e-300)
    assert stats._chi2_sf(0.0, 3) == 1.0


def test_z_test_p_value_keeps_tiny_tails() -> None:
    # The z-test's p-value comes from erfc, not 1 - cdf, so tiny p-values keep their digits.
    r = proportion_test(control=Counts(100_000, 5_000), variant=Counts(100_000, 6_500))
    assert r.statistic is not None
    assert r.p_value == pytest.approx(2 * sps.norm.sf(abs(r.statistic)), rel=1e-12)
    assert r.p_value is not None and r.p_value < 1e-40


# --- proportions -----------------------------------------------------------------------------


@pytest.mark.parametrize(("x_c", "n_c", "x_v", "n_v"), RATE_CASES)
def test_proportion_test_matches_statsmodels(x_c: int, n_c: int, x_v: int, n_v: int) -> None:
    r = proportion_test(control=Counts(n_c, x_c), variant=Counts(n_v, x_v))
    z, p = proportions_ztest([x_v, x_c], [n_v, n_c])
    assert r.statistic == pytest.approx(z, rel=1e-12)
    assert r.p_value == pytest.approx(p, rel=1e-10)
    diff_low, diff_high = confint_proportions_2indep(
        x_v, n_v, x_c, n_c, compare="diff", method="wald", alpha=ALPHA
    )
    assert (r.difference_low, r.difference_high) == pytest.approx((diff_low, diff_high), rel=1e-10)
    # Our lift interval is the delta method on log(variant / control): Katz's log interval
    # for a ratio of proportions, statsmodels' method="log".
    ratio_low, ratio_high = confint_proportions_2indep(
        x_v, n_v, x_c, n_c, compare="ratio", method="log", alpha=ALPHA
    )
    assert (r.lift_low, r.lift_high) == pytest.approx((ratio_low - 1, ratio_high - 1), rel=1e-10)
    assert r.lift == pytest.approx((x_v / n_v) / (x_c / n_c) - 1, rel=1e-12)
    assert r.kind == "fixed_horizon" and r.metric == "rate" and r.reason is None


def test_proportion_test_reproduces_agrestis_aspirin_example() -> None:
    # Agresti, "An Introduction to Categorical Data Analysis" (2nd ed., 2007) §2.2 (also
    # "Categorical Data Analysis", 3rd ed., §2.2 and §3.1): Physicians' Health Study, heart
    # attacks in 189 of 11,034 physicians on placebo and 104 of 11,037 on aspirin. Printed
    # to the book's precision: rates 0.0171 and 0.0094, difference 0.0077 with 95% CI
    # (0.005, 0.011), relative risk 1.82 with the log-scale 95% CI (1.43, 2.30); the upper
    # bound's last digit follows the book's rounded standard error, hence 0.01 of slack.
    # Here placebo plays the "variant" so the lift is the relative risk minus 1.
    r = proportion_test(control=Counts(11_037, 104), variant=Counts(11_034, 189))
    assert r.variant is not None and r.control is not None and r.difference is not None
    assert (round(r.variant, 4), round(r.control, 4)) == (0.0171, 0.0094)
    assert round(r.difference, 4) == 0.0077
    assert r.difference_low is not None and r.difference_high is not None
    assert (round(r.difference_low, 3), round(r.difference_high, 3)) == (0.005, 0.011)
    assert r.lift is not None and round(1 + r.lift, 2) == 1.82
    assert r.lift_low is not None and r.lift_high is not None
    assert round(1 + r.lift_low, 2) == 1.43
    assert abs((1 + r.lift_high) - 2.30) <= 0.01
    # Pearson's chi-square on the 2x2 table is z squared (the pooled z-test).
    chi2, p, _, _ = sps.chi2_contingency(
        [[189, 11_034 - 189], [104, 11_037 - 104]], correction=False
    )
    assert r.statistic is not None
    assert r.statistic**2 == pytest.approx(chi2, rel=1e-10)
    assert r.p_value == pytest.approx(p, rel=1e-8)


@pytest.mark.parametrize(
    ("control", "variant", "reason"),
    [
        (Counts(0), Counts(100, 5), "control has no visitors"),
        (Counts(100, 5), Counts(0), "variant has no visitors"),
        (Counts(1000, 0), Counts(1000, 0), "no visitor converted"),
        (Counts(50, 50), Counts(60, 60), "every visitor converted"),
        (Counts(1000, 0), Counts(1000, 4), "control rate is zero: lift is undefined"),
        (Counts(1000, 4), Counts(1000, 0), "variant rate is zero: the lift interval is undefined"),
        (Counts(10, 0), Counts(10, 10), "each variant converted all or none of its visitors"),
    ],
)
def test_undefined_rate_statistics_are_none_with_a_reason(
    control: Counts, variant: Counts, reason: str
) -> None:
    for r in (
        proportion_test(control=control, variant=variant),
        sequential_interval(control=control, variant=variant, expected_visitors=1000),
    ):
        assert r.reason is not None and reason in r.reason
        _assert_no_nan(r)
    lost = proportion_test(control=Counts(1000, 4), variant=Counts(1000, 0))
    assert lost.lift == -1.0 and lost.lift_low is None and lost.p_value is not None


# --- value per visitor -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "n_c", "n_v", "rate", "scale"),
    [(1, 5_000, 5_000, 0.05, 1.0), (2, 800, 1_900, 0.3, 1.2), (3, 40, 25, 0.5, 0.7)],
)
def test_mean_test_matches_scipy_welch(
    seed: int, n_c: int, n_v: int, rate: float, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    a, b = _revenue(rng, n_c, rate, 1.0), _revenue(rng, n_v, rate, scale)
    r = mean_test(control=_counts(a), variant=_counts(b))
    ref = sps.ttest_ind(b, a, equal_var=False)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert r.df == pytest.approx(ref.df, rel=1e-9)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-8)
    low, high = ref.confidence_interval(confidence_level=1 - ALPHA)
    assert (r.difference_low, r.difference_high) == pytest.approx((low, high), rel=1e-8)
    assert r.lift == pytest.approx(b.mean() / a.mean() - 1, rel=1e-12)
    # Delta method on the log ratio, written out from its definition.
    log_se = math.sqrt(
        a.var(ddof=1) / (n_c * a.mean() ** 2) + b.var(ddof=1) / (n_v * b.mean() ** 2)
    )
    q = sps.t.isf(ALPHA / 2, ref.df)
    log_ratio = math.log(b.mean() / a.mean())
    assert r.lift_low == pytest.approx(math.expm1(log_ratio - q * log_se), rel=1e-8)
    assert r.lift_high == pytest.approx(math.expm1(log_ratio + q * log_se), rel=1e-8)


def test_mean_test_by_hand() -> None:
    # Values 1..4 against 3..6: means 2.5 and 4.5, variances 5/3 each, so
    # t = 2 / sqrt(5/12 + 5/12) = sqrt(4.8) and df = (5/6)^2 / (2 (5/12)^2 / 3) = 6.
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([3.0, 4.0, 5.0, 6.0])
    r = mean_test(control=_counts(a), variant=_counts(b))
    assert r.statistic == pytest.approx(math.sqrt(4.8), rel=1e-12)  # 2 / sqrt(5/12 + 5/12)
    assert r.df == pytest.approx(6.0, rel=1e-12)


@pytest.mark.parametrize(
    ("control", "variant", "reason"),
    [
        (Counts(1, 0, 5.0, 25.0), Counts(10, 0, 10.0, 30.0), "needs 2 visitors"),
        (Counts(0), Counts(0), "needs 2 visitors"),
        (Counts(10, 10, 50.0, 250.0), Counts(10, 10, 50.0, 250.0), "no variance"),
        (Counts(10), Counts(10, 1, 5.0, 25.0), "control mean is zero: lift is undefined"),
        (Counts(10, 1, 5.0, 25.0), Counts(10), "variant mean is zero: the lift interval"),
    ],
)
def test_undefined_mean_statistics_are_none_with_a_reason(
    control: Counts, variant: Counts, reason: str
) -> None:
    for r in (
        mean_test(control=control, variant=variant),
        sequential_interval(control=control, variant=variant, expected_visitors=100, metric="mean"),
    ):
        assert r.reason is not None and reason in r.reason
        _assert_no_nan(r)


def test_impossible_counters_and_options_fail_fast() -> None:
    with pytest.raises(ValueError, match="conversions 5 is not between 0 and visitors 4"):
        Counts(4, 5)
    with pytest.raises(ValueError, match="visitors -1 is negative"):
        Counts(-1)
    with pytest.raises(ValueError, match="is not finite"):
        Counts(4, 1, math.nan)
    with pytest.raises(ValueError, match=r"alpha 1\.5 is not between 0 and 1"):
        proportion_test(control=Counts(10, 1), variant=Counts(10, 2), alpha=1.5)
    with pytest.raises(ValueError, match="expected_visitors 0 is not positive"):
        sequential_interval(control=Counts(10, 1), variant=Counts(10, 2), expected_visitors=0)


# --- Bayesian chance to beat control ---------------------------------------------------------

BETA_CASES = [
    (10, 100, 10, 100),
    (50, 1_000, 70, 1_000),
    (0, 0, 3, 10),
    (2, 5, 0, 3),
    (300, 10_000, 350, 10_000),
    (9_990, 10_000, 9_995, 10_000),  # sums over failures
    (120, 3_000, 45, 1_000),
    (5_000, 20_000, 5_100, 20_000),
]


def _exact_integral(a_c: float, b_c: float, a_v: float, b_v: float) -> float:
    """P(p_v > p_c) = integral of f_c(x) * P(p_v > x) dx, on the posteriors' bulk."""
    lo = min(sps.beta.ppf(1e-15, a_c, b_c), sps.beta.ppf(1e-15, a_v, b_v))
    hi = max(sps.beta.isf(1e-15, a_c, b_c), sps.beta.isf(1e-15, a_v, b_v))
    modes = [float(sps.beta.mean(a_c, b_c)), float(sps.beta.mean(a_v, b_v))]
    value, _ = integrate.quad(
        lambda x: sps.beta.pdf(x, a_c, b_c) * sps.beta.sf(x, a_v, b_v),
        lo,
        hi,
        points=modes,
        epsabs=1e-13,
        epsrel=1e-12,
        limit=200,
    )
    return float(value)


@pytest.mark.parametrize(("x_c", "n_c", "x_v", "n_v"), BETA_CASES)
def test_prob_beat_control_rate_matches_the_exact_integral(
    x_c: int, n_c: int, x_v: int, n_v: int
) -> None:
    # Evan Miller, "Formulas for Bayesian A/B Testing" (2015), closed form for
    # Pr(p_B > p_A) with Beta(1 + successes, 1 + failures) posteriors, against quadrature.
    got = prob_beat_control_rate(control=Counts(n_c, x_c), variant=Counts(n_v, x_v))
    expected = _exact_integral(1 + x_c, 1 + n_c - x_c, 1 + x_v, 1 + n_v - x_v)
    assert got.method == "exact"
    assert got.prob_beat_control == pytest.approx(expected, abs=1e-9)
    # And the mirror image: swapping the variants gives the complement.
    back = prob_beat_control_rate(control=Counts(n_v, x_v), variant=Counts(n_c, x_c))
    assert back.prob_beat_control == pytest.approx(1 - expected, abs=1e-9)


def test_prob_beat_control_rate_matches_monte_carlo() -> None:
    # 2,000,000 paired Beta draws: the estimate's sd is at most sqrt(0.25 / 2e6) = 3.5e-4,
    # so 5 sd = 1.8e-3 is a tolerance that only a real error exceeds.
    rng = np.random.default_rng(7)
    draws = 2_000_000
    for x_c, n_c, x_v, n_v in [(50, 1_000, 70, 1_000), (120, 3_000, 45, 1_000), (4, 30, 3, 35)]:
        p_c = rng.beta(1 + x_c, 1 + n_c - x_c, draws)
        p_v = rng.beta(1 + x_v, 1 + n_v - x_v, draws)
        mc = float((p_v > p_c).mean())
        got = prob_beat_control_rate(control=Counts(n_c, x_c), variant=Counts(n_v, x_v))
        assert got.prob_beat_control == pytest.approx(mc, abs=5 * _binomial_sd(mc, draws) + 1e-6)


def test_prob_beat_control_rate_falls_back_to_normal_only_for_huge_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given posteriors with just over 1e5 successes, and skewness that does not cancel
    # (control 10% of 1e6, variant 10% of 2e7: the worst case for a normal approximation)
    c, v = Counts(1_000_000, 100_500), Counts(20_000_000, 2_010_500)
    exact = _exact_integral(100_501, 899_501, 2_010_501, 17_989_501)
    got = prob_beat_control_rate(control=c, variant=v)
    # Then the normal approximation is used, and is off by less than 1e-3 (3.2e-4 here)
    assert got.method == "normal_approximation"
    assert got.prob_beat_control == pytest.approx(exact, abs=1e-3)
    # While the exact sum, forced, still agrees with the integral at this size
    monkeypatch.setattr(stats, "_EXACT_MAX_TERMS", 10**9)
    forced = prob_beat_control_rate(control=c, variant=v)
    assert forced.method == "exact"
    # (to 1e-7: lgamma near 2e7 is ~3e8, whose last digits are ~3e-8 of the exponent)
    assert forced.prob_beat_control == pytest.approx(exact, abs=1e-7)


def test_prob_beat_control_mean_is_the_gaussian_posterior() -> None:
    rng = np.random.default_rng(11)
    a, b = _revenue(rng, 3_000, 0.06, 1.0), _revenue(rng, 3_000, 0.06, 1.08)
    got = prob_beat_control_mean(control=_counts(a), variant=_counts(b))
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert got.prob_beat_control == pytest.approx(sps.norm.cdf((b.mean() - a.mean()) / se))
    assert got.method == "normal_approximation" and got.reason is None
    flat = prob_beat_control_mean(
        control=Counts(5, 5, 50.0, 500.0), variant=Counts(5, 5, 50.0, 500.0)
    )
    assert flat.prob_beat_control is None and flat.reason == "value per visitor has no variance"


# --- sample ratio mismatch -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "weights"),
    [
        ([5_000, 5_400], [0.5, 0.5]),
        ([5_000, 5_100], [0.5, 0.5]),
        ([1_000, 2_100, 2_900], [0.2, 0.4, 0.4]),
        ([49_800, 50_200, 10_050], [45, 45, 10]),
        ([3, 9], [1, 1]),
    ],
)
def test_srm_matches_scipy_chisquare(observed: list[int], weights: list[float]) -> None:
    got = srm_test(observed=observed, weights=weights)
    expected = np.array(weights) / sum(weights) * sum(observed)
    ref = sps.chisquare(observed, f_exp=expected)
    assert got.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert got.df == len(observed) - 1
    assert got.flagged == (ref.pvalue < 0.001)


def test_srm_flags_a_skewed_split_and_not_a_fair_one() -> None:
    # Given a 50/50 declaration, when 5,000 and 5,400 visitors arrive, then SRM is flagged
    skewed = srm_test(observed=[5_000, 5_400], weights=[0.5, 0.5])
    assert skewed.flagged and skewed.p_value is not None and skewed.p_value < 1e-4
    # And a split within chance of 50/50 is not
    fair = srm_test(observed=[5_000, 5_060], weights=[0.5, 0.5])
    assert not fair.flagged and fair.p_value is not None and fair.p_value > 0.5


def test_srm_edge_cases() -> None:
    assert srm_test(observed=[0, 0], weights=[1, 1]).reason == "no visitors yet"
    ghost = srm_test(observed=[10, 3], weights=[1, 0])
    assert ghost.flagged and ghost.p_value == 0.0 and ghost.statistic is None
    solo = srm_test(observed=[10, 0], weights=[1, 0])
    assert not solo.flagged and solo.reason == "only one variant has traffic"
    with pytest.raises(ValueError, match="2 observed counts but 3 weights"):
        srm_test(observed=[1, 2], weights=[1, 1, 1])
    with pytest.raises(ValueError, match="are not non-negative"):
        srm_test(observed=[1, 2], weights=[1, -1])


# --- sequential intervals --------------------------------------------------------------------


def test_sequential_interval_is_growthbooks_normal_mixture_boundary() -> None:
    c, v, planned = Counts(6_000, 300), Counts(6_100, 360), 20_000
    s = sequential_interval(control=c, variant=v, expected_visitors=planned)
    # Written out as in the brief (GrowthBook's gbstats): rho from eq. 161, half-width eq. 9.
    n = c.visitors + v.visitors
    rho = math.sqrt((-2 * math.log(ALPHA) + math.log(-2 * math.log(ALPHA) + 1)) / planned)
    p_c, p_v = 300 / 6_000, 360 / 6_100
    se = math.sqrt(p_c * (1 - p_c) / 6_000 + p_v * (1 - p_v) / 6_100)
    sigma = se * math.sqrt(n)
    half = sigma * math.sqrt(
        2 * (n * rho**2 + 1) / (n**2 * rho**2) * math.log(math.sqrt(n * rho**2 + 1) / ALPHA)
    )
    assert s.kind == "sequential" and s.df is None
    assert s.difference_low == pytest.approx(p_v - p_c - half, rel=1e-12)
    assert s.difference_high == pytest.approx(p_v - p_c + half, rel=1e-12)
    f = proportion_test(control=c, variant=v)
    assert f.kind == "fixed_horizon"
    assert s.difference_low is not None and s.difference_high is not None
    assert f.difference_low is not None and f.difference_high is not None
    assert s.difference_high - s.difference_low > f.difference_high - f.difference_low


@pytest.mark.parametrize("metric", ["rate", "mean"])
def test_sequential_p_value_agrees_with_its_interval(metric: stats.Metric) -> None:
    rng = np.random.default_rng(5)
    for lift in np.linspace(0.0, 0.4, 25):
        a, b = _revenue(rng, 4_000, 0.05, 1.0), _revenue(rng, 4_000, 0.05 * (1 + lift), 1.0)
        c, v = _counts(a, int((a > 0).sum())), _counts(b, int((b > 0).sum()))
        s = sequential_interval(control=c, variant=v, expected_visitors=8_000, metric=metric)
        assert s.difference_low is not None and s.difference_high is not None
        excludes_zero = not s.difference_low <= 0 <= s.difference_high
        assert s.significant == excludes_zero


# --- no exception, no NaN, whatever the counters ---------------------------------------------


def _assert_no_nan(result: Comparison | BeatControl | SrmResult) -> None:
    for f in fields(result):
        value = getattr(result, f.name)
        if isinstance(value, float):
            assert math.isfinite(value), f"{f.name} is {value}"


@st.composite
def _any_counts(draw: st.DrawFn) -> Counts:
    n = draw(st.integers(0, 200_000))
    x = draw(st.integers(0, n))
    value = draw(st.floats(0, 1e7, allow_nan=False))
    # Sum of squares is at least sum^2 / n for real data; anything from 0 up is accepted.
    value_sq = draw(st.floats(0, 1e12, allow_nan=False))
    return Counts(n, x, value, value_sq)


@settings(max_examples=300, deadline=None)
@given(_any_counts(), _any_counts())
def test_any_counters_give_values_or_reasons(control: Counts, variant: Counts) -> None:
    results: list[Comparison | BeatControl | SrmResult] = [
        proportion_test(control=control, variant=variant),
        mean_test(control=control, variant=variant),
        sequential_interval(control=control, variant=variant, expected_visitors=10_000),
        sequential_interval(
            control=control, variant=variant, expected_visitors=10_000, metric="mean"
        ),
        prob_beat_control_rate(control=control, variant=variant),
        prob_beat_control_mean(control=control, variant=variant),
        srm_test(observed=[control.visitors, variant.visitors], weights=[1, 1]),
    ]
    for r in results:
        _assert_no_nan(r)
        if isinstance(r, Comparison) and r.p_value is None:
            assert r.reason
        if isinstance(r, BeatControl):
            p = r.prob_beat_control
            assert (p is None and r.reason) or (p is not None and 0 <= p <= 1)


# --- simulations -----------------------------------------------------------------------------


def _daily(
    rng: np.random.Generator,
    *,
    runs: int,
    days: int,
    per_day: int,
    rates: tuple[float, float],
    scales: tuple[float, float] = (1.0, 1.0),
) -> Days:
    """Cumulative visitors, conversions, value and value^2, shaped (runs, days, 2 arms).

    Binomial conversions per day and arm, then one log-normal order value per conversion,
    summed into its cell with bincount: no per-visitor arrays.
    """
    shape = (runs, days, 2)
    visitors = np.full(shape, per_day, dtype=np.int64)
    conversions = rng.binomial(visitors, np.broadcast_to(np.array(rates), shape))
    cell = np.repeat(np.arange(conversions.size), conversions.ravel())
    arm = cell % 2
    orders = rng.lognormal(3.5, 0.8, cell.size) * np.array(scales)[arm]
    value = np.bincount(cell, weights=orders, minlength=conversions.size).reshape(shape)
    value_sq = np.bincount(cell, weights=orders**2, minlength=conversions.size).reshape(shape)
    return (
        visitors.cumsum(axis=1),
        conversions.cumsum(axis=1),
        value.cumsum(axis=1),
        value_sq.cumsum(axis=1),
    )


def _look(data: Days, run: int, day: int) -> tuple[Counts, Counts]:
    """Control and variant as the report would see them at the end of `day`."""
    n, x, v, v2 = (array[run, day] for array in data)
    control = Counts(int(n[0]), int(x[0]), float(v[0]), float(v2[0]))
    return control, Counts(int(n[1]), int(x[1]), float(v[1]), float(v2[1]))


@pytest.mark.parametrize(("metric", "runs"), [("rate", 4_000), ("mean", 2_000)])
def test_aa_peeking_inflates_fixed_horizon_but_not_sequential(
    metric: stats.Metric, runs: int
) -> None:
    # Given A/A experiments (5% conversion both sides), 500 visitors per arm per day, 14 days
    days, per_day = 14, 500
    data = _daily(
        np.random.default_rng(2024), runs=runs, days=days, per_day=per_day, rates=(0.05, 0.05)
    )
    test = proportion_test if metric == "rate" else mean_test
    final = peeked = sequential = 0
    for run in range(runs):
        fixed_hits = seq_hit = False
        for day in range(days):
            c, v = _look(data, run, day)
            fixed = test(control=c, variant=v).significant
            fixed_hits |= fixed
            seq = sequential_interval(
                control=c, variant=v, expected_visitors=2 * days * per_day, metric=metric
            )
            seq_hit |= seq.significant
        final += fixed  # the last look: the planned end
        peeked += fixed_hits
        sequential += seq_hit
    rates = {"final": final / runs, "peeked": peeked / runs, "sequential": sequential / runs}
    print(f"A/A {metric}, {runs} runs x {days} looks: {rates}")
    tol = 4 * _binomial_sd(ALPHA, runs)
    # Then one look at the planned end is wrong about alpha of the time
    assert abs(rates["final"] - ALPHA) <= tol
    # And reading the fixed-horizon test every day is wrong about four times as often
    assert rates["peeked"] >= 2 * ALPHA
    # While the sequential interval, read every day, stays within alpha
    assert rates["sequential"] <= ALPHA + 3 * _binomial_sd(ALPHA, runs)


def test_known_lift_power_and_coverage() -> None:
    # Given 5% against 6% (lift 0.2), 500 visitors per arm per day for 16 days (8,000 each)
    runs, days, per_day, p_c, p_v = 2_000, 16, 500, 0.05, 0.06
    data = _daily(
        np.random.default_rng(99), runs=runs, days=days, per_day=per_day, rates=(p_c, p_v)
    )
    n = days * per_day
    rejected = lift_covered = seq_always_covered = 0
    for run in range(runs):
        covered = True
        for day in range(days):
            c, v = _look(data, run, day)
            s = sequential_interval(control=c, variant=v, expected_visitors=2 * n)
            assert s.difference_low is not None and s.difference_high is not None
            covered &= s.difference_low <= p_v - p_c <= s.difference_high
        r = proportion_test(control=c, variant=v)
        assert r.lift_low is not None and r.lift_high is not None
        rejected += r.significant
        lift_covered += r.lift_low <= p_v / p_c - 1 <= r.lift_high
        seq_always_covered += covered
    power, coverage, seq_coverage = rejected / runs, lift_covered / runs, seq_always_covered / runs
    # Closed-form power of the pooled two-proportion z-test (Fleiss, Levin & Paik §4.2)
    pooled = (p_c + p_v) / 2
    se0 = math.sqrt(2 * pooled * (1 - pooled) / n)
    se1 = math.sqrt((p_c * (1 - p_c) + p_v * (1 - p_v)) / n)
    z = sps.norm.isf(ALPHA / 2)
    analytic = sps.norm.sf((z * se0 - (p_v - p_c)) / se1) + sps.norm.cdf(
        (-z * se0 - (p_v - p_c)) / se1
    )
    cohen = NormalIndPower().power(proportion_effectsize(p_v, p_c), nobs1=n, alpha=ALPHA)
    print(
        f"power {power:.4f} (closed form {analytic:.4f}, statsmodels {cohen:.4f}); "
        f"lift CI coverage {coverage:.4f}; sequential time-uniform coverage {seq_coverage:.4f}"
    )
    assert abs(analytic - cohen) <= 0.01
    # Then the simulated power is the analytical one, within 4 binomial sd
    assert abs(power - analytic) <= 4 * _binomial_sd(analytic, runs)
    # And the log-ratio lift interval covers the true lift 95% of the time
    assert abs(coverage - (1 - ALPHA)) <= 4 * _binomial_sd(1 - ALPHA, runs)
    # And the sequential interval covers the true difference at all 16 looks at once
    assert seq_coverage >= 1 - ALPHA - 3 * _binomial_sd(1 - ALPHA, runs)


def test_value_lift_interval_covers_the_true_lift() -> None:
    # Given 5% conversion both sides and 10% larger orders in the variant (lift 0.1)
    runs, n = 2_000, 4_000
    data = _daily(
        np.random.default_rng(3),
        runs=runs,
        days=1,
        per_day=n,
        rates=(0.05, 0.05),
        scales=(1.0, 1.1),
    )
    covered = 0
    for run in range(runs):
        c, v = _look(data, run, 0)
        r = mean_test(control=c, variant=v)
        assert r.lift_low is not None and r.lift_high is not None
        covered += r.lift_low <= 0.1 <= r.lift_high
    coverage = covered / runs
    print(f"value lift CI coverage {coverage:.4f}")
    assert abs(coverage - (1 - ALPHA)) <= 4 * _binomial_sd(1 - ALPHA, runs)
