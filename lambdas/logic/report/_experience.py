"""One experience's report, and the global holdout's, from the summed counters.

`experience_report(spec, cells, ...)` reads the experience as the artifact declares it
(`{id, slot, allocation, goals, variants: [{id, weight}]}`; a multivariate one adds `type`
and `factors`, its variants are its combinations and `_factorial` adds the factors'
effects); `holdout_report` compares the reserved experiences `__holdout__` and
`__personalized__` (lambdas.models.counters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from lambdas.logic.report._cells import Cells, Counters
from lambdas.logic.report._compare import Options, goal_stats
from lambdas.logic.report._factorial import (
    factors_of,
    multivariate_report,
    reference_combination,
)
from lambdas.logic.report._weights import expected_split
from lambdas.logic.stats import srm_test
from lambdas.models.counters import (
    HOLDOUT,
    HOLDOUT_VARIANT,
    PERSONALIZED,
    PERSONALIZED_VARIANT,
    WeightsRecord,
)
from lambdas.models.report import (
    BreakdownRow,
    DayPoint,
    ExperienceReport,
    HoldoutReport,
    SrmCheck,
    VariantStats,
)

__all__ = ["experience_report", "holdout_report"]

_DIMENSIONS = ("device", "journey", "visitor")


def experience_report(
    spec: Mapping[str, Any],
    cells: Cells,
    *,
    guardrails: frozenset[str],
    history: Sequence[WeightsRecord],
    learned: Sequence[float] | None,
    options: Options,
) -> ExperienceReport:
    exp_id = str(spec["id"])
    variants = [(str(v["id"]), float(v.get("weight", 0.0))) for v in spec.get("variants") or []]
    ids = [v for v, _ in variants]
    # Control: the variant named so, else the first; a single variant has none (its
    # comparison is the holdout's, the page's defaults).
    control = "control" if "control" in ids else (ids[0] if len(ids) > 1 else "")
    factors = factors_of(spec) if spec.get("type") == "multivariate" else ()
    if factors and reference_combination(factors) in ids:
        # A multivariate experience's control is every factor at its reference level.
        control = reference_combination(factors)
    declared = list(spec.get("goals") or [])
    seen = cells.names(exp_id)
    goals = (*declared, *sorted(g for g in guardrails & seen if g not in declared))
    totals = {v: cells.total(exp_id, v) for v in ids}
    stats = tuple(
        _variant(
            v,
            weight,
            totals[v],
            totals[control] if control and v != control else None,
            goals,
            guardrails,
            options,
            is_control=v == control,
        )
        for v, weight in variants
    )
    notes = []
    stray = [v for v in cells.variants_of(exp_id) if v not in ids]
    if stray:
        notes.append(f"counters for variants no longer in the ruleset: {', '.join(stray)}")
    if not any(s.visitors for s in stats):
        notes.append("no visitors yet")
    weights = [w for _, w in variants]
    allocation = str(spec.get("allocation") or "fixed")
    series_goal = _series_goal(exp_id, ids, cells, goals)
    days, srm = _days_and_srm(
        exp_id, ids, weights, cells, goals, history, learned, allocation, options
    )
    multivariate = (
        multivariate_report(spec, cells, goals=goals, options=options) if factors else None
    )
    slots = ", ".join(dict.fromkeys(f.slot for f in factors)) if factors else None
    return ExperienceReport(
        id=exp_id,
        slot=slots or str(spec.get("slot") or ""),
        allocation=allocation,
        goals=goals,
        control=control,
        variants=stats,
        srm=srm,
        days=days,
        breakdowns=_breakdowns(exp_id, ids, control, cells, series_goal),
        notes=tuple(notes),
        series_goal=series_goal,
        multivariate=multivariate,
    )


def _series_goal(exp_id: str, ids: list[str], cells: Cells, goals: Sequence[str]) -> str | None:
    """The goal the charts and breakdowns follow: the first one with conversions."""
    for goal in goals:
        if any(cells.total(exp_id, v).get(f"u:{goal}") for v in ids):
            return goal
    return goals[0] if goals else None


def holdout_report(
    cells: Cells,
    *,
    share: float,
    goals: Sequence[str],
    guardrails: frozenset[str],
    options: Options,
    scope: str = "consent",
) -> HoldoutReport:
    held = cells.total(HOLDOUT, HOLDOUT_VARIANT)
    shown = cells.total(PERSONALIZED, PERSONALIZED_VARIANT)
    seen = cells.names(HOLDOUT) | cells.names(PERSONALIZED)
    all_goals = (*goals, *sorted(g for g in guardrails & seen if g not in goals))
    holdout = _variant(
        HOLDOUT_VARIANT, share, held, None, all_goals, guardrails, options, is_control=True
    )
    personalized = _variant(
        PERSONALIZED_VARIANT, 1 - share, shown, held, all_goals, guardrails, options
    )
    withheld = (
        "every experience"
        if scope == "all"
        else "what consent adds (consent: none experiences still run)"
    )
    notes = [
        f"holdout scope: {scope}: the holdout withholds {withheld}. holdout: visitors in "
        "the global holdout on a view where an experience in scope would have matched; "
        "personalized: visitors shown an experience in scope (any variant, control "
        "included), so both sides are visitors who would have been personalized."
    ]
    if share <= 0:
        notes.append("the ruleset declares no holdout (holdout: 0)")
    return HoldoutReport(share, all_goals, holdout, personalized, tuple(notes), scope)


def _variant(
    variant: str,
    weight: float | None,
    counters: Counters,
    control: Counters | None,
    goals: Sequence[str],
    guardrails: frozenset[str],
    options: Options,
    *,
    is_control: bool = False,
) -> VariantStats:
    return VariantStats(
        id=variant,
        weight=weight,
        control=is_control,
        visitors=round(counters.get("visitors", 0.0)),
        exposures=round(counters.get("exposures", 0.0)),
        clicks=round(counters.get("clicks", 0.0)),
        clickers=round(counters.get("clickers", 0.0)),
        goals={
            goal: goal_stats(
                goal, counters, control=control, options=options, guardrail=goal in guardrails
            )
            for goal in goals
        },
    )


def _days_and_srm(
    exp_id: str,
    ids: list[str],
    weights: list[float],
    cells: Cells,
    goals: Sequence[str],
    history: Sequence[WeightsRecord],
    learned: Sequence[float] | None,
    allocation: str,
    options: Options,
) -> tuple[tuple[DayPoint, ...], SrmCheck]:
    per_day = {v: cells.days.get((exp_id, v), {}) for v in ids}
    days = sorted({day for by_day in per_day.values() for day in by_day})
    new = {d: round(sum(per_day[v].get(d, {}).get("visitors", 0.0) for v in ids)) for d in days}
    records = [r for r in history if r.experience == exp_id]
    declared = weights
    source = "the declared weights"
    if records:
        source = "the weights the publisher recorded as live, day by day"
    elif learned is not None and len(learned) == len(ids):
        # A bandit without recorded history: its current weights are the best guess.
        declared, source = list(learned), "the current learned weights (no earlier record)"
    now = int(options.now.timestamp())
    expected, used = expected_split(new, ids, declared, records, now=now)
    primary = _series_goal(exp_id, ids, cells, goals)
    points = []
    cumulative = dict.fromkeys(ids, 0.0)
    converted = dict.fromkeys(ids, 0.0)
    for day in days:
        today = {v: per_day[v].get(day, {}) for v in ids}
        for v in ids:
            cumulative[v] += today[v].get("visitors", 0.0)
            converted[v] += today[v].get(f"u:{primary}", 0.0) if primary else 0.0
        points.append(
            DayPoint(
                day=day,
                visitors={v: round(today[v].get("visitors", 0.0)) for v in ids},
                exposures={v: round(today[v].get("exposures", 0.0)) for v in ids},
                conversions={
                    v: round(today[v].get(f"u:{primary}", 0.0)) if primary else 0 for v in ids
                },
                rate={
                    v: (min(converted[v], cumulative[v]) / cumulative[v] if cumulative[v] else None)
                    for v in ids
                },
                weights=used.get(day),
            )
        )
    observed = {v: round(sum(d.get("visitors", 0.0) for d in per_day[v].values())) for v in ids}
    expected_by = {v: round(e, 3) for v, e in zip(ids, expected, strict=True)}
    if len(ids) < 2:
        srm = SrmCheck(None, False, observed, expected_by, source, "one variant: no split")
    elif sum(expected) <= 0:
        srm = SrmCheck(None, False, observed, expected_by, source, "no visitors yet")
    else:
        result = srm_test(observed=[observed[v] for v in ids], weights=expected)
        srm = SrmCheck(result.p_value, result.flagged, observed, expected_by, source, result.reason)
    if allocation == "bandit" and not records:
        note = "; ".join(n for n in (srm.note, "the publisher has not recorded weights yet") if n)
        srm = replace(srm, note=note)
    return tuple(points), srm


def _breakdowns(
    exp_id: str, ids: list[str], control: str, cells: Cells, goal: str | None
) -> tuple[BreakdownRow, ...]:
    rows: list[BreakdownRow] = []
    for index, dimension in enumerate(_DIMENSIONS):
        table: dict[str, dict[str, list[float]]] = {}
        for v in ids:
            for dims, counters in cells.dims.get((exp_id, v), {}).items():
                value = dims[index]
                cell = table.setdefault(value, {}).setdefault(v, [0.0, 0.0])
                cell[0] += counters.get("visitors", 0.0)
                cell[1] += counters.get(f"u:{goal}", 0.0) if goal else 0.0
        order = sorted(table, key=lambda value: (-sum(c[0] for c in table[value].values()), value))
        for value in order:
            base = table[value].get(control, [0.0, 0.0])
            base_rate = base[1] / base[0] if base[0] else None
            for v in ids:
                visitors, converted = table[value].get(v, [0.0, 0.0])
                rate = min(converted, visitors) / visitors if visitors else None
                lift = (
                    rate / base_rate - 1
                    if v != control and rate is not None and base_rate
                    else None
                )
                rows.append(
                    BreakdownRow(
                        dimension,
                        value,
                        v,
                        round(visitors),
                        round(min(converted, visitors)),
                        rate,
                        lift,
                    )
                )
    return tuple(rows)
