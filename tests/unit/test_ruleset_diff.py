"""`perso diff`'s lines: what changed between the live ruleset and a new one."""

from __future__ import annotations

from edge.compiler import compile_text
from edge.model import Ruleset
from infra.cli._diff import ruleset_diff

LIVE = """
site: shop
segments:
  mobile: {device.type: mobile}
slots:
  hero: "#hero"
  banner: "#banner"
experiences:
  - id: hero-test
    slot: hero
    priority: 1
    audience: {$segment: mobile}
    variants:
      - {id: a, weight: 0.5, content: {text: "A"}}
      - {id: b, content: {text: "B"}}
  - id: old
    slot: banner
    variants: [{id: shown, content: {hide: true}}]
"""
SCHEDULED = """  - id: sched
    slot: footer
    schedule: {start: "2026-12-01"}
    variants: [{id: x, content: {text: X}}]"""


def _compile(text: str) -> Ruleset:
    result = compile_text(text)
    assert result.ruleset is not None and not result.problems, result.problems
    return result.ruleset


def test_every_kind_of_change_is_one_line() -> None:
    new = (
        LIVE.replace("priority: 1", "priority: 5\n    frequency: {max: 2, per: day}")
        .replace("weight: 0.5", "weight: 0.2")
        .replace('"B"', '"B2"')
        .replace("device.type: mobile", "device.type: tablet")
        .replace("  - id: old\n    slot: banner", "  - id: new\n    slot: banner")
        .replace('  banner: "#banner"', '  banner: "#banner2"\n  footer: "#footer"')
        .replace(
            "experiences:",
            "experiences:\n" + SCHEDULED,
            1,
        )
    )
    lines = ruleset_diff(_compile(LIVE), _compile(new))
    text = "\n".join(lines)
    assert "+ slot footer" in lines
    assert '~ slot banner: {"hide_until_decided": false, "selector": "#banner"} -> ' in text
    assert "~ segment mobile" in text and "tablet" in text
    assert "+ experience new (slot banner)" in lines and "- experience old" in lines
    assert "+ experience sched (slot footer)" in lines
    assert "~ experience hero-test: priority 1 -> 5" in lines
    assert any(line.startswith("~ experience hero-test: frequency null -> ") for line in lines)
    assert "~ experience hero-test: audience" in text  # the inlined segment changed
    assert "~ experience hero-test: weights [0.5, 0.5] -> [0.2, 0.8]" in lines
    assert '~ experience hero-test: content of b {"text": "B"} -> {"text": "B2"}' in lines


def test_schedule_change_and_no_change() -> None:
    live = _compile(LIVE)
    assert ruleset_diff(live, _compile(LIVE)) == []
    new = _compile(LIVE.replace("priority: 1", 'priority: 1\n    schedule: {end: "2027-01-01"}'))
    [line] = ruleset_diff(live, new)
    assert line.startswith("~ experience hero-test: schedule ")
    assert ruleset_diff(None, live) == ["+ site shop (nothing is live yet)"]
