"""`perso report --format table`: the report as rich tables in a terminal."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from infra.report._format import (
    ci,
    count,
    lift,
    money,
    objective_lines,
    pct,
    prob,
    pvalue,
    ratio,
    ratio_ci,
)
from lambdas.models.report import (
    ExperienceReport,
    FactorEffects,
    HoldoutReport,
    MultivariateReport,
    Report,
    VariantStats,
)

__all__ = ["render_table"]


def render_table(report: Report, console: Console) -> None:
    """Print the report: holdout first (the number reported upward), then each experience."""
    title = f"perso report: {report.site}  ({report.generated_at}"
    title += f", since {report.since})" if report.since else ")"
    console.print(Text(title, style="bold"))
    console.print(_holdout(report.holdout))
    if report.objective is not None:
        head, progress = objective_lines(report.objective)
        console.print(Text(head, style="bold"))
        console.print(Text(f"  {progress}"))
    idle = []
    for experience in report.experiences:
        if any(v.visitors for v in experience.variants):
            console.print(_experience(experience))
        else:
            idle.append(experience.id)
    if idle:
        console.print(Text(f"no visitors yet: {', '.join(idle)}", style="dim"))
    for note in report.notes:
        console.print(Text(f"· {note}", style="dim"))


def _holdout(holdout: HoldoutReport) -> Panel:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("goal", "holdout", "rate", "personalized", "rate", "lift", "interval", "p"):
        table.add_column(name, justify="left" if name == "goal" else "right")
    silent = [g for g in holdout.goals if not _holdout_counted(holdout, g)]
    for goal in holdout.goals:
        if goal in silent:
            continue
        held, shown = holdout.holdout.goals[goal], holdout.personalized.goals[goal]
        table.add_row(
            goal + (" (guardrail)" if shown.guardrail else ""),
            f"{count(held.conversions)}/{count(holdout.holdout.visitors)}",
            pct(held.conversion_rate),
            f"{count(shown.conversions)}/{count(holdout.personalized.visitors)}",
            pct(shown.conversion_rate),
            lift(shown.lift),
            ci(shown.lift_ci),
            pvalue(shown.p_value),
        )
    parts: list[Table | Text] = [table]
    if silent:
        parts.append(Text(f"no conversions counted yet: {', '.join(silent)}", style="dim"))
    if not holdout.goals:
        parts = [Text("no goals declared: nothing to compare")]
    parts += [Text(note, style="dim") for note in holdout.notes]
    return Panel(
        Group(*parts),
        title=(
            f"global holdout ({holdout.share:.0%} declared, scope {holdout.scope}): "
            "personalized vs holdout"
        ),
        title_align="left",
    )


def _experience(experience: ExperienceReport) -> Panel:
    parts: list[Table | Text] = []
    counted = [g for g in experience.goals if _counted(experience, g)]
    shown: list[str | None] = list(counted or experience.goals[:1]) or [None]
    for goal in shown:
        parts.append(_variants(experience, goal))
    multivariate = experience.multivariate
    if multivariate is not None:
        for goal in shown:
            if goal is not None and goal in multivariate.goals:
                parts += _factor_tables(multivariate.goals[goal])
        parts.append(Text(f"effects: {multivariate.model}", style="dim"))
    silent = [g for g in experience.goals if g not in counted and counted]
    if silent:
        parts.append(Text(f"no conversions counted yet: {', '.join(silent)}", style="dim"))
    srm = experience.srm
    if srm.p_value is not None:
        verdict = "MISMATCH" if srm.flagged else "ok"
        style = "bold red" if srm.flagged else "green"
        line = f"sample ratio: {verdict} (p = {pvalue(srm.p_value)}, against {srm.weights})"
        parts.append(Text(line, style=style))
    elif srm.note:
        parts.append(Text(f"sample ratio: not checked ({srm.note})", style="dim"))
    for variant in experience.variants:
        for stats in variant.goals.values():
            if stats.harmed:
                parts.append(
                    Text(
                        f"guardrail: {variant.id} raises {stats.goal} by {lift(stats.lift)} "
                        f"{ci(stats.lift_ci)}",
                        style="bold red",
                    )
                )
    breakdown = _breakdown_line(experience)
    if breakdown:
        parts.append(Text(breakdown, style="dim"))
    parts += [Text(note, style="dim") for note in experience.notes]
    head = f"{experience.id}  (slot {experience.slot}, {experience.allocation}"
    if multivariate is not None:
        head = f"{experience.id}  ({_design(multivariate)}, {experience.allocation}"
    head += f", goals: {', '.join(experience.goals)})" if experience.goals else ", no goals)"
    return Panel(Group(*parts), title=head, title_align="left")


def _variants(experience: ExperienceReport, goal: str | None) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold", title_justify="left")
    if goal is not None:
        guard = " (guardrail: a rise is bad)" if goal in _guardrails(experience) else ""
        table.title = f"{goal}{guard}"
    columns = ["variant", "visitors", "exposures"]
    if goal is not None:
        columns += [
            "conv.",
            "rate",
            "lift",
            "interval",
            "p",
            "P(beat)",
            "value/visitor",
            "value lift",
            "clicks",
        ]
    else:
        columns += ["clicks"]
    for name in columns:
        table.add_column(name, justify="left" if name == "variant" else "right")
    for variant in experience.variants:
        name = variant.id + (" (control)" if variant.control and variant.id != "control" else "")
        row = [name, count(variant.visitors), count(variant.exposures)]
        if goal is not None:
            stats = variant.goals[goal]
            row += [
                count(stats.conversions),
                pct(stats.conversion_rate),
                lift(stats.lift),
                ci(stats.lift_ci),
                pvalue(stats.p_value),
                prob(stats.prob_beat_control),
                money(stats.value_per_visitor),
                lift(stats.value_lift),
            ]
        row.append(_clicks(variant))
        table.add_row(*row, style="red" if _harmed(variant, goal) else None)
    return table


def _design(multivariate: MultivariateReport) -> str:
    """>>> from lambdas.models.report import Factor
    >>> _design(MultivariateReport((Factor("headline", "hero", ("a", "b")),), 2))
    'multivariate: headline on hero, 2 of 2 combinations'
    """
    factors = ", ".join(f"{f.id} on {f.slot}" for f in multivariate.factors)
    return (
        f"multivariate: {factors}, {multivariate.combinations} of {multivariate.full_grid} "
        "combinations"
    )


def _factor_tables(effects: FactorEffects) -> list[Table | Text]:
    """Main effects and interactions on one goal (odds ratios: 1 = no effect)."""
    mains = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("factor", "level", "visitors", "rate", "reference rate", "odds ratio",
                 "interval", "p"):  # fmt: skip
        mains.add_column(name, justify="left" if name in ("factor", "level") else "right")
    for effect in effects.main_effects:
        ((factor, level),) = effect.terms
        mains.add_row(
            factor,
            level,
            count(effect.visitors),
            pct(effect.rate),
            pct(effect.reference_rate),
            ratio(effect.odds_ratio),
            ratio_ci(effect.odds_ratio_ci),
            pvalue(effect.p_value),
            style="bold" if effect.significant else None,
        )
    # Headings as text lines, not table titles: a title wraps at the table's width.
    parts: list[Table | Text] = [
        Text(
            f"{effects.goal}: main effects (odds ratio of each level against its factor's "
            "first level, averaged over the other factors)",
            style="bold",
        ),
        mains,
    ]
    if effects.interactions:
        pairs = Table(box=None, pad_edge=False, header_style="bold")
        parts.append(
            Text(
                f"{effects.goal}: two-way interactions (ratio of odds ratios: 1 = the two act "
                "independently)",
                style="bold",
            )
        )
        for name in ("interaction", "visitors", "ratio", "interval", "p"):
            pairs.add_column(name, justify="left" if name == "interaction" else "right")
        for effect in effects.interactions:
            pairs.add_row(
                effect.label,
                count(effect.visitors),
                ratio(effect.odds_ratio),
                ratio_ci(effect.odds_ratio_ci),
                pvalue(effect.p_value),
                style="bold" if effect.significant else None,
            )
        parts.append(pairs)
    parts += [Text(f"aliased: {sentence}", style="dim") for sentence in effects.aliased]
    if effects.note:
        parts.append(Text(f"effects: {effects.note}", style="dim"))
    return parts


def _holdout_counted(holdout: HoldoutReport, goal: str) -> bool:
    return bool(
        holdout.holdout.goals[goal].conversions or holdout.personalized.goals[goal].conversions
    )


def _counted(experience: ExperienceReport, goal: str) -> bool:
    return any(v.goals[goal].conversions for v in experience.variants)


def _clicks(variant: VariantStats) -> str:
    if not variant.clicks:
        return "–"
    return f"{count(variant.clicks)} ({pct(variant.click_rate)})"


def _harmed(variant: VariantStats, goal: str | None) -> bool:
    return goal is not None and variant.goals[goal].harmed


def _guardrails(experience: ExperienceReport) -> set[str]:
    return {g for v in experience.variants for g, s in v.goals.items() if s.guardrail}


def _breakdown_line(experience: ExperienceReport) -> str:
    known = [row for row in experience.breakdowns if row.value != "unknown" and row.visitors]
    if not known:
        return "breakdowns: no device, journey or new/returning sent with exposures yet"
    parts = []
    for dimension in ("device", "journey", "visitor"):
        values = sorted({r.value for r in known if r.dimension == dimension})
        if values:
            parts.append(f"{dimension}: {', '.join(values)}")
    return "breakdowns (see --format html): " + "; ".join(parts)
