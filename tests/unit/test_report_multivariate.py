"""The multivariate report: per combination, main effects, two-way interactions, the chart.

The logistic model of `lambdas.logic.report._factorial` (pure Python IRLS,
`lambdas.logic.regression`) is checked against statsmodels' GLM Binomial fitted to the same
per-combination counts (endog = [converted, not converted]: the aggregated form of Logit on
one row per visitor) on fixed data sets: a full 2x2, a 2x3, a full 2^3 (all two-way
interactions, no three-way: not saturated) and a 2^(3-1) half fraction (I = -ABC, which keeps
the all-reference combination), where every interaction is aliased with a main effect. The
design matrices for statsmodels are built here, from the level names, independently of the
report's own coding. A seeded simulation then checks the error rates: the known main effect
is found at its power, and the null effects and the interaction are declared at about alpha.
"""

from __future__ import annotations

import doctest
import importlib
import io
import itertools
import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
import statsmodels.api as sm

from lambdas.logic import regression
from lambdas.logic.aggregate import Event, aggregate
from lambdas.logic.regression import RegressionError, logistic_fit, new_directions
from lambdas.logic.report import _factorial as factorial
from lambdas.logic.report import build_report
from lambdas.logic.report._compare import Options
from lambdas.logic.report._factorial import fit_effects
from lambdas.logic.stats import sequential_boundary
from lambdas.models import report as report_models
from lambdas.models.counters import Add
from lambdas.models.report import Factor, FactorEffects, Report
from tests._memory_store import MemorySink

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
DAY = "2026-11-20"
FIXED = Options(kind="fixed_horizon")
TOL = 1e-6

Combo = tuple[str, ...]
Data = dict[Combo, tuple[int, int]]

HEADLINE = Factor("headline", "hero", ("default", "short"))
BUTTON = Factor("button", "cta", ("default", "bold"))
BANNER = Factor("banner", "top", ("none", "sale"))
LAYOUT3 = Factor("layout", "grid", ("list", "grid", "cards"))

# Fixed data sets: (visitors, converting visitors) per combination.
FULL_2X2: Data = {
    ("default", "default"): (2_000, 200),
    ("short", "default"): (2_000, 262),
    ("default", "bold"): (2_000, 210),
    ("short", "bold"): (2_000, 255),
}
FULL_2X3: Data = {
    ("default", "list"): (1_500, 120),
    ("short", "list"): (1_480, 151),
    ("default", "grid"): (1_530, 131),
    ("short", "grid"): (1_510, 170),
    ("default", "cards"): (1_490, 101),
    ("short", "cards"): (1_520, 149),
}
FULL_2X2X2: Data = {
    combo: (1_000 + 37 * i, 80 + 9 * i + (15 if combo[0] == "short" else 0) - (7 * (i % 3)))
    for i, combo in enumerate(itertools.product(*(f.levels for f in (HEADLINE, BUTTON, BANNER))))
}
# The half fraction I = -ABC (in +1/-1 coding): banner is "sale" exactly when one of headline
# and button is at its second level, so headline x button = -banner, and so on.
HALF_2X2X2: Data = {
    ("default", "default", "none"): (2_500, 240),
    ("short", "bold", "none"): (2_480, 301),
    ("short", "default", "sale"): (2_520, 310),
    ("default", "bold", "sale"): (2_490, 236),
}


# --- statsmodels, on designs built here -----------------------------------------------------


def _columns(
    factors: Sequence[Factor], pairs: Sequence[tuple[int, int]]
) -> list[tuple[tuple[int, str], ...]]:
    """Dummy columns by name: ((factor index, level),) for main effects, two for products."""
    mains = [((k,), lv) for k, f in enumerate(factors) for lv in f.levels[1:]]
    out: list[tuple[tuple[int, str], ...]] = [((k[0], lv),) for k, lv in mains]
    for a, b in pairs:
        for la in factors[a].levels[1:]:
            for lb in factors[b].levels[1:]:
                out.append(((a, la), (b, lb)))
    return out


