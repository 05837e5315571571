"""DESIGN §10: a stored event is one DynamoDB write unit (item <= 1 KB), guaranteed.

The worst accepted event (every id, name and the channel at its bound, a 17-digit value,
props exactly at the limit) is built, written to a real table and sized by the servers
themselves: moto's own item size, and dynalite's consumed write capacity (dynalite
implements DynamoDB's sizing rules). A control one byte of props over shows the
measurement can fail.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import msgpack
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

from infra.local.stack import LocalBackend
from lambdas.dal.store import Store, _to_attr
from lambdas.logic._events import check_events, event_item, item_size
from lambdas.models.events import MAX_ITEM_BYTES, MAX_NAME_BYTES, MAX_PROPS_BYTES, Event
from tests.integration._api import event, new_visitor, post_events
from tests.integration.conftest import make_store

__all__: list[str] = []

NOW_MS = int(time.time() * 1000) // 1000 * 1000 + 123  # 13 significant digits
SITE = "s" * 64
OWNER = "c" * 64


def _props(size: int) -> dict[str, Any]:
    # {"p": "xx..."}: the string's header grows at 256, so find the fill that lands on size.
    for fill in range(size - 6, size - 2):
        props = {"p": "x" * fill}
        if len(msgpack.packb(props, use_bin_type=True)) == size:
            return props
    raise AssertionError(f"no props of exactly {size} bytes")


def _raw(props_bytes: int) -> dict[str, Any]:
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(NOW_MS / 1000)) + ".123Z"
    return {
        "id": "e" * 64,
        "type": "conversion",  # the longest type name
        "ts": ts,
        "experience": "x" * MAX_NAME_BYTES,
        "variant": "v" * MAX_NAME_BYTES,
        "name": "n" * MAX_NAME_BYTES,
        "value": -0.12345678901234567,  # a float's most significant digits
        "user_id": "u" * 64,
        "props": _props(props_bytes),
    }


def _item(props_bytes: int) -> dict[str, Any]:
    raw = _raw(props_bytes)
    batch = check_events([raw], now_ms=NOW_MS, retention_days=395)
    if batch.events:
        _, checked, ts_ms, packed = batch.events[0]
    else:  # the control: bypass the check to measure what it keeps out
        checked = Event.model_validate(raw)
        ts_ms = NOW_MS
        packed = msgpack.packb(
            {"id": checked.id, "props": checked.props, "user_id": checked.user_id},
            use_bin_type=True,
        )
    return event_item(
        checked,
        ts_ms,
        packed,
        pk=f"C#{SITE}#{OWNER}",
        site=SITE,
        vid=OWNER,
        channel="c" * 32,
        personalization=True,
        retention_days=395,
    )


def test_the_worst_accepted_event_fits_and_one_byte_more_of_props_is_rejected() -> None:
    worst = _item(MAX_PROPS_BYTES)
    assert item_size(worst) <= MAX_ITEM_BYTES
    batch = check_events([_raw(MAX_PROPS_BYTES + 1)], now_ms=NOW_MS, retention_days=395)
    assert batch.events == []
    assert batch.rejected[0].error == (
        f"events[0]: props are too large ({MAX_PROPS_BYTES + 1:,} bytes stored; "
        f"the limit is {MAX_PROPS_BYTES:,})"
    )


def test_moto_sizes_the_stored_worst_case_within_one_kilobyte(moto_endpoint: str) -> None:
    store = make_store(moto_endpoint)
    sizes = {}
    for label, props_bytes in (("worst", MAX_PROPS_BYTES), ("control", 400)):
        item = _item(props_bytes)
        store.put_items([item])
        stored = (
            dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
            .get_table(store.table)
            .get_item(DynamoType({"S": item["pk"]}), DynamoType({"S": item["sk"]}))
        )
        assert stored is not None
        # moto counts a number by its text (20 bytes for the value here, DynamoDB 11):
        # coarser than DynamoDB, so fitting moto's count leaves a margin.
        sizes[label] = stored.size()
    assert sizes["worst"] <= MAX_ITEM_BYTES < sizes["control"]


def test_dynalite_charges_one_write_unit_for_the_worst_case(dynalite_endpoint: str) -> None:
    store: Store = make_store(dynalite_endpoint, kind="dynalite")
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynalite_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    units = {}
    for label, props_bytes in (("worst", MAX_PROPS_BYTES), ("control", MAX_PROPS_BYTES + 40)):
        answer = client.put_item(
            TableName=store.table,
            Item=_to_attr(_item(props_bytes)),
            ReturnConsumedCapacity="TOTAL",
        )
        units[label] = answer["ConsumedCapacity"]["CapacityUnits"]
    assert units == {"worst": 1.0, "control": 2.0}


def test_the_api_rejects_oversized_props_alone_and_keeps_the_rest(backend: LocalBackend) -> None:
    visitor = new_visitor()
    events = [event("page_view"), event("click", props=_props(MAX_PROPS_BYTES + 70))]
    status, _, body = post_events(backend, events, visitor=visitor)
    assert status == 200
    assert body["accepted"] == 1
    assert body["rejected"] == [
        {
            "index": 1,
            "error": f"events[1]: props are too large ({MAX_PROPS_BYTES + 70:,} bytes stored; "
            f"the limit is {MAX_PROPS_BYTES:,})",
        }
    ]
    stored = backend.store.query(f"V#demo-shop#{visitor}", prefix="E#")
    assert [item["t"] for item in stored] == ["page_view"]


def test_names_are_bounded_in_bytes_and_ids_in_characters() -> None:
    base = _raw(10)
    wide = base | {"name": "é" * 33}  # 33 characters, 66 bytes in UTF-8
    long_user = base | {"id": "e2", "user_id": "u" * 65}
    batch = check_events([wide, long_user], now_ms=NOW_MS, retention_days=395)
    assert batch.events == []
    assert batch.rejected[0].error == "events[0].name: is 66 bytes in UTF-8; the limit is 64"
    assert batch.rejected[1].error.startswith("events[1].user_id: String should match pattern")
