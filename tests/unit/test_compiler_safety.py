"""The compiler refuses what could hurt the page or the core (issue 13): slots that
reach a script, unsafe `attrs`, regexes that backtrack for minutes, redirects that
leave the site without naming it, rulesets past the size limits, `per: view` caps.
Pytest only: it also runs in Pyodide.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import edge.compiler._ruleset
from edge.compiler import CompileResult, compile_file, compile_text
from edge.limits import (
    MAX_CONDITION_DEPTH,
    MAX_EXPERIENCES,
    MAX_SLOTS,
    MAX_SOURCE_BYTES,
    MAX_VARIANTS,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "demo-shop.yaml"


def ruleset(selector: str = "#hero h1", content: str = '{text: "Hi"}', **extra: str) -> str:
    """A one-slot, one-experience ruleset; `extra` adds experience keys (YAML flow)."""
    more = "".join(f"    {key}: {value}\n" for key, value in extra.items())
    return (
        "site: demo\n"
        f"slots:\n  hero: {{selector: '{selector}'}}\n"
        "experiences:\n"
        "  - id: x\n"
        "    slot: hero\n"
        f"{more}"
        f"    variants:\n      - {{id: a, content: {content}}}\n"
    )


def compiled(text: str) -> CompileResult:
    return compile_text(text, filename="rules.yaml")


def problems(text: str) -> list[str]:
    return [str(p) for p in compiled(text).problems]


def test_the_demo_ruleset_still_validates() -> None:
    result = compile_file(EXAMPLE)
    assert result.problems == []


# -- 1. slots never touch script, style, iframe... ---------------------------------


@pytest.mark.parametrize(
    ("selector", "content", "expected"),
    [
        # A script's src swapped for the attacker's
        (
            'script[src="/shop.js"]',
            "{attrs: {src: 'https://evil.example/x.js'}}",
            ["rules.yaml:3: slot 'hero' selector 'script[src=\"/shop.js\"]' can select <script>"],
        ),
        # An inline script's code replaced by text
        ("script#config", "{text: 'window.pwned = 1'}", ["selector 'script#config' can select"]),
        # A JSON-LD block turned into a script: refused twice over
        (
            'script[type="application/ld+json"]',
            "{attrs: {type: text/javascript}}",
            ["can select <script>", "cannot set the attribute 'type'"],
        ),
    ],
)
def test_the_three_script_attacks_are_refused(
    selector: str, content: str, expected: list[str]
) -> None:
    # Given a slot aimed at a script element and content that would rewrite it
    text = ruleset(selector.replace("'", "''"), content)
    # When it is compiled
    found = problems(text)
    # Then each attack is named, and nothing is built
    assert compiled(text).ruleset is None
    assert len(found) == len(expected), found
    for needle, problem in zip(expected, found, strict=True):
        assert needle in problem


@pytest.mark.parametrize(
    "selector",
    [
        "SCRIPT",
        "svg|script",
        "*|script",
        "div > Script.x",
        "h1, p ~ script",
        r"scr\ipt",
        r"\73 cript",
        ":is(main, script)",
        ":where(div script)",
        "*:not(:not(script))",
        ":nth-child(2n+1 of script)",
        "head link",
        "body > noscript",
        "iframe",
        "style",
        "object embed",
        "meta[name=x]",
        "base",
        "template",
        "frame",
        'a[title="]"], script',
        "script::before",
        ":is(" * 40 + r"scr\69pt" + ")" * 40,
    ],
)
def test_a_selector_whose_subject_can_be_an_unsafe_tag_is_refused(selector: str) -> None:
    assert any("can select <" in p for p in problems(ruleset(selector.replace("'", "''"))))


@pytest.mark.parametrize(
    "selector",
    [
        "script + p",
        "script > p",
        "div:has(script)",
        "div:has(> script)",
        ".script",
        "#script",
        "[script]",
        "scripts",
        'p[data-x="script"]',
        'a[title="a, script"]',
        "link-card",
        "main .promo:is(.a, .b)",
        "[data-perso-slot=banner]",
    ],
)
def test_a_selector_that_names_those_tags_elsewhere_is_fine(selector: str) -> None:
    assert problems(ruleset(selector.replace("'", "''"))) == []


@pytest.mark.parametrize(
    ("attrs", "needle"),
    [
        ("{onclick: 'x()'}", "'onclick': it is an event handler"),
        ("{OnLoad: null}", "'OnLoad': it is an event handler"),
        ("{type: submit}", "'type': it is not one that content may set"),
        ("{nonce: abc}", "'nonce': it is not one"),
        ("{srcdoc: '<b>x</b>'}", "'srcdoc': it is not one"),
        ("{formaction: /x}", "'formaction': it is not one"),
        ('{href: "java\\tscript:alert(1)"}', "'href': its value is a script URL"),
        ('{href: " javascript:alert(1)"}', "'href': its value is a script URL"),
        ("{src: 'data:text/html,x'}", "'src': its value is a script URL"),
        ("{cite: 'vbscript:x'}", "'cite': its value is a script URL"),
        ("{srcset: 'a.png 1x, javascript:x 2x'}", "'srcset': one of its URLs"),
        ("{style: 'width: expression(alert(1))'}", "'style': its value runs script"),
        ("{style: 'background: url( javascript:x)'}", "'style': its value runs script"),
    ],
)
def test_attrs_outside_the_allowlist_or_with_a_script_url_are_refused(
    attrs: str, needle: str
) -> None:
    found = problems(ruleset(content=f"{{attrs: {attrs}}}"))
    assert len(found) == 1 and needle in found[0], found


def test_attrs_on_the_allowlist_pass_as_strings() -> None:
    attrs = (
        "{href: 'https://shop.example/p?id=1', src: /img/a.png, data-variant: b, "
        "aria-label: Buy, style: 'color: red', title: null, width: 300, open: true, "
        "srcset: 'a.png 1x, b.png 2x', rel: noopener, href2: x}"
    )
    # (href2 is not an attribute any content may set: everything else passes)
    found = problems(ruleset(content=f"{{attrs: {attrs}}}"))
    assert len(found) == 1 and "'href2'" in found[0], found
    result = compiled(ruleset(content=f"{{attrs: {attrs.replace(', href2: x', '')}}}"))
    assert result.ruleset is not None
    content = result.ruleset.experiences[0].variants[0].content
    assert content == {
        "attrs": {
            "href": "https://shop.example/p?id=1",
            "src": "/img/a.png",
            "data-variant": "b",
            "aria-label": "Buy",
            "style": "color: red",
            "title": None,
            "width": "300",
            "open": "true",
            "srcset": "a.png 1x, b.png 2x",
            "rel": "noopener",
        }
    }


# -- 2. regexes that backtrack for minutes -----------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+$",
        "(a*)*",
        "(a|a)*$",
        r"(\w+\s?)+$",
        "(a|aa)+$",
        "(ab|abc?)+$",
        r"(\d+)*$",
        r"\d+\d+x",
        ".*.*x",
        ".*/p/.*x",
        "(?:a+|b)a+x",
        "^.*.*.*x",
        "(?i)(?:A+|b)a+x",
    ],
)
def test_a_pattern_that_can_backtrack_for_minutes_is_refused(pattern: str) -> None:
    # Given an audience with the pattern (under every regex operator)
    for op in ("$regex", "$regexi", "$notRegex", "$notRegexi"):
        quoted = pattern.replace("'", "''")
        text = ruleset(audience=f"{{page.url: {{{op}: '{quoted}'}}}}")
        # When compiled, Then one sentence says why, at the audience's line
        found = problems(text)
        assert len(found) == 1, found
        assert found[0].startswith(f"rules.yaml:7: regex {pattern!r} in experience 'x' audience")
        assert "can take minutes on some values" in found[0]


@pytest.mark.parametrize(
    "pattern",
    [
        "^bf-",
        r"^/(index\.html)?$",
        "^/(p|c)/[a-z0-9-]+$",
        "(Mobile|Tablet)",
        r"^(?:[\w-]+\.)+shop\.example$",
        r"^(?:\d{1,3}\.){3}\d{1,3}$",
        r"^/(?:shop|store)/(?:[\w-]+/)*[\w-]+$",
        r"[?&]utm_medium=(cpc|ppc)(&|$)",
        r"^.*/sale/.*$",
        r"^[^@]+@[^@]+\.[a-z]{2,}$",
        r"(\w|\d)+$",
        "(?<year>\\d{4})-12-25",
    ],
)
def test_ordinary_patterns_pass(pattern: str) -> None:
    quoted = pattern.replace("'", "''")
    assert problems(ruleset(audience=f"{{page.url: {{$regex: '{quoted}'}}}}")) == []


# -- 3. redirects that leave the site ----------------------------------------------


@pytest.mark.parametrize(
    ("target", "read_as"),
    [
        ("'//evil.example/x'", "//evil.example/x"),
        ("'/\\evil.example/x'", "//evil.example/x"),
        ("'\\\\evil.example'", "//evil.example"),
        ('"/\\t/evil.example"', "//evil.example"),
        ('" //evil.example"', "//evil.example"),
        ('"\\x01/\\n/evil.example"', "//evil.example"),
        ("'/{page.query.next|/evil.example}'", "//evil.example"),
    ],
)
def test_a_redirect_that_a_browser_reads_as_another_host_is_refused(
    target: str, read_as: str
) -> None:
    # Given a redirect written as a path that a browser reads as //host
    found = problems(ruleset(content=f"{{redirect: {target}}}"))
    # Then it is refused as leaving the site, and the full https:// form is suggested
    assert len(found) == 1, found
    assert f"leaves the site without naming it (a browser reads it as {read_as!r})" in found[0]
    assert "write the full https:// address" in found[0]


@pytest.mark.parametrize(
    ("target", "ok"),
    [
        ("'https://other.example/x'", True),
        ("'/search?q={page.query.q}'", True),
        ("'/{page.query.lang|en}/sale'", True),
        ("'?landing=b'", True),
        ("'https://evil.example\\@shop.example/'", False),
        ("'javascript:alert(1)'", False),
        ("'#top'", False),
    ],
)
def test_other_redirects(target: str, ok: bool) -> None:
    assert (problems(ruleset(content=f"{{redirect: {target}}}")) == []) is ok


# -- 4. size limits ----------------------------------------------------------------


def _experiences(count: int, *, slots: int = 1) -> str:
    rows = "".join(
        f"  - {{id: e{i}, slot: s{i % slots}, variants: [{{id: a}}]}}\n" for i in range(count)
    )
    slot_rows = "".join(f"  s{i}: '#s{i}'\n" for i in range(slots))
    return f"site: demo\nslots:\n{slot_rows}experiences:\n{rows}"


def test_too_many_experiences_fail_before_any_is_compiled() -> None:
    # Given one experience too many, one of them broken
    text = _experiences(MAX_EXPERIENCES + 1).replace("slot: s0, variants: [{id: a}]}", "}", 1)
    # When compiled, Then only the count is reported: no experience was looked at
    assert problems(text) == [
        f"rules.yaml:4: the ruleset has {MAX_EXPERIENCES + 1:,} experiences; the limit is "
        f"{MAX_EXPERIENCES:,} (each one is read on every page view)."
    ]
    assert compiled(_experiences(MAX_EXPERIENCES)).ok


def test_too_many_slots() -> None:
    found = problems(_experiences(1, slots=MAX_SLOTS + 1))
    assert found == [
        f"rules.yaml:2: the ruleset has {MAX_SLOTS + 1} slots; the limit is {MAX_SLOTS} "
        "(each one is read on every page view)."
    ]


def test_too_many_variants() -> None:
    variants = ", ".join(f"{{id: v{i}}}" for i in range(MAX_VARIANTS + 1))
    text = "site: demo\nslots: {hero: h1}\nexperiences:\n"
    text += f"  - id: x\n    slot: hero\n    variants: [{variants}]\n"
    assert problems(text) == [
        f"rules.yaml:6: experience 'x' has {MAX_VARIANTS + 1} variants; "
        f"the limit is {MAX_VARIANTS}."
    ]


def test_a_source_over_the_byte_limit_is_refused_before_it_is_parsed() -> None:
    # Given a file just over the limit (YAML that would take seconds to read)
    text = _experiences(1) + "# " + "x" * MAX_SOURCE_BYTES + "\n"
    # When compiled, Then it fails at once, with the size
    started = time.perf_counter()
    found = problems(text)
    assert time.perf_counter() - started < 1.0
    assert len(found) == 1 and f"is {len(text):,} bytes; a ruleset may be at most" in found[0]


def test_an_artifact_over_the_byte_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a limit below the demo's artifact (~6 KB)
    monkeypatch.setattr(edge.compiler._ruleset, "MAX_ARTIFACT_BYTES", 1000)
    # When it is compiled, Then the artifact's size is the problem
    found = [str(p) for p in compile_file(EXAMPLE).problems]
    assert len(found) == 1 and "the artifact would be" in found[0], found
    assert "bytes; the limit is 1,000 (every visitor downloads it)." in found[0]


def test_conditions_nested_past_the_limit_are_refused() -> None:
    # Given conditions one level too deep: directly, and through a chain of segments
    deep = "{$not: " * MAX_CONDITION_DEPTH + "{custom.a: 1}" + "}" * MAX_CONDITION_DEPTH
    fits = "{$not: " * (MAX_CONDITION_DEPTH - 1) + "{custom.a: 1}" + "}" * (MAX_CONDITION_DEPTH - 1)
    chain = "".join(f"  s{i}: {{$segment: s{i + 1}}}\n" for i in range(MAX_CONDITION_DEPTH))
    chained = ruleset(audience="{$segment: s0}").replace(
        "experiences:", f"segments:\n{chain}  s{MAX_CONDITION_DEPTH}: {{custom.a: 1}}\nexperiences:"
    )
    # When compiled, Then each is one sentence naming the limit; one level less passes
    nested = f"nests conditions more than {MAX_CONDITION_DEPTH} levels deep."
    assert [p.split(": ", 1)[1] for p in problems(ruleset(audience=deep))] == [
        f"experience 'x' audience, $not{', $not' * (MAX_CONDITION_DEPTH - 1)} {nested}"
    ]
    assert problems(ruleset(audience=fits)) == []
    assert any(nested in p for p in problems(chained)), problems(chained)


def test_yaml_nested_hundreds_of_levels_is_a_problem_not_a_crash() -> None:
    text = "site: demo\nsegments:\n  a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n"
    assert problems(text) == [
        "rules.yaml:1: the YAML nests too deeply to be read (hundreds of levels)."
    ]


# -- 5c. per: view is gone ---------------------------------------------------------


def test_a_cap_per_view_is_refused_naming_the_windows() -> None:
    assert problems(ruleset(frequency="{max: 1, per: view}")) == [
        "rules.yaml:7: experience 'x' frequency per view can never hold (an experience shows "
        "once per page view); use one of: session, day, week, month, lifetime."
    ]
