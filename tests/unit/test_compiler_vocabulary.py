"""The compiler knows what the context builds: unknown paths and impossible values are
problems, typos get a "did you mean", and YAML errors are one plain sentence."""

from __future__ import annotations

from zoneinfo import available_timezones

import pytest

from edge.compiler import compile_file, compile_text
from edge.context import ATTRIBUTES, build_context

EXAMPLE = "examples/demo-shop.yaml"
HEAD = "site: demo\nslots: {hero: h1}\nsegments:\n  pt_speakers: {language: pt}\n"


def audience(condition: str) -> list[str]:
    """The problems of one experience with this audience (line 9), without file:line."""
    text = HEAD + (
        f"experiences:\n  - id: x\n    slot: hero\n    variants: [{{id: a}}]\n"
        f"    audience: {condition}\n"
    )
    result = compile_text(text, filename="r.yaml")
    assert all(p.line == 9 for p in result.problems), result.problems
    return [p.message for p in result.problems]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # Unknown paths, with the closest known one, or what the namespace holds.
        (
            "{device.typ: mobile}",
            "unknown attribute 'device.typ' in experience 'x' audience;"
            " did you mean device.type?",
        ),
        ("{utm.campain: bf}", "did you mean utm.campaign?"),
        ("{utm.id: x}", "(utm holds utm.source, utm.medium, utm.campaign, utm.term,"),
        ("{plan: pro}", "a site's own attributes go under custom.*"),
        ("{$or: [{geo.city: Rio}]}", "(geo holds geo.country, geo.region)."),
        # Values an attribute never takes.
        (
            "{device.type: mobil}",
            "device.type 'mobil' in experience 'x' audience can never match: device.type"
            " is one of mobile, tablet, desktop, bot; did you mean mobile?",
        ),
        (
            "{language: pt-BR}",
            "language 'pt-BR' in experience 'x' audience can never match: language is a"
            " primary language subtag like 'pt' (no region);"
            " did you mean locale: pt-BR or language: pt?",
        ),
        ("{language: PT}", "did you mean pt?"),
        ("{locale: pt_br}", "locale is a BCP 47 tag cased like 'pt-BR'; did you mean pt-BR?"),
        ("{languages: {$in: [en, pt-br]}}", "languages $in 'pt-br' in experience 'x'"),
        ("{local.hour: 24}", "local.hour is a whole number from 0 to 23."),
        ("{local.hour: '7am'}", "local.hour '7am' in experience 'x' audience can never"),
        ("{local.minute: 60}", "local.minute is a whole number from 0 to 59."),
        ("{local.weekday: {$in: [0, 1]}}", "local.weekday $in 0 in experience 'x'"),
        ("{local.weekday: {$eq: '3'}}", "and $eq/$in compare without converting."),
        ("{local.date: 27/11/2026}", "local.date is a date like '2026-11-27'."),
        ("{channel: organic}", "channel is one of direct, search, social, email, paid,"),
        ("{device.os: mac}", "did you mean macos?"),
        ("{device.browser: Chrome}", "did you mean chrome?"),
        ("{geo.country: br}", "did you mean BR?"),
        ("{page.path: products}", "page.path is a path like '/product.html'; did you mean"),
        ("{consent.analytics: 'yes'}", "consent.analytics is true or false."),
        ("{profile.visits: -1}", "profile.visits is a whole number of at least 0."),
        ("{profile.purchases: {$lt: 0}}", "profile.purchases $lt 0 in experience 'x'"),
        ("{local.hour: {$gte: 24}}", "local.hour $gte 24 in experience 'x' audience can never"),
        ("{timezone: Europe/Berln}", "timezone is an IANA time zone like 'Europe/Berlin'"),
        # $ne and $nin with an impossible value always hold: still a problem (a typo).
        (
            "{device.type: {$ne: mobil}}",
            "device.type $ne 'mobil' in experience 'x' audience always holds: device.type"
            " is one of mobile, tablet, desktop, bot; did you mean mobile?",
        ),
        ("{channel: {$nin: [paid, emial]}}", "channel $nin 'emial' in experience 'x'"
         " audience excludes nobody: channel is one of"),
        # Operators and segments get a "did you mean".
        (
            "{local.hour: {$gtee: 18}}",
            "unknown operator '$gtee' in experience 'x' audience, local.hour;"
            " did you mean $gte?",
        ),
        ("{$andd: []}", "unknown condition operator '$andd' in experience 'x' audience;"
         " did you mean $and?"),
        ("{$in: [a]}", "($in goes under an attribute: {path: {$in: ...}})."),
        ("{$segment: pt_speaker}", "unknown segment 'pt_speaker' in experience 'x' audience;"
         " did you mean pt_speakers?"),
    ],
)  # fmt: skip
def test_each_problem_is_one_sentence(condition: str, expected: str) -> None:
    found = audience(condition)
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize(
    "condition",
    [
        "{device.type: {$in: [mobile, tablet]}}",
        "{language: pt, locale: pt-BR, languages: {$in: [pt-BR, en]}}",
        "{local.hour: '19', local.weekday: {$gte: 6}, local.date: '2026-11-27'}",
        "{channel: {$nin: [paid]}, timezone: America/Sao_Paulo, geo.country: BR}",
        "{page.path: /cart.html, page.query.v: b, utm.campaign: bf}",
        "{custom.plan: pro, custom.tier: {$gt: 2}, profile.first_name: Ana}",
        "{profile.visits: {$gte: 2}, consent.personalization: true, segments: {$in: [vip]}}",
        # Inside $elemMatch the paths are the items' own; $size tests a length.
        "{custom.items: {$elemMatch: {sku: a1}}, languages: {$size: 2}}",
        "{languages.0: pt-BR, device.type: true, local.hour: {$not: {$gt: 20}}}",
    ],
)
def test_what_can_match_passes(condition: str) -> None:
    assert audience(condition) == []


