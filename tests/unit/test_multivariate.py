"""Multivariate experiences (issue 12 §1): factors on their own slots, the design's
combinations as variants, all the slots or none, one exposure per view."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edge import artifact
from edge.compiler import compile_text
from edge.compiler._design import FRACTIONS, fractional, full
from edge.decide import decide, parse_forced
from edge.limits import MAX_COMBINATION_ID, MAX_COMBINATIONS
from edge.model import Experience, Factor, Level, Ruleset, Slot, Variant

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GRANTED = {"analytics": True, "personalization": True}

SOURCE = """\
site: shop
slots:
  hero: "#hero"
  cta: "#cta"
  banner: "#banner"
experiences:
  - id: home-mvt
    type: multivariate
    goals: [purchase]
    factors:
      headline: {slot: hero, levels: [{id: default}, {id: short, content: {text: "Short"}}]}
      button: {slot: cta, levels: [{id: default}, {id: bold, content: {class: {add: [btn-bold]}}}]}
    design: full
"""
LEVELS = {
    "hero": {"default": None, "short": {"text": "Short"}},
    "cta": {"default": None, "bold": {"class": {"add": ["btn-bold"], "remove": []}}},
}


def _compile(text: str) -> Ruleset:
    result = compile_text(text, filename="r.yaml")
    assert result.problems == [], [str(p) for p in result.problems]
    assert result.ruleset is not None
    return result.ruleset


def _problems(text: str) -> list[str]:
    return [str(p) for p in compile_text(text, filename="r.yaml").problems]


def _ctx(visitor: str = "visitor-1", **extra: Any) -> dict[str, Any]:
    return {"id": visitor, "consent": dict(GRANTED), **extra}


def _with(*experiences: str, slots: str = "hero cta banner", policy: str = "") -> str:
    """A ruleset with home-mvt and more experiences (YAML list items), slots in this order."""
    head = "site: shop\n" + policy + "slots:\n" + "".join(f'  {s}: "#{s}"\n' for s in slots.split())
    mvt = SOURCE[SOURCE.index("experiences:") :]
    return head + mvt + "".join(experiences)


def _ab(exp_id: str, slot: str, *, priority: int = 0, audience: str = "{}") -> str:
    return (
        f"  - id: {exp_id}\n    slot: {slot}\n    priority: {priority}\n"
        f"    audience: {audience}\n    consent: none\n"
        f'    variants: [{{id: "on", content: {{text: "{exp_id}"}}}}]\n'
    )


# --- the compiler -----------------------------------------------------------------------


def test_the_artifact_carries_the_factors_and_the_combinations() -> None:
    ruleset = _compile(SOURCE)
    data = ruleset.to_dict()["experiences"][0]
    assert data["type"] == "multivariate" and data["slot"] == "hero"
    assert data["factors"] == [
        {
            "id": "headline",
            "slot": "hero",
            "levels": [
                {"id": "default", "content": None},
                {"id": "short", "content": {"text": "Short"}},
            ],
        },
        {
            "id": "button",
            "slot": "cta",
            "levels": [
                {"id": "default", "content": None},
                {"id": "bold", "content": {"class": {"add": ["btn-bold"], "remove": []}}},
            ],
        },
    ]
    assert [(v["id"], v["weight"]) for v in data["variants"]] == [
        ("default.default", 0.25),
        ("default.bold", 0.25),
        ("short.default", 0.25),
        ("short.bold", 0.25),
    ]


def test_an_ab_experience_writes_no_type_and_old_artifacts_load() -> None:
    ab = Experience("x", "hero", (Variant("a", 1.0),))
    assert "type" not in ab.to_dict() and "factors" not in ab.to_dict()
    old = {"site": "s", "schema": 1, "experiences": [ab.to_dict()]}
    loaded = Ruleset.from_dict(old).experiences[0]
    assert loaded.type == "ab" and loaded.factors == ()


def test_the_artifact_round_trips() -> None:
    ruleset = _compile(SOURCE)
    packed = artifact.encode(ruleset)
    assert artifact.load(packed.data, sha256=packed.sha256) == ruleset
    assert artifact.encode(artifact.load(packed.data)).sha256 == packed.sha256


_MVT = "  - id: m\n    type: multivariate\n"


@pytest.mark.parametrize(
    ("experience", "line", "sentence"),
    [
        (
            _MVT + "    factors: {a: {slot: nope, levels: [{id: x}, {id: y}]},"
            " b: {slot: cta, levels: [{id: x}, {id: y}]}}\n",
            8,
            "experience 'm' factor 'a' uses unknown slot 'nope' (slots: hero, cta).",
        ),
        (
            _MVT + "    factors: {a: {slot: hero, levels: [{id: x}, {id: y}]},"
            " b: {slot: hero, levels: [{id: x}, {id: y}]}}\n",
            9,
            "experience 'm' factors 'a' and 'b' share slot 'hero'; each factor needs its own slot.",
        ),
        (
            _MVT + "    factors: {a: {slot: hero, levels: [{id: x}, {id: y}]}}\n",
            9,
            "experience 'm' is multivariate: it needs factors, a mapping of at least two "
            "factors (name: {slot, levels}), not a mapping.",
        ),
        (
            _MVT + "    factors: {a: {slot: hero, levels: [{id: x}]},"
            " b: {slot: cta, levels: [{id: x}, {id: y}]}}\n",
            9,
            "experience 'm' factor 'a' needs levels, a list of at least two (the first is "
            "the reference), not a list.",
        ),
        (
            _MVT + "    factors: {a: {slot: hero, levels: [{id: x}, {id: x}]},"
            " b: {slot: cta, levels: [{id: x}, {id: y}]}}\n",
            9,
            "experience 'm' factor 'a' has two levels with id 'x'.",
        ),
        (
            _MVT + "    factors: {a: {slot: hero, levels: [{id: x}, {id: y.z}]},"
            " b: {slot: cta, levels: [{id: x}, {id: y}]}}\n",
            9,
            "experience 'm' factor 'a' levels[1] id 'y.z' must use only letters, digits, _ "
            "and - (combination ids join level ids with '.').",
        ),
        (
            _MVT + "    slot: hero\n    factors: {a: {slot: hero, levels: [{id: x}, {id: y}]},"
            " b: {slot: cta, levels: [{id: x}, {id: y}]}}\n",
            9,
            "experience 'm' cannot have slot: its slots are its factors' and its variants "
            "their combinations.",
        ),
        (
            "  - id: m\n    slot: hero\n    variants: [{id: a}]\n    design: full\n",
            10,
            "experience 'm' cannot have design: factors and design need type: multivariate.",
        ),
        (
            _MVT + "    factors: {a: {slot: hero, levels: [{id: x}, {id: y}, {id: z}]},"
            " b: {slot: cta, levels: [{id: x}, {id: y}, {id: z}]},"
            " c: {slot: banner, levels: [{id: x}, {id: y}, {id: z}]}}\n"
            "    design: {fractional: {resolution: III}}\n",
            10,
            "experience 'm' design: fractional designs need every factor at two levels "
            "(use design: full).",
        ),
        (
            _MVT + "    factors: {a: {slot: hero, levels: [{id: x}, {id: y}]},"
            " b: {slot: cta, levels: [{id: x}, {id: y}]},"
            " c: {slot: banner, levels: [{id: x}, {id: y}]}}\n"
            "    design: {fractional: {resolution: IV}}\n",
            10,
            "experience 'm' design: there is no fraction of resolution IV for 3 factors "
            "(use design: full).",
        ),
        (
            _MVT + "    factors: {a: {slot: hero, levels: [{id: x}, {id: y}]},"
            " b: {slot: cta, levels: [{id: x}, {id: y}]}}\n    design: half\n",
            10,
            "experience 'm' design must be full, or {fractional: {resolution: III}} (III, "
            "IV or V), not the text 'half'.",
        ),
        (
            _MVT + "    factors: {a: {slot: hero, levels: [{id: x}, {id: y, content: "
            "{redirect: /b}}]}, b: {slot: cta, levels: [{id: x}, {id: y}]}}\n",
            9,
            "experience 'm' factor 'a' levels[1] 'y' cannot redirect: the page would leave "
            "before the other factors' slots are shown.",
        ),
        (
            "  - id: m\n    type: mvt\n    slot: hero\n    variants: [{id: a}]\n",
            8,
            "experience 'm' type 'mvt' is not one of: ab, multivariate.",
        ),
    ],
)
def test_a_bad_multivariate_experience_is_one_sentence_with_its_line(
    experience: str, line: int, sentence: str
) -> None:
    text = 'site: shop\nslots:\n  hero: "#hero"\n  cta: "#cta"\n  banner: "#banner"\nexperiences:\n'
    if "nope" in experience:
        text = 'site: shop\nslots:\n  hero: "#hero"\n  cta: "#cta"\nexperiences:\n'
    assert _problems(text + experience) == [f"r.yaml:{line}: {sentence}"]


def test_a_design_past_the_limit_names_the_experience_the_count_and_the_limit() -> None:
    slots = "".join(f'  s{i}: "#s{i}"\n' for i in range(4))
    factors = ", ".join(
        f"f{i}: {{slot: s{i}, levels: [{{id: a}}, {{id: b}}, {{id: c}}]}}" for i in range(4)
    )
    text = f"site: shop\nslots:\n{slots}experiences:\n{_MVT}    factors: {{{factors}}}\n"
    assert _problems(text) == [
        f"r.yaml:10: experience 'm' design full needs 81 combinations; the limit is "
        f"{MAX_COMBINATIONS} (use a fraction, or fewer factors or levels)."
    ]


def test_combination_ids_longer_than_an_event_takes_are_refused() -> None:
    # Each exposure carries the combination id as its variant, and the event API takes
    # at most 64 bytes there: a longer id would be a ruleset whose results never count.
    long = "x" * 40
    text = (
        'site: shop\nslots:\n  hero: "#hero"\n  cta: "#cta"\nexperiences:\n'
        f"{_MVT}    factors: {{a: {{slot: hero, levels: [{{id: a}}, {{id: {long}}}]}},"
        f" b: {{slot: cta, levels: [{{id: b}}, {{id: {long}}}]}}}}\n"
    )
    assert _problems(text) == [
        f"r.yaml:8: experience 'm' combination ids (level ids joined with '.') reach 81 "
        f"characters; the limit is {MAX_COMBINATION_ID} (use shorter level ids)."
    ]


def test_full_designs_count_every_combination() -> None:
    assert len(full((2, 3, 2))) == 12
    assert len(set(full((3, 3, 3)))) == 27
    assert full((2, 2))[0] == (0, 0)  # the control first


@pytest.mark.parametrize(("factors", "resolution", "words"), FRACTIONS)
def test_each_fraction_has_its_size_and_resolution(
    factors: int, resolution: int, words: tuple[str, ...]
) -> None:
    runs = fractional(factors, resolution=resolution)
    assert len(runs) == 2 ** (factors - len(words)) <= MAX_COMBINATIONS
    assert len(set(runs)) == len(runs)
    assert (0,) * factors in runs  # the control is in the fraction
    x = [[1 if level else -1 for level in run] for run in runs]
    # Resolution R: an orthogonal array of strength R - 1 (every product of fewer than
    # R columns is balanced, so no effect of order m is aliased with one of order below
    # R - m) ...
    for size in range(1, resolution):
        for columns in itertools.combinations(range(factors), size):
            assert sum(math.prod(row[c] for c in columns) for row in x) == 0, columns
    # ... and not of strength R: some word of length R is in the defining relation.
    aliased = [
        columns
        for columns in itertools.combinations(range(factors), resolution)
        if abs(sum(math.prod(row[c] for c in columns) for row in x)) == len(runs)
    ]
    assert aliased


def test_a_fractional_design_compiles_to_its_runs() -> None:
    slots = "".join(f'  s{i}: "#s{i}"\n' for i in range(4))
    factors = ", ".join(f"f{i}: {{slot: s{i}, levels: [{{id: lo}}, {{id: hi}}]}}" for i in range(4))
    text = (
        f"site: shop\nslots:\n{slots}experiences:\n{_MVT}    factors: {{{factors}}}\n"
        "    design: {fractional: {resolution: IV}}\n"
    )
    variants = _compile(text).experiences[0].variants
    assert len(variants) == 8 and variants[0].id == "lo.lo.lo.lo"
    assert all(v.weight == 1 / 8 for v in variants)
    # D = ABC: the fourth factor is "hi" exactly when an odd number of the others are.
    for v in variants:
        levels = [part == "hi" for part in v.id.split(".")]
        assert levels[3] == (sum(levels[:3]) % 2 == 1)


# --- deciding ----------------------------------------------------------------------------


def test_a_visitor_sees_one_combination_across_its_slots_and_one_exposure() -> None:
    ruleset = _compile(SOURCE)
    for i in range(300):
        result = decide(ruleset, _ctx(f"v{i}"), {}, NOW)
        hero, cta, banner = result.decisions
        assert hero.experience == cta.experience == "home-mvt" and banner.experience is None
        assert hero.variant == cta.variant and hero.reason == cta.reason == "matched"
        headline, button = hero.variant.split(".")
        assert hero.content == LEVELS["hero"][headline] and cta.content == LEVELS["cta"][button]
        assert result.exposures == [
            {"experience": "home-mvt", "variant": hero.variant, "slot": "hero"}
        ]
        assert result.assignments == {"home-mvt": hero.variant}


def test_combinations_are_spread_evenly_over_10000_visitors() -> None:
    ruleset = _compile(SOURCE)
    counts = Counter(
        decide(ruleset, _ctx(f"visitor-{i}"), {}, NOW).decisions[0].variant for i in range(10_000)
    )
    assert set(counts) == {"default.default", "default.bold", "short.default", "short.bold"}
    chi2 = sum((n - 2500) ** 2 / 2500 for n in counts.values())
    assert chi2 < 16.27  # chi-square, 3 degrees of freedom, p = 0.001 (fixed ids: not flaky)


def test_the_combination_is_sticky_and_a_stale_one_is_replaced() -> None:
    ruleset = _compile(SOURCE)
    hashed = decide(ruleset, _ctx(), {}, NOW).decisions[0].variant
    kept = next(v for v in ("short.bold", "default.default") if v != hashed)
    result = decide(ruleset, _ctx(), {"assignments": {"home-mvt": kept}}, NOW)
    assert [d.variant for d in result.decisions[:2]] == [kept, kept]
    stale = decide(ruleset, _ctx(), {"assignments": {"home-mvt": "gone.bold"}}, NOW)
    assert stale.decisions[0].variant == hashed


def test_a_higher_priority_experience_on_one_slot_takes_the_others_from_it() -> None:
    # Given an A/B experience above the multivariate one on cta, and one below it on hero
    ruleset = _compile(
        _with(_ab("cta-test", "cta", priority=5), _ab("hero-low", "hero", priority=-1))
    )
    # When a visitor matches both
    result = decide(ruleset, _ctx(), {}, NOW, explain=True)
    hero, cta, _banner = result.decisions
    # Then the multivariate one takes none of its slots: hero falls to the next candidate
    assert (cta.experience, hero.experience) == ("cta-test", "hero-low")
    assert [e["experience"] for e in result.exposures] == ["hero-low", "cta-test"]
    assert "home-mvt" not in result.assignments
    assert any("takes all its slots or none" in line for line in hero.trace)


@pytest.mark.parametrize("slots", ["hero cta banner", "cta hero banner"])
def test_a_blocked_multivariate_experience_leaves_its_slots_default(slots: str) -> None:
    ruleset = _compile(_with(_ab("cta-test", "cta", priority=5), slots=slots))
    result = decide(ruleset, _ctx(), {}, NOW)
    by_slot = {d.slot: d for d in result.decisions}
    assert by_slot["cta"].experience == "cta-test"
    assert by_slot["hero"].experience is None and by_slot["hero"].reason == "slot_taken"
    assert result.exposures == [{"experience": "cta-test", "variant": "on", "slot": "cta"}]


def test_a_higher_priority_experience_that_does_not_match_blocks_nothing() -> None:
    ruleset = _compile(
        _with(
            _ab("cta-test", "cta", priority=5, audience="{language: xx}"),
            _ab("cta-low", "cta", priority=-1),
        )
    )
    result = decide(ruleset, _ctx(), {}, NOW)
    assert [d.experience for d in result.decisions] == ["home-mvt", "home-mvt", None]


def test_of_two_multivariate_experiences_sharing_a_slot_the_higher_takes_all() -> None:
    other = (
        "  - id: other-mvt\n    type: multivariate\n    priority: 3\n"
        "    factors: {a: {slot: cta, levels: [{id: x}, {id: y, content: {text: Y}}]},"
        " b: {slot: banner, levels: [{id: x}, {id: y, content: {text: Y}}]}}\n"
    )
    ruleset = _compile(_with(other))
    result = decide(ruleset, _ctx(), {}, NOW)
    assert [d.experience for d in result.decisions] == [None, "other-mvt", "other-mvt"]
    assert [e["experience"] for e in result.exposures] == ["other-mvt"]


def test_the_page_policy_counts_it_once() -> None:
    policy = "policy: {max_experiences_per_page: 1}\n"
    # Its two slots fill though the policy allows one experience; the next slot is held.
    ruleset = _compile(_with(_ab("promo", "banner"), policy=policy))
    result = decide(ruleset, _ctx(), {}, NOW)
    assert [d.experience for d in result.decisions] == ["home-mvt", "home-mvt", None]
    assert result.decisions[2].reason == "policy" and len(result.exposures) == 1
    # An experience on an earlier slot used the page's one: none of its slots fill.
    ruleset = _compile(_with(_ab("promo", "banner"), slots="banner hero cta", policy=policy))
    result = decide(ruleset, _ctx(), {}, NOW)
    assert [(d.experience, d.reason) for d in result.decisions] == [
        ("promo", "matched"),
        (None, "policy"),
        (None, "policy"),
    ]


def test_coverage_consent_and_holdout_apply_to_all_its_slots() -> None:
    ruleset = _compile(
        SOURCE.replace("    design: full\n", "    design: full\n    coverage: 0.5\n")
    )
    seen = Counter()
    for i in range(400):
        hero, cta, _ = decide(ruleset, _ctx(f"v{i}"), {}, NOW).decisions
        assert (hero.experience, hero.variant) == (cta.experience, cta.variant)
        seen[hero.experience] += 1
    assert 150 < seen["home-mvt"] < 250 and seen[None] == 400 - seen["home-mvt"]
    # Without consent (and so without a visitor id) nothing is shown.
    result = decide(_compile(SOURCE), {"consent": {}}, {}, NOW)
    assert [d.experience for d in result.decisions] == [None, None, None]
    # The global holdout keeps every slot at its default.
    held = _compile("holdout: 1\n" + SOURCE)
    result = decide(held, _ctx(), {}, NOW)
    assert [d.reason for d in result.decisions[:2]] == ["holdout", "holdout"]
    assert [e["experience"] for e in result.exposures] == ["__holdout__"]


def test_forcing_a_combination_fills_every_factor_slot_without_exposure() -> None:
    ruleset = _compile(_with(_ab("cta-test", "cta", priority=5)))
    result = decide(ruleset, _ctx(), {}, NOW, forced=parse_forced("home-mvt:short.bold"))
    hero, cta, _ = result.decisions
    assert (hero.variant, hero.content, hero.reason) == ("short.bold", {"text": "Short"}, "forced")
    assert (cta.variant, cta.content, cta.reason) == ("short.bold", LEVELS["cta"]["bold"], "forced")
    assert result.exposures == [] and "home-mvt" not in result.assignments
    ignored = decide(ruleset, _ctx(), {}, NOW, forced=parse_forced("home-mvt:short.nope"))
    assert ignored.decisions[1].experience == "cta-test"
    # Forcing another experience into one of its slots: the combination is not counted.
    ruleset = _compile(_with(_ab("cta-test", "cta", priority=-5)))
    result = decide(ruleset, _ctx(), {}, NOW, forced=parse_forced("cta-test:on"))
    assert [d.experience for d in result.decisions] == ["home-mvt", "cta-test", None]
    assert result.exposures == [] and result.assignments == {}


def test_explain_names_the_combination_and_each_slots_factor_level() -> None:
    ruleset = _compile(SOURCE)
    profile = {"assignments": {"home-mvt": "short.bold"}}
    hero, cta, _ = decide(ruleset, _ctx(), profile, NOW, explain=True).decisions
    assert hero.trace == (
        "home-mvt: matched, combination short.bold (sticky): factor headline at level short",
    )
    assert cta.trace == (
        "home-mvt: matched, combination short.bold (sticky): factor button at level bold",
    )


def test_a_malformed_multivariate_artifact_takes_no_slot() -> None:
    factors = (
        Factor("a", "hero", (Level("x"), Level("y", {"text": "Y"}))),
        Factor("b", "missing", (Level("x"), Level("y"))),
    )
    variants = tuple(Variant(f"{a}.{b}", 0.25) for a in "xy" for b in "xy")
    broken = Experience("m", "hero", variants, type="multivariate", factors=factors)
    ruleset = Ruleset(site="s", slots={"hero": Slot("hero", "#h")}, experiences=(broken,))
    result = decide(ruleset, _ctx(), {}, NOW)
    assert result.decisions[0].reason == "no_match" and result.exposures == []


def test_perso_simulate_explains_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner  # CPython only: the CLI is not in the edge wheel

    from infra.cli import app

    rules = tmp_path / "rules.yaml"
    rules.write_text(SOURCE, encoding="utf-8")
    signals = Path(__file__).resolve().parents[2] / "examples" / "signals-mobile-pt.json"
    result = CliRunner().invoke(
        app, ["simulate", str(rules), "--signals", str(signals), "--explain"]
    )
    assert result.exit_code == 0, result.output
    combination = next(
        line.split()[2] for line in result.output.splitlines() if line.startswith("hero ")
    )
    headline, button = combination.split(".")
    assert f"combination {combination}: factor headline at level {headline}" in result.output
    assert f"combination {combination}: factor button at level {button}" in result.output
    assert f"exposures: home-mvt/{combination}\n" in result.output + "\n"
