"""The experiment report: what `lambdas.logic.report.build_report` returns from counters.

Plain values, ready to render: `Report` holds one `ExperienceReport` per experience of the
ruleset and the global holdout's `HoldoutReport`. `Report.to_json()` is the `perso report
--format json` object (README, "Reading results"): the documented keys, plus `intervals`
and `notes` at the top level and the value-per-visitor statistics (`value_*`) beside the
conversion-rate ones.

>>> goal = GoalStats("purchase", conversions=5, conversion_rate=0.05, value=500.0,
...                  value_per_visitor=5.0)
>>> v = VariantStats("control", weight=0.5, control=True, visitors=100, exposures=180,
...                  goals={"purchase": goal})
>>> v.to_json("purchase")["conversion_rate"], v.to_json("purchase")["lift"]
(0.05, None)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "BreakdownRow",
    "DayPoint",
    "Effect",
    "ExperienceReport",
    "Factor",
    "FactorEffects",
    "GoalStats",
    "HoldoutReport",
    "IntervalKind",
    "MultivariateReport",
    "ObjectiveReport",
    "Report",
    "SrmCheck",
    "VariantStats",
]

IntervalKind = Literal["sequential", "fixed_horizon"]
Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class GoalStats:
    """One variant on one goal; the comparisons are against control (None for control).

    `conversions` are converting visitors (once each), so `conversion_rate` is a share of
    visitors. `lift*`, `p_value` and `prob_beat_control` compare conversion rates
    (two-proportion test, Beta-Binomial); `value_*` compare value per visitor (Welch,
    Gaussian). `harmed`: a guardrail goal whose rate rose significantly.
    """

    goal: str
    conversions: int = 0
    conversion_rate: float | None = None
    value: float = 0.0
    value_per_visitor: float | None = None
    lift: float | None = None
    lift_ci: Interval | None = None
    p_value: float | None = None
    prob_beat_control: float | None = None
    value_lift: float | None = None
    value_lift_ci: Interval | None = None
    value_p_value: float | None = None
    value_prob_beat_control: float | None = None
    guardrail: bool = False
    harmed: bool = False
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "conversions": self.conversions,
            "conversion_rate": self.conversion_rate,
            "value": self.value,
            "value_per_visitor": self.value_per_visitor,
            "lift": self.lift,
            "lift_ci": None if self.lift_ci is None else list(self.lift_ci),
            "p_value": self.p_value,
            "prob_beat_control": self.prob_beat_control,
            "value_lift": self.value_lift,
            "value_lift_ci": None if self.value_lift_ci is None else list(self.value_lift_ci),
            "value_p_value": self.value_p_value,
            "value_prob_beat_control": self.value_prob_beat_control,
        }


@dataclass(frozen=True, slots=True)
class VariantStats:
    """A variant's visitors (first exposures), exposures, clicks and its goals."""

    id: str
    weight: float | None = None  # declared in the ruleset
    control: bool = False
    visitors: int = 0
    exposures: int = 0
    clicks: int = 0
    clickers: int = 0  # visitors who clicked the slot, once each
    goals: Mapping[str, GoalStats] = field(default_factory=dict)

    @property
    def click_rate(self) -> float | None:
        return self.clickers / self.visitors if self.visitors else None

    def to_json(self, first_goal: str | None) -> dict[str, Any]:
        head = {"id": self.id, "visitors": self.visitors, "exposures": self.exposures}
        first = self.goals.get(first_goal) if first_goal else None
        body = (first or GoalStats("")).to_json()
        if first is None:
            body = dict.fromkeys(body)
        goals = {
            name: {"visitors": self.visitors, "exposures": self.exposures, **stats.to_json()}
            for name, stats in self.goals.items()
        }
        return {**head, **body, "goals": goals}


@dataclass(frozen=True, slots=True)
class SrmCheck:
    """Sample ratio mismatch: visitors per variant against the weights that were live."""

    p_value: float | None
    flagged: bool
    observed: Mapping[str, int]
    expected: Mapping[str, float]
    weights: str  # which weights the check used, as a sentence
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DayPoint:
    """One UTC day of an experience: what it added, and the running totals to that day.

    `conversions` are new converting visitors of the experience's `series_goal`; `rate` is
    cumulative (converting visitors so far / visitors so far); `weights` are the weights
    live that day (time-weighted: recorded by the publisher, else declared).
    """

    day: str
    visitors: Mapping[str, int]
    exposures: Mapping[str, int]
    conversions: Mapping[str, int]
    rate: Mapping[str, float | None]
    weights: Mapping[str, float] | None = None


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """One value of a breakdown dimension (`device`, `journey`, `visitor`) for one variant,
    on the experience's `series_goal`."""

    dimension: str
    value: str
    variant: str
    visitors: int
    conversions: int
    conversion_rate: float | None
    lift: float | None