def _statsmodels(
    factors: Sequence[Factor], data: Data, pairs: Sequence[tuple[int, int]]
) -> tuple[Any, list[tuple[tuple[int, str], ...]]]:
    columns = _columns(factors, pairs)
    # One row per combination and outcome, weighted by its visitors: Logit on one row per
    # visitor, without the rows. (The [converted, not converted] form would flag a
    # saturated design as "perfect prediction": its fitted shares equal the observed ones.)
    exog, endog, weights = [], [], []
    for combo, (n, x) in data.items():
        row = [1.0] + [float(all(combo[k] == lv for k, lv in col)) for col in columns]
        for outcome, count in ((1.0, x), (0.0, n - x)):
            exog.append(row)
            endog.append(outcome)
            weights.append(float(count))
    model = sm.GLM(
        np.array(endog),
        np.array(exog),
        family=sm.families.Binomial(),
        freq_weights=np.array(weights),
    )
    result = model.fit(tol=1e-13)
    return result, columns


def _check_against_statsmodels(
    factors: Sequence[Factor], data: Data, pairs: Sequence[tuple[int, int]]
) -> FactorEffects:
    effects = fit_effects(factors, data, goal="buy", options=FIXED)
    result, columns = _statsmodels(factors, data, pairs)
    index = {col: i + 1 for i, col in enumerate(columns)}
    z = NormalDist().inv_cdf(0.975)
    # Interactions: the dummy products' coefficients and standard errors.
    assert len(effects.interactions) == sum(len(c) == 2 for c in columns)
    for effect in effects.interactions:
        key = tuple((_factor(factors, f), lv) for f, lv in effect.terms)
        i = index[key]
        assert effect.estimate == pytest.approx(result.params[i], abs=TOL)
        assert effect.standard_error == pytest.approx(result.bse[i], abs=TOL)
        assert effect.p_value == pytest.approx(result.pvalues[i], abs=TOL)
        low, high = result.conf_int(0.05)[i]
        assert effect.ci == pytest.approx((low, high), abs=TOL)
    # Main effects: the dummy plus the interactions it enters, each with the share of pages
    # where the other factor is at that level (statsmodels' t_test of that contrast).
    assert len(effects.main_effects) == sum(len(f.levels) - 1 for f in factors)
    for effect in effects.main_effects:
        ((name, level),) = effect.terms
        k = _factor(factors, name)
        contrast = np.zeros(len(columns) + 1)
        contrast[index[((k, level),)]] = 1.0
        for col, i in index.items():
            if len(col) == 2 and (k, level) in col:
                other = next(f for f, _ in col if f != k)
                contrast[i] = 1.0 / len(factors[other].levels)
        test = result.t_test(contrast)
        assert effect.estimate == pytest.approx(float(test.effect[0]), abs=TOL)
        assert effect.standard_error == pytest.approx(float(test.sd[0, 0]), abs=TOL)
        assert effect.p_value == pytest.approx(float(test.pvalue), abs=TOL)
        estimate, se = float(test.effect[0]), float(test.sd[0, 0])
        assert effect.ci == pytest.approx((estimate - z * se, estimate + z * se), abs=TOL)
    return effects


def _factor(factors: Sequence[Factor], name: str) -> int:
    return next(k for k, f in enumerate(factors) if f.id == name)


def test_full_2x2_matches_statsmodels_and_the_cell_log_odds() -> None:
    effects = _check_against_statsmodels((HEADLINE, BUTTON), FULL_2X2, [(0, 1)])
    assert effects.aliased == () and effects.note is None
    # The saturated 2x2 reproduces each cell: the main effect of headline is the mean of its
    # two log odds ratios (button default, button bold), the interaction their difference.
    logit = {c: math.log(x / (n - x)) for c, (n, x) in FULL_2X2.items()}
    at_default = logit[("short", "default")] - logit[("default", "default")]
    at_bold = logit[("short", "bold")] - logit[("default", "bold")]
    headline, _button = effects.main_effects
    (interaction,) = effects.interactions
    assert headline.estimate == pytest.approx((at_default + at_bold) / 2, abs=1e-9)
    assert interaction.estimate == pytest.approx(at_bold - at_default, abs=1e-9)
    # And the marginal rates are the visitors shown each level, pooled
    assert headline.rate == pytest.approx((262 + 255) / 4_000)
    assert headline.reference_rate == pytest.approx((200 + 210) / 4_000)


def test_2x3_matches_statsmodels() -> None:
    effects = _check_against_statsmodels((HEADLINE, LAYOUT3), FULL_2X3, [(0, 1)])
    assert [e.label for e in effects.main_effects] == [
        "headline=short",
        "layout=grid",
        "layout=cards",
    ]
    assert [e.label for e in effects.interactions] == [
        "headline=short × layout=grid",
        "headline=short × layout=cards",
    ]


