"""The data-access layer against real servers: moto's server and dynalite.

dynalite enforces DynamoDB's limits (item size, key validation) with the service's own
messages, so a test here fails if an item the API writes would be refused in AWS.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from lambdas.dal.store import Store
from lambdas.logic._events import check_events, event_item
from lambdas.logic._profile import merge_identity
from lambdas.models.errors import StoreError, StoreRejected, StoreUnavailable, WriteConflict
from tests.integration.conftest import make_store

NOW_MS = int(time.time() * 1000)


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def real_events(count: int, *, visitor: str = "v-1") -> list[dict[str, object]]:
    """Items as collect writes them, from events shaped like the snippet's."""
    raw: list[dict[str, object]] = []
    for i in range(count):
        kind = ("page_view", "exposure", "click", "conversion")[i % 4]
        event: dict[str, object] = {"id": str(uuid.uuid4()), "type": kind, "ts": _iso(NOW_MS - i)}
        if kind == "exposure":
            event |= {"experience": "evening-free-shipping", "variant": "free-shipping"}
        if kind == "conversion":
            event |= {"name": "purchase", "value": 129.9}
        event["props"] = {"path": f"/products/{i}", "title": "Tênis de corrida " * 3}
        raw.append(event)
    batch = check_events(raw, now_ms=NOW_MS, retention_days=395)
    assert not batch.rejected, batch.rejected
    return [
        event_item(e, ts, d, pk=f"V#demo#{visitor}", site="demo", vid=visitor, channel="web",
                   personalization=True, retention_days=395)
        for _, e, ts, d in batch.events
    ]


@pytest.fixture
def store(any_endpoint: tuple[str, str]) -> Store:
    kind, endpoint = any_endpoint
    return make_store(endpoint, kind=kind)


def test_batch_write_then_query_returns_every_item(store: Store) -> None:
    # Given 60 events (three BatchWriteItem groups: 25, 25, 10)
    items = real_events(60)
    # When they are written
    assert store.put_items(items) == 60
    # Then the partition holds exactly them, binary payloads intact
    got = store.query("V#demo#v-1", prefix="E#")
    assert sorted(i["sk"] for i in got) == sorted(i["sk"] for i in items)
    by_sk = {i["sk"]: i for i in items}
    assert all(g["d"] == by_sk[g["sk"]]["d"] for g in got)
    assert all(g["val"] == 129.9 for g in got if g["t"] == "conversion")


def test_replay_rewrites_the_same_keys(store: Store) -> None:
    items = real_events(5)
    store.put_items(items)
    store.put_items(items)
    assert len(store.query("V#demo#v-1")) == 5