@dataclass(frozen=True, slots=True)
class Factor:
    """A multivariate experience's factor: its slot and levels (the first is the reference)."""

    id: str
    slot: str
    levels: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "slot": self.slot, "levels": list(self.levels)}


@dataclass(frozen=True, slots=True)
class Effect:
    """One effect of a multivariate experience's logistic model, on the log-odds scale.

    A main effect has one (factor, level) term: the level against its factor's reference,
    averaged over the levels of the other factors. An interaction has two: how much the
    first term's effect changes when the second factor is at the second level rather than
    its reference (a ratio of odds ratios). `odds_ratio` and `odds_ratio_ci` are exp of the
    estimate and interval. `rate` and `reference_rate` (main effects) are the converting
    share of the visitors shown the level and the reference, over every combination.
    """

    terms: tuple[tuple[str, str], ...]  # ((factor, level),) or two of them
    estimate: float | None = None
    standard_error: float | None = None
    ci: Interval | None = None
    p_value: float | None = None
    visitors: int = 0
    rate: float | None = None
    reference_rate: float | None = None
    alpha: float = 0.05

    @property
    def label(self) -> str:
        """>>> Effect((("headline", "short"), ("button", "bold"))).label
        'headline=short × button=bold'
        """
        return " × ".join(f"{factor}={level}" for factor, level in self.terms)

    @property
    def odds_ratio(self) -> float | None:
        return None if self.estimate is None else math.exp(self.estimate)

    @property
    def odds_ratio_ci(self) -> Interval | None:
        return None if self.ci is None else (math.exp(self.ci[0]), math.exp(self.ci[1]))

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < self.alpha

    def to_json(self) -> dict[str, Any]:
        return {
            "terms": [{"factor": f, "level": lv} for f, lv in self.terms],
            "log_odds_ratio": self.estimate,
            "standard_error": self.standard_error,
            "log_odds_ratio_ci": _pair(self.ci),
            "odds_ratio": self.odds_ratio,
            "odds_ratio_ci": _pair(self.odds_ratio_ci),
            "p_value": self.p_value,
            "visitors": self.visitors,
            "rate": self.rate,
            "reference_rate": self.reference_rate,
        }


@dataclass(frozen=True, slots=True)
class FactorEffects:
    """A multivariate experience's effects on one goal: main effects, the estimable two-way
    interactions, the aliased ones (a sentence each), and `note` when nothing could be
    fitted (then both tuples are empty)."""

    goal: str
    main_effects: tuple[Effect, ...] = ()
    interactions: tuple[Effect, ...] = ()
    aliased: tuple[str, ...] = ()
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "main_effects": [e.to_json() for e in self.main_effects],
            "interactions": [e.to_json() for e in self.interactions],
            "aliased": list(self.aliased),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class MultivariateReport:
    """The factors of a multivariate experience and their effects per goal; its
    combinations are the experience's variants (ids: level ids joined by ".")."""

    factors: tuple[Factor, ...]
    combinations: int  # in the design (a fractional design runs fewer than the full grid)
    goals: Mapping[str, FactorEffects] = field(default_factory=dict)
    model: str = ""  # the model and estimand, as a sentence

    @property
    def full_grid(self) -> int:
        return math.prod(len(f.levels) for f in self.factors)

    def to_json(self) -> dict[str, Any]:
        return {
            "factors": [f.to_json() for f in self.factors],
            "combinations": self.combinations,
            "full_grid": self.full_grid,
            "model": self.model,
            "goals": {goal: effects.to_json() for goal, effects in self.goals.items()},
        }


@dataclass(frozen=True, slots=True)
class ExperienceReport:
    id: str
    slot: str
    allocation: str
    goals: tuple[str, ...]  # declared goals, then guardrails seen in the counters
    control: str
    variants: tuple[VariantStats, ...]
    srm: SrmCheck
    days: tuple[DayPoint, ...] = ()
    breakdowns: tuple[BreakdownRow, ...] = ()
    notes: tuple[str, ...] = ()
    # The goal `days` and `breakdowns` follow: the first declared goal with conversions.
    series_goal: str | None = None
    # A multivariate experience's factors and effects (its variants are its combinations).
    multivariate: MultivariateReport | None = None

    @property
    def primary_goal(self) -> str | None:
        return self.goals[0] if self.goals else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "srm_p_value": self.srm.p_value,
            "variants": [v.to_json(self.primary_goal) for v in self.variants],
        }
        if self.multivariate is not None:
            out["type"] = "multivariate"
            out["multivariate"] = self.multivariate.to_json()
        return out


