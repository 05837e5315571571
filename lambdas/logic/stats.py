"""Statistics for a marketer's experiment report, from aggregate counters only (stdlib only).

Every input is a per-variant `Counts`: visitors, converting visitors, and the sum and sum of
squares of value per visitor. No raw events, no numpy: the report runs in a CLI and a Lambda.

- `proportion_test`: conversion rate, two-proportion z-test (pooled), lift with an interval;
- `mean_test`: value per visitor, Welch's t-test from sums, lift with an interval;
- `sequential_interval`: the same comparisons as always-valid intervals (safe to peek daily);
- `prob_beat_control_rate` / `prob_beat_control_mean`: Bayesian chance to beat control;
- `srm_test`: sample ratio mismatch, chi-square against the declared weights.

Intervals say what they are: `kind="fixed_horizon"` is valid only when read once, at the
planned sample size; `kind="sequential"` stays valid however often it is read. Statistics that
are undefined (no visitors, a zero control rate, no variance) come back as None with a
`reason`, never as an exception or NaN. Only impossible counters raise.

>>> control = Counts(visitors=10_000, conversions=500)
>>> variant = Counts(visitors=10_000, conversions=580)
>>> result = proportion_test(control=control, variant=variant)
>>> result.kind, round(result.lift, 2), round(result.p_value, 4)
('fixed_horizon', 0.16, 0.0123)
>>> round(result.lift_low, 3), round(result.lift_high, 3)
(0.033, 0.303)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

__all__ = [
    "SRM_ALPHA",
    "BeatControl",
    "Comparison",
    "Counts",
    "Kind",
    "Method",
    "Metric",
    "SrmResult",
    "mean_test",
    "prob_beat_control_mean",
    "prob_beat_control_rate",
    "proportion_test",
    "sequential_boundary",
    "sequential_interval",
    "srm_test",
]

Metric = Literal["rate", "mean"]
Kind = Literal["fixed_horizon", "sequential"]
Method = Literal["exact", "normal_approximation"]

# An SRM alarm must be rare on healthy experiments that are checked every day, hence far
# stricter than the usual 0.05 (the convention of Fabijan et al., KDD 2019).
SRM_ALPHA = 0.001
# Evan Miller's sum has min(alpha_A, beta_A, alpha_B, beta_B) terms (about 40 ms for 1e5).
# Past this many, every Beta posterior has over 1e5 successes and failures, its skewness is
# below 0.01 and the normal approximation is off by less than 1e-3 even when the two
# skewnesses do not cancel (3e-4 in the worst case of tests/unit/test_stats.py).
_EXACT_MAX_TERMS = 100_000
_NORMAL = NormalDist()
_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 100_000
# exp() overflows past 709.78; a lift interval reaching e^700 is not worth printing anyway.
_MAX_LOG = 700.0


@dataclass(frozen=True, slots=True)
class Counts:
    """One variant's counters: visitors, converting visitors, sum and sum of squares of value.

    >>> Counts(visitors=3, conversions=1, value=40.0, value_sq=1600.0).visitors
    3
    """

    visitors: int
    conversions: int = 0
    value: float = 0.0
    value_sq: float = 0.0

    def __post_init__(self) -> None:
        # Impossible counters are a bug upstream: say so rather than report nonsense.
        if self.visitors < 0:
            raise ValueError(f"visitors {self.visitors} is negative")
        if not 0 <= self.conversions <= self.visitors:
            raise ValueError(
                f"conversions {self.conversions} is not between 0 and visitors {self.visitors}"
            )
        if not (math.isfinite(self.value) and math.isfinite(self.value_sq)):
            raise ValueError(f"value {self.value} or value_sq {self.value_sq} is not finite")
        if self.value_sq < 0:
            raise ValueError(f"value_sq {self.value_sq} is negative")


@dataclass(frozen=True, slots=True)
class Comparison:
    """Variant against control on one metric (`rate` or `mean` value per visitor).

    `difference` is variant - control; `lift` is variant / control - 1, its interval comes
    from the delta method on log(variant / control) (so it stays above -1). `statistic` is
    z (rates, pooled), Welch's t (means) or, for sequential results, the unpooled z.
    """

    metric: Metric
    kind: Kind
    alpha: float
    control: float | None
    variant: float | None
    difference: float | None
    difference_low: float | None
    difference_high: float | None
    lift: float | None
    lift_low: float | None
    lift_high: float | None
    statistic: float | None
    df: float | None
    p_value: float | None
    reason: str | None = None

    @property
    def significant(self) -> bool:
        """p < alpha (False when the p-value is undefined)."""
        return self.p_value is not None and self.p_value < self.alpha


@dataclass(frozen=True, slots=True)
class BeatControl:
    """Posterior probability that the variant's rate or mean is above control's."""

    prob_beat_control: float | None
    method: Method
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SrmResult:
    """Chi-square goodness of fit of visitors per variant to the declared weights."""

    statistic: float | None
    df: int
    p_value: float | None
    flagged: bool
    expected: tuple[float, ...]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Estimate:
    """What both interval kinds share: point estimates, standard errors, why not."""

    metric: Metric
    control: float | None = None
    variant: float | None = None
    diff_se: float | None = None
    lift: float | None = None
    log_ratio: float | None = None
    log_se: float | None = None
    # The fixed-horizon test: pooled z for rates, Welch's t (with df) for means.
    statistic: float | None = None
    df: float | None = None
    reasons: tuple[str, ...] = ()


def proportion_test(*, control: Counts, variant: Counts, alpha: float = 0.05) -> Comparison:
    """Two-proportion z-test (pooled) with Wald and log-ratio intervals, read once.

    >>> r = proportion_test(control=Counts(1000, 0), variant=Counts(1000, 3))
    >>> r.lift, r.reason
    (None, 'control rate is zero: lift is undefined')
    """
    _check_alpha(alpha)
    est = _rate_estimate(control, variant)
    p = None if est.statistic is None else math.erfc(abs(est.statistic) / math.sqrt(2.0))
    return _compare(est, "fixed_horizon", alpha, _NORMAL.inv_cdf(1 - alpha / 2), est.statistic, p)


def mean_test(*, control: Counts, variant: Counts, alpha: float = 0.05) -> Comparison:
    """Welch's t-test on value per visitor from (n, sum, sum of squares), read once.

    >>> a = Counts(visitors=4, value=10.0, value_sq=30.0)  # values 1, 2, 3, 4
    >>> b = Counts(visitors=4, value=18.0, value_sq=86.0)  # values 3, 4, 5, 6
    >>> r = mean_test(control=a, variant=b)
    >>> round(r.statistic, 4), round(r.df, 1), round(r.p_value, 4)
    (2.1909, 6.0, 0.071)
    """
    _check_alpha(alpha)
    est = _mean_estimate(control, variant)
    if est.statistic is None or est.df is None:
        return _compare(est, "fixed_horizon", alpha, None, None, None)
    p = min(1.0, 2 * _t_sf(abs(est.statistic), est.df))
    return _compare(est, "fixed_horizon", alpha, _t_isf(alpha / 2, est.df), est.statistic, p)


def sequential_interval(
    *,
    control: Counts,
    variant: Counts,
    expected_visitors: float,
    metric: Metric = "rate",
    alpha: float = 0.05,
) -> Comparison:
    """Always-valid interval and p-value: the chance that any look misleads stays <= alpha.

    Asymptotic confidence sequence of Waudby-Smith, Ramdas et al., "Time-uniform central
    limit theory and asymptotic confidence sequences" (Annals of Statistics, 2024), eq. 9,
    with the normal-mixture boundary, as GrowthBook computes it: for n visitors in all,
    half-width = sigma * sqrt(2 (n rho^2 + 1) / (n^2 rho^2) * log(sqrt(n rho^2 + 1) / alpha)),
    sigma^2 = SE^2 * n the per-visitor variance, and rho (eq. 161) makes the interval tightest
    when n reaches `expected_visitors` (both variants together). Choose it before the start.

    >>> c, v = Counts(7000, 350), Counts(7000, 420)
    >>> s = sequential_interval(control=c, variant=v, expected_visitors=14_000)
    >>> f = proportion_test(control=c, variant=v)
    >>> s.kind, s.difference_high - s.difference_low > f.difference_high - f.difference_low
    ('sequential', True)
    """
    _check_alpha(alpha)
    if not expected_visitors > 0:
        raise ValueError(f"expected_visitors {expected_visitors} is not positive")
    est = _rate_estimate(control, variant) if metric == "rate" else _mean_estimate(control, variant)
    if est.diff_se is None or est.control is None or est.variant is None:
        return _compare(est, "sequential", alpha, None, None, None)
    z = (est.variant - est.control) / est.diff_se
    multiplier, p = sequential_boundary(
        z,
        visitors=control.visitors + variant.visitors,
        expected_visitors=expected_visitors,
        alpha=alpha,
    )
    return _compare(est, "sequential", alpha, multiplier, z, p)


def sequential_boundary(
    z: float, *, visitors: int, expected_visitors: float, alpha: float
) -> tuple[float, float]:
    """The normal-mixture boundary of `sequential_interval` for an estimate whose standard
    error shrinks as 1 / sqrt(visitors): the multiplier of the standard error that makes an
    always-valid interval, and the always-valid p-value of the Wald statistic `z`.

    >>> m, p = sequential_boundary(2.5, visitors=5_000, expected_visitors=5_000, alpha=0.05)
    >>> round(m, 3), round(p, 4)
    (3.035, 0.1863)
    """
    log_alpha = math.log(alpha)
    rho2 = (-2 * log_alpha + math.log(1 - 2 * log_alpha)) / expected_visitors
    u = visitors * rho2
    # sigma * sqrt(2 (u + 1) / (n u) * log(...)) with sigma = SE * sqrt(n): n cancels out.
    multiplier = math.sqrt(2 * (u + 1) / u * (0.5 * math.log1p(u) - log_alpha))
    # The same boundary inverted in alpha: the smallest alpha whose interval excludes 0.
    p = min(1.0, math.exp(0.5 * math.log1p(u) - z * z * u / (2 * (u + 1))))
    return multiplier, p


def prob_beat_control_rate(*, control: Counts, variant: Counts) -> BeatControl:
    """P(p_variant > p_control) with uniform priors, posteriors Beta(1 + x, 1 + n - x).

    Exact by Evan Miller's closed form ("Formulas for Bayesian A/B Testing", 2015), normal
    approximation of both Betas past `_EXACT_MAX_TERMS` terms.

    >>> even = prob_beat_control_rate(control=Counts(100, 10), variant=Counts(100, 10))
    >>> round(even.prob_beat_control, 12), even.method
    (0.5, 'exact')
    >>> round(prob_beat_control_rate(control=Counts(1000, 50), variant=Counts(1000, 70))
    ...       .prob_beat_control, 4)
    0.9699
    """
    a_c, b_c = 1.0 + control.conversions, 1.0 + control.visitors - control.conversions
    a_v, b_v = 1.0 + variant.conversions, 1.0 + variant.visitors - variant.conversions
    smallest = min(a_c, b_c, a_v, b_v)
    if smallest > _EXACT_MAX_TERMS:
        mean_c, var_c = _beta_moments(a_c, b_c)
        mean_v, var_v = _beta_moments(a_v, b_v)
        prob = _NORMAL.cdf((mean_v - mean_c) / math.sqrt(var_c + var_v))
        return BeatControl(prob, "normal_approximation")
    # The formula sums over its third argument; four symmetric forms let us pick the
    # smallest count: swapping the variants, or reading failures (1 - p ~ Beta(b, a)).
    if smallest == a_v:
        prob = _miller(a_c, b_c, a_v, b_v)
    elif smallest == a_c:
        prob = 1.0 - _miller(a_v, b_v, a_c, b_c)
    elif smallest == b_c:
        prob = _miller(b_v, a_v, b_c, a_c)
    else:
        prob = 1.0 - _miller(b_c, a_c, b_v, a_v)
    return BeatControl(min(1.0, max(0.0, prob)), "exact")


def prob_beat_control_mean(*, control: Counts, variant: Counts) -> BeatControl:
    """P(mean_variant > mean_control), Gaussian posteriors around each mean (flat prior).

    >>> a = Counts(visitors=4, value=10.0, value_sq=30.0)
    >>> b = Counts(visitors=4, value=18.0, value_sq=86.0)
    >>> round(prob_beat_control_mean(control=a, variant=b).prob_beat_control, 4)
    0.9858
    """
    est = _mean_estimate(control, variant)
    if est.diff_se is None or est.control is None or est.variant is None:
        return BeatControl(None, "normal_approximation", "; ".join(est.reasons))
    prob = _NORMAL.cdf((est.variant - est.control) / est.diff_se)
    return BeatControl(prob, "normal_approximation")


def srm_test(*, observed: Sequence[int], weights: Sequence[float]) -> SrmResult:
    """Sample ratio mismatch: flagged when the chi-square p-value is below `SRM_ALPHA`.

    >>> srm_test(observed=[5000, 5400], weights=[0.5, 0.5]).flagged
    True
    >>> srm_test(observed=[5000, 5100], weights=[0.5, 0.5]).flagged
    False
    """
    if len(observed) != len(weights):
        raise ValueError(f"{len(observed)} observed counts but {len(weights)} weights")
    if len(observed) < 2:
        raise ValueError("an SRM test needs at least 2 variants")
    if any(o < 0 for o in observed):
        raise ValueError(f"observed counts {list(observed)} include a negative count")
    if any(not (math.isfinite(w) and w >= 0) for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights {list(weights)} are not non-negative with a positive sum")
    total, weight_sum = sum(observed), sum(weights)
    expected = tuple(total * w / weight_sum for w in weights)
    df = sum(1 for w in weights if w > 0) - 1
    if total == 0:
        return SrmResult(None, df, None, False, expected, "no visitors yet")
    if any(o > 0 and w == 0 for o, w in zip(observed, weights, strict=True)):
        return SrmResult(None, df, 0.0, True, expected, "visitors in a variant of weight 0")
    if df == 0:
        return SrmResult(None, df, None, False, expected, "only one variant has traffic")
    statistic = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True) if e > 0)
    p = _chi2_sf(statistic, df)
    return SrmResult(statistic, df, p, p < SRM_ALPHA, expected)


# --- estimates shared by the fixed-horizon and sequential results ---------------------------


def _rate_estimate(control: Counts, variant: Counts) -> _Estimate:
    n_c, n_v = control.visitors, variant.visitors
    rate_c = control.conversions / n_c if n_c else None
    rate_v = variant.conversions / n_v if n_v else None
    if rate_c is None or rate_v is None:
        missing = "control" if rate_c is None else "variant"
        return _Estimate("rate", rate_c, rate_v, reasons=(f"{missing} has no visitors",))
    reasons: list[str] = []
    pooled = (control.conversions + variant.conversions) / (n_c + n_v)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_v))
    z = (rate_v - rate_c) / pooled_se if pooled_se > 0 else None
    if z is None:
        reasons.append("no visitor converted" if pooled == 0 else "every visitor converted")
    se = math.sqrt(rate_c * (1 - rate_c) / n_c + rate_v * (1 - rate_v) / n_v)
    if se == 0 and z is not None:
        reasons.append("each variant converted all or none of its visitors")
    lift, log_ratio, log_se = _lift(rate_c, rate_v, reasons, metric="rate")
    if log_ratio is not None:
        # Var(log rate) = (1 - p) / (n p) = (1 - p) / x: Katz's log relative risk.
        log_se = math.sqrt((1 - rate_c) / control.conversions + (1 - rate_v) / variant.conversions)
    return _Estimate(
        "rate",
        rate_c,
        rate_v,
        diff_se=se if se > 0 else None,
        lift=lift,
        log_ratio=log_ratio,
        log_se=log_se,
        statistic=z,
        reasons=tuple(reasons),
    )


def _mean_estimate(control: Counts, variant: Counts) -> _Estimate:
    n_c, n_v = control.visitors, variant.visitors
    mean_c = control.value / n_c if n_c else None
    mean_v = variant.value / n_v if n_v else None
    if mean_c is None or mean_v is None or n_c < 2 or n_v < 2:
        return _Estimate(
            "mean", mean_c, mean_v, reasons=("Welch's test needs 2 visitors in each variant",)
        )
    # Sum of squares minus n * mean^2 loses digits only when the spread is tiny next to the
    # mean; value per visitor (mostly zeros) is the opposite case. Clamp rounding below 0.
    var_c = max(0.0, (control.value_sq - control.value * mean_c) / (n_c - 1))
    var_v = max(0.0, (variant.value_sq - variant.value * mean_v) / (n_v - 1))
    a, b = var_c / n_c, var_v / n_v
    reasons: list[str] = []
    lift, log_ratio, log_se = _lift(mean_c, mean_v, reasons, metric="mean")
    if a + b == 0:
        reasons.append("value per visitor has no variance")
        return _Estimate("mean", mean_c, mean_v, lift=lift, reasons=tuple(reasons))
    if log_ratio is not None:
        # Var(log mean) = Var(mean) / mean^2, as a hypot so that tiny means do not underflow.
        log_se = math.hypot(math.sqrt(a) / mean_c, math.sqrt(b) / mean_v)
    # Welch-Satterthwaite degrees of freedom, in shares of a + b so that nothing underflows.
    share_c, share_v = a / (a + b), b / (a + b)
    df = 1.0 / (share_c * share_c / (n_c - 1) + share_v * share_v / (n_v - 1))
    se = math.sqrt(a + b)
    t = (mean_v - mean_c) / se
    return _Estimate(
        "mean",
        mean_c,
        mean_v,
        diff_se=se,
        lift=lift,
        log_ratio=log_ratio,
        log_se=log_se,
        statistic=t,
        df=df,
        reasons=tuple(reasons),
    )


def _lift(
    control: float, variant: float, reasons: list[str], *, metric: Metric
) -> tuple[float | None, float | None, float | None]:
    """Lift and log ratio (its standard error is the caller's), or why they are undefined."""
    if control <= 0:
        reasons.append(
            f"control {metric} is {'zero' if control == 0 else 'negative'}: lift is undefined"
        )
        return None, None, None
    if not math.isfinite(variant / control):
        reasons.append(f"control {metric} is too close to zero: lift is undefined")
        return None, None, None
    if variant <= 0:
        reasons.append(
            f"variant {metric} is {'zero' if variant == 0 else 'negative'}: "
            "the lift interval is undefined"
        )
        return variant / control - 1, None, None
    return variant / control - 1, math.log(variant / control), None


def _compare(
    est: _Estimate,
    kind: Kind,
    alpha: float,
    multiplier: float | None,
    statistic: float | None,
    p_value: float | None,
) -> Comparison:
    """Intervals as estimate +- multiplier * standard error (on the log scale for the lift)."""
    diff = None if est.control is None or est.variant is None else est.variant - est.control
    d_low = d_high = l_low = l_high = None
    reasons = list(est.reasons)
    if multiplier is not None and diff is not None and est.diff_se is not None:
        d_low, d_high = diff - multiplier * est.diff_se, diff + multiplier * est.diff_se
    if multiplier is not None and est.log_ratio is not None and est.log_se is not None:
        top = est.log_ratio + multiplier * est.log_se
        if top < _MAX_LOG:
            l_low = math.expm1(est.log_ratio - multiplier * est.log_se)
            l_high = math.expm1(top)
        else:
            reasons.append("the lift interval is too wide to compute")
    return Comparison(
        metric=est.metric,
        kind=kind,
        alpha=alpha,
        control=est.control,
        variant=est.variant,
        difference=diff,
        difference_low=d_low,
        difference_high=d_high,
        lift=est.lift,
        lift_low=l_low,
        lift_high=l_high,
        statistic=statistic,
        df=est.df if kind == "fixed_horizon" else None,
        p_value=p_value,
        reason="; ".join(reasons) or None,
    )


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha {alpha} is not between 0 and 1")


# --- Bayesian rate: Evan Miller's sum -------------------------------------------------------


def _miller(a_a: float, b_a: float, a_b: float, b_b: float) -> float:
    """P(X_B > X_A), X ~ Beta(a, b), summing over i < a_b of
    B(a_a + i, b_a + b_b) / ((b_b + i) B(1 + i, b_b) B(a_a, b_a)).

    Consecutive terms have the ratio (a_a + i)(b_b + i) / ((a_a + b_a + b_b + i)(1 + i)), so
    one logarithm per term replaces four lgamma calls; logs avoid underflow of early terms.
    """
    log_term = _log_beta(a_a, b_a + b_b) - _log_beta(a_a, b_a)
    logs = [log_term]
    for i in range(int(a_b) - 1):
        log_term += math.log((a_a + i) * (b_b + i) / ((a_a + b_a + b_b + i) * (1.0 + i)))
        logs.append(log_term)
    top = max(logs)
    return math.exp(top) * math.fsum(math.exp(x - top) for x in logs)


def _log_beta(a: float, b: float) -> float:
    if min(a, b) == 0.5 and max(a, b) > 1e4:
        # Student t with a large df: lgamma(a) - lgamma(a + 1/2) would cancel log10(a) of
        # the digits; the asymptotic series of log(Gamma(a + 1/2) / Gamma(a)) keeps them.
        big = max(a, b)
        return 0.5 * math.log(math.pi / big) + 1 / (8 * big) - 1 / (192 * big**3)
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _beta_moments(a: float, b: float) -> tuple[float, float]:
    total = a + b
    return a / total, a * b / (total * total * (total + 1))


# --- distributions: Student t and chi-square (Numerical Recipes, 3rd ed., 6.2 and 6.4) ------


def _t_sf(t: float, df: float) -> float:
    """P(T > t), Student's t with (possibly fractional) df: I_x(df/2, 1/2) / 2, x = df/(df+t^2).

    >>> round(_t_sf(2.0, 10.0), 6)
    0.036694
    """
    t2 = t * t
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + t2), t2 / (df + t2))
    return tail if t > 0 else 1.0 - tail


