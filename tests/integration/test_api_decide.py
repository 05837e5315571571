"""`POST /v1/decide` against the local stack (moto): the same core, nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from edge.compiler import compile_file
from edge.decide import decide_signals
from infra.local.stack import LocalBackend
from tests._report_seed import ROOT, publish_demo
from tests.integration._api import ORIGIN, call

SIGNALS: dict[str, Any] = {
    "local_time": "2026-11-25T19:30:00+01:00",
    "timezone": "Europe/Paris",
    "languages": ["fr-FR", "fr", "en"],
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    "ua_ch": None,
    "max_touch_points": 5,
    "url": "https://shop.example/products/sofa?utm_source=newsletter",
    "referrer": "https://www.google.com/",
}
HEADERS = {"Content-Type": "text/plain;charset=UTF-8", "Origin": ORIGIN}


@pytest.fixture(scope="module")
def live(backend: LocalBackend) -> LocalBackend:
    publish_demo(backend)
    return backend


def _item_count(backend: LocalBackend) -> int:
    return int(backend.client("dynamodb").scan(TableName=backend.table, Select="COUNT")["Count"])


def _expected(signals: dict[str, Any], now: datetime) -> dict[str, dict[str, Any]]:
    """What `perso simulate` / the device decide for these signals at `now`, by slot."""
    result = compile_file(ROOT / "examples" / "demo-shop.yaml")
    assert result.ruleset is not None
    _, decided = decide_signals(result.ruleset, signals, {}, now)
    keys = ("slot", "experience", "variant", "content", "reason")
    selectors = {slot: s.selector for slot, s in result.ruleset.slots.items()}
    return {
        d.slot: {**{k: d.to_dict()[k] for k in keys}, "selector": selectors[d.slot]}
        for d in decided.decisions
    }


def _by_slot(decisions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["slot"]: d for d in decisions}


def test_a_first_view_is_decided_as_the_device_would_and_nothing_is_stored(
    live: LocalBackend,
) -> None:
    # Given the demo ruleset live and a first view's signals (no consent, no id)
    before = _item_count(live)
    start = datetime.now(UTC)
    # When the page asks the server to decide
    status, headers, body = call(
        live, "POST", "/v1/decide", {"site": "demo-shop", "signals": SIGNALS}, headers=HEADERS
    )
    end = datetime.now(UTC)
    # Then the decisions are edge.decide's for the same signals and time
    assert status == 200, body
    assert _by_slot(body["decisions"]) in (
        _expected(SIGNALS | {"consent": {}}, start),
        _expected(SIGNALS | {"consent": {}}, end),
    )
    assert len(body["version"]) == 64
    # And the page may read it, and nothing was written
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["cache-control"] == "no-store"
    assert _item_count(live) == before


def test_a_visitor_with_consent_is_bucketed_like_on_the_device(live: LocalBackend) -> None:
    consent = {"analytics": True, "personalization": True}
    body = {"site": "demo-shop", "signals": SIGNALS, "consent": consent, "visitor": "v-123"}
    start = datetime.now(UTC)
    status, _, answer = call(live, "POST", "/v1/decide", body, headers=HEADERS)
    end = datetime.now(UTC)
    assert status == 200, answer
    signals = SIGNALS | {"consent": consent, "visitor_id": "v-123"}
    assert _by_slot(answer["decisions"]) in (_expected(signals, start), _expected(signals, end))
    assert any(d["reason"] == "matched" for d in answer["decisions"]), answer


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ("not json", 400, "not valid JSON"),
        ({"site": "demo-shop"}, 400, "signals"),
        ({"site": "demo-shop", "signals": {"max_touch_points": "five"}}, 400, "max_touch_points"),
        ({"site": "demo-shop", "signals": {"languages": "fr"}}, 400, "languages"),
        ({"site": "demo-shop", "signals": {}, "visitor": "v-1"}, 400, "only with consent"),
        ({"site": "demo-shop", "signals": {}, "consent": {"analytics": "yes"}}, 400, "boolean"),
        ({"site": "nope", "signals": {}}, 403, "'nope' is not configured"),
    ],
)
def test_bad_input_is_a_4xx_with_a_sentence(
    live: LocalBackend, body: Any, status: int, words: str
) -> None:
    before = _item_count(live)
    got, _, answer = call(live, "POST", "/v1/decide", body, headers=HEADERS)
    assert got == status, answer
    assert words in answer["message"]
    assert _item_count(live) == before


def test_a_listed_site_without_a_published_ruleset_is_a_404(backend: LocalBackend) -> None:
    from lambdas.dal import admin

    admin.configure_site(backend.store, "empty-site", origins=[ORIGIN], api_key="k" * 32)
    status, _, answer = call(
        backend, "POST", "/v1/decide", {"site": "empty-site", "signals": {}}, headers=HEADERS
    )
    assert status == 404 and "no published ruleset" in answer["message"]


def test_an_origin_of_another_site_is_refused(live: LocalBackend) -> None:
    headers = HEADERS | {"Origin": "https://evil.example"}
    status, out, answer = call(
        live, "POST", "/v1/decide", {"site": "demo-shop", "signals": {}}, headers=headers
    )
    assert status == 403 and "access-control-allow-origin" not in out, answer


def test_a_cross_origin_page_may_ask_and_gets_ops_without_any_identifier(
    live: LocalBackend,
) -> None:
    # Given a site page on its own origin, which a JSON POST makes the browser preflight
    status, headers, _ = call(
        live,
        "OPTIONS",
        "/v1/decide",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    # Then the preflight lets it POST JSON from there
    assert status == 204
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in headers["access-control-allow-methods"]
    assert "content-type" in headers["access-control-allow-headers"].lower()
    # When it asks before consent, with no visitor id, no token, no cookie
    body = {"site": "demo-shop", "signals": SIGNALS | {"languages": ["pt-BR"]}}
    status, headers, answer = call(
        live, "POST", "/v1/decide", body, headers=HEADERS | {"Content-Type": "application/json"}
    )
    # Then it gets what the stub applies as is, and until when
    assert status == 200, answer
    assert headers["access-control-allow-origin"] == ORIGIN
    assert {"slot": "hero", "s": "#hero h1", "h": "Bem-vindo à Perso Shop"} in answer["ops"]
    assert all(set(op) <= {"slot", "s", "h", "a", "c", "x"} for op in answer["ops"])
    # (the demo reads the local hour: the window is the hour of the device's clock,
    # 19:00 to 20:00 at +01:00)
    hour = datetime(2026, 11, 25, 18, tzinfo=UTC).timestamp() * 1000
    assert answer["valid"] == [hour, hour + 3_600_000]
