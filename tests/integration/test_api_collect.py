"""`POST /v1/events` through real API Gateway v2 events, the real handler and moto."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import msgpack
import pytest

from infra.local.stack import LocalBackend
from lambdas.models import events as events_model
from tests.integration._api import (
    ORIGIN,
    call,
    event,
    iso,
    new_secret,
    new_visitor,
    post_events,
    token_for,
)
from tests.integration._faults import FaultProxy


def _items(backend: LocalBackend, visitor: str) -> list[dict[str, object]]:
    """The visitor's stored events."""
    return backend.store.query(f"V#demo-shop#{visitor}", prefix="E#")


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
    stored = backend.store.query(f"V#demo-shop#{visitor}")  # events and the AUTH item
    assert len(stored) == 4
    for item in stored:
        decoded = {**item, "d": msgpack.unpackb(item["d"])} if "d" in item else item
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
    assert [i["pc"] for i in _items(backend, visitor)] == [False]
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
    # Once a token was handed out, a batch without it (or with a forged one) is refused.
    for bad in (None, token[:-2] + "xx", again["visitor"]["token"].replace(visitor, "other")):
        status, _, body = post_events(backend, [event()], visitor=visitor, token=bad)
        assert status == 403, body
        assert body["message"] == f"events for visitor {visitor!r} need its token or device proof"
    assert len(_items(backend, visitor)) == 2


def test_a_visitor_known_from_before_device_proofs_is_accepted_without_a_token(
    backend: LocalBackend,
) -> None:
    # Given a visitor with data from before this change (a profile, no AUTH item)
    visitor = new_visitor()
    backend.store.put_item({"pk": f"V#demo-shop#{visitor}", "sk": "P", "segments": ["vip"]})
    # Then its batches are stored as before, but no token is handed out for a mere id
    status, _, body = post_events(backend, [event()], visitor=visitor)
    assert (status, body["accepted"], body["visitor"]["token"]) == (200, 1, None)
    assert backend.store.get_item(f"V#demo-shop#{visitor}", "AUTH") is None


def test_a_replayed_batch_rewrites_the_same_items(backend: LocalBackend) -> None:
    visitor, secret = new_visitor(), new_secret()
    batch = [event(), event("click", name="cta"), event("conversion")]
    for _ in range(3):
        status, _, body = post_events(backend, batch, visitor=visitor, proof=secret)
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


def _range_error(where: str, shown: str) -> str:
    return (
        f"{where}{shown} is outside the range the event store keeps "
        "(0, or a magnitude from 1e-130 to 9.99e125)"
    )


def test_a_number_out_of_the_stores_range_is_one_rejected_event(backend: LocalBackend) -> None:
    # Given a batch with numbers DynamoDB cannot hold (moto refuses them as the service does:
    # this batch used to be a 503 with Retry-After, retried forever, its good events lost)
    visitor = new_visitor()
    smallest = event("conversion", value=1e-130)  # the smallest magnitude the store keeps
    events = [
        smallest,
        event("conversion", value=1e-131),
        event("track", name="t", props={"score": 5e-324}),
        event("page_view", props={"xs": [1, {"big": 1e126}]}),
        event("page_view", props={"zero": 0.0, "max": 9.99e125}),
    ]
    status, _, body = post_events(backend, events, visitor=visitor)
    # Then no 5xx: the good events are stored and each bad one is rejected alone, by name
    assert status == 200, body
    assert body["accepted"] == 2
    assert body["rejected"] == [
        {"index": 1, "error": _range_error("events[1].value: ", "1e-131")},
        {"index": 2, "error": _range_error("events[2].props: at 'score': ", "5e-324")},
        {"index": 3, "error": _range_error("events[3].props: at 'xs[1].big': ", "1e+126")},
    ]
    stored = sorted(str(item["sk"]) for item in _items(backend, visitor))
    assert stored == sorted(f"E#{e['id']}" for e in (smallest, events[4]))


