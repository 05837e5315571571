"""QA overrides (`?perso_force=experience:variant`, edge.decide._force): the forced
variant fills its slot, skipping targeting, with reason `forced` and no exposure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from edge import artifact, bridge
from edge.decide import decide, parse_forced
from edge.model import Experience, Frequency, Ruleset, Schedule, Slot, Variant

NOW = datetime(2026, 11, 25, 22, 30, tzinfo=UTC)
GRANTED = {"analytics": True, "personalization": True}


def _ruleset(**fields: Any) -> Ruleset:
    return Ruleset(
        site="shop",
        slots={"hero": Slot("hero", "#hero"), "banner": Slot("banner", "#banner")},
        experiences=(
            Experience(
                id="hello",
                slot="hero",
                consent="none",
                variants=(Variant("on", 1.0, {"text": "Hello"}),),
            ),
            Experience(
                id="split",
                slot="hero",
                priority=-1,
                # Never eligible: wrong audience, over, capped, outside coverage.
                audience={"language": "xx"},
                schedule=Schedule(end=NOW.timestamp() - 60),
                frequency=Frequency(max=0, per="lifetime"),
                coverage=0.01,
                variants=(
                    Variant("control", 0.5, None),
                    Variant("b", 0.5, {"text": "B"}),
                ),
            ),
            Experience(
                id="promo",
                slot="banner",
                consent="none",
                variants=(Variant("on", 1.0, {"text": "Promo"}),),
            ),
        ),
        **fields,
    )


def _ctx() -> dict[str, Any]:
    return {"id": "visitor-1", "consent": dict(GRANTED), "language": "pt"}


def test_forced_variant_fills_its_slot_with_reason_forced_and_no_exposure() -> None:
    rs = _ruleset()
    plain = decide(rs, _ctx(), {}, NOW)
    assert plain.decision("hero").experience == "hello"
    forced = decide(rs, _ctx(), {}, NOW, forced={"split": "b"})
    hero = forced.decision("hero")
    assert (hero.experience, hero.variant, hero.content, hero.reason) == (
        "split",
        "b",
        {"text": "B"},
        "forced",
    )
    # No exposure and no sticky assignment for the forced slot (nor the one it replaced);
    # the other slots are decided and counted as usual.
    assert forced.exposures == [{"experience": "promo", "variant": "on", "slot": "banner"}]
    assert "split" not in forced.assignments and "hello" not in forced.assignments
    assert forced.decision("banner").reason == "matched"


def test_unknown_variant_or_experience_is_ignored() -> None:
    rs = _ruleset()
    plain = decide(rs, _ctx(), {}, NOW)
    for forced in ({"split": "nope"}, {"nope": "b"}):
        result = decide(rs, _ctx(), {}, NOW, forced=forced)
        assert result == plain
    mixed = decide(rs, _ctx(), {}, NOW, forced={"nope": "x", "split": "control"})
    hero = mixed.decision("hero")
    assert (hero.variant, hero.content, hero.reason) == ("control", None, "forced")


def test_forced_results_never_enter_the_result_cache() -> None:
    rs = _ruleset()
    for _ in range(3):  # a repeated context is served from the cache from the second sight
        assert decide(rs, _ctx(), {}, NOW).decision("hero").experience == "hello"
    assert decide(rs, _ctx(), {}, NOW, forced={"split": "b"}).decision("hero").reason == "forced"
    after = decide(rs, _ctx(), {}, NOW)
    assert after.decision("hero").experience == "hello"
    assert {"experience": "hello", "variant": "on", "slot": "hero"} in after.exposures


def test_forcing_skips_the_holdout_and_drops_its_marker() -> None:
    rs = _ruleset(holdout=1.0)
    held = decide(rs, _ctx(), {}, NOW)
    assert held.decision("hero").reason in {"holdout", "matched"}
    forced = decide(rs, _ctx(), {}, NOW, forced={"split": "b"})
    assert forced.decision("hero").reason == "forced"
    assert all(e["experience"] != "__holdout__" for e in forced.exposures)


def test_parse_forced() -> None:
    assert parse_forced("a:b,c:d") == {"a": "b", "c": "d"}
    assert parse_forced("a:b,a:c, :x,y,z:") == {"a": "b"}
    assert parse_forced(None) == {} and parse_forced(3) == {}


def _slot(result: dict[str, Any], slot: str) -> dict[str, Any]:
    return next(d for d in result["decisions"] if d["slot"] == slot)


@pytest.fixture
def loaded() -> Iterator[str]:
    art = artifact.encode(_ruleset())
    status = json.loads(bridge.load_artifact(art.data, art.sha256))
    assert status["ok"] is True, status
    yield art.sha256
    bridge.reset()


def test_bridge_reads_the_forced_signal(loaded: str) -> None:
    signals = {"consent": GRANTED, "visitor_id": "visitor-1", "languages": ["pt"]}
    plain = json.loads(bridge.decide_json(json.dumps(signals), "{}", "2026-11-25T22:30:00Z"))
    assert _slot(plain, "hero")["experience"] == "hello"
    forced_signals = {**signals, "forced": "split:b,split:zzz,ghost:on"}
    result = json.loads(
        bridge.decide_json(json.dumps(forced_signals), "{}", "2026-11-25T22:30:00Z")
    )
    hero = _slot(result, "hero")
    assert (hero["experience"], hero["variant"], hero["reason"]) == ("split", "b", "forced")
    assert all(e["slot"] != "hero" for e in result["exposures"])
    assert "split" not in result["assignments"]