def _t_isf(p: float, df: float) -> float:
    """t such that P(T > t) = p, for 0 < p < 1/2: Cornish-Fisher start, then Newton.

    The root lies above the normal quantile z, and the tail is convex there, so a Newton step
    from below stays below the root; clamping at z keeps every step on that safe side. The
    start (Abramowitz & Stegun 26.7.5) is within 1e-8 for df >= 30: two steps suffice.
    """
    z = _NORMAL.inv_cdf(1 - p)
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    t = max(z, z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df)
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    for _ in range(200):
        density = math.exp(log_norm - (df + 1) / 2 * math.log1p(t * t / df))
        step = (_t_sf(t, df) - p) / density
        t = max(z, t + step)
        # Convergence is quadratic: after a step below 1e-7 * t the error is near 1e-14 * t.
        if abs(step) <= 1e-7 * t:
            break
    return t


def _betainc(a: float, b: float, x: float, y: float) -> float:
    """Regularized incomplete beta I_x(a, b); y = 1 - x is passed to keep its digits."""
    if x <= 0:
        return 0.0
    if y <= 0:
        return 1.0
    log_x = math.log(x) if x < 0.5 else math.log1p(-y)
    log_y = math.log(y) if y < 0.5 else math.log1p(-x)
    front = math.exp(a * log_x + b * log_y - _log_beta(a, b))
    # The continued fraction converges fast only below (a + 1) / (a + b + 2); use the
    # symmetry I_x(a, b) = 1 - I_y(b, a) above it.
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, y) / b


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for I_x(a, b), modified Lentz (Numerical Recipes betacf)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        # Even step of the fraction.
        aa = m * (b - m) * x / ((a - 1 + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        # Odd step.
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def _chi2_sf(x: float, df: float) -> float:
    """P(X > x) for chi-square with df degrees of freedom: Q(df / 2, x / 2).

    >>> round(_chi2_sf(3.841458820694124, 1), 6)
    0.05
    """
    return _gammaincc(df / 2, x / 2)


def _gammaincc(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x): series below a + 1, continued fraction above."""
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_ITER):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    b = x + 1 - a
    c, d = 1.0 / _TINY, 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return math.exp(log_front) * h
