"""Throttling and UnprocessedItems: retried with backoff, nothing lost, or refused whole.

A real server cannot be made to throttle on demand, so these go through the
fault-injecting proxy in `_faults.py`, in front of a real moto server: whatever is written
is really written, and the test reads it back from moto.
"""

from __future__ import annotations

import pytest

from lambdas.dal.store import Store
from lambdas.models.errors import StoreUnavailable
from tests.integration._faults import FaultProxy
from tests.integration.conftest import make_store
from tests.integration.test_dal_store import real_events


@pytest.fixture
def proxy(fault_proxy: FaultProxy) -> FaultProxy:
    fault_proxy.clear()
    return fault_proxy


@pytest.fixture
def store(proxy: FaultProxy) -> Store:
    delays: list[float] = []
    store = make_store(proxy.endpoint, attempts=5, sleep=delays.append)
    store.delays = delays  # type: ignore[attr-defined]
    return store


def _direct(store: Store, backend_endpoint: str) -> Store:
    """The same table read straight from moto, past the proxy."""
    import boto3

    client = boto3.client("dynamodb", endpoint_url=backend_endpoint, region_name="us-east-1")
    return Store(client, store.table)


def test_unprocessed_items_are_retried_until_all_are_written(
    store: Store, proxy: FaultProxy, backend: object
) -> None:
    # Given DynamoDB leaves half of each of the next 3 batches unprocessed
    proxy.unprocess["BatchWriteItem"] = 3
    items = real_events(40)
    # When 40 events are written (groups of 25 and 15)
    store.put_items(items)
    # Then every one of them is in the table, and the retries backed off with jitter
    stored = _direct(store, backend.endpoint_url).query("V#demo#v-1")  # type: ignore[attr-defined]
    assert sorted(i["sk"] for i in stored) == sorted(i["sk"] for i in items)
    assert store.retries == 3
    delays = store.delays  # type: ignore[attr-defined]
    assert len(delays) == 3 and all(0 <= d <= store.max_delay for d in delays)


def test_throttling_is_retried_and_nothing_is_lost(
    store: Store, proxy: FaultProxy, backend: object
) -> None:
    proxy.throttle["BatchWriteItem"] = 2
    items = real_events(10)
    store.put_items(items)
    assert proxy.calls["BatchWriteItem"] == 3
    stored = _direct(store, backend.endpoint_url).query("V#demo#v-1")  # type: ignore[attr-defined]
    assert len(stored) == 10


def test_a_store_that_keeps_refusing_raises_store_unavailable(
    store: Store, proxy: FaultProxy
) -> None:
    proxy.throttle["BatchWriteItem"] = 100
    with pytest.raises(StoreUnavailable, match="busy"):
        store.put_items(real_events(3))
    # Bounded: exactly `attempts` tries, then the caller is told.
    assert proxy.calls["BatchWriteItem"] == store.attempts


def test_reads_are_retried_when_throttled(store: Store, proxy: FaultProxy) -> None:
    store.put_item({"pk": "V#demo#r", "sk": "P", "segments": ["a"]})
    proxy.throttle["GetItem"] = 2
    assert store.get_item("V#demo#r", "P") == {"pk": "V#demo#r", "sk": "P", "segments": ["a"]}
