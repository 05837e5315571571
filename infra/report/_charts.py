"""The report's charts, drawn by matplotlib as inline SVG (no pyplot: each figure is its
own object, so the dev server can draw in several threads).

Each function returns an `<svg>` element, or None when there is nothing to draw.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import matplotlib
from matplotlib import dates as _dates_module
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator, PercentFormatter

from lambdas.models.report import DayPoint, Effect, GoalStats

__all__ = ["allocation_chart", "effects_chart", "lift_chart", "rate_chart"]

# Colour-blind-safe (Okabe-Ito); control is always the grey one.
_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
_CONTROL = "#7f7f7f"
_RATIO_TICKS = (0.1, 0.2, 0.33, 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
_HARM = "#C0392B"
# matplotlib's stubs are stricter than its API (dates as x values, rc keys as literals):
# its objects are handled as Any here.
_MPL_DATES: Any = _dates_module
_STYLE: Any = {
    "svg.fonttype": "none",  # text stays text: small files, searchable, crisp
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "axes.edgecolor": "#999999",
}


def colours(variants: Sequence[str], control: str) -> dict[str, str]:
    palette = iter(_COLOURS * 4)
    return {v: _CONTROL if v == control else next(palette) for v in variants}


def rate_chart(
    days: Sequence[DayPoint], variants: Sequence[str], control: str, *, goal: str, chart_id: str
) -> str | None:
    """Cumulative conversion rate of `goal` per variant, day by day."""
    if not days:
        return None
    palette = colours(variants, control)
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": chart_id}):
        figure = Figure(figsize=(6.4, 2.8))
        axes: Any = figure.add_subplot()
        x = [date.fromisoformat(d.day) for d in days]
        for variant in variants:
            y = [d.rate.get(variant) for d in days]
            points = [(a, b) for a, b in zip(x, y, strict=True) if b is not None]
            if not points:
                continue
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                marker="o" if len(points) < 15 else None,
                markersize=3,
                linewidth=2 if variant == control else 1.6,
                color=palette[variant],
                label=variant + (" (control)" if variant == control else ""),
            )
        _dates(axes, x)
        axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        axes.set_ylim(bottom=0)
        axes.set_title(f"cumulative conversion rate: {goal}", loc="left", fontsize=10)
        axes.legend(frameon=False, fontsize=8, loc="best")
        return _svg(figure)


def lift_chart(
    rows: Sequence[tuple[str, GoalStats]], *, title: str, chart_id: str, value: bool = False
) -> str | None:
    """Lift against control with its interval, one line per (label, goal statistics)."""
    drawn = [(label, s) for label, s in rows if (s.value_lift if value else s.lift) is not None]
    if not drawn:
        return None
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": chart_id}):
        figure = Figure(figsize=(6.4, 0.55 * len(drawn) + 1.0))
        axes: Any = figure.add_subplot()
        for index, (_label, stats) in enumerate(reversed(drawn)):
            point = stats.value_lift if value else stats.lift
            interval = stats.value_lift_ci if value else stats.lift_ci
            colour = _HARM if stats.harmed else ("#555555" if stats.guardrail else _COLOURS[0])
            if interval is not None:
                axes.plot(
                    list(interval),
                    [index, index],
                    color=colour,
                    linewidth=3,
                    alpha=0.45,
                    solid_capstyle="round",
                )
            axes.plot([point], [index], marker="D", markersize=6, color=colour)
        axes.axvline(0.0, color="#333333", linewidth=0.8)
        axes.set_yticks(range(len(drawn)))
        axes.set_yticklabels([label for label, _ in reversed(drawn)])
        axes.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        axes.grid(axis="y", visible=False)
        axes.set_title(title, loc="left", fontsize=10)
        return _svg(figure)


def effects_chart(effects: Sequence[Effect], *, title: str, chart_id: str) -> str | None:
    """A forest plot: each effect's odds ratio and interval on a log axis, main effects
    (blue) above interactions (orange), a line at 1 (no effect)."""
    drawn = [e for e in effects if e.odds_ratio is not None]
    if not drawn:
        return None
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": chart_id}):
        figure = Figure(figsize=(6.4, 0.5 * len(drawn) + 1.0))
        axes: Any = figure.add_subplot()
        for index, effect in enumerate(reversed(drawn)):
            colour = _COLOURS[0] if len(effect.terms) == 1 else _COLOURS[1]
            interval = effect.odds_ratio_ci
            if interval is not None:
                axes.plot(
                    list(interval),
                    [index, index],
                    color=colour,
                    linewidth=3,
                    alpha=0.45,
                    solid_capstyle="round",
                )
            marker = "D" if effect.significant else "o"
            axes.plot([effect.odds_ratio], [index], marker=marker, markersize=6, color=colour)
        axes.axvline(1.0, color="#333333", linewidth=0.8)
        axes.set_xscale("log")
        # Plain ratios as ticks (a log axis would print 9x10^-1): the ones in view.
        low, high = axes.get_xlim()
        ticks = [t for t in _RATIO_TICKS if low <= t <= high]
        axes.xaxis.set_major_locator(FixedLocator(ticks))
        axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        axes.xaxis.set_minor_locator(NullLocator())
        axes.set_yticks(range(len(drawn)))
        axes.set_yticklabels([e.label for e in reversed(drawn)])
        axes.grid(axis="y", visible=False)
        axes.set_xlabel("odds ratio (log scale; 1 = no effect)")
        axes.set_title(title, loc="left", fontsize=10)
        return _svg(figure)


def allocation_chart(
    days: Sequence[DayPoint], variants: Sequence[str], control: str, *, chart_id: str
) -> str | None:
    """Share of new visitors per variant per day (bars) and the live weights (lines)."""
    if not days:
        return None
    palette = colours(variants, control)
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": chart_id}):
        figure = Figure(figsize=(6.4, 2.6))
        axes: Any = figure.add_subplot()
        x = [date.fromisoformat(d.day) for d in days]
        bottom = [0.0] * len(days)
        for variant in variants:
            shares = []
            for d in days:
                total = sum(d.visitors.values())
                shares.append(d.visitors.get(variant, 0) / total if total else 0.0)
            axes.bar(
                x,
                shares,
                bottom=bottom,
                color=palette[variant],
                alpha=0.75,
                width=0.8,
                label=f"{variant} visitors",
            )
            bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
        level = [0.0] * len(days)
        for variant in variants[:-1]:
            # the live weights as boundaries of the stacked shares: bars should match them
            level = [
                lv + ((d.weights or {}).get(variant, 0.0))
                for lv, d in zip(level, days, strict=True)
            ]
            axes.step(x, level, where="mid", color="#222222", linewidth=1, linestyle="--")
        axes.plot([], [], color="#222222", linestyle="--", linewidth=1, label="live weights")
        _dates(axes, x)
        axes.set_ylim(0, 1)
        axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        axes.set_title("allocation over time (new visitors per day)", loc="left", fontsize=10)
        axes.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return _svg(figure)


def _dates(axes: Any, x: Sequence[date]) -> None:
    span = (max(x) - min(x)).days
    if span <= 60:
        # whole days: AutoDateLocator would try hours on a short range (and warn)
        locator = _MPL_DATES.DayLocator(interval=max(1, (span + 7) // 8))
    else:
        locator = _MPL_DATES.AutoDateLocator(maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(_MPL_DATES.ConciseDateFormatter(locator))
    if span == 0:
        axes.set_xlim(x[0] - timedelta(days=1), x[0] + timedelta(days=1))


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    # no metadata block (creator, date): the page stays small and the same counters give
    # the same bytes
    blank = {"Creator": None, "Date": None, "Format": None, "Type": None}
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata=blank)
    text = buffer.getvalue()
    # inline in HTML: drop the XML prolog and doctype, keep the <svg> element
    return (
        text[text.index("<svg") :].strip() if "<svg" in text else re.sub(r"<\?xml.*?\?>", "", text)
    )