def test_full_2x2x2_with_every_two_way_interaction_matches_statsmodels() -> None:
    effects = _check_against_statsmodels(
        (HEADLINE, BUTTON, BANNER), FULL_2X2X2, [(0, 1), (0, 2), (1, 2)]
    )
    assert len(effects.interactions) == 3 and effects.aliased == ()


def test_half_fraction_reports_main_effects_and_names_the_aliased_interactions() -> None:
    # Given the 4 runs of a 2^(3-1) design: 1 + 3 main effects use every degree of freedom
    effects = _check_against_statsmodels((HEADLINE, BUTTON, BANNER), HALF_2X2X2, [])
    # Then no interaction is estimated, and each is named with the main effect it hides in
    assert effects.interactions == ()
    assert effects.aliased == (
        "headline × button is aliased with banner (the design cannot tell them apart: "
        "it is assumed to be zero)",
        "headline × banner is aliased with button (the design cannot tell them apart: "
        "it is assumed to be zero)",
        "button × banner is aliased with headline (the design cannot tell them apart: "
        "it is assumed to be zero)",
    )


def test_a_fraction_too_small_for_the_main_effects_says_so() -> None:
    # Given 3 two-level factors in 3 combinations (4 parameters needed)
    data = {c: HALF_2X2X2[c] for c in list(HALF_2X2X2)[:3]}
    effects = fit_effects((HEADLINE, BUTTON, BANNER), data, goal="buy", options=FIXED)
    assert effects.note is not None and "cannot separate the factors' main effects" in effects.note
    assert all(e.estimate is None for e in effects.main_effects)


def test_unfitted_counts_say_why_instead_of_raising() -> None:
    # Given a combination with no visitors yet, then one with no conversion yet
    empty = {**FULL_2X2, ("short", "bold"): (0, 0)}
    silent = {**FULL_2X2, ("short", "bold"): (300, 0)}
    for data, reason in (
        (empty, "no visitors in short.bold"),
        (silent, "converting and non-converting visitors (not yet: short.bold)"),
    ):
        effects = fit_effects((HEADLINE, BUTTON), data, goal="buy", options=FIXED)
        assert effects.note is not None and reason in effects.note
        assert effects.interactions == ()
        assert [e.estimate for e in effects.main_effects] == [None, None]
        # the marginal rates are still shown
        assert effects.main_effects[0].rate is not None


@pytest.mark.parametrize(
    "module",
    [regression, factorial, report_models, "infra.report._format", "infra.report._table"],
)
def test_docstring_examples_hold(module: Any) -> None:
    if isinstance(module, str):
        module = importlib.import_module(module)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 1 and result.failed == 0


def test_the_regression_core_refuses_what_has_no_estimate() -> None:
    with pytest.raises(RegressionError, match="not of full rank"):
        logistic_fit([[1.0, 1.0], [1.0, 1.0]], successes=[1, 2], trials=[10, 10])
    with pytest.raises(RegressionError, match="all or none"):
        logistic_fit([[1.0, 0.0], [1.0, 1.0]], successes=[0, 2], trials=[10, 10])
    assert new_directions([[1, 2, 3], [1, 2, 4]]) == [0, 2]


def test_sequential_intervals_are_wider_and_their_p_values_larger() -> None:
    fixed = fit_effects((HEADLINE, BUTTON), FULL_2X2, goal="buy", options=FIXED)
    sequential = fit_effects((HEADLINE, BUTTON), FULL_2X2, goal="buy", options=Options())
    for f, s in zip(fixed.main_effects, sequential.main_effects, strict=True):
        assert s.estimate == f.estimate and s.standard_error == f.standard_error
        assert f.ci is not None and s.ci is not None and f.p_value is not None
        assert s.ci[1] - s.ci[0] > f.ci[1] - f.ci[0]
        assert s.p_value is not None and s.p_value > f.p_value
        # the A/B comparisons' boundary, with n the 8,000 visitors of the combinations
        assert s.estimate is not None and s.standard_error is not None
        multiplier, p = sequential_boundary(
            s.estimate / s.standard_error, visitors=8_000, expected_visitors=5_000, alpha=0.05
        )
        assert s.p_value == pytest.approx(p, rel=1e-12)
        assert s.ci[1] - s.estimate == pytest.approx(multiplier * s.standard_error, rel=1e-12)