@dataclass(frozen=True, slots=True)
class HoldoutReport:
    """The global holdout against the visitors who were shown any experience."""

    share: float  # declared holdout fraction
    goals: tuple[str, ...]
    holdout: VariantStats
    personalized: VariantStats
    notes: tuple[str, ...] = ()
    scope: str = "consent"  # what the holdout withholds: "consent" (what consent adds) or "all"

    def to_json(self) -> dict[str, Any]:
        first = self.goals[0] if self.goals else None
        base = self.holdout.goals.get(first) if first else None
        side = self.personalized.goals.get(first) if first else None
        return {
            "scope": self.scope,
            "visitors": self.holdout.visitors,
            "conversions": None if base is None else base.conversions,
            "lift": None if side is None else side.lift,
            "lift_ci": None if side is None or side.lift_ci is None else list(side.lift_ci),
            "p_value": None if side is None else side.p_value,
            "personalized": {
                "visitors": self.personalized.visitors,
                "conversions": None if side is None else side.conversions,
            },
            "goals": {
                goal: {
                    "visitors": self.holdout.visitors,
                    "conversions": self.holdout.goals[goal].conversions,
                    "personalized_visitors": self.personalized.visitors,
                    "personalized_conversions": self.personalized.goals[goal].conversions,
                    "lift": self.personalized.goals[goal].lift,
                    "lift_ci": _pair(self.personalized.goals[goal].lift_ci),
                    "p_value": self.personalized.goals[goal].p_value,
                }
                for goal in self.goals
            },
        }


@dataclass(frozen=True, slots=True)
class ObjectiveReport:
    """Progress toward the ruleset's `objective` in the current period (UTC).

    The incremental value so far is (personalized value per visitor - holdout value per
    visitor) x personalized visitors, over the visitors first exposed this period and the
    conversions counted this period; `projected` extends it to the whole period at the
    same pace (`so_far / elapsed`). Everything is None, with `note` saying why, when a
    side has no visitor yet.
    """

    goal: str
    target: float
    per: str
    period_start: str  # ISO date, UTC, inclusive
    period_end: str  # ISO date, UTC, exclusive
    elapsed: float  # share of the period gone, 0..1
    holdout_visitors: int = 0
    personalized_visitors: int = 0
    holdout_value_per_visitor: float | None = None
    personalized_value_per_visitor: float | None = None
    incremental_per_visitor: float | None = None
    so_far: float | None = None
    projected: float | None = None
    note: str | None = None

    @property
    def share_of_target(self) -> float | None:
        return None if self.so_far is None or not self.target else self.so_far / self.target

    @property
    def projected_share(self) -> float | None:
        return None if self.projected is None or not self.target else self.projected / self.target

    def to_json(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "target": self.target,
            "per": self.per,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "elapsed": self.elapsed,
            "holdout_visitors": self.holdout_visitors,
            "personalized_visitors": self.personalized_visitors,
            "holdout_value_per_visitor": self.holdout_value_per_visitor,
            "personalized_value_per_visitor": self.personalized_value_per_visitor,
            "incremental_per_visitor": self.incremental_per_visitor,
            "so_far": self.so_far,
            "projected": self.projected,
            "share_of_target": self.share_of_target,
            "projected_share_of_target": self.projected_share,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Report:
    site: str
    generated_at: str  # ISO-8601, UTC
    intervals: IntervalKind
    alpha: float
    experiences: tuple[ExperienceReport, ...]
    holdout: HoldoutReport
    since: str | None = None
    notes: tuple[str, ...] = ()
    objective: ObjectiveReport | None = None  # the ruleset's `objective`, if it declares one

    @property
    def empty(self) -> bool:
        return not any(v.visitors for e in self.experiences for v in e.variants) and not (
            self.holdout.holdout.visitors or self.holdout.personalized.visitors
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "generated_at": self.generated_at,
            "intervals": self.intervals,
            "notes": list(self.notes),
            "experiences": [e.to_json() for e in self.experiences],
            "holdout": self.holdout.to_json(),
            "objective": None if self.objective is None else self.objective.to_json(),
        }


def _pair(interval: Interval | None) -> list[float] | None:
    return None if interval is None else list(interval)
