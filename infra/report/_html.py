"""`perso report --format html` and `perso dev`'s `/reports/<site>`: one self-contained page.

Inline CSS and inline SVG charts (infra.report._charts); no script, no external file, so
the page can be mailed or archived as it is. Every text from the ruleset or the counters
is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape

from infra.report._charts import allocation_chart, effects_chart, lift_chart, rate_chart
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
    BreakdownRow,
    Effect,
    ExperienceReport,
    FactorEffects,
    HoldoutReport,
    ObjectiveReport,
    Report,
    VariantStats,
)

__all__ = ["render_html", "render_index"]

_KINDS = {"sequential": "sequential", "fixed_horizon": "fixed-horizon"}

_CSS = """
:root { --ink:#1d2430; --muted:#667085; --line:#e4e7ec; --good:#067647; --bad:#b42318;
        --card:#ffffff; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
       color:var(--ink); background:var(--bg); }
main { max-width:1100px; margin:0 auto; padding:24px; }
header h1 { margin:0 0 4px; font-size:22px; }
.meta, .note { color:var(--muted); font-size:12.5px; margin:2px 0; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px;
        padding:16px 20px; margin:16px 0; }
.card h2 { margin:0 0 4px; font-size:17px; }
.card h3 { margin:14px 0 4px; font-size:14px; }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; margin:6px 0 10px;
        font-variant-numeric:tabular-nums; }
th, td { padding:4px 7px; border-bottom:1px solid var(--line); text-align:right;
         white-space:nowrap; }
th:first-child, td:first-child { text-align:left; }
th { font-size:12px; color:var(--muted); font-weight:600; }
tr.harm td { color:var(--bad); font-weight:600; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px;
         font-weight:600; }
.ok { background:#ecfdf3; color:var(--good); } .flag { background:#fef3f2; color:var(--bad); }
.muted { background:#f2f4f7; color:var(--muted); }
.charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(440px, 1fr)); gap:8px 20px; }
.chart svg { width:100%; max-width:640px; height:auto; }
small.ci { color:var(--muted); }
.up { color:var(--good); } .down { color:var(--bad); }
ul.guard { margin:6px 0; padding-left:18px; }
nav a { margin-right:12px; }
"""


def render_html(report: Report) -> str:
    """The whole page for one site's report."""
    body = [
        "<header>",
        f"<h1>perso report: {escape(report.site)}</h1>",
        f'<p class="meta">generated {escape(report.generated_at)}'
        + (f" · since {escape(report.since)}" if report.since else "")
        + f" · intervals: <strong>{_KINDS[report.intervals]}</strong></p>",
        *(f'<p class="note">{escape(note)}</p>' for note in report.notes),
        _nav(report),
        "</header>",
        _holdout(report.holdout, report.alpha),
        _objective(report.objective),
        _guardrails(report),
        *(_experience(e) for e in report.experiences if _has_visitors(e)),
        _idle(report),
    ]
    return _page(f"perso report: {report.site}", "\n".join(body))


def render_index(sites: Sequence[str], *, base: str = "/reports/") -> str:
    """The list of sites `perso dev` serves reports for."""
    if sites:
        items = "".join(
            f'<li><a href="{escape(base + site)}">{escape(site)}</a></li>' for site in sites
        )
        content = f"<ul>{items}</ul>"
    else:
        content = '<p class="note">No site has a published ruleset in the local bucket yet.</p>'
    body = (
        '<header><h1>perso reports</h1><p class="meta">Live from the local counters: '
        "each page reads them when it is opened.</p></header>"
        f'<section class="card"><h2>Sites</h2>{content}</section>'
    )
    return _page("perso reports", body)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>\n{body}\n</main></body></html>\n"
    )


def _nav(report: Report) -> str:
    links = ['<a href="#holdout">holdout</a>']
    if report.objective is not None:
        links.append('<a href="#objective">objective</a>')
    links.append('<a href="#guardrails">guardrails</a>')
    links += [
        f'<a href="#x-{escape(e.id)}">{escape(e.id)}</a>'
        for e in report.experiences
        if _has_visitors(e)
    ]
    return f'<nav class="meta">{" ".join(links)}</nav>'


def _has_visitors(experience: ExperienceReport) -> bool:
    return any(v.visitors for v in experience.variants)


def _idle(report: Report) -> str:
    idle = [e.id for e in report.experiences if not _has_visitors(e)]
    if not idle:
        return ""
    names = ", ".join(escape(i) for i in idle)
    return (
        '<section class="card"><h2>No visitors yet</h2>'
        f'<p class="meta">No exposure counted so far for: {names}.</p></section>'
    )