def test_an_event_the_store_refuses_as_invalid_is_rejected_alone_not_a_503(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given our number check switched off: the only way to reach the store's own refusal
    # (moto's ValidationException, a real server answer), which the check otherwise prevents
    monkeypatch.setattr(events_model, "number_problem", lambda value: None)
    visitor = new_visitor()
    events = [event(), event("conversion", value=1e-131), event("click", name="cta")]
    status, _, body = post_events(backend, events, visitor=visitor)
    # Then the refused event is found and rejected alone; the others are kept
    assert status == 200, body
    assert body["accepted"] == 2
    assert body["rejected"] == [{"index": 1, "error": (
        "events[1]: the event store refused it as invalid (ValidationException: Number "
        "underflow. Attempting to store a number with magnitude smaller than supported range)"
    )}]
    assert sorted(str(i["t"]) for i in _items(backend, visitor)) == ["click", "page_view"]


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def test_nan_and_infinity_are_rejected_per_event_and_the_export_stays_json(
    backend: LocalBackend,
) -> None:
    # Given a body with NaN and Infinity literals (Python's json reads them)
    visitor = new_visitor()
    events = [
        event(props={"rating": 4.5}),
        event(props={"rating": math.nan}),
        event(props={"scores": [1, -math.inf]}),
        event("conversion", value=math.nan),
        event("conversion", value=math.inf),
    ]
    status, _, body = post_events(backend, events, visitor=visitor)
    # Then each of them is rejected alone with a sentence
    assert status == 200 and body["accepted"] == 1, body
    nonfinite = "is not a finite number (JSON has no NaN or Infinity)"
    assert body["rejected"] == [
        {"index": 1, "error": f"events[1].props: at 'rating': nan {nonfinite}"},
        {"index": 2, "error": f"events[2].props: at 'scores[1]': -inf {nonfinite}"},
        {"index": 3, "error": f"events[3].value: nan {nonfinite}"},
        {"index": 4, "error": f"events[4].value: inf {nonfinite}"},
    ]
    # And the export is strict JSON
    headers = {"Authorization": f"Bearer {body['visitor']['token']}"}
    status, _, raw = backend.api("GET", "/v1/visitors/me", headers, None)
    export = json.loads(raw, parse_constant=_no_constants)
    assert status == 200 and [e["props"] for e in export["events"]] == [{"rating": 4.5}]


@pytest.mark.parametrize(
    ("given", "shown"),
    [("yes", "the string 'yes'"), ("on", "the string 'on'"), ("true", "the string 'true'"),
     (1, "the number 1"), (None, "null"), ({}, "an object")],
)
def test_only_a_json_boolean_is_consent(backend: LocalBackend, given: object, shown: str) -> None:
    visitor = new_visitor()
    consent: Any = {"analytics": given, "personalization": True}
    status, _, body = post_events(backend, [event()], visitor=visitor, consent=consent)
    assert status == 400
    assert body["message"] == (
        f"body.consent.analytics: must be true or false (a JSON boolean), not {shown}"
    )
    assert _items(backend, visitor) == []
    consent = {"analytics": True, "personalization": given}
    status, _, body = post_events(backend, [event()], visitor=visitor, consent=consent)
    assert status == 400 and body["message"].startswith("body.consent.personalization: ")


def test_an_event_id_resent_with_another_ts_is_stored_once(backend: LocalBackend) -> None:
    # Given an event, then the same id again with another time (a device clock that moved)
    visitor, secret = new_visitor(), new_secret()
    first = event("conversion")
    moved = {**first, "ts": iso(-60_000)}
    for sent in (first, moved):
        status, _, body = post_events(backend, [sent], visitor=visitor, proof=secret)
        assert (status, body["accepted"]) == (200, 1), body
    # Then one item holds it, keyed by the id alone, with the last time sent
    (stored,) = _items(backend, visitor)
    assert stored["sk"] == f"E#{first['id']}"
    assert stored["ts"] == _ms(moved["ts"])


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def test_a_body_with_a_number_too_long_to_read_is_a_400(backend: LocalBackend) -> None:
    body = '{"site": "demo-shop", "visitor": "v", "events": [], "n": ' + "1" * 5000 + "}"
    status, _, answer = call(
        backend, "POST", "/v1/events", body, headers={"Content-Type": "text/plain"}
    )
    assert (status, answer) == (400, {"message": "the body has a number longer than 4300 digits"})
