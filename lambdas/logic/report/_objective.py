"""Progress toward the ruleset's site-level `objective` (`{goal, target, per}`): the
incremental value of the goal against the global holdout in the current period (UTC).

incremental value so far = (personalized value per visitor - holdout value per visitor)
x personalized visitors, from the counters of the days in the period (visitors count on
their first exposure, values on the day they were counted); projected = so far / share
of the period gone.

>>> from datetime import datetime, UTC
>>> period_bounds("week", datetime(2026, 11, 25, 12, tzinfo=UTC))
(datetime.date(2026, 11, 23), datetime.date(2026, 11, 30))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lambdas.logic.report._cells import fold_cells
from lambdas.models.counters import (
    HOLDOUT,
    HOLDOUT_VARIANT,
    PERSONALIZED,
    PERSONALIZED_VARIANT,
    Add,
)
from lambdas.models.report import ObjectiveReport

__all__ = ["objective_report", "period_bounds"]


def period_bounds(per: str, now: datetime) -> tuple[date, date]:
    """[start, end) of the period (day, week from Monday, month, quarter, year) holding now."""
    today = now.astimezone(UTC).date()
    if per == "day":
        return today, today + timedelta(days=1)
    if per == "week":
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=7)
    if per == "year":
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    months = 3 if per == "quarter" else 1
    first = (today.month - 1) // months * months + 1
    start = date(today.year, first, 1)
    after = first + months
    end = date(today.year + (after - 1) // 12, (after - 1) % 12 + 1, 1)
    return start, end


def objective_report(
    objective: Any, rows: Iterable[Add], *, share: float, now: datetime
) -> ObjectiveReport | None:
    """The artifact's `objective` measured on `rows`; None when the ruleset declares none."""
    if not isinstance(objective, Mapping) or not isinstance(objective.get("goal"), str):
        return None
    goal = objective["goal"]
    target = float(objective.get("target") or 0.0)
    per = str(objective.get("per") or "month")
    start, end = period_bounds(per, now)
    moment = now.astimezone(UTC)
    begin = datetime.combine(start, time(), UTC)
    length = (datetime.combine(end, time(), UTC) - begin).total_seconds()
    elapsed = min(1.0, max(0.0, (moment - begin).total_seconds() / length))
    cells = fold_cells(rows, since=start.isoformat())
    held = cells.total(HOLDOUT, HOLDOUT_VARIANT)
    shown = cells.total(PERSONALIZED, PERSONALIZED_VARIANT)
    held_n, shown_n = round(held.get("visitors", 0.0)), round(shown.get("visitors", 0.0))
    base = ObjectiveReport(
        goal, target, per, start.isoformat(), end.isoformat(), elapsed, held_n, shown_n
    )
    if share <= 0:
        return _with(base, note="no holdout is declared (holdout: 0): nothing to measure against")
    if not held_n:
        return _with(
            base,
            note=f"no holdout visitor counted this {per} yet: the incremental value needs "
            "the holdout's value per visitor",
        )
    if not shown_n:
        return _with(base, note=f"no visitor shown personalization counted this {per} yet")
    held_vpv = float(held.get(f"v:{goal}", 0.0)) / held_n
    shown_vpv = float(shown.get(f"v:{goal}", 0.0)) / shown_n
    per_visitor = shown_vpv - held_vpv
    so_far = per_visitor * shown_n
    return ObjectiveReport(
        goal,
        target,
        per,
        start.isoformat(),
        end.isoformat(),
        elapsed,
        held_n,
        shown_n,
        held_vpv,
        shown_vpv,
        per_visitor,
        so_far,
        so_far / elapsed if elapsed > 0 else None,
    )


def _with(base: ObjectiveReport, *, note: str) -> ObjectiveReport:
    return replace(base, note=note)