def _holdout(holdout: HoldoutReport, alpha: float) -> str:
    rows = []
    silent = [
        g
        for g in holdout.goals
        if not (holdout.holdout.goals[g].conversions or holdout.personalized.goals[g].conversions)
    ]
    for goal in holdout.goals:
        if goal in silent:
            continue
        held, shown = holdout.holdout.goals[goal], holdout.personalized.goals[goal]
        rows.append(
            _tr(
                [
                    goal + (" (guardrail)" if shown.guardrail else ""),
                    f"{count(held.conversions)} / {count(holdout.holdout.visitors)}",
                    pct(held.conversion_rate),
                    f"{count(shown.conversions)} / {count(holdout.personalized.visitors)}",
                    pct(shown.conversion_rate),
                    _signed(shown.lift, bad_up=shown.guardrail),
                    ci(shown.lift_ci),
                    pvalue(shown.p_value),
                    money(shown.value_per_visitor),
                    _signed(shown.value_lift),
                ],
                harm=shown.harmed,
            )
        )
    head = _th(
        [
            "goal",
            "holdout conv.",
            "rate",
            "personalized conv.",
            "rate",
            "lift",
            "interval",
            "p",
            "value/visitor",
            "value lift",
        ]
    )
    table = (
        f"<div class='scroll'><table>{head}{''.join(rows)}</table></div>"
        if rows
        else "<p>No goals declared.</p>"
    )
    chart = lift_chart(
        [(goal, holdout.personalized.goals[goal]) for goal in holdout.goals if goal not in silent],
        title="lift of personalization over the holdout (conversion rate)",
        chart_id="holdout",
    )
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in holdout.notes)
    if silent:
        notes = (
            f'<p class="note">No conversions counted yet: {escape(", ".join(silent))}.</p>' + notes
        )
    return (
        f'<section class="card" id="holdout"><h2>Global holdout</h2>'
        f'<p class="meta">{holdout.share:.0%} of visitors declared as holdout · '
        f"{count(holdout.holdout.visitors)} holdout visitors, "
        f"{count(holdout.personalized.visitors)} shown personalization</p>"
        f"{table}{_chart(chart)}{notes}</section>"
    )


def _objective(objective: ObjectiveReport | None) -> str:
    if objective is None:
        return ""
    head, progress = objective_lines(objective)
    return (
        f'<section class="card" id="objective"><h2>Objective</h2>'
        f'<p class="meta">{escape(head)}</p><p>{escape(progress)}</p></section>'
    )


def _guardrails(report: Report) -> str:
    items = []
    for experience in report.experiences:
        for variant in experience.variants:
            for stats in variant.goals.values():
                if not stats.guardrail or variant.control:
                    continue
                verdict = (
                    '<span class="badge flag">hurts</span>'
                    if stats.harmed
                    else '<span class="badge ok">no significant rise</span>'
                )
                items.append(
                    f"<li>{escape(experience.id)} / {escape(variant.id)}: "
                    f"{escape(stats.goal)} {_signed(stats.lift, bad_up=True)} "
                    f"{ci(stats.lift_ci)} {verdict}</li>"
                )
    for goal, stats in report.holdout.personalized.goals.items():
        if stats.guardrail:
            verdict = "hurts" if stats.harmed else "no significant rise"
            items.append(
                f"<li>personalization vs holdout: {escape(goal)} "
                f"{_signed(stats.lift, bad_up=True)} {ci(stats.lift_ci)} ({verdict})</li>"
            )
    content = (
        f'<ul class="guard">{"".join(items)}</ul>'
        if items
        else '<p class="note">No guardrail goal (unsubscribe, bounce, refund, or the '
        "ruleset's guardrails) has been counted for any experience.</p>"
    )
    return (
        '<section class="card" id="guardrails"><h2>Guardrails</h2>'
        '<p class="meta">goals whose rise is bad: a variant is flagged when it raises one '
        f"significantly</p>{content}</section>"
    )