def test_a_time_zone_typo_gets_the_zone() -> None:
    if not available_timezones():
        pytest.skip("no time zone database to suggest from")
    assert "did you mean America/Sao_Paulo?" in audience("{timezone: america/sao_paulo}")[0]
    ruleset = compile_text("site: demo\ntimezone: Europe/Berln\n", filename="r.yaml")
    assert [str(p) for p in ruleset.problems] == [
        "r.yaml:2: unknown time zone 'Europe/Berln'; did you mean Europe/Berlin?"
    ]


def test_a_slot_typo_gets_the_slot() -> None:
    text = "site: demo\nslots: {hero: h1}\nexperiences:\n  - {id: x, slot: heor, variants: []}\n"
    found = [p.message for p in compile_text(text).problems]
    assert "experience 'x' uses unknown slot 'heor'; did you mean hero?" in found


def test_problems_in_segments_and_journey_are_found_too() -> None:
    text = (
        "site: demo\nsegments:\n  s: {device.type: phone}\n"
        "journey:\n  - {stage: new, when: {local.hour: 30, profile.visit: 0}}\n"
    )
    found = [str(p) for p in compile_text(text, filename="r.yaml").problems]
    # profile.* stays open (the profile keeps the site's traits beside its counters).
    assert found == [
        "r.yaml:3: device.type 'phone' in segment 's' can never match: device.type is one"
        " of mobile, tablet, desktop, bot.",
        "r.yaml:5: local.hour 30 in journey stage 'new' can never match: local.hour is a"
        " whole number from 0 to 23.",
    ]


def test_the_example_still_validates() -> None:
    assert compile_file(EXAMPLE).problems == []


def test_the_vocabulary_is_what_the_context_builds() -> None:
    # Given a visitor with every signal, When the context is built, Then every leaf it
    # holds is a known path (or in an open namespace), and the values fit their shapes.
    from edge.compiler._vocabulary import attribute, never

    ctx = build_context(
        {
            "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1",
            "languages": ["pt-BR", "en"],
            "timezone": "America/Sao_Paulo",
            "local_time": "2026-11-27T19:05:00",
            "url": "https://shop.example/p?utm_source=nl&utm_medium=email&x=1",
            "geo": {"country": "BR", "region": "SP"},
            "consent": {"analytics": True, "personalization": True},
            "visitor_id": "v1",
            "segments": ["vip"],
            "custom": {"plan": "pro"},
            "profile": {"visits": 3, "traits": {"first_name": "Ana"}},
        }
    )

    def leaves(value: object, prefix: str) -> list[tuple[str, object]]:
        if isinstance(value, dict) and value:
            return [x for k, v in value.items() for x in leaves(v, f"{prefix}{k}.")]
        return [(prefix.rstrip("."), value)]

    for path, value in leaves(ctx, ""):
        found = attribute(path)
        assert found is not None, path
        if isinstance(value, list):
            assert all(never(found, item, strict=True) is None for item in value), path
        else:
            assert never(found, value, strict=True) is None, (path, value)
    assert {p for p, a in ATTRIBUTES.items() if a.kind != "map"} >= {"journey", "id"}


@pytest.mark.parametrize(
    ("text", "line", "sentence"),
    [
        ("site: demo\nslots:\n\thero: h1\n", 3, "a tab character; YAML indents with spaces only."),
        ("site: demo\nslots:\n  hero: h1\n   banner: x\n", 4, "a ':' out of place; indent"),
        ("experiences:\n  - id: x\n   slot: y\n", 3, "indentation does not fit the block that"
         " starts on line 2"),
        ('site: "demo\nslots: {}\n', 1, "a quoted text starts here and its closing quote is"
         " missing."),
        ("site: 'demo\nslots: {}\n", 1, "its closing quote is missing."),
        ("site: demo\nslots: {hero: h1\nx: 1\n", 2, "the '{' opened here is not closed with"),
        ("a: [1, 2\nb: 3\n", 1, "the '[' opened here is not closed with ']'"),
        ("site: demo\nslots\nx: 1\n", 2, "a key without its ':'"),
        ("site: *nope\n", 1, "'*nope' refers to an anchor '&nope' defined nowhere above."),
        ('site: "a\\qb"\n', 1, "'\\q' is not an escape inside double quotes"),
        ("site: a\n---\nsite: b\n", 2, "a ruleset is one document."),
        ("site: a\x01\n", 1, "a control character (#x0001) that YAML does not allow."),
        ("site: @demo\n", 1, "'@' cannot start a value; put the value in quotes."),
        ("site: a\nsite: b\n", 2, "key 'site' appears twice (first on line 1)."),
        ("site: demo\nholdout: !!python/object x\n", 2, "the tag !!python/object is not allowed"),
    ],
)  # fmt: skip
def test_yaml_errors_are_one_plain_sentence(text: str, line: int, sentence: str) -> None:
    problems = compile_text(text, filename="r.yaml").problems
    assert len(problems) == 1, problems
    assert problems[0].line == line and sentence in problems[0].message, problems[0]
    assert "\n" not in problems[0].message and "<" not in problems[0].message
