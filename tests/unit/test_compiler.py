"""The compiler: each rejection names its line, problems come together, `$segment` inlines."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.compiler import CompileResult, Problem, compile_file, compile_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "demo-shop.yaml"

BASE = """\
site: demo
slots:
  hero: {selector: "#hero h1"}
  banner: {selector: "[data-perso-slot=banner]", hide_until_decided: true}
segments:
  pt: {language: pt}
experiences:
  - id: hello
    slot: hero
    variants:
      - {id: a, content: {text: "Olá"}}
"""


def compile_yaml(text: str) -> CompileResult:
    return compile_text(textwrap.dedent(text), filename="rules.yaml")


def messages(text: str) -> list[str]:
    return [str(p) for p in compile_yaml(text).problems]


def one_problem(text: str) -> Problem:
    result = compile_yaml(text)
    assert result.ruleset is None
    assert len(result.problems) == 1, [str(p) for p in result.problems]
    return result.problems[0]


def test_the_base_ruleset_compiles() -> None:
    result = compile_yaml(BASE)
    assert result.problems == []
    assert result.ok
    assert result.ruleset is not None
    assert result.ruleset.slots["banner"].hide_until_decided is True
    assert result.ruleset.experiences[0].variants[0].weight == 1.0


def test_problem_reads_file_line_sentence() -> None:
    assert str(Problem("r.yaml", 7, "x is wrong.")) == "r.yaml:7: x is wrong."


# --- each rejection, at its line ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("site: demo\nslotz: {}\n", 2, "unknown key 'slotz' in the ruleset; did you mean 'slots'?"),
        (BASE + "    colour: red\n", 12, "unknown key 'colour' in experience 'hello'"),
        (BASE.replace("{id: a, content", "{id: a, wieght: 1, content"), 11, "'wieght'"),
        (BASE.replace("slot: hero", "slot: sidebar"), 9, "unknown slot 'sidebar'"),
        (BASE.replace("site: demo", "site: Demo_Shop"), 1, "site 'Demo_Shop' must use only"),
        (BASE + "timezone: Mars/Olympus\n", 12, "unknown time zone 'Mars/Olympus'"),
        (BASE + "holdout: 1.5\n", 12, "holdout must be a number from 0 to 1"),
        (BASE + "    priority: high\n", 12, "priority must be a whole number"),
        (BASE + "    priority: true\n", 12, "priority must be a whole number"),
        (BASE + "    coverage: -0.1\n", 12, "coverage must be a number from 0 to 1"),
        (BASE + "    consent: marketing\n", 12, "consent 'marketing' is not one of"),
        (BASE + "    allocation: greedy\n", 12, "allocation 'greedy' is not one of"),
        (BASE + "    frequency: {max: 2, per: fortnight}\n", 12, "per 'fortnight' is not one of"),
        (BASE + "    frequency: {max: 0}\n", 12, "frequency max must be a whole number"),
        (BASE + "    audience: {$segment: nope}\n", 12, "unknown segment 'nope'"),
        (BASE + "    audience: {page.path: {$regex: '(['}}\n", 12, "invalid regex '(['"),
        (BASE + "    audience: {page.path: {$regexi: '*x'}}\n", 12, "invalid regex '*x'"),
        (BASE + "    audience: {page.path: {$between: [1, 2]}}\n", 12, "unknown operator"),
        (BASE + "    audience: {$xor: []}\n", 12, "unknown condition operator '$xor'"),
        (BASE + "    audience: {custom.tags: {$in: mobile}}\n", 12, "$in in experience 'hello'"),
        (
            BASE.replace('content: {text: "Olá"}', "content: {banner: x}"),
            11,
            "content kind 'banner'",
        ),
        (BASE.replace('content: {text: "Olá"}', "content: {text: 3}"), 11, "must be text"),
        (BASE.replace('content: {text: "Olá"}', "content: {hide: false}"), 11, "must be true"),
        (BASE.replace('content: {text: "Olá"}', "content: {class: {add: 3}}"), 11, "class name"),
        (
            BASE.replace('content: {text: "Olá"}', "content: {attrs: {onclick: 'x()'}}"),
            11,
            "cannot set the attribute 'onclick': it is an event handler",
        ),
        (
            BASE.replace('content: {text: "Olá"}', "content: {html: '<script>x</script>'}"),
            11,
            "<script>",
        ),
        (
            BASE.replace('content: {text: "Olá"}', "content: {redirect: 'javascript:alert(1)'}"),
            11,
            "must be a page URL",
        ),
        (
            BASE.replace('content: {text: "Olá"}', "content: {text: a, html: b}"),
            11,
            "both text and html",
        ),
        (
            BASE.replace('content: {text: "Olá"}', "content: {recommend: {count: 0}}"),
            11,
            "count in",
        ),
        (BASE + "learned: {weights: {}}\n", 12, "learned is written by the publisher"),
        (BASE + "policy: {max_experiences_per_page: 0}\n", 12, "max_experiences_per_page"),
        (BASE + "policy: {max_pages: 2}\n", 12, "unknown key 'max_pages' in policy"),
        (
            "site: demo\nslots: {hero: h1}\nexperiences:\n  - {id: x, slot: hero, variants: []}\n",
            4,
            "needs a non-empty list of variants",
        ),
        ("site: demo\nsite: other\n", 2, "key 'site' appears twice (first on line 1)"),
        ("site: demo\nslots: [\n", 3, "the YAML cannot be read"),
    ],
)
def test_each_rejection_names_its_line(text: str, line: int, needle: str) -> None:
    problem = one_problem(text)
    assert problem.file == "rules.yaml"
    assert problem.line == line, str(problem)
    assert needle in problem.message, str(problem)


def test_unknown_key_without_a_close_match_lists_the_allowed_ones() -> None:
    problem = one_problem("site: demo\nzzz: 1\n")
    assert problem.message == (
        "unknown key 'zzz' in the ruleset; allowed: site, timezone, holdout, policy, journey, "
        "segments, slots, experiences, catalog, guardrails, objective."
    )


def test_site_is_required() -> None:
    problem = one_problem("slots: {}\n")
    assert "site is missing" in problem.message


def test_duplicate_experience_ids() -> None:
    text = BASE + "  - id: hello\n    slot: banner\n    variants: [{id: b}]\n"
    problem = one_problem(text)
    assert problem.line == 12
    assert problem.message == "experience id 'hello' is used twice (line 8)."


def test_duplicate_variant_ids() -> None:
    text = BASE.replace(
        '      - {id: a, content: {text: "Olá"}}', "      - {id: a}\n      - {id: a}"
    )
    problem = one_problem(text)
    assert problem.line == 12
    assert "two variants with id 'a'" in problem.message


def test_duplicate_journey_stages() -> None:
    text = BASE + "journey:\n  - {stage: new, when: {}}\n  - {stage: new, when: {}}\n"
    problem = one_problem(text)
    assert problem.line == 14
    assert "journey stage 'new' is listed twice (line 13)" in problem.message


def test_duplicate_catalog_ids() -> None:
    problem = one_problem(BASE + "catalog:\n  - {id: a}\n  - {id: a}\n")
    assert problem.line == 14
    assert "'a' is listed twice" in problem.message


# --- weights -----------------------------------------------------------------------


def _variants(*lines: str) -> str:
    body = "\n".join(f"      - {v}" for v in lines)
    head = "site: demo\nslots: {hero: h1}\nexperiences:\n  - id: x\n    slot: hero\n"
    return f"{head}    variants:\n{body}\n"


def test_weights_default_to_an_equal_share_of_what_is_left() -> None:
    result = compile_yaml(_variants("{id: a, weight: 0.4}", "{id: b}", "{id: c}"))
    assert result.ruleset is not None
    weights = [v.weight for v in result.ruleset.experiences[0].variants]
    assert weights == pytest.approx([0.4, 0.3, 0.3])


def test_weights_without_any_given_are_equal() -> None:
    result = compile_yaml(_variants("{id: a}", "{id: b}", "{id: c}"))
    assert result.ruleset is not None
    assert [v.weight for v in result.ruleset.experiences[0].variants] == pytest.approx([1 / 3] * 3)


@pytest.mark.parametrize(
    ("variants", "needle"),
    [
        (("{id: a, weight: 0.5}", "{id: b, weight: 0.4}"), "sum to 0.9, not 1"),
        (("{id: a, weight: 0.7}", "{id: b, weight: 0.7}"), "sum to 1.4, not 1"),
        (("{id: a, weight: 0.7}", "{id: b, weight: 0.6}", "{id: c}"), "more than 1"),
        (("{id: a, weight: 1}", "{id: b}"), "leaving nothing for the 1 without a weight"),
    ],
)
def test_weights_must_sum_to_one(variants: tuple[str, ...], needle: str) -> None:
    problem = one_problem(_variants(*variants))
    assert problem.line == 6  # the `variants:` key
    assert needle in problem.message


# --- several problems at once ------------------------------------------------------


def test_all_problems_are_reported_together_in_line_order() -> None:
    text = """\
    site: Bad Site
    timezone: Nowhere/Land
    slots:
      hero: {selector: h1, colour: red}
    experiences:
      - id: a
        slot: missing
        priority: 1.5
        variants:
          - {id: v, weight: 0.3}
    """
    found = messages(text)
    assert [m.split(":")[1] for m in found] == ["1", "2", "4", "7", "8", "9"], found
    assert all(m.startswith("rules.yaml:") for m in found)
    assert "sum to 0.3, not 1" in found[-1]


def test_good_parts_do_not_hide_bad_ones_in_other_experiences() -> None:
    text = BASE + "  - id: second\n    slot: nope\n    variants: [{id: z}]\n"
    found = messages(text)
    assert found == [
        "rules.yaml:13: experience 'second' uses unknown slot 'nope' (slots: hero, banner)."
    ]


# --- $segment ----------------------------------------------------------------------

SEGMENTS = """\
site: demo
slots: {hero: h1}
segments:
  pt: {language: pt}
  evening: {local.hour: {$gte: 18}}
  pt_evening: {$and: [{$segment: pt}, {$segment: evening}]}