# --- the whole report: combinations as variants ------------------------------------------


def _artifact(factors: Sequence[Factor], combos: Sequence[Combo]) -> dict[str, Any]:
    experience = {
        "id": "home-mvt",
        "slot": factors[0].slot,
        "type": "multivariate",
        "allocation": "fixed",
        "goals": ["purchase"],
        "factors": [
            {"id": f.id, "slot": f.slot, "levels": [{"id": lv, "content": None} for lv in f.levels]}
            for f in factors
        ],
        "variants": [
            {"id": ".".join(c), "weight": 1 / len(combos), "content": None} for c in combos
        ],
    }
    return {"site": "shop", "holdout": 0.0, "experiences": [experience]}


def _rows(data: Data) -> list[Add]:
    rows = []
    for combo, (n, x) in data.items():
        variant = ".".join(combo)
        labels = {"exp": "home-mvt", "var": variant, "day": DAY}
        deltas = {"visitors": float(n), "exposures": 1.5 * n, "u:purchase": float(x)}
        rows.append(Add("X", f"home-mvt#{variant}#{DAY}", labels, deltas))
    return rows


def _report(factors: Sequence[Factor], data: Data, **options: Any) -> Report:
    # Listed in an order where the all-reference combination is not first
    combos = sorted(data, reverse=True)
    return build_report(_artifact(factors, combos), _rows(data), now=NOW, **options)


def test_combinations_are_variants_against_the_all_reference_combination() -> None:
    report = _report((HEADLINE, BUTTON), FULL_2X2, intervals="fixed_horizon")
    (experience,) = report.experiences
    # Then the control is every factor at its first level, wherever it is listed
    assert experience.control == "default.default"
    assert [v.id for v in experience.variants if v.control] == ["default.default"]
    assert experience.slot == "hero, cta"
    by_id = {v.id: v for v in experience.variants}
    short = by_id["short.default"].goals["purchase"]
    assert (by_id["short.default"].visitors, short.conversions) == (2_000, 262)
    assert short.lift == pytest.approx(0.131 / 0.1 - 1)
    assert short.p_value is not None and short.p_value < 0.01
    # And the sample-ratio check covers the four combinations
    assert set(experience.srm.observed) == {"default.default", "short.default",
                                            "default.bold", "short.bold"}  # fmt: skip
    # And the effects are the fit's on the same counters
    assert experience.multivariate is not None
    effects = experience.multivariate.goals["purchase"]
    direct = fit_effects((HEADLINE, BUTTON), FULL_2X2, goal="purchase", options=FIXED)
    for mine, theirs in zip(
        [*effects.main_effects, *effects.interactions],
        [*direct.main_effects, *direct.interactions],
        strict=True,
    ):
        assert mine.terms == theirs.terms and mine.visitors == theirs.visitors
        assert mine.estimate == pytest.approx(theirs.estimate, abs=1e-12)
        assert mine.p_value == pytest.approx(theirs.p_value, abs=1e-12)


FRACTION_YAML = """\
site: shop
slots: {hero: "#hero", cta: "#cta", top: "#top"}
experiences:
  - id: home-mvt
    type: multivariate
    goals: [purchase]
    factors:
      headline: {slot: hero, levels: [{id: default}, {id: short, content: {text: "Short"}}]}
      button: {slot: cta, levels: [{id: default}, {id: bold, content: {class: {add: [b]}}}]}
      banner: {slot: top, levels: [{id: none}, {id: sale, content: {text: "Sale"}}]}
    design: {fractional: {resolution: III}}
"""


def test_the_compilers_fraction_is_reported_as_fitted_here() -> None:
    # Given the artifact the compiler makes of a 2^(3-1) experience
    from edge.compiler import compile_text

    compiled = compile_text(FRACTION_YAML, filename="r.yaml")
    assert compiled.problems == [] and compiled.ruleset is not None
    artifact = compiled.ruleset.to_dict()
    combos = {tuple(v["id"].split(".")) for v in artifact["experiences"][0]["variants"]}
    # (the same half fraction as HALF_2X2X2: the all-reference run is in it)
    assert combos == set(HALF_2X2X2)
    # When the counters of its combinations are reported
    report = build_report(artifact, _rows(HALF_2X2X2), now=NOW, intervals="fixed_horizon")
    (experience,) = report.experiences
    # Then control is the all-reference run and the effects are those checked above
    assert experience.control == "default.default.none"
    assert experience.multivariate is not None
    effects = experience.multivariate.goals["purchase"]
    direct = fit_effects((HEADLINE, BUTTON, BANNER), HALF_2X2X2, goal="buy", options=FIXED)
    assert [e.estimate for e in effects.main_effects] == pytest.approx(
        [e.estimate for e in direct.main_effects], abs=1e-12
    )
    assert effects.aliased == direct.aliased and len(effects.aliased) == 3


