"""The report's wiring: the right counters go into the right formulas.

`lambdas.logic.stats` checks its formulas against scipy/statsmodels itself
(tests/unit/test_stats.py); here fixed counters go through `build_report` and the numbers
that come out are compared with scipy/statsmodels computed from the same data, and events
go through the aggregator first where the per-visitor sums matter (Welch needs the sum of
each visitor's total squared, not of each purchase squared).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from lambdas.logic.aggregate import Event, aggregate
from lambdas.logic.report import ReportError, build_report, guardrail_goals
from lambdas.logic.stats import Counts, sequential_interval
from lambdas.models.counters import Add, Dims, WeightsRecord
from lambdas.models.report import Report
from tests._memory_store import MemorySink

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
NO_DIMS = Dims()
DAY = "2026-11-20"


def _artifact(*experiences: dict[str, Any], holdout: float = 0.05, **extra: Any) -> dict[str, Any]:
    return {"site": "shop", "holdout": holdout, "experiences": list(experiences), **extra}


def _exp(
    exp_id: str = "x",
    *,
    variants: tuple[tuple[str, float], ...] = (("control", 0.5), ("b", 0.5)),
    goals: tuple[str, ...] = ("buy",),
    allocation: str = "fixed",
) -> dict[str, Any]:
    return {
        "id": exp_id,
        "slot": "hero",
        "allocation": allocation,
        "goals": list(goals),
        "variants": [{"id": v, "weight": w, "content": None} for v, w in variants],
    }


def _row(exp: str, var: str, day: str = DAY, dims: Dims = NO_DIMS, **counters: float) -> Add:
    labels = {"exp": exp, "var": var, "day": day}
    if dims.known:
        labels.update(dims.labels)
    return Add("X", f"{exp}#{var}#{day}#{dims.key}", labels, counters)


def _variant(report: Report, exp: str, var: str) -> Any:
    experience = next(e for e in report.experiences if e.id == exp)
    return next(v for v in experience.variants if v.id == var)


# --- conversion rates --------------------------------------------------------------------


def test_rates_use_converting_visitors_and_match_statsmodels() -> None:
    # Given control 500 of 10,000 visitors converting, b 580 of 10,000; b's visitors also
    # bought 900 times in all (c:buy), which must not count as converting visitors
    rows = [
        _row("x", "control", visitors=10_000, exposures=25_000, **{"u:buy": 500, "c:buy": 700}),
        _row("x", "b", visitors=10_000, exposures=24_000, **{"u:buy": 580, "c:buy": 900}),
    ]
    # When the report is read once (fixed horizon)
    report = build_report(_artifact(_exp()), rows, now=NOW, intervals="fixed_horizon")
    b = _variant(report, "x", "b").goals["buy"]
    # Then rate, p-value and lift interval are statsmodels' on (580/10,000, 500/10,000)
    _, p = proportions_ztest([580, 500], [10_000, 10_000])
    low, high = confint_proportions_2indep(580, 10_000, 500, 10_000, method="log", compare="ratio")
    assert (b.conversions, b.conversion_rate) == (580, 0.058)
    assert b.p_value == pytest.approx(p, rel=1e-9)
    assert b.lift == pytest.approx(0.058 / 0.05 - 1, rel=1e-12)
    assert b.lift_ci == pytest.approx((low - 1, high - 1), rel=1e-6)
    # And P(b beats control) is the Beta posteriors' integral
    post_c, post_b = sps.beta(1 + 500, 1 + 9_500), sps.beta(1 + 580, 1 + 9_420)
    expected, _ = integrate.quad(lambda x: post_b.pdf(x) * post_c.cdf(x), 0.03, 0.09, limit=200)
    assert b.prob_beat_control == pytest.approx(expected, abs=1e-6)


def test_intervals_are_sequential_by_default_and_say_so() -> None:
    rows = [
        _row("x", "control", visitors=3_000, **{"u:buy": 150}),
        _row("x", "b", visitors=3_100, **{"u:buy": 190}),
    ]
    report = build_report(_artifact(_exp()), rows, now=NOW)
    b = _variant(report, "x", "b").goals["buy"]
    direct = sequential_interval(
        control=Counts(3_000, 150), variant=Counts(3_100, 190), expected_visitors=5_000
    )
    assert report.intervals == "sequential" and "sequential" in report.notes[0]
    assert (b.p_value, b.lift_ci) == (direct.p_value, (direct.lift_low, direct.lift_high))
    fixed = build_report(_artifact(_exp()), rows, now=NOW, intervals="fixed_horizon")
    # peeking-safe intervals are wider than the read-once ones
    fixed_ci = _variant(fixed, "x", "b").goals["buy"].lift_ci
    assert b.lift_ci[1] - b.lift_ci[0] > fixed_ci[1] - fixed_ci[0]
    assert "fixed-horizon" in fixed.notes[0]


# --- value per visitor: events through the aggregator ---------------------------------------


def test_value_statistics_are_welch_on_each_visitors_total() -> None:
    # Given visitors who buy 0, 1 or 3 times (so a visitor's total is not one purchase)
    rng = random.Random(3)
    sink = MemorySink()
    totals: dict[str, list[float]] = {"control": [], "b": []}
    n = 0
    for index in range(400):
        variant = "control" if index % 2 else "b"
        owner = f"V#shop#v{index}"
        aggregate(Event("shop", owner, f"e{n}", "exposure", DAY, "x", variant), sink)
        n += 1
        total = 0.0
        for _ in range(rng.choice([0, 0, 0, 1, 1, 3])):
            value = round(rng.lognormvariate(4.0 if variant == "b" else 3.8, 0.7), 2)
            aggregate(
                Event("shop", owner, f"e{n}", "conversion", DAY, name="buy", value=value), sink
            )
            n += 1
            total += value
        totals[variant].append(total)
    # When the report reads the counters (fixed horizon)
    report = build_report(
        _artifact(_exp()), sink.variant_rows("shop"), now=NOW, intervals="fixed_horizon"
    )
    b, control = _variant(report, "x", "b"), _variant(report, "x", "control")
    # Then value, value per visitor and Welch's test are scipy's on the per-visitor totals
    tb, tc = np.array(totals["b"]), np.array(totals["control"])
    welch = sps.ttest_ind(tb, tc, equal_var=False)
    stats = b.goals["buy"]
    assert stats.value == pytest.approx(tb.sum(), rel=1e-9)
    assert stats.value_per_visitor == pytest.approx(tb.mean(), rel=1e-9)
    assert stats.value_p_value == pytest.approx(welch.pvalue, rel=1e-6)
    assert stats.value_lift == pytest.approx(tb.mean() / tc.mean() - 1, rel=1e-9)
    se = math.sqrt(tb.var(ddof=1) / len(tb) + tc.var(ddof=1) / len(tc))
    assert stats.value_prob_beat_control == pytest.approx(
        sps.norm.cdf((tb.mean() - tc.mean()) / se), rel=1e-9
    )
    # And converting visitors are visitors with a purchase, once each
    assert stats.conversions == int((tb > 0).sum())
    assert control.goals["buy"].conversions == int((tc > 0).sum())
    assert (b.visitors, control.visitors) == (200, 200)


# --- sample ratio mismatch ------------------------------------------------------------------


def test_srm_catches_a_skewed_split_and_not_a_fair_one() -> None:
    skewed = [_row("x", "control", visitors=5_000), _row("x", "b", visitors=5_400)]
    fair = [_row("x", "control", visitors=5_000), _row("x", "b", visitors=5_060)]
    bad = build_report(_artifact(_exp()), skewed, now=NOW).experiences[0].srm
    good = build_report(_artifact(_exp()), fair, now=NOW).experiences[0].srm
    assert bad.p_value == pytest.approx(sps.chisquare([5_000, 5_400]).pvalue, rel=1e-6)
    assert bad.flagged and not good.flagged
    assert good.p_value == pytest.approx(sps.chisquare([5_000, 5_060]).pvalue, rel=1e-6)
    # against declared 30/70 weights
    uneven = _exp(variants=(("control", 0.3), ("b", 0.7)))
    rows = [_row("x", "control", visitors=3_000), _row("x", "b", visitors=7_000)]
    assert not build_report(_artifact(uneven), rows, now=NOW).experiences[0].srm.flagged


def test_srm_of_a_bandit_expects_the_weights_that_were_live_each_day() -> None:
    # Given a bandit declared 50/50 that the publisher moved to 80/20 at the start of day 2
    bandit = _exp(allocation="bandit")
    day2 = datetime(2026, 11, 21, tzinfo=UTC)
    history = [WeightsRecord("x", int(day2.timestamp()), {"control": 0.8, "b": 0.2})]
    rows = [
        _row("x", "control", "2026-11-20", visitors=500),
        _row("x", "b", "2026-11-20", visitors=500),
        _row("x", "control", "2026-11-21", visitors=800),
        _row("x", "b", "2026-11-21", visitors=200),
    ]
    # When the report checks the split
    srm = build_report(_artifact(bandit), rows, now=NOW, history=history).experiences[0].srm
    # Then it expects 500 + 800 and 500 + 200, and finds no mismatch
    assert srm.expected == {"control": 1_300, "b": 700}
    assert srm.p_value == pytest.approx(1.0) and not srm.flagged
    assert "recorded" in srm.weights
    # And against the declared weights alone, the same counts would be a mismatch
    assert build_report(_artifact(bandit), rows, now=NOW).experiences[0].srm.flagged


# --- holdout, guardrails, breakdowns, clicks --------------------------------------------------


def test_holdout_lift_is_personalized_against_holdout() -> None:
    rows = [
        _row("__holdout__", "holdout", visitors=1_000, **{"u:buy": 40}),
        _row("__personalized__", "personalized", visitors=19_000, **{"u:buy": 1_045}),
        _row("x", "control", visitors=9_500, **{"u:buy": 500}),
        _row("x", "b", visitors=9_500, **{"u:buy": 545}),
    ]
    report = build_report(_artifact(_exp()), rows, now=NOW, intervals="fixed_horizon")
    out = report.to_json()["holdout"]
    _, p = proportions_ztest([1_045, 40], [19_000, 1_000])
    assert (out["visitors"], out["conversions"]) == (1_000, 40)
    assert out["personalized"] == {"visitors": 19_000, "conversions": 1_045}
    assert out["lift"] == pytest.approx((1_045 / 19_000) / 0.04 - 1)
    assert out["p_value"] == pytest.approx(p, rel=1e-9)
    assert out["lift_ci"][0] < out["lift"] < out["lift_ci"][1]


def test_guardrails_are_flagged_when_they_rise_and_read_in_one_place() -> None:
    # Given refunds and complaints declared as guardrails, counted for x
    artifact = _artifact(_exp(), guardrails=["complaint", "refund"], holdout_scope="all")
    rows = [
        _row("x", "control", visitors=10_000, **{"u:buy": 500, "u:refund": 100, "u:complaint": 50}),
        _row("x", "b", visitors=10_000, **{"u:buy": 520, "u:refund": 180, "u:complaint": 45}),
    ]
    report = build_report(artifact, rows, now=NOW)
    b = _variant(report, "x", "b")
    # Then both are reported although x declares only buy, and only refund is flagged
    assert report.experiences[0].goals == ("buy", "complaint", "refund")
    assert b.goals["refund"].guardrail and b.goals["refund"].harmed
    assert b.goals["complaint"].guardrail and not b.goals["complaint"].harmed
    assert not b.goals["buy"].guardrail
    # the declaration is the source; the well-known names only when nothing is declared
    assert guardrail_goals(artifact) == frozenset({"complaint", "refund"})
    assert not any("declares no guardrails" in n for n in report.notes)
    assert report.to_json()["holdout"]["scope"] == "all"
    fallback = build_report(_artifact(_exp()), rows, now=NOW)
    assert any("declares no guardrails" in n for n in fallback.notes)
    assert fallback.to_json()["holdout"]["scope"] == "consent"
    assert guardrail_goals({}) == frozenset({"unsubscribe", "bounce", "refund"})


def test_breakdowns_days_and_clicks_come_from_the_cells() -> None:
    mobile_new = Dims("mobile", "cart", "new")
    desktop = Dims("desktop", "engaged", "returning")
    rows = [
        _row("x", "control", "2026-11-20", mobile_new, visitors=100, **{"u:buy": 5}),
        _row("x", "control", "2026-11-21", desktop, visitors=50, **{"u:buy": 5}),
        _row("x", "b", "2026-11-20", mobile_new, visitors=90, clicks=30, clickers=20,
             **{"u:buy": 9}),
        _row("x", "b", "2026-11-21", desktop, visitors=60, **{"u:buy": 3}),
    ]  # fmt: skip
    experience = build_report(_artifact(_exp()), rows, now=NOW).experiences[0]
    device = {(r.value, r.variant): r for r in experience.breakdowns if r.dimension == "device"}
    assert (device[("mobile", "b")].visitors, device[("mobile", "b")].conversions) == (90, 9)
    assert device[("mobile", "b")].lift == pytest.approx(0.1 / 0.05 - 1)
    journey = {r.value for r in experience.breakdowns if r.dimension == "journey"}
    assert journey == {"cart", "engaged"}
    first, second = experience.days
    assert (first.day, first.visitors, first.rate["b"]) == (
        "2026-11-20",
        {"control": 100, "b": 90},
        0.1,
    )
    assert second.rate["control"] == pytest.approx(10 / 150)
    b = next(v for v in experience.variants if v.id == "b")
    assert (b.clicks, b.clickers, b.click_rate) == (30, 20, 20 / 150)


# --- the JSON object --------------------------------------------------------------------------


FIELDS = {
    "id", "visitors", "exposures", "conversions", "conversion_rate", "value",
    "value_per_visitor", "lift", "lift_ci", "p_value", "prob_beat_control",
}  # fmt: skip


def test_json_is_the_documented_object() -> None:
    rows = [
        _row("x", "control", visitors=1_000, exposures=1_500, **{"u:buy": 50, "v:buy": 5_000.0}),
        _row("x", "b", visitors=1_000, exposures=1_400, **{"u:buy": 70, "v:buy": 7_700.0}),
    ]
    out = build_report(_artifact(_exp(goals=("buy", "signup"))), rows, now=NOW).to_json()
    assert {"site", "generated_at", "experiences", "holdout"} <= set(out)
    assert out["site"] == "shop" and out["generated_at"] == "2026-11-25T12:00:00Z"
    experience = out["experiences"][0]
    assert set(experience) == {"id", "srm_p_value", "variants"}
    control, b = experience["variants"]
    assert set(control) >= FIELDS and "goals" in control
    assert control["lift"] is control["lift_ci"] is control["p_value"] is None
    assert control["prob_beat_control"] is None
    assert (b["conversions"], b["conversion_rate"], b["value_per_visitor"]) == (70, 0.07, 7.7)
    assert len(b["lift_ci"]) == 2 and 0 < b["p_value"] <= 1
    assert set(b["goals"]) == {"buy", "signup"}
    assert FIELDS - {"id"} <= set(b["goals"]["signup"])
    assert b["goals"]["buy"]["lift"] == b["lift"]
    assert {"visitors", "conversions", "lift", "lift_ci"} <= set(out["holdout"])


# --- bad input and empty reports ---------------------------------------------------------------


def test_bad_input_is_one_sentence() -> None:
    with pytest.raises(ReportError, match=r"start date 2026-12-01 is in the future"):
        build_report(_artifact(_exp()), [], now=NOW, since=date(2026, 12, 1))
    with pytest.raises(ReportError, match=r"experience 'nope' is not in .*its experiences: x"):
        build_report(_artifact(_exp()), [], now=NOW, experience="nope")


def test_no_data_yet_is_an_empty_report_that_says_why() -> None:
    report = build_report(_artifact(_exp()), [], now=NOW)
    assert report.empty
    assert any("no events have been counted" in note for note in report.notes)
    assert report.experiences[0].variants[1].goals["buy"].p_value is None


def test_a_window_that_cuts_first_exposures_caps_converters() -> None:
    # Given visitors exposed before the window and converting inside it
    rows = [
        _row("x", "control", "2026-11-10", visitors=100, **{"u:buy": 5}),
        _row("x", "control", "2026-11-21", visitors=3, **{"u:buy": 9}),
        _row("x", "b", "2026-11-21", visitors=10, **{"u:buy": 2}),
    ]
    report = build_report(_artifact(_exp()), rows, now=NOW, since=date(2026, 11, 20))
    control = _variant(report, "x", "control")
    assert (control.visitors, control.goals["buy"].conversions) == (3, 3)
    assert "capped" in (control.goals["buy"].note or "")
    assert report.since == "2026-11-20"


# --- the objective ----------------------------------------------------------------------------


def test_objective_progress_is_incremental_value_against_the_holdout_this_period() -> None:
    # Given an objective of 10,000 of purchase value per month, on 2026-11-25 12:00 UTC
    objective = {"goal": "buy", "target": 10_000.0, "per": "month"}
    artifact = _artifact(_exp(), objective=objective)
    rows = [
        # this month: holdout 100 visitors, 300 of value; personalized 1,000 visitors, 5,000
        _row("__holdout__", "holdout", "2026-11-03", visitors=60, **{"u:buy": 3, "v:buy": 200}),
        _row("__holdout__", "holdout", "2026-11-20", visitors=40, **{"u:buy": 1, "v:buy": 100}),
        _row("__personalized__", "personalized", "2026-11-10", visitors=1_000, **{"v:buy": 5_000}),
        # last month: outside the period
        _row("__holdout__", "holdout", "2026-10-30", visitors=500, **{"v:buy": 99_999}),
        _row("__personalized__", "personalized", "2026-10-31", visitors=7, **{"v:buy": 7}),
    ]
    report = build_report(artifact, rows, now=NOW)
    out = report.to_json()["objective"]
    # Then, by hand: holdout 300/100 = 3.00 per visitor, personalized 5,000/1,000 = 5.00,
    # so 2.00 more per visitor x 1,000 visitors = 2,000 so far, 20% of the target
    assert (out["period_start"], out["period_end"]) == ("2026-11-01", "2026-12-01")
    assert (out["holdout_visitors"], out["personalized_visitors"]) == (100, 1_000)
    assert out["holdout_value_per_visitor"] == pytest.approx(3.0)
    assert out["personalized_value_per_visitor"] == pytest.approx(5.0)
    assert out["incremental_per_visitor"] == pytest.approx(2.0)
    assert out["so_far"] == pytest.approx(2_000.0)
    assert out["share_of_target"] == pytest.approx(0.2)
    # 24.5 of November's 30 days are gone: 2,000 / (24.5 / 30) = 2,448.98 for the month
    assert out["elapsed"] == pytest.approx(24.5 / 30)
    assert out["projected"] == pytest.approx(2_000 * 30 / 24.5)
    assert out["projected_share_of_target"] == pytest.approx(2_000 * 30 / 24.5 / 10_000)
    assert out["note"] is None
    # And the table prints it as a line, the HTML page as a box
    from rich.console import Console

    from infra.report import render_html, render_table

    console = Console(record=True, width=400)
    render_table(report, console)
    assert "2,000.00 so far (20.00% of the target), 2,448.98 projected" in console.export_text()
    page = render_html(report)
    assert 'id="objective"' in page and "2,448.98 projected for the month" in page


def test_objective_without_holdout_data_says_why() -> None:
    objective = {"goal": "buy", "target": 500.0, "per": "week"}
    rows = [_row("__personalized__", "personalized", "2026-11-24", visitors=10, **{"v:buy": 50})]
    out = build_report(_artifact(_exp(), objective=objective), rows, now=NOW).to_json()
    assert out["objective"]["so_far"] is None and out["objective"]["projected"] is None
    assert out["objective"]["period_start"] == "2026-11-23"  # the Monday
    assert "no holdout visitor counted this week" in out["objective"]["note"]
    none = build_report(_artifact(_exp(), holdout=0.0, objective=objective), rows, now=NOW)
    assert "no holdout is declared" in none.to_json()["objective"]["note"]
    assert build_report(_artifact(_exp()), rows, now=NOW).to_json()["objective"] is None