def test_real_event_items_fit_one_write_unit(store: Store) -> None:
    # The ReturnConsumedCapacity of a PutItem is the service's own size verdict; dynalite
    # computes it like DynamoDB (1 unit per started KB), moto reports 1.0 as well.
    for item in real_events(8):
        body = json.dumps(item, default=str)
        assert len(body) < 1024, body
        store.put_item(item)
    resp = store.client.put_item(
        TableName=store.table,
        Item={"pk": {"S": "V#demo#x"}, "sk": {"S": "E#1"}, "d": {"B": real_events(1)[0]["d"]}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_get_items_and_delete_keys(store: Store) -> None:
    store.put_item({"pk": "V#demo#a", "sk": "P", "segments": ["vip"], "counts": {"page_view": 3}})
    store.put_item({"pk": "V#demo#a", "sk": "ALIAS", "customer": "c-1"})
    got = store.get_items([("V#demo#a", "P"), ("V#demo#a", "ALIAS"), ("V#demo#a", "nope")])
    assert set(got) == {("V#demo#a", "P"), ("V#demo#a", "ALIAS")}
    assert got[("V#demo#a", "P")]["counts"] == {"page_view": 3}
    assert store.delete_keys([("V#demo#a", "P"), ("V#demo#a", "ALIAS")]) == 2
    assert store.query("V#demo#a") == []


def test_what_the_store_refuses_as_invalid_is_store_rejected_not_unavailable(
    any_endpoint: tuple[str, str],
) -> None:
    # Input the store refuses can never succeed on a retry: not StoreUnavailable (a 503).
    kind, endpoint = any_endpoint
    store = make_store(endpoint, kind=kind, attempts=2)
    with pytest.raises(StoreRejected, match="ValidationException: Item size has exceeded"):
        store.put_items([{"pk": "V#demo#big", "sk": "E#1", "d": b"x" * 410_000}])
    with pytest.raises(StoreRejected, match="ValidationException: Number underflow"):
        store.put_items([{"pk": "V#demo#n", "sk": "E#1", "val": 1e-131}])
    with pytest.raises(StoreRejected, match="Number underflow"):
        store.put_item({"pk": "V#demo#n", "sk": "E#2", "val": 1e-131})
    assert store.put_each([{"pk": "V#demo#n", "sk": "E#3", "val": 1e-130},
                           {"pk": "V#demo#n", "sk": "E#4", "val": 1e-131}]) == {
        1: "the event store refused it as invalid (ValidationException: Number underflow. "
        "Attempting to store a number with magnitude smaller than supported range)"
    }
    assert [item["sk"] for item in store.query("V#demo#n")] == ["E#3"]
    assert store.retries == 0  # refused at once, never retried


def test_a_missing_table_is_a_store_error_not_unavailable(any_endpoint: tuple[str, str]) -> None:
    kind, endpoint = any_endpoint
    store = make_store(endpoint, kind=kind)
    missing = Store(store.client, f"{store.table}-missing", attempts=2)
    for write in (lambda: missing.put_items([{"pk": "a", "sk": "b"}]),
                  lambda: missing.get_item("a", "b")):
        with pytest.raises(StoreError, match="ResourceNotFoundException") as caught:
            write()
        assert not isinstance(caught.value, StoreUnavailable | StoreRejected)


def test_conditional_writes_detect_a_changed_item(store: Store) -> None:
    store.put_item({"pk": "V#demo#c", "sk": "P", "counts": {"page_view": 1}})
    seen = store.get_item("V#demo#c", "P")
    assert seen is not None
    # Another writer (the aggregator) adds a page view after we read
    store.put_item({"pk": "V#demo#c", "sk": "P", "counts": {"page_view": 2}})
    with pytest.raises(WriteConflict):
        store.set_if_unchanged("V#demo#c", "P", {"merged_into": "C#demo#x"}, previous=seen)
    with pytest.raises(WriteConflict):
        store.put_if_unchanged({"pk": "V#demo#c", "sk": "P"}, previous=seen)
    with pytest.raises(WriteConflict):
        store.put_if_unchanged({"pk": "V#demo#c", "sk": "P"}, previous=None)
    fresh = store.get_item("V#demo#c", "P")
    assert fresh is not None
    store.set_if_unchanged("V#demo#c", "P", {"merged_into": "C#demo#x"}, previous=fresh)
    assert store.get_item("V#demo#c", "P") == {**fresh, "merged_into": "C#demo#x"}


class RacingStore(Store):
    """Adds a page view to the visitor profile right after identify reads it, once: what
    the aggregator would do if a stream batch landed in that instant."""

    raced = False

    def get_item(self, pk: str, sk: str) -> dict[str, object] | None:
        item = super().get_item(pk, sk)
        if pk.startswith("V#") and not self.raced:
            self.raced = True
            self.client.update_item(
                TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}},
                UpdateExpression="SET #c.#p = #c.#p + :one",
                ExpressionAttributeNames={"#c": "counts", "#p": "page_view"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        return item


def test_identify_loses_no_count_to_a_concurrent_aggregator(
    any_endpoint: tuple[str, str],
) -> None:
    kind, endpoint = any_endpoint
    base = make_store(endpoint, kind=kind)
    store = RacingStore(base.client, base.table)
    store.put_item({"pk": "V#demo#v", "sk": "P", "counts": {"page_view": 3}})
    store.put_item({"pk": "C#demo#c", "sk": "P", "counts": {"page_view": 1}})
    assert merge_identity(store, site="demo", customer="c", visitor="v", channel="crm",
                          traits={}, now=1) is True
    merged = store.get_item("C#demo#c", "P")
    assert merged is not None and merged["counts"] == {"page_view": 5}  # 1 + 3 + the racer's 1
    assert merged["merged_from"] == ["v"]
    # A retried identify adds nothing twice
    assert merge_identity(store, site="demo", customer="c", visitor="v", channel="crm",
                          traits={}, now=2) is False
    assert store.get_item("C#demo#c", "P")["counts"] == {"page_view": 5}  # type: ignore[index]


def test_a_changed_list_or_scalar_is_a_conflict_too(store: Store) -> None:
    store.put_item({"pk": "V#demo#l", "sk": "P", "counts": {"a": 1}, "recent": ["x"], "visits": 1})
    seen = store.get_item("V#demo#l", "P")
    assert seen is not None
    store.put_item({**seen, "recent": ["y", "x"]})
    with pytest.raises(WriteConflict):
        store.set_if_unchanged("V#demo#l", "P", {"merged_into": "C#demo#x"}, previous=seen)
    seen = store.get_item("V#demo#l", "P")
    assert seen is not None
    store.put_item({**seen, "visits": 2})
    with pytest.raises(WriteConflict):
        store.put_if_unchanged({"pk": "V#demo#l", "sk": "P"}, previous=seen)