def _experience(experience: ExperienceReport) -> str:
    ids = [v.id for v in experience.variants]
    srm = experience.srm
    if srm.p_value is None:
        badge = (
            f'<span class="badge muted">sample ratio not checked: {escape(srm.note or "")}</span>'
        )
    elif srm.flagged:
        badge = f'<span class="badge flag">sample ratio mismatch, p = {pvalue(srm.p_value)}</span>'
    else:
        badge = f'<span class="badge ok">sample ratio ok, p = {pvalue(srm.p_value)}</span>'
    srm_line = (
        f'<p class="note">visitors per variant {_pairs(srm.observed)}; expected '
        f"{_pairs({k: round(v) for k, v in srm.expected.items()})} from {escape(srm.weights)}</p>"
    )
    counted = [
        g for g in experience.goals if any(v.goals[g].conversions for v in experience.variants)
    ]
    shown = counted or list(experience.goals[:1])
    tables = "".join(_goal_table(experience, goal) for goal in shown)
    silent = [g for g in experience.goals if g not in shown]
    if silent:
        tables += f'<p class="note">No conversions counted yet: {escape(", ".join(silent))}.</p>'
    if not experience.goals:
        tables = _plain_table(experience)
    charts = []
    multivariate = experience.multivariate
    if multivariate is not None:
        for goal in shown:
            if goal in multivariate.goals:
                tables += _factor_tables(multivariate.goals[goal])
                charts.append(
                    effects_chart(
                        [*multivariate.goals[goal].main_effects,
                         *multivariate.goals[goal].interactions],
                        title=f"{goal}: main effects (blue) and interactions (orange), odds ratios",
                        chart_id=f"effects-{experience.id}-{goal}",
                    )
                )  # fmt: skip
        tables += f'<p class="note">effects: {escape(multivariate.model)}</p>'
    if experience.series_goal:
        charts.append(
            rate_chart(
                experience.days,
                ids,
                experience.control,
                goal=experience.series_goal,
                chart_id=f"rate-{experience.id}",
            )
        )
        rows = [
            (f"{v.id} · {goal}", v.goals[goal])
            for goal in experience.goals
            for v in experience.variants
            if not v.control
        ]
        charts.append(
            lift_chart(
                rows,
                title="lift against control, conversion rate (grey: guardrail)",
                chart_id=f"lift-{experience.id}",
            )
        )
        charts.append(
            lift_chart(
                rows,
                title="lift against control (value per visitor)",
                chart_id=f"vlift-{experience.id}",
                value=True,
            )
        )
    if experience.allocation == "bandit":
        charts.append(
            allocation_chart(
                experience.days, ids, experience.control, chart_id=f"alloc-{experience.id}"
            )
        )
    drawn = "".join(_chart(c) for c in charts if c)
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in experience.notes)
    goals = ", ".join(experience.goals) or "none"
    where = f"slot {escape(experience.slot)}"
    if multivariate is not None:
        factors = ", ".join(
            f"{escape(f.id)} on {escape(f.slot)} ({escape(' / '.join(f.levels))})"
            for f in multivariate.factors
        )
        where = (
            f"multivariate: {factors} · {multivariate.combinations} of "
            f"{multivariate.full_grid} combinations"
        )
    return (
        f'<section class="card" id="x-{escape(experience.id)}"><h2>{escape(experience.id)}</h2>'
        f'<p class="meta">{where} · {escape(experience.allocation)} '
        f"allocation · goals: {escape(goals)} · control: "
        f"{escape(experience.control or 'none (one variant: see the holdout)')}</p>"
        f"<p>{badge}</p>{srm_line}{tables}"
        f'<div class="charts">{drawn}</div>'
        f"{_breakdowns(experience.breakdowns, experience.series_goal)}{notes}</section>"
    )


def _factor_tables(effects: FactorEffects) -> str:
    """Main effects and interactions on one goal, as odds ratios (1 = no effect)."""
    head = _th(["factor", "level", "visitors", "rate", "reference rate", "odds ratio (interval)",
                "p"])  # fmt: skip
    rows = [
        _tr(
            [
                e.terms[0][0],
                e.terms[0][1],
                count(e.visitors),
                pct(e.rate),
                pct(e.reference_rate),
                _ratio_with_ci(e),
                pvalue(e.p_value),
            ]
        )
        for e in effects.main_effects
    ]
    out = (
        f"<h3>{escape(effects.goal)}: main effects <small>(each level against its factor's "
        "first level, averaged over the other factors)</small></h3>"
        f"<div class='scroll'><table>{head}{''.join(rows)}</table></div>"
    )
    if effects.interactions:
        head = _th(["interaction", "visitors", "ratio of odds ratios (interval)", "p"])
        rows = [
            _tr([e.label, count(e.visitors), _ratio_with_ci(e), pvalue(e.p_value)])
            for e in effects.interactions
        ]
        out += (
            f"<h3>{escape(effects.goal)}: two-way interactions <small>(1 = the two act "
            "independently)</small></h3>"
            f"<div class='scroll'><table>{head}{''.join(rows)}</table></div>"
        )
    notes = [f"aliased: {sentence}" for sentence in effects.aliased]
    if effects.note:
        notes.append(f"effects: {effects.note}")
    return out + "".join(f'<p class="note">{escape(n)}</p>' for n in notes)