def test_json_carries_factors_main_effects_and_interactions() -> None:
    report = _report((HEADLINE, BUTTON, BANNER), HALF_2X2X2)
    out = report.to_json()["experiences"][0]
    assert out["type"] == "multivariate"
    mv = out["multivariate"]
    assert mv["combinations"] == 4 and mv["full_grid"] == 8
    assert [f["id"] for f in mv["factors"]] == ["headline", "button", "banner"]
    purchase = mv["goals"]["purchase"]
    main = purchase["main_effects"][0]
    assert main["terms"] == [{"factor": "headline", "level": "short"}]
    assert main["odds_ratio"] == pytest.approx(math.exp(main["log_odds_ratio"]))
    assert len(main["odds_ratio_ci"]) == 2 and 0 < main["p_value"] <= 1
    assert purchase["interactions"] == [] and len(purchase["aliased"]) == 3
    # And an A/B experience's object is unchanged
    ab = build_report(
        {"site": "s", "experiences": [{"id": "x", "slot": "s", "goals": ["buy"],
         "variants": [{"id": "control", "weight": 0.5}, {"id": "b", "weight": 0.5}]}]},
        [], now=NOW,
    )  # fmt: skip
    assert set(ab.to_json()["experiences"][0]) == {"id", "srm_p_value", "variants"}


def test_dots_in_variant_ids_survive_the_aggregator() -> None:
    # Given exposures to combination ids (level ids joined by ".") and a conversion
    sink = MemorySink()
    events = [
        Event("shop", "V#shop#v1", "e1", "exposure", DAY, "home-mvt", "short.bold"),
        Event("shop", "V#shop#v1", "e2", "exposure", DAY, "home-mvt", "short.bold"),
        Event("shop", "V#shop#v2", "e3", "exposure", DAY, "home-mvt", "default.default"),
        Event("shop", "V#shop#v1", "e4", "conversion", DAY, name="purchase", value=20.0),
    ]
    for event in events:
        aggregate(event, sink)
    # When the report reads the counters back
    rows = sink.variant_rows("shop")
    report = build_report(
        _artifact((HEADLINE, BUTTON), list(FULL_2X2)), rows, now=NOW, experience="home-mvt"
    )
    by_id = {v.id: v for v in report.experiences[0].variants}
    # Then each combination has its own visitors, exposures and conversions
    assert (by_id["short.bold"].visitors, by_id["short.bold"].exposures) == (1, 2)
    assert by_id["short.bold"].goals["purchase"].conversions == 1
    assert (by_id["default.default"].visitors, by_id["short.default"].visitors) == (1, 0)


def test_the_terminal_and_html_reports_show_the_effects_and_the_chart() -> None:
    from rich.console import Console

    from infra.report import render_html, render_table

    report = _report((HEADLINE, BUTTON), FULL_2X2, intervals="fixed_horizon")
    console = Console(record=True, width=140, file=io.StringIO())
    render_table(report, console)
    text = console.export_text()
    assert "multivariate: headline on hero, button on cta, 4 of 4 combinations" in text
    assert "purchase: main effects" in text and "purchase: two-way interactions" in text
    multivariate = report.experiences[0].multivariate
    assert multivariate is not None
    headline = multivariate.goals["purchase"].main_effects[0]
    assert headline.odds_ratio is not None and headline.odds_ratio_ci is not None
    low, high = headline.odds_ratio_ci
    assert (
        f"headline  short     4,000  12.93%          10.25%       {headline.odds_ratio:.3f}" in text
    )
    assert f"[{low:.3f}, {high:.3f}]" in text
    assert "headline=short × button=bold" in text
    page = render_html(report)
    assert "main effects (blue) and interactions (orange)" in page
    assert "headline=short × button=bold" in page and "<svg" in page
    fraction = render_html(_report((HEADLINE, BUTTON, BANNER), HALF_2X2X2))
    assert "aliased: headline × button is aliased with banner" in fraction


