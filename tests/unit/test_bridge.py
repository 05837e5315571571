"""edge.bridge under plain CPython: the JSON-in, JSON-out entry points of the worker."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge import artifact, bridge
from edge.model import Experience, JourneyStage, Ruleset, Schedule, Slot, Variant

NOW = "2026-11-25T21:30:00Z"


def _ruleset() -> Ruleset:
    return Ruleset(
        site="demo-shop",
        journey=(
            JourneyStage("customer", {"profile.purchases": {"$gte": 1}}),
            JourneyStage("new", {}),
        ),
        slots={
            "hero": Slot("hero", "#hero h1"),
            "banner": Slot("banner", "[data-perso-slot=banner]", hide_until_decided=True),
        },
        experiences=(
            Experience(
                id="hello",
                slot="hero",
                consent="none",
                audience={"language": "pt"},
                variants=(Variant("pt", 1.0, {"text": "Olá"}),),
            ),
            Experience(
                id="split",
                slot="banner",
                variants=(Variant("a", 0.5, {"text": "A"}), Variant("b", 0.5, {"text": "B"})),
            ),
        ),
    )


@pytest.fixture
def loaded() -> Iterator[str]:
    art = artifact.encode(_ruleset())
    status = json.loads(bridge.load_artifact(art.data, art.sha256))
    assert status["ok"] is True, status
    yield art.sha256
    bridge.reset()


def _signals(**extra: object) -> str:
    base: dict[str, object] = {
        "languages": ["pt-BR", "en"],
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36",
        "local_time": "2026-11-25T18:30:00",
        "timezone": "America/Sao_Paulo",
        "url": "https://shop.example/p?id=1",
        "referrer": "",
        "consent": {"analytics": False, "personalization": False},
    }
    base.update(extra)
    return json.dumps(base)


def test_load_artifact_reports_slots_and_version(loaded: str) -> None:
    # Given a loaded artifact, the status names its site, version and hidden slots
    art = artifact.encode(_ruleset())
    status = json.loads(bridge.load_artifact(art.data, art.sha256))
    assert status["version"] == loaded
    assert status["site"] == "demo-shop"
    assert status["slots"]["banner"] == {
        "selector": "[data-perso-slot=banner]",
        "hide_until_decided": True,
    }


def test_load_artifact_refuses_a_hash_mismatch_and_keeps_the_last_good(loaded: str) -> None:
    # When bytes do not match the pointer's sha256
    other = hashlib.sha256(b"other").hexdigest()
    status = json.loads(bridge.load_artifact(artifact.encode(_ruleset()).data, other))
    # Then the load fails with a sentence, and the earlier ruleset still decides
    assert status["ok"] is False
    assert "sha256" in status["error"]
    assert json.loads(bridge.decide_json(_signals(), "{}", NOW))["version"] == loaded


def test_load_artifact_refuses_garbage_and_non_bytes() -> None:
    garbage = b"\xc1not msgpack"
    status = json.loads(bridge.load_artifact(garbage, hashlib.sha256(garbage).hexdigest()))
    assert status["ok"] is False and "msgpack" in status["error"]
    status = json.loads(bridge.load_artifact("text", "0" * 64))
    assert status == {"ok": False, "error": "load_artifact needs the artifact as bytes, not str"}
    assert bridge.current() is None


def test_decide_without_consent_runs_only_consent_none(loaded: str) -> None:
    out = json.loads(bridge.decide_json(_signals(visitor_id="v-1"), "{}", NOW))
    by_slot = {d["slot"]: d for d in out["decisions"]}
    assert out["ok"] is True
    assert by_slot["hero"]["content"] == {"text": "Olá"}
    assert by_slot["hero"]["selector"] == "#hero h1"
    assert by_slot["banner"]["experience"] is None  # needs personalization consent
    assert by_slot["banner"]["hide_until_decided"] is True
    assert out["assignments"] == {}


def test_decide_with_consent_assigns_a_sticky_variant(loaded: str) -> None:
    consent = {"analytics": True, "personalization": True}
    out = json.loads(
        bridge.decide_json(_signals(consent=consent, visitor_id="visitor-42"), "{}", NOW)
    )
    banner = next(d for d in out["decisions"] if d["slot"] == "banner")
    assert banner["variant"] in ("a", "b")
    assert out["assignments"]["split"] == banner["variant"]
    assert {"experience": "split", "variant": banner["variant"], "slot": "banner"} in out[
        "exposures"
    ]
    # A stored assignment wins over hashing (stickiness lives on the device)
    other = "b" if banner["variant"] == "a" else "a"
    profile = json.dumps({"assignments": {"split": other}})
    again = json.loads(
        bridge.decide_json(_signals(consent=consent, visitor_id="visitor-42"), profile, NOW)
    )
    assert next(d for d in again["decisions"] if d["slot"] == "banner")["variant"] == other


def test_profile_is_ignored_without_personalization_consent(loaded: str) -> None:
    profile = json.dumps({"purchases": 3})
    granted = {"analytics": False, "personalization": True}
    with_consent = json.loads(bridge.decide_json(_signals(consent=granted), profile, NOW))
    without = json.loads(bridge.decide_json(_signals(), profile, NOW))
    assert with_consent["journey"] == "customer"
    assert without["journey"] == "new"


@pytest.mark.parametrize(
    ("signals", "profile", "now", "message"),
    [
        ("[1]", "{}", NOW, "signals must be a JSON object, not list"),
        ("{}", "null", NOW, "profile must be a JSON object, not NoneType"),
        ("{}", "{}", "yesterday", "now must be an ISO-8601 timestamp, got 'yesterday'"),
    ],
)
def test_bad_input_is_an_error_value_not_an_exception(
    loaded: str, signals: str, profile: str, now: str, message: str
) -> None:
    assert json.loads(bridge.decide_json(signals, profile, now)) == {"ok": False, "error": message}


def test_decide_before_load_says_so() -> None:
    bridge.reset()
    out = json.loads(bridge.decide_json("{}", "{}", NOW))
    assert out == {"ok": False, "error": "no ruleset is loaded; call load_artifact first"}


def test_bridge_imports_pyodide_only_under_pyodide() -> None:
    # Runs in both interpreters: Pyodide is the emscripten platform, CPython is not.
    in_pyodide = sys.platform == "emscripten"
    assert bridge.IN_PYODIDE is in_pyodide
    assert ("_pyodide_core" in sys.modules) is in_pyodide
    # The JsProxy type is imported from pyodide.ffi there, and left None here.
    assert (bridge.JsProxy is not None) is in_pyodide


def test_load_artifact_file_reads_the_virtual_disk(tmp_path: Path) -> None:
    art = artifact.encode(_ruleset())
    path = tmp_path / "a.msgpack"
    path.write_bytes(art.data)
    try:
        assert json.loads(bridge.load_artifact_file(str(path), art.sha256))["ok"] is True
        missing = json.loads(bridge.load_artifact_file(str(tmp_path / "nope"), art.sha256))
        assert missing["ok"] is False and "cannot read the artifact" in missing["error"]
    finally:
        bridge.reset()


def test_load_artifact_says_what_the_ruleset_reads(loaded: str) -> None:
    status = json.loads(bridge.load_artifact(artifact.encode(_ruleset()).data, loaded))
    # language (hello), the split's hash and the journey's purchases counter
    assert status["reads"] == {
        "parts": ["consent", "id", "languages"],
        "profile": ["purchases"],
        "custom": [],
        "query": [],
        "time": None,
    }


def test_decide_json_says_until_when_the_decisions_hold() -> None:
    # Given a ruleset that reads the local hour, with a schedule ending in 30 minutes
    end = datetime(2026, 11, 25, 22, 0, tzinfo=UTC).timestamp()
    evening = Ruleset(
        site="s",
        slots={"hero": Slot("hero", "#hero h1")},
        experiences=(
            Experience(
                id="evening",
                slot="hero",
                consent="none",
                audience={"local.hour": {"$gte": 18}},
                schedule=Schedule(end=end),
                variants=(Variant("v", 1.0, {"text": "Boa noite"}),),
            ),
        ),
    )
    art = artifact.encode(evening)
    try:
        assert json.loads(bridge.load_artifact(art.data, art.sha256))["reads"]["time"] == "hour"
        # When a device at 18:30:15 local (UTC-3) decides at 21:30:15Z
        now = "2026-11-25T21:30:15Z"
        out = json.loads(bridge.decide_json(_signals(local_time="2026-11-25T18:30:15"), "{}", now))
        # Then the window is the local hour, cut by the schedule's end (22:00Z)
        start = datetime(2026, 11, 25, 21, 0, tzinfo=UTC).timestamp()
        assert out["decisions"][0]["experience"] == "evening"
        assert out["valid"] == [int(start * 1000), int(end * 1000)]
        # And an hour with no schedule in sight ends at the next local hour
        out = json.loads(
            bridge.decide_json(
                _signals(local_time="2026-11-25T18:00:00"), "{}", "2026-11-25T21:00:00Z"
            )
        )
        assert out["valid"] == [int(start * 1000), int((start + 3600) * 1000)]
    finally:
        bridge.reset()


def test_decide_json_valid_is_unbounded_when_nothing_limits_it(loaded: str) -> None:
    out = json.loads(bridge.decide_json(_signals(), "{}", NOW))
    assert out["valid"] == [None, None]
