"""`POST /v1/events` through real API Gateway v2 events, the real handler and moto."""

from __future__ import annotations

import json

import msgpack

from lambdas.local import LocalBackend
from tests.integration._api import ORIGIN, call, event, new_visitor, post_events, token_for
from tests.integration._faults import FaultProxy


def _items(backend: LocalBackend, visitor: str) -> list[dict[str, object]]:
    return backend.store.query(f"V#demo-shop#{visitor}")


def test_good_events_are_kept_and_a_bad_one_is_rejected_alone(backend: LocalBackend) -> None:
    # Given a batch with two good events, a repeated id and an exposure missing its variant
    visitor = new_visitor()
    first, second = event("page_view"), event("exposure")
    bad = event("exposure")
    del bad["variant"]
    status, headers, body = post_events(backend, [first, second, first, bad], visitor=visitor)
    # Then the good ones are stored, the repeat is a duplicate, the bad one is named
    assert status == 200
    assert (body["accepted"], body["duplicates"], body["dropped_no_consent"]) == (2, 1, 0)
    assert body["rejected"] == [
        {"index": 3, "error": "events[3]: an exposure needs both 'experience' and 'variant'"}
    ]
    stored = _items(backend, visitor)
    assert sorted(i["t"] for i in stored) == ["exposure", "page_view"]
    exposure = next(i for i in stored if i["t"] == "exposure")
    assert (exposure["exp"], exposure["var"], exposure["ch"], exposure["pc"]) == (
        "evening-free-shipping", "free-shipping", "web", True,
    )
    assert headers["access-control-allow-origin"] == ORIGIN


def test_the_callers_ip_address_is_never_stored(backend: LocalBackend) -> None:
    visitor = new_visitor()
    ip = "203.0.113.77"
    events = [event("page_view", props={"path": "/"}), event("conversion"), event("identify")]
    status, _, body = post_events(backend, events, visitor=visitor, client_addr=ip)
    assert status == 200 and body["accepted"] == 3
    for item in _items(backend, visitor):
        decoded = {**item, "d": msgpack.unpackb(item["d"])}
        assert ip not in json.dumps(decoded, default=str)


def test_without_analytics_consent_nothing_is_stored(backend: LocalBackend) -> None:
    visitor = new_visitor()
    status, _, body = post_events(
        backend, [event(), event()], visitor=visitor, consent={"analytics": False}
    )
    assert status == 200
    assert (body["accepted"], body["dropped_no_consent"]) == (0, 2)
    assert body["visitor"]["token"] is None
    assert _items(backend, visitor) == []


def test_personalization_consent_is_recorded_and_gates_segments(backend: LocalBackend) -> None:
    visitor = new_visitor()
    backend.store.put_item({"pk": f"V#demo-shop#{visitor}", "sk": "P", "segments": ["vip"]})
    # A visitor the store knows needs its token; issue one as collect would.
    token = token_for(visitor)
    consent = {"analytics": True, "personalization": False}
    _, _, body = post_events(backend, [event()], visitor=visitor, consent=consent, token=token)
    assert body["visitor"]["segments"] == []
    assert [i["pc"] for i in _items(backend, visitor) if i["sk"] != "P"] == [False]
    _, _, body = post_events(backend, [event()], visitor=visitor, token=token)
    assert body["visitor"]["segments"] == ["vip"]


def test_tokens_are_issued_to_new_visitors_and_renewed_only_with_a_valid_one(
    backend: LocalBackend,
) -> None:
    visitor = new_visitor()
    _, _, first = post_events(backend, [event()], visitor=visitor)
    token = first["visitor"]["token"]
    assert token and token.startswith("v1.demo-shop.")
    _, _, again = post_events(backend, [event()], visitor=visitor, token=token)
    assert again["visitor"]["token"]
    # A known visitor without (or with a forged) token gets its events stored, no token.
    for bad in (None, token[:-2] + "xx", again["visitor"]["token"].replace(visitor, "other")):
        status, _, body = post_events(backend, [event()], visitor=visitor, token=bad)
        assert status == 200 and body["accepted"] == 1
        assert body["visitor"]["token"] is None


def test_a_replayed_batch_rewrites_the_same_items(backend: LocalBackend) -> None:
    visitor = new_visitor()
    batch = [event(), event("click", name="cta"), event("conversion")]
    for _ in range(3):
        status, _, body = post_events(backend, batch, visitor=visitor)
        assert status == 200 and body["accepted"] == 3
    assert len(_items(backend, visitor)) == 3


def test_bad_requests_get_a_sentence_and_no_5xx(backend: LocalBackend) -> None:
    plain = {"Content-Type": "text/plain", "Origin": ORIGIN}
    cases = [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b"[1, 2]", 400, "JSON object"),
        (b"\xff\xfe{}", 400, "not UTF-8"),
        (json.dumps({"site": "Demo Shop!", "events": []}), 400, "body.site"),
        (json.dumps({"site": "demo-shop", "consent": {"analytics": True}}), 400, "'visitor'"),
        (json.dumps({"site": "nowhere", "visitor": "v"}), 403, "'nowhere' is not configured"),
        (b"x" * (64 * 1024 + 1), 413, "limit is 65536"),
        (json.dumps({"site": "demo-shop", "events": [{}] * 101}), 413, "limit is 100"),
    ]
    for body, status, words in cases:
        got, _, answer = call(backend, "POST", "/v1/events", body, headers=plain)
        assert (got, words) == (status, words) and words in answer["message"], (body[:40], answer)


def test_an_origin_not_listed_for_the_site_is_refused(backend: LocalBackend) -> None:
    status, headers, body = post_events(backend, [event()], origin="https://evil.example")
    assert status == 403
    assert "'https://evil.example' is not allowed" in body["message"]
    assert "access-control-allow-origin" not in headers


def test_preflight_answers_cors(backend: LocalBackend) -> None:
    status, headers, _ = call(backend, "OPTIONS", "/v1/events", headers={"Origin": ORIGIN})
    assert status == 204
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in headers["access-control-allow-methods"]


def test_a_busy_store_answers_503_and_the_replay_counts_once(
    backend: LocalBackend, faulty_backend: FaultProxy
) -> None:
    # Given a store that throttles every write
    visitor = new_visitor()
    batch = [event() for _ in range(30)]
    faulty_backend.throttle["BatchWriteItem"] = 1000
    status, headers, body = post_events(backend, batch, visitor=visitor)
    # Then 503 with Retry-After, and nothing in the answer claims events were accepted
    assert status == 503
    assert int(headers["retry-after"]) >= 1
    assert set(body) == {"message"} and "retry later" in body["message"]
    # When the store recovers and the browser replays its queue
    faulty_backend.throttle.clear()
    faulty_backend.unprocess["BatchWriteItem"] = 2
    status, _, body = post_events(backend, batch, visitor=visitor)
    # Then every event is stored exactly once
    assert status == 200 and body["accepted"] == 30
    assert len(_items(backend, visitor)) == 30
