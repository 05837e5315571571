"""Hypothesis over the request model: whatever arrives, no 5xx, and every 4xx says why.

Requests are built near the model (right keys, wrong values, stray types, huge strings,
bad timestamps), where bugs hide, plus arbitrary bytes.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.local.stack import LocalBackend
from tests.integration._api import ORIGIN, iso

json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ids = st.uuids().map(str) | st.text(max_size=140) | st.integers() | st.none()
timestamps = (
    st.just(iso())
    | st.datetimes().map(lambda d: d.isoformat())
    | st.text(max_size=45)
    | st.integers()
)
events = st.fixed_dictionaries(
    {"id": ids, "type": st.sampled_from(["page_view", "exposure", "conversion", "click",
                                          "track", "identify", "consent", "nope"]) | json_value,
     "ts": timestamps},
    optional={
        "props": st.dictionaries(st.text(max_size=10), json_value, max_size=6)
        | json_value
        | st.just({"big": "x" * 5000}),
        "experience": st.text(max_size=200) | json_value,
        "variant": st.text(max_size=200),
        "name": st.text(max_size=200) | json_value,
        "value": st.floats(allow_nan=True, allow_infinity=True) | st.integers() | json_value,
        "user_id": ids,
    },
)
envelopes = st.fixed_dictionaries(
    {"site": st.sampled_from(["demo-shop", "unknown-site", "", "Demo Shop"]) | json_value,
     "events": st.lists(events | json_value, max_size=8) | json_value},
    optional={
        "visitor": ids,
        "token": st.text(max_size=80) | json_value,
        "proof": st.from_regex(r"[A-Za-z0-9_-]{43}", fullmatch=True) | st.text(max_size=50)
        | json_value,
        "consent": st.fixed_dictionaries(
            {}, optional={"analytics": st.booleans() | json_value,
                          "personalization": st.booleans()},
        ) | json_value,
        "sent_at": st.text(max_size=50) | json_value,
        "channel": st.sampled_from(["crm", "store", "BAD CHANNEL"]),
        "customer": ids,
    },
)
bodies = envelopes.map(lambda e: json.dumps(e, allow_nan=True).encode()) | st.binary(max_size=300)


def _check(status: int, body: bytes) -> None:
    assert status < 500, body
    if status >= 400:
        message = json.loads(body)["message"]
        assert isinstance(message, str) and len(message.split()) >= 3, message


@given(body=bodies, origin=st.sampled_from([ORIGIN, None, "https://evil.example"]))
@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_collect_never_answers_5xx(backend: LocalBackend, body: bytes, origin: str | None) -> None:
    headers = {"Content-Type": "text/plain"} | ({"Origin": origin} if origin else {})
    status, _, answer = backend.api("POST", "/v1/events", headers, body)
    _check(status, answer)
    if status == 200:
        parsed: dict[str, Any] = json.loads(answer)
        assert all(r["error"].startswith("events[") for r in parsed["rejected"])


@given(body=bodies, key=st.sampled_from(["demo-ingest-key", "wrong", ""]))
@settings(max_examples=80, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_ingest_never_answers_5xx(backend: LocalBackend, body: bytes, key: str) -> None:
    status, _, answer = backend.api("POST", "/v1/ingest", {"x-api-key": key}, body)
    _check(status, answer)


@given(auth=st.text(max_size=120) | st.just("Bearer v1.demo-shop.1.x.y")
       | st.from_regex(r"Proof v1\.[a-z-]{1,9}\.[a-z.]{1,9}\.[A-Za-z0-9_-]{40,45}", fullmatch=True),
       method=st.sampled_from(["GET", "DELETE"]))
@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_privacy_never_answers_5xx(backend: LocalBackend, auth: str, method: str) -> None:
    status, _, answer = backend.api(method, "/v1/visitors/me", {"Authorization": auth}, None)
    assert status == 401, answer
    _check(status, answer)
