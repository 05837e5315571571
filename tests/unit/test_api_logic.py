"""The API's pure pieces: visitor tokens, per-event validation, profile merging."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.logic import tokens
from lambdas.logic._events import check_events, decode_event, event_item
from lambdas.logic._profile import merge_profiles

KEY = b"0123456789abcdef0123456789abcdef"
NOW = 1_795_000_000
NOW_MS = NOW * 1000


@pytest.mark.parametrize("visitor", ["3f2b8c1e-0000-4000-8000-000000000000", "a.b.c", "x:y@z"])
def test_a_token_round_trips_for_any_allowed_visitor_id(visitor: str) -> None:
    token = tokens.sign(KEY, site="demo-shop", visitor=visitor, now=NOW)
    assert tokens.verify(KEY, token, now=NOW + 60) == tokens.Claims("demo-shop", visitor, NOW)


def test_a_token_is_refused_when_tampered_expired_early_or_keyed_otherwise() -> None:
    token = tokens.sign(KEY, site="demo-shop", visitor="v1", now=NOW)
    assert tokens.verify(KEY, token.replace("demo-shop", "demo-shoq"), now=NOW) is None
    assert tokens.verify(KEY, token.replace(".v1.", ".v2."), now=NOW) is None
    assert tokens.verify(b"another key, also 32 bytes long!", token, now=NOW) is None
    assert tokens.verify(KEY, token, now=NOW + tokens.MAX_AGE_SECONDS + 1) is None
    assert tokens.verify(KEY, token, now=NOW - 3600) is None  # issued in the future


@given(st.text(max_size=200))
def test_verify_never_raises_on_garbage(text: str) -> None:
    assert tokens.verify(KEY, text, now=NOW) is None


def _respell(token: str, issued: str) -> str:
    head, _, rest = token.partition(f".{NOW}.")
    return f"{head}.{issued}.{rest}"


@pytest.mark.parametrize(
    "issued",
    [
        "\uff11\uff17\uff19\uff15\uff10\uff10\uff10\uff10\uff10\uff10",  # fullwidth
        f"0{NOW}",  # a leading zero
        "\u0661\u0667\u0669\u0665\u0660\u0660\u0660\u0660\u0660\u0660",  # Arabic-Indic
        "\u00b2" * 10,  # superscript twos: str.isdigit says yes, int() raises
        "1" * 13,  # longer than any epoch second the tokens will see
    ],
)
def test_a_token_has_one_spelling_of_its_issue_time(issued: str) -> None:
    token = tokens.sign(KEY, site="demo-shop", visitor="v-1", now=NOW)
    assert tokens.verify(KEY, _respell(token, str(NOW)), now=NOW) is not None
    assert tokens.verify(KEY, _respell(token, issued), now=NOW) is None


def test_only_the_canonical_base64url_signature_verifies() -> None:
    token = tokens.sign(KEY, site="demo-shop", visitor="v-1", now=NOW)
    body, signature = token.rsplit(".", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # The last character carries 4 bits and 2 zero bits: these 3 decode to the same bytes.
    last = alphabet.index(signature[-1])
    same_bytes = [alphabet[last | low] for low in (1, 2, 3)]
    for variant in (*(signature[:-1] + c for c in same_bytes), signature + "=", signature + "\n"):
        assert tokens.verify(KEY, f"{body}.{variant}", now=NOW) is None


def _iso(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat()


def test_event_timestamps_must_be_recent_and_not_far_in_the_future() -> None:
    raw = [
        {"id": "ok", "type": "page_view", "ts": _iso(NOW_MS - 3_600_000)},
        {"id": "future", "type": "page_view", "ts": _iso(NOW_MS + 2 * 86_400_000)},
        {"id": "old", "type": "page_view", "ts": _iso(NOW_MS - 40 * 86_400_000)},
        {"id": "bad", "type": "page_view", "ts": "yesterday at noon"},
        {"id": "naive", "type": "page_view", "ts": "2026-11-18T10:00:00"},
    ]
    batch = check_events(raw, now_ms=NOW_MS, retention_days=30)
    assert [e.id for _, e, _, _ in batch.events] == ["ok", "naive"]
    errors = {r.index: r.error for r in batch.rejected}
    assert "more than a day in the future" in errors[1]
    assert "older than the 30-day retention" in errors[2]
    assert "'yesterday at noon' is not an ISO-8601" in errors[3]


def test_an_item_decodes_back_to_the_event() -> None:
    raw = {
        "id": "e-1",
        "type": "conversion",
        "ts": "2026-11-18T10:00:00.250Z",
        "name": "purchase",
        "value": 12.5,
        "props": {"items": ["a", "b"]},
    }
    [(_, event, ts, packed)] = check_events([raw], now_ms=NOW_MS, retention_days=30).events
    item = event_item(
        event,
        ts,
        packed,
        pk="V#s#v",
        site="s",
        vid="v",
        channel="web",
        personalization=False,
        retention_days=30,
    )
    assert item["sk"] == "E#e-1" and item["ts"] == ts and item["ttl"] == ts // 1000 + 30 * 86_400
    assert msgpack.unpackb(item["d"]) == {"id": "e-1", "props": {"items": ["a", "b"]}}
    assert decode_event(item) == {
        "id": "e-1",
        "type": "conversion",
        "ts": "2026-11-18T10:00:00.250000Z",
        "channel": "web",
        "props": {"items": ["a", "b"]},
        "name": "purchase",
        "value": 12.5,
    }


def test_props_over_the_limit_are_rejected_with_the_size() -> None:
    raw = {"id": "e", "type": "track", "name": "n", "ts": _iso(NOW_MS), "props": {"x": "y" * 3000}}
    batch = check_events([raw], now_ms=NOW_MS, retention_days=30)
    assert batch.rejected[0].error == (
        "events[0]: props are too large (3,006 bytes stored; the limit is 224)"
    )


def test_merging_profiles_adds_counts_and_keeps_the_targets_assignment() -> None:
    target = {"counts": {"page_view": 1}, "assign": {"x": "a"}, "segments": ["s2"], "value": 5}
    source = {
        "counts": {"page_view": 2, "click": 1},
        "assign": {"x": "b", "y": "c"},
        "segments": ["s1"],
        "expo": {"x": 3},
        "value": 1.5,
        "merged_into": "C#s#c",
    }
    merged = merge_profiles(target, source)
    assert merged == {
        "counts": {"page_view": 3, "click": 1},
        "expo": {"x": 3},
        "assign": {"x": "a", "y": "c"},
        "segments": ["s1", "s2"],
        "value": 6.5,
    }


def test_numbers_are_checked_however_deep_the_props_nest() -> None:
    # Deeper than Python's recursion limit, as JSON allows: a sentence, never a crash
    deep: object = 1e-200
    for _ in range(3000):
        deep = {"a": [deep]}
    raw = {"id": "e", "type": "page_view", "ts": _iso(NOW_MS), "props": deep}
    (rejected,) = check_events([raw], now_ms=NOW_MS, retention_days=30).rejected
    assert rejected.error.startswith("events[0].props: at 'a[0].a[0].")
    assert rejected.error.endswith("...': 1e-200 is outside the range the event store keeps "
                                   "(0, or a magnitude from 1e-130 to 9.99e125)")