journey:
  - {stage: pt-evening, when: {$segment: pt_evening}}
experiences:
  - id: x
    slot: hero
    audience: {$or: [{$segment: pt_evening}, {$not: {$segment: pt}}], device.type: mobile}
    variants: [{id: a}]
"""


def test_segments_are_inlined_recursively_everywhere() -> None:
    result = compile_yaml(SEGMENTS)
    assert result.problems == []
    rs = result.ruleset
    assert rs is not None
    pt_evening = {"$and": [{"language": "pt"}, {"local.hour": {"$gte": 18}}]}
    assert rs.segments["pt_evening"] == pt_evening
    assert rs.journey[0].when == pt_evening
    assert rs.experiences[0].audience == {
        "$or": [pt_evening, {"$not": {"language": "pt"}}],
        "device.type": "mobile",
    }
    assert "$segment" not in json.dumps(rs.to_dict())


def test_segment_beside_other_keys_means_both() -> None:
    result = compile_yaml(BASE + "    audience: {$segment: pt, device.type: mobile}\n")
    assert result.ruleset is not None
    assert result.ruleset.experiences[0].audience == {
        "$and": [{"language": "pt"}, {"device.type": "mobile"}]
    }


def test_segment_cycle_is_named() -> None:
    text = """\
    site: demo
    segments:
      a: {$segment: b}
      b: {$or: [{$segment: c}]}
      c: {$segment: a}
    """
    problem = one_problem(text)
    assert problem.message == "segment cycle: a -> b -> c -> a."
    assert problem.line == 5


def test_segment_referring_to_itself() -> None:
    problem = one_problem("site: demo\nsegments:\n  me: {custom.x: 1, $segment: me}\n")
    assert problem.message == "segment cycle: me -> me."


def test_segment_in_a_value_position_is_rejected() -> None:
    problem = one_problem(BASE + "    audience: {language: {$segment: pt}}\n")
    assert "must stand where a condition is" in problem.message


def test_elem_match_conditions_are_checked_and_inlined() -> None:
    text = BASE + "    audience: {custom.items: {$elemMatch: {$segment: pt}}}\n"
    result = compile_yaml(text)
    assert result.ruleset is not None
    audience = result.ruleset.experiences[0].audience
    assert audience == {"custom.items": {"$elemMatch": {"language": "pt"}}}


# --- content, catalog, files -------------------------------------------------------


def test_content_is_normalized() -> None:
    text = BASE.replace(
        'content: {text: "Olá"}',
        "content: {class: {add: promo}, attrs: {data-n: 3, title: null, open: true}}",
    )
    result = compile_yaml(text)
    assert result.ruleset is not None
    assert result.ruleset.experiences[0].variants[0].content == {
        "class": {"add": ["promo"], "remove": []},
        "attrs": {"data-n": "3", "title": None, "open": "true"},
    }


def test_recommend_needs_a_catalog_and_gets_defaults() -> None:
    text = BASE.replace('content: {text: "Olá"}', "content: {recommend: {title: Top}}")
    problem = one_problem(text)
    assert "recommend content needs a catalog" in problem.message
    result = compile_yaml(text + "catalog:\n  - {id: 7, title: Cap, price: 9.5}\n")
    assert result.ruleset is not None
    assert result.ruleset.catalog == {"7": {"id": "7", "title": "Cap", "price": 9.5}}
    assert result.ruleset.experiences[0].variants[0].content == {
        "recommend": {"list": "popular", "count": 4, "exclude_viewed": True, "title": "Top"}
    }


def test_slot_shorthand_is_a_selector() -> None:
    result = compile_yaml("site: demo\nslots: {hero: '#hero h1'}\n")
    assert result.ruleset is not None
    assert result.ruleset.slots["hero"].selector == "#hero h1"


def test_compile_file_reports_a_missing_file(tmp_path: Path) -> None:
    result = compile_file(tmp_path / "absent.yaml")
    assert result.ruleset is None
    assert str(result.problems[0]) == f"{tmp_path / 'absent.yaml'}:0: the file does not exist."


def test_the_example_compiles_and_uses_every_content_kind() -> None:
    from edge.model import CONTENT_KINDS

    result = compile_file(EXAMPLE)
    assert result.problems == []
    rs = result.ruleset
    assert rs is not None
    kinds = {k for e in rs.experiences for v in e.variants for k in (v.content or {})}
    assert kinds == set(CONTENT_KINDS)
    assert {e.allocation for e in rs.experiences} == {"fixed", "bandit"}
    assert {e.consent for e in rs.experiences} == {"none", "personalization"}
    assert rs.holdout == 0.05 and rs.journey and rs.catalog


# --- robustness: never an exception, whatever the YAML holds ------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "x", "$segment", "pt", "hero", "(["]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["id", "slot", "$segment", "$and", "text", "a"]), inner, max_size=3
        ),
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    path=st.sampled_from(
        [
            ("timezone",),
            ("holdout",),
            ("policy",),
            ("journey",),
            ("segments",),
            ("segments", "pt"),
            ("slots",),
            ("slots", "hero"),
            ("experiences",),
            ("experiences", 0),
            ("experiences", 0, "audience"),
            ("experiences", 0, "schedule"),
            ("experiences", 0, "frequency"),
            ("experiences", 0, "variants"),
            ("experiences", 0, "variants", 0),
            ("experiences", 0, "variants", 0, "content"),
            ("catalog",),
        ]
    ),
    value=_VALUES,
)
def test_any_value_anywhere_gives_problems_not_exceptions(
    path: tuple[str | int, ...], value: object
) -> None:
    import yaml

    data = yaml.safe_load(BASE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    result = compile_text(yaml.safe_dump(data), filename="fuzz.yaml")
    assert (result.ruleset is None) == bool(result.problems)
    for problem in result.problems:
        assert problem.line >= 1 and problem.message.endswith((".", "?"))