# --- the simulated experiment ------------------------------------------------------------------

R = 400  # replications: a few seconds
ALPHA = 0.05
PER_COMBINATION = 2_000
BASE, LIFTED = 0.10, 0.125  # headline=short raises the rate; button and the interaction: none


def _simulate(factors: Sequence[Factor], seed: int) -> list[FactorEffects]:
    rng = random.Random(seed)
    combos = list(itertools.product(*(f.levels for f in factors)))
    out = []
    for _ in range(R):
        data: Data = {}
        for combo in combos:
            rate = LIFTED if combo[0] == "short" else BASE
            data[combo] = (PER_COMBINATION, rng.binomialvariate(PER_COMBINATION, rate))
        out.append(fit_effects(factors, data, goal="buy", options=FIXED))
    return out


def _bounds(probability: float) -> tuple[float, float]:
    """R x p +- 3 binomial standard deviations: the count of rejections, not flaky."""
    sd = math.sqrt(R * probability * (1 - probability))
    return R * probability - 3 * sd, R * probability + 3 * sd


def _power(factors: Sequence[Factor]) -> float:
    """The Wald test's power for headline's main effect at the true rates (normal theory):
    the contrast averages 2^(k-1) cell log odds ratios, each cell with variance 1/(n p q)."""
    cells = 2 ** (len(factors) - 1)
    variance = sum(1 / (PER_COMBINATION * p * (1 - p)) for p in (BASE, LIFTED)) / cells
    delta = math.log(LIFTED / (1 - LIFTED)) - math.log(BASE / (1 - BASE))
    z = NormalDist().inv_cdf(1 - ALPHA / 2)
    shift = delta / math.sqrt(variance)
    return NormalDist().cdf(shift - z) + NormalDist().cdf(-shift - z)


@pytest.mark.parametrize(
    ("factors", "seed"), [((HEADLINE, BUTTON), 12), ((HEADLINE, BUTTON, BANNER), 13)]
)
def test_a_known_main_effect_is_found_and_no_false_interaction(
    factors: tuple[Factor, ...], seed: int
) -> None:
    # Given R experiments, visitors spread evenly over the combinations, only headline
    # acting (10% -> 12.5%), no interaction
    runs = _simulate(factors, seed)

    def rejections(pick: Any) -> int:
        return sum(1 for effects in runs if pick(effects).p_value < ALPHA)

    def main(name: str) -> Any:
        return lambda e: next(m for m in e.main_effects if m.terms[0][0] == name)

    found = rejections(main("headline"))
    null_mains = [rejections(main(f.id)) for f in factors[1:]]
    false_pairs = [
        rejections(lambda e, i=i: e.interactions[i]) for i in range(len(runs[0].interactions))
    ]
    power = _power(factors)
    print(
        f"\n{len(factors)} factors, {R} runs of {PER_COMBINATION:,} visitors per combination: "
        f"headline found {found / R:.1%} (power {power:.1%}); null main effects declared "
        f"{', '.join(f'{n / R:.1%}' for n in null_mains)}; interactions declared "
        f"{', '.join(f'{n / R:.1%}' for n in false_pairs)} (alpha {ALPHA:.0%})"
    )
    # Then the effect is found at the stated power (>= 80%), within binomial bounds
    assert power >= 0.8
    low, high = _bounds(power)
    assert low <= found <= high
    # And the null main effects and every interaction are declared at about alpha
    low, high = _bounds(ALPHA)
    for count in [*null_mains, *false_pairs]:
        assert low <= count <= high


def test_the_readme_example_is_what_the_report_prints() -> None:
    # Given the README's excerpt of `perso report --experience home-mvt` on FULL_2X2
    from rich.console import Console

    from infra.report import render_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("╭─ home-mvt  (multivariate")
    shown = readme[start : readme.index("╯", start) + 1]
    # When the same counters are reported (sequential intervals, the default)
    combos = [("default", "default"), ("default", "bold"), ("short", "default"), ("short", "bold")]
    report = build_report(
        _artifact((HEADLINE, BUTTON), combos), _rows(FULL_2X2), now=NOW, experience="home-mvt"
    )
    console = Console(width=140, no_color=True, file=io.StringIO(), record=True)
    render_table(report, console)
    printed = console.export_text()
    start = printed.index("╭─ home-mvt")
    # Then the README shows exactly what is printed
    assert shown == printed[start : printed.index("╯", start) + 1]
