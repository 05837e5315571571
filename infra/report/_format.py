"""Numbers as a person reads them in a report (shared by the table and the HTML page).

>>> pct(0.0581), lift(0.16), ci((0.033, 0.303)), pvalue(0.01234), pvalue(1e-9)
('5.81%', '+16.0%', '[+3.3%, +30.3%]', '0.012', '<0.001')
>>> ratio(1.1534), ratio_ci((0.98, 1.3561))
('1.153', '[0.980, 1.356]')
"""

from __future__ import annotations

from lambdas.models.report import ObjectiveReport

__all__ = [
    "ci",
    "count",
    "lift",
    "money",
    "objective_lines",
    "pct",
    "prob",
    "pvalue",
    "ratio",
    "ratio_ci",
]

DASH = "–"


def pct(value: float | None) -> str:
    return DASH if value is None else f"{value:.2%}"


def lift(value: float | None) -> str:
    return DASH if value is None else f"{value:+.1%}"


def ci(interval: tuple[float, float] | None) -> str:
    """A lift interval; ends past +999% (tiny samples) are shown as such, not as digits.

    >>> ci((-0.999, 2680.0))
    '[-99.9%, >+999%]'
    """
    if interval is None:
        return DASH
    low, high = interval
    return f"[{_bounded(low)}, {_bounded(high)}]"


def ratio(value: float | None) -> str:
    """An odds ratio (1 = no effect); past 999 (a level almost nobody converted against) as such."""
    if value is None:
        return DASH
    return ">999" if value > 999 else f"{value:.3f}"


def ratio_ci(interval: tuple[float, float] | None) -> str:
    if interval is None:
        return DASH
    return f"[{ratio(interval[0])}, {ratio(interval[1])}]"


def _bounded(value: float) -> str:
    return ">+999%" if value > 9.99 else f"{value:+.1%}"


def pvalue(value: float | None) -> str:
    if value is None:
        return DASH
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def prob(value: float | None) -> str:
    return DASH if value is None else f"{value:.0%}"


def money(value: float | None) -> str:
    return DASH if value is None else f"{value:,.2f}"


def count(value: int) -> str:
    return f"{value:,}"


def objective_lines(o: ObjectiveReport) -> tuple[str, str]:
    """The objective as a heading and one sentence of progress (or why there is none)."""
    head = (
        f"objective: {money(o.target)} of incremental {o.goal} value per {o.per} against "
        f"the holdout ({o.period_start} to {o.period_end}, UTC; {o.elapsed:.0%} of the "
        f"{o.per} gone)"
    )
    if o.so_far is None:
        return head, f"not measurable yet: {o.note}"
    return head, (
        f"{money(o.so_far)} so far ({pct(o.share_of_target)} of the target), "
        f"{money(o.projected)} projected for the {o.per} ({pct(o.projected_share)}): "
        f"{money(o.incremental_per_visitor)} per visitor (personalized "
        f"{money(o.personalized_value_per_visitor)}, holdout "
        f"{money(o.holdout_value_per_visitor)}) x {count(o.personalized_visitors)} "
        "personalized visitors"
    )
