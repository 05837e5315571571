"""Per-event validation and the stored item shape (TABLE.md: event).

>>> batch = check_events([{"id": "a", "type": "page_view", "ts": "2026-01-01T00:00:00Z"},
...                       {"id": "a", "type": "page_view", "ts": "2026-01-01T00:00:00Z"},
...                       {"type": "click"}], now_ms=1_767_225_600_000, retention_days=30)
>>> (len(batch.events), batch.duplicates, batch.rejected[0].index)
(1, 1, 2)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgpack
from pydantic import ValidationError

from lambdas.dal.store import Item, Store
from lambdas.models.errors import StoreRejected
from lambdas.models.events import MAX_PROPS_BYTES, Event, Rejected

__all__ = [
    "CheckedBatch",
    "check_events",
    "decode_event",
    "event_item",
    "item_size",
    "sentence",
    "store_events",
]

_FUTURE_MS = 86_400_000  # device clocks drift; more than a day ahead is a bug, not drift


@dataclass(slots=True)
class CheckedBatch:
    # (index in the request, event, ts in ms, packed `d` payload)
    events: list[tuple[int, Event, int, bytes]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0


def sentence(exc: ValidationError, *, prefix: str) -> str:
    """The first problem of a pydantic error as one sentence naming where it is."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    path = f"{prefix}.{where}" if where else prefix
    return f"{path}: {message}"


def _ts_ms(text: str) -> int:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _check_one(
    raw: Any, index: int, *, now_ms: int, retention_days: int
) -> tuple[Event, int, bytes]:
    where = f"events[{index}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: an event must be a JSON object, got {type(raw).__name__}")
    try:
        event = Event.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(sentence(exc, prefix=where)) from exc
    try:
        ts_ms = _ts_ms(event.ts)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{where}.ts: {event.ts!r} is not an ISO-8601 date and time") from exc
    if ts_ms > now_ms + _FUTURE_MS:
        raise ValueError(f"{where}.ts: {event.ts} is more than a day in the future")
    if ts_ms < now_ms - retention_days * 86_400_000 or ts_ms < 0:
        raise ValueError(f"{where}.ts: {event.ts} is older than the {retention_days}-day retention")
    try:
        props = msgpack.packb(event.props, use_bin_type=True)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"{where}.props: cannot be stored ({exc})") from exc
    if len(props) > MAX_PROPS_BYTES:
        # The bound that keeps the whole item within one write unit (models/events.py).
        raise ValueError(
            f"{where}: props are too large ({len(props):,} bytes stored; "
            f"the limit is {MAX_PROPS_BYTES:,})"
        )
    payload: dict[str, Any] = {"id": event.id, "props": event.props}
    if event.user_id:
        payload["user_id"] = event.user_id
    return event, ts_ms, msgpack.packb(payload, use_bin_type=True)


def check_events(raw_events: list[Any], *, now_ms: int, retention_days: int) -> CheckedBatch:
    """Validate each event alone; repeated ids in one batch count as duplicates."""
    batch = CheckedBatch()
    seen: set[str] = set()
    for index, raw in enumerate(raw_events):
        try:
            event, ts_ms, packed = _check_one(
                raw, index, now_ms=now_ms, retention_days=retention_days
            )
        except ValueError as exc:
            batch.rejected.append(Rejected(index=index, error=str(exc)))
            continue
        if event.id in seen:
            batch.duplicates += 1
            continue
        seen.add(event.id)
        batch.events.append((index, event, ts_ms, packed))
    return batch


def event_item(
    event: Event,
    ts_ms: int,
    packed: bytes,
    *,
    pk: str,
    site: str,
    vid: str,
    channel: str,
    personalization: bool,
    retention_days: int,
) -> dict[str, Any]:
    """The stored item (< 1 KB: one write unit). No IP, user agent or token, ever.

    The key holds the event id alone, not its time: an id resent with another `ts` is the
    same item (rewritten, a stream MODIFY the aggregator does not count), never a second.
    """
    item: dict[str, Any] = {
        "pk": pk,
        "sk": f"E#{event.id}",
        "t": event.type,
        "site": site,
        "vid": vid,
        "ts": ts_ms,
        "ch": channel,
        "pc": personalization,
        "d": packed,
        "ttl": ts_ms // 1000 + retention_days * 86_400,
    }
    if event.experience is not None:
        item["exp"] = event.experience
    if event.variant is not None:
        item["var"] = event.variant
    if event.name is not None:
        item["n"] = event.name
    if event.value is not None:
        item["val"] = event.value
    return item


def store_events(store: Store, kept: list[tuple[int, Item]]) -> tuple[int, list[Rejected]]:
    """Write a batch's items, each with its index in the request: (how many, rejections).

    The events were checked against the store's limits, so the store takes them all. Were
    it still to refuse one as invalid (`StoreRejected`: a limit the checks missed), the
    items are written again one at a time to find it: that event is rejected alone with
    the store's reason and the others are kept, as for any bad event. Not a 503: the
    browser would retry a batch that can never be stored, and lose the good events.
    """
    items = [item for _, item in kept]
    try:
        store.put_items(items)
    except StoreRejected:
        refused = store.put_each(items)  # replays of items already written are harmless
    else:
        return len(items), []
    rejected = [
        Rejected(index=kept[position][0], error=f"events[{kept[position][0]}]: {reason}")
        for position, reason in sorted(refused.items())
    ]
    return len(items) - len(refused), rejected


def _number_size(value: Any) -> int:
    # DynamoDB: 1 byte per two significant digits, plus 1; one more covers the sign and
    # an odd exponent (dynalite's exact rule), so this never under-counts.
    digits = len(Decimal(str(value)).normalize().as_tuple().digits)
    return 2 + (digits + 1) // 2


def _value_size(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, int | float | Decimal):
        return _number_size(value)
    if isinstance(value, dict):
        return 3 + sum(1 + item_size({k: v}) for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return 3 + sum(1 + _value_size(v) for v in value)
    raise TypeError(f"cannot size a {type(value).__name__}")


def item_size(item: dict[str, Any]) -> int:
    """An item's size by DynamoDB's rules (attribute names + values), never under-counted.

    >>> item_size({"pk": "V#s#v", "ts": 1767225600000, "pc": True})
    18
    """
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def decode_event(item: dict[str, Any]) -> dict[str, Any]:
    """A stored event as the export shows it (the inverse of `event_item`)."""
    payload = msgpack.unpackb(item.get("d", b"\x80"), raw=False) if item.get("d") else {}
    ts = dt.datetime.fromtimestamp(int(item["ts"]) / 1000, tz=dt.UTC)
    out: dict[str, Any] = {
        "id": payload.get("id"),
        "type": item.get("t"),
        "ts": ts.isoformat().replace("+00:00", "Z"),
        "channel": item.get("ch"),
        "props": payload.get("props", {}),
    }
    for attr, name in (("exp", "experience"), ("var", "variant"), ("n", "name"), ("val", "value")):
        if attr in item:
            out[name] = item[attr]
    if "user_id" in payload:
        out["user_id"] = payload["user_id"]
    return out
