"""The aggregate Lambda fed by moto's real DynamoDB Streams API (through the local poller)."""

from __future__ import annotations

import pytest

from infra.local.loops import StreamPoller
from lambdas.dal.client import make_client
from lambdas.dal.counters import DynamoCounters
from lambdas.handlers import aggregate
from tests.integration._learn_env import Learn, put_event, start_learn

DAY = "2026-11-18"  # the UTC day of put_event's default ts


@pytest.fixture(scope="module")
def endpoint(moto_endpoint: str) -> str:
    # the session's moto server from conftest.py; each test gets its own table and bucket
    return moto_endpoint


@pytest.fixture
def learn(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Learn:
    return start_learn(endpoint, monkeypatch)


@pytest.fixture
def poller(learn: Learn) -> StreamPoller:
    return StreamPoller(learn.table, aggregate.handler, client=(learn.dynamodb, learn.streams))


def _counters(learn: Learn) -> DynamoCounters:
    return DynamoCounters(make_client(learn.endpoint), learn.table, shards=2)


def _profile(learn: Learn, visitor: str) -> dict:
    raw = learn.dynamodb.get_item(
        TableName=learn.table, Key={"pk": {"S": f"V#shop#{visitor}"}, "sk": {"S": "P"}}
    )["Item"]
    from boto3.dynamodb.types import TypeDeserializer

    return {k: TypeDeserializer().deserialize(v) for k, v in raw.items()}


def test_exposures_visitors_and_attributed_conversions(learn: Learn, poller: StreamPoller) -> None:
    # Given v1 exposed twice to variant a, v2 once to b, and v1 buying twice for 100 + 50
    put_event(learn, visitor="v1", event_id="e1", kind="exposure", exp="hero", var="a")
    put_event(learn, visitor="v1", event_id="e2", kind="exposure", exp="hero", var="a")
    put_event(learn, visitor="v2", event_id="e3", kind="exposure", exp="hero", var="b")
    put_event(
        learn,
        visitor="v1",
        event_id="e4",
        kind="conversion",
        n="purchase",
        val=100,
        props={"items": ["sku-1"]},
    )
    put_event(learn, visitor="v1", event_id="e5", kind="conversion", n="purchase", val=50)
    # When the stream is read
    assert poller.poll_once() == 5
    # Then visitors count once each, conversions go to v1's variant, converters once
    snap = _counters(learn).snapshot("shop")
    a, b = snap.variants[("hero", "a")], snap.variants[("hero", "b")]
    assert (a["visitors"], a["exposures"]) == (1, 2)
    assert (a["conversions"], a["value"], a["c:purchase"], a["u:purchase"]) == (2, 150, 2, 1)
    assert (b["visitors"], b["exposures"], b.get("conversions", 0)) == (1, 1, 0)
    assert snap.items["sku-1"]["purchases"] == 1
    # And every answer reported no failure
    assert all(answer == {"batchItemFailures": []} for answer in poller.answers)


def test_replays_are_not_counted_twice(learn: Learn, poller: StreamPoller) -> None:
    put_event(learn, visitor="v1", event_id="e1", kind="exposure", exp="hero", var="a")
    poller.poll_once()
    # Given the browser retried the same batch: the same keys are written again (MODIFY)
    put_event(learn, visitor="v1", event_id="e1", kind="exposure", exp="hero", var="a")
    put_event(learn, visitor="v1", event_id="e1", kind="exposure", exp="hero", var="a")
    # When the stream is read again, nothing is handed over and nothing moves
    assert poller.poll_once() == 0
    variant = _counters(learn).snapshot("shop").variants[("hero", "a")]
    assert (variant["visitors"], variant["exposures"]) == (1, 1)
    # And a second poller reading the whole stream again (a redelivered batch) counts
    # visitors once: the marker's conditional put holds
    again = StreamPoller(learn.table, aggregate.handler, client=(learn.dynamodb, learn.streams))
    assert again.poll_once() == 1
    variant = _counters(learn).snapshot("shop").variants[("hero", "a")]
    assert variant["visitors"] == 1


def test_partial_batch_failure_reports_and_retries_only_the_rest(
    learn: Learn, poller: StreamPoller
) -> None:
    # Given three views; the second names an item id too long for a DynamoDB sort key, so
    # the real server refuses its counter write (ValidationException)
    put_event(learn, visitor="v1", event_id="e1", kind="page_view", props={"item": "a"})
    put_event(learn, visitor="v1", event_id="e2", kind="page_view", props={"item": "x" * 1500})
    put_event(learn, visitor="v2", event_id="e3", kind="page_view", props={"item": "b"})
    # When the batch is handled
    poller.poll_once()
    first = poller.answers[0]
    # Then the failed record and the one after it are reported (Lambda re-reads from the
    # lowest failed sequence number, so later records must not be counted yet)
    assert len(first["batchItemFailures"]) == 2
    snap = _counters(learn).snapshot("shop")
    assert snap.items["a"]["views"] == 1 and "b" not in snap.items
    # When the poller retries until it gives up on the poison record
    for _ in range(4):
        poller.poll_once()
    # Then the record after it is counted exactly once, the first one still once
    snap = _counters(learn).snapshot("shop")
    assert snap.items["a"]["views"] == 1 and snap.items["b"]["views"] == 1
    assert poller.skipped == 1


def test_profile_features_co_views_and_histograms(learn: Learn, poller: StreamPoller) -> None:
    # Given one visitor viewing three items, then buying for 300
    for n, item in enumerate(["a", "b", "c"]):
        put_event(learn, visitor="v1", event_id=f"p{n}", kind="page_view", props={"item": item})
    put_event(learn, visitor="v1", event_id="buy", kind="conversion", n="purchase", val=300)
    # And another visitor without personalization consent viewing a (no profile, no co-view)
    put_event(
        learn,
        visitor="v2",
        event_id="q1",
        kind="page_view",
        props={"item": "a"},
        personalization=False,
    )
    put_event(
        learn,
        visitor="v2",
        event_id="q2",
        kind="page_view",
        props={"item": "b"},
        personalization=False,
    )
    poller.poll_once()
    profile = _profile(learn, "v1")
    assert profile["recent"] == ["c", "b", "a"]
    assert (profile["visits"], profile["value"]) == (1, 300)
    assert profile["counts"] == {"page_view": 3, "conversion": 1, "purchase": 1}
    snap = _counters(learn).snapshot("shop")
    assert snap.co_views["c"] == {"a": 1, "b": 1}
    assert snap.co_views["a"] == {"b": 1, "c": 1}
    assert snap.items["a"]["views"] == 2
    assert sum(snap.histograms["value"].values()) == 1
    assert sum(snap.histograms["purchases"].values()) == 1
    with pytest.raises(KeyError):
        _profile(learn, "v2")


def test_segment_rules_reach_profiles_and_segment_views(learn: Learn, poller: StreamPoller) -> None:
    counters = _counters(learn)
    counters.put_segment_rules("shop", {"high_value": {"feature": "value", "min": 200.0}})
    aggregate.reset()  # a cold start picks the rules up (they are cached for 5 minutes)
    put_event(learn, visitor="v1", event_id="buy", kind="conversion", n="purchase", val=250)
    put_event(
        learn,
        visitor="v1",
        event_id="view",
        kind="page_view",
        props={"item": "a"},
        ts_ms=1_795_000_100_000,
    )
    poller.poll_once()
    assert _profile(learn, "v1")["segments"] == ["high_value"]
    assert counters.snapshot("shop").items["a"]["views@high_value"] == 1


def test_poller_thread_starts_and_stops(learn: Learn) -> None:
    poller = StreamPoller(
        learn.table, aggregate.handler, client=(learn.dynamodb, learn.streams), interval=0.05
    )
    with poller:
        put_event(learn, visitor="v1", event_id="e1", kind="exposure", exp="hero", var="a")
        import time

        deadline = time.monotonic() + 10
        while poller.delivered < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert poller.delivered == 1
    assert poller._thread is None


def test_report_counters_on_the_real_table(learn: Learn, poller: StreamPoller) -> None:
    # Given a first exposure on mobile, a later one on desktop, two purchases and a click
    mobile = {"device": "mobile", "journey": "cart", "returning": True}
    put_event(learn, visitor="v1", event_id="e1", kind="exposure", exp="hero", var="a",
              props=mobile)  # fmt: skip
    put_event(learn, visitor="v1", event_id="e2", kind="exposure", exp="hero", var="a",
              props={**mobile, "device": "desktop"})  # fmt: skip
    put_event(learn, visitor="v1", event_id="e3", kind="conversion", n="purchase", val=30)
    put_event(learn, visitor="v1", event_id="e4", kind="conversion", n="purchase", val=20)
    put_event(learn, visitor="v1", event_id="e5", kind="click", exp="hero", var="a", n="cta")
    assert poller.poll_once() == 5
    # When the whole stream is delivered again (a redelivered batch)
    again = StreamPoller(learn.table, aggregate.handler, client=(learn.dynamodb, learn.streams))
    again.poll_once()
    # Then the visitor's rows sit in the first exposure's cell (the marker came back with
    # the refused conditional put), and the running total stayed exact
    rows = _counters(learn).variant_rows("shop", "hero")
    cells = {(r.labels.get("dev"), r.labels.get("stage"), r.labels.get("nr")) for r in rows}
    assert cells == {("mobile", "cart", "returning")}
    total: dict[str, float] = {}
    for row in rows:
        for name, delta in row.deltas.items():
            total[name] = total.get(name, 0.0) + delta
    assert (total["visitors"], total["u:purchase"], total["clickers"]) == (1, 1, 1)
    marker = learn.dynamodb.get_item(
        TableName=learn.table, Key={"pk": {"S": "V#shop#v1"}, "sk": {"S": "MC#hero#purchase"}}
    )["Item"]
    assert (marker["tot"]["N"], marker["n"]["N"], marker["dim"]["S"]) == (
        "50", "2", "mobile#cart#returning",
    )  # fmt: skip
    assert sorted(marker["ids"]["SS"]) == ["e3", "e4"]
    # q moved by 30^2 and 50^2 - 30^2; the redelivery added both increments again as if each
    # came last (plain row counters are at-least-once under redelivery, TABLE.md)
    assert total["q:purchase"] == 2500.0 + (50**2 - 20**2) + (50**2 - 30**2)
    # And the personalized side counted the visitor once
    shown = _counters(learn).variant_rows("shop", "__personalized__")
    assert sum(r.deltas.get("visitors", 0.0) for r in shown) == 1
