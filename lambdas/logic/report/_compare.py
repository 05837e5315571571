"""Counters -> `lambdas.logic.stats` -> `GoalStats`: which counter feeds which formula.

For a goal `g`, a variant's `Counts` are visitors = `visitors` (first exposures),
conversions = `u:g` (converting visitors), value = `v:g` (sum of values) and value_sq =
`q:g` (sum over visitors of their total value squared). Conversion rates are compared with
the two-proportion test and Beta-Binomial; value per visitor with Welch and a Gaussian
posterior. The interval kind is the report's: sequential (always valid) by default.

>>> opts = Options(kind="fixed_horizon")
>>> c = {"visitors": 10_000.0, "u:buy": 500.0}
>>> v = {"visitors": 10_000.0, "u:buy": 580.0}
>>> stats = goal_stats("buy", v, control=c, options=opts)
>>> round(stats.lift, 2), round(stats.p_value, 4), stats.conversion_rate
(0.16, 0.0123, 0.058)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from lambdas.logic.stats import (
    Comparison,
    Counts,
    mean_test,
    prob_beat_control_mean,
    prob_beat_control_rate,
    proportion_test,
    sequential_interval,
)
from lambdas.models.report import GoalStats, IntervalKind

__all__ = ["DEFAULT_EXPECTED_VISITORS", "Options", "counts", "goal_stats"]

# The sequential interval is tightest when a comparison (both variants together) reaches
# this many visitors; chosen before looking, like GrowthBook's tuning parameter (5,000).
DEFAULT_EXPECTED_VISITORS = 5_000


@dataclass(frozen=True, slots=True)
class Options:
    kind: IntervalKind = "sequential"
    alpha: float = 0.05
    expected_visitors: float = DEFAULT_EXPECTED_VISITORS
    now: datetime = datetime(1970, 1, 1, tzinfo=UTC)


def counts(counters: Mapping[str, float], goal: str) -> tuple[Counts, bool]:
    """A variant's `Counts` for `goal`, and whether conversions had to be capped.

    Converting visitors can exceed visitors only in a window (`--since`) that cuts a
    visitor's first exposure off from a later conversion: they are capped, and said so.
    """
    visitors = max(0, round(counters.get("visitors", 0.0)))
    converted = max(0, round(counters.get(f"u:{goal}", 0.0)))
    return (
        Counts(
            visitors=visitors,
            conversions=min(converted, visitors),
            value=float(counters.get(f"v:{goal}", 0.0)),
            value_sq=max(0.0, float(counters.get(f"q:{goal}", 0.0))),
        ),
        converted > visitors,
    )


def goal_stats(
    goal: str,
    counters: Mapping[str, float],
    *,
    control: Mapping[str, float] | None,
    options: Options,
    guardrail: bool = False,
) -> GoalStats:
    """One variant's statistics on one goal; `control=None` for control itself."""
    mine, capped = counts(counters, goal)
    rate = mine.conversions / mine.visitors if mine.visitors else None
    per_visitor = mine.value / mine.visitors if mine.visitors else None
    notes = ["converting visitors capped at visitors (the window starts mid-way)"] if capped else []
    base = GoalStats(
        goal,
        conversions=mine.conversions,
        conversion_rate=rate,
        value=mine.value,
        value_per_visitor=per_visitor,
        guardrail=guardrail,
    )
    if control is None:
        return replace(base, note="; ".join(notes) or None)
    theirs, _ = counts(control, goal)
    rates = _compare(theirs, mine, "rate", options)
    means = _compare(theirs, mine, "mean", options)
    beat = beat_mean = None
    if not theirs.visitors or not mine.visitors:
        notes.append("no visitors on one side yet")
    elif not theirs.conversions and not mine.conversions:
        notes.append("no conversions yet")  # the posteriors would only echo the priors
    else:
        beat = prob_beat_control_rate(control=theirs, variant=mine).prob_beat_control
        beat_mean = prob_beat_control_mean(control=theirs, variant=mine).prob_beat_control
    harmed = guardrail and rates.lift is not None and rates.lift > 0 and rates.significant
    if rates.reason and mine.visitors and theirs.visitors:
        notes.append(rates.reason)
    return replace(
        base,
        lift=rates.lift,
        lift_ci=_interval(rates),
        p_value=rates.p_value,
        prob_beat_control=beat,
        value_lift=means.lift,
        value_lift_ci=_interval(means),
        value_p_value=means.p_value,
        value_prob_beat_control=beat_mean,
        harmed=harmed,
        note="; ".join(notes) or None,
    )


def _compare(control: Counts, variant: Counts, metric: str, options: Options) -> Comparison:
    if options.kind == "sequential":
        return sequential_interval(
            control=control,
            variant=variant,
            expected_visitors=options.expected_visitors,
            metric="rate" if metric == "rate" else "mean",
            alpha=options.alpha,
        )
    test = proportion_test if metric == "rate" else mean_test
    return test(control=control, variant=variant, alpha=options.alpha)


def _interval(result: Comparison) -> tuple[float, float] | None:
    if result.lift_low is None or result.lift_high is None:
        return None
    return (result.lift_low, result.lift_high)