def _ratio_with_ci(effect: Effect) -> str:
    if effect.odds_ratio is None:
        return ratio(None)
    text = ratio(effect.odds_ratio)
    if effect.significant:
        text = f'<span class="{"up" if effect.odds_ratio > 1 else "down"}">{text}</span>'
    return _Html(f'{text} <small class="ci">{ratio_ci(effect.odds_ratio_ci)}</small>')


def _goal_table(experience: ExperienceReport, goal: str) -> str:
    guard = any(v.goals[goal].guardrail for v in experience.variants)
    head = _th(
        [
            "variant",
            "visitors",
            "exposures",
            "conv.",
            "rate",
            "lift (interval)",
            "p",
            "P(beat)",
            "value",
            "value/visitor",
            "value lift (interval)",
            "p",
            "clicks (CTR)",
        ]
    )
    rows = []
    for variant in experience.variants:
        stats = variant.goals[goal]
        rows.append(
            _tr(
                [
                    _name(variant),
                    count(variant.visitors),
                    count(variant.exposures),
                    count(stats.conversions),
                    pct(stats.conversion_rate),
                    _with_ci(stats.lift, stats.lift_ci, bad_up=stats.guardrail),
                    pvalue(stats.p_value),
                    prob(stats.prob_beat_control),
                    money(stats.value),
                    money(stats.value_per_visitor),
                    _with_ci(stats.value_lift, stats.value_lift_ci),
                    pvalue(stats.value_p_value),
                    _clicks(variant),
                ],
                harm=stats.harmed,
            )
        )
    title = escape(goal) + (" <small>(guardrail: a rise is bad)</small>" if guard else "")
    return f"<h3>{title}</h3><div class='scroll'><table>{head}{''.join(rows)}</table></div>"


def _name(variant: VariantStats) -> str:
    return variant.id + (" (control)" if variant.control and variant.id != "control" else "")


def _with_ci(
    value: float | None, interval: tuple[float, float] | None, *, bad_up: bool = False
) -> str:
    if value is None:
        return lift(None)
    return _Html(f'{_signed(value, bad_up=bad_up)} <small class="ci">{ci(interval)}</small>')


def _plain_table(experience: ExperienceReport) -> str:
    head = _th(["variant", "visitors", "exposures", "clicks (CTR)"])
    rows = [
        _tr([v.id, count(v.visitors), count(v.exposures), _clicks(v)]) for v in experience.variants
    ]
    return (
        f"<h3>no goals declared</h3><div class='scroll'><table>{head}{''.join(rows)}</table></div>"
    )


def _breakdowns(rows: Sequence[BreakdownRow], goal: str | None) -> str:
    known = [r for r in rows if r.value != "unknown"]
    if not known:
        return (
            '<p class="note">Breakdowns by device, journey stage and new/returning appear '
            "once exposures carry them (all visitors so far: unknown).</p>"
        )
    parts = []
    for dimension, label in (
        ("device", "device type"),
        ("journey", "journey stage at exposure"),
        ("visitor", "new or returning"),
    ):
        mine = [r for r in rows if r.dimension == dimension]
        if not mine:
            continue
        head = _th([label, "variant", "visitors", "conv.", "rate", "lift vs control"])
        body = "".join(
            _tr(
                [
                    r.value,
                    r.variant,
                    count(r.visitors),
                    count(r.conversions),
                    pct(r.conversion_rate),
                    _signed(r.lift),
                ]
            )
            for r in mine
        )
        parts.append(f"<div class='scroll'><table>{head}{body}</table></div>")
    return f"<h3>Breakdowns ({escape(goal or '')}, at first exposure)</h3>" + "".join(parts)


def _clicks(variant: VariantStats) -> str:
    if not variant.clicks:
        return "–"
    return f"{count(variant.clicks)} ({pct(variant.click_rate)})"


def _pairs(values: Mapping[str, float]) -> str:
    return ", ".join(f"{escape(k)} {count(round(v))}" for k, v in values.items())


class _Html(str):
    """Markup made here (never from data): `_tr` keeps it as it is."""


def _signed(value: float | None, *, bad_up: bool = False) -> str:
    text = lift(value)
    if value is None or value == 0:
        return text
    good = (value > 0) != bad_up
    return _Html(f'<span class="{"up" if good else "down"}">{text}</span>')


def _chart(svg: str | None) -> str:
    return f'<div class="chart">{svg}</div>' if svg else ""


def _th(names: Iterable[str]) -> str:
    return "<tr>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"


def _tr(cells: Iterable[str], *, harm: bool = False) -> str:
    out = "".join(f"<td>{c if isinstance(c, _Html) else escape(c)}</td>" for c in cells)
    return f'<tr class="harm">{out}</tr>' if harm else f"<tr>{out}</tr>"
