"""Aggregate one stored event into counters, markers and the visitor's profile (no boto3).

`parse_event(event_name, image)` reads a stream record's new image (an `E#` item of
lambdas/dal/TABLE.md) into an `Event`, or None for anything that must not be counted
(a MODIFY from a replay, a profile or counter write, a malformed item). `aggregate(event,
sink)` applies its effect through a `Sink` (DynamoDB in production, a dict in the bench):

- exposure: `exposures` +1 on (experience, variant, day, breakdown); `visitors` +1 only when
  the conditional put of the visitor's `MX#<exp>` marker succeeds (first exposure). The
  marker keeps the visitor's breakdown (`Dims`: device, journey stage, new or returning,
  from the exposure's props), so every later row of that visitor lands in the same cell.
  A first exposure to a real experience also claims `MX#__personalized__` (the other side
  of the global holdout, whose own exposures are experience `__holdout__`);
- conversion: for every experience the visitor was assigned (its `MX#` markers, the two
  reserved ones included): `conversions`, `value`, `c:<name>`, `v:<name>`; `u:<name>` once
  per visitor and `q:<name>`, the change of the sum over visitors of (visitor's value)^2,
  both from the running total in marker `MC#<exp>#<name>` (t -> t + v adds 2tv + v^2);
  purchased items get `purchases`;
- click on a personalized slot (a `click` naming its experience): `clicks`, and `clickers`
  once per visitor (marker `MK#<exp>`);
- page_view/click of an item: item `views` (+ `views@<segment>`), co-views with the items
  the visitor viewed recently (bounded by `lambdas.models.counters.RECENT`);
- profile (personalization consent only): counts, value, visits, recent items, and the
  server-side segments from the publisher's thresholds; feature histograms move with it.

First writes count once: a redelivered record finds its markers taken, so `visitors`,
`u:*` and `clickers` never count a visitor twice, and a running total takes each event id
once (the marker keeps the ids it added), so a visitor's total stays exact. The rows'
plain counters (`q:*` too) are at-least-once under redelivery, as documented in TABLE.md.

>>> parse_event("MODIFY", {"pk": "V#s#v", "sk": "E#e"}) is None
True
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

import msgpack

from lambdas.models.counters import (
    FEATURES,
    PERSONALIZED,
    PERSONALIZED_VARIANT,
    RECENT,
    Add,
    Dims,
    Marker,
    ProfileChange,
    ProfileState,
    Running,
    bucket_of,
)

__all__ = [
    "DEFAULT_SHARDS",
    "Event",
    "Marker",
    "Running",
    "Sink",
    "aggregate",
    "parse_event",
    "shard_of",
]

DEFAULT_SHARDS = 4
_MAX_ITEMS_PER_EVENT = 20


# A NamedTuple: a million are made per publish in the bench.
class Event(NamedTuple):
    site: str
    owner: str  # the item's pk: V#<site>#<visitor> or C#<site>#<customer>
    event_id: str
    type: str
    day: str  # YYYY-MM-DD (UTC) of the event time
    experience: str | None = None
    variant: str | None = None
    name: str | None = None
    value: float = 0.0
    personalization: bool = False
    viewed: str | None = None
    purchased: tuple[str, ...] = ()
    ttl: int | None = None
    dims: Dims = Dims()
    # An exposure to an experience outside the holdout's scope (`props.scope` false:
    # `consent: none` under the default scope): not counted as `__personalized__`.
    outside_scope: bool = False


class Sink(Protocol):
    """Where aggregation writes; `lambdas.dal.counters.DynamoCounters` is the real one."""

    def add(self, site: str, shard: int, rows: Sequence[Add]) -> None: ...

    def claim(self, owner: str, marker: str, attrs: Mapping[str, str], ttl: int | None) -> Marker:
        """Create the marker item unless it exists (`attrs["eid"]` names the event)."""
        ...

    def accumulate(
        self, owner: str, marker: str, attrs: Mapping[str, str], value: float, ttl: int | None
    ) -> Running:
        """Add `value` to the marker's running total once per event id; the total before."""
        ...

    def assignments(self, owner: str) -> dict[str, Mapping[str, str]]:
        """Experience id -> its `MX#` marker's attributes (`var`, and `dim` when known)."""
        ...

    def update_profile(
        self, owner: str, change: ProfileChange, *, rules: Mapping[str, Mapping[str, Any]]
    ) -> ProfileState: ...

    def segment_rules(self, site: str) -> Mapping[str, Mapping[str, Any]]: ...


def parse_event(event_name: str, image: Mapping[str, Any]) -> Event | None:
    """An `Event` from a stream record's new image, or None if it must not be counted."""
    if event_name != "INSERT":
        return None  # a replayed event id rewrites its own key: MODIFY, never counted twice
    pk, sk = image.get("pk"), image.get("sk")
    if not isinstance(pk, str) or not isinstance(sk, str) or not sk.startswith("E#"):
        return None
    parts = pk.split("#")
    kind = image.get("t")
    if len(parts) != 3 or parts[0] not in ("V", "C") or not isinstance(kind, str):
        return None
    # `E#<event id>`; items written before the key lost its time read `E#<ts>#<event id>`.
    event_id = sk.rsplit("#", 1)[-1]
    millis = image.get("ts")
    if isinstance(millis, bool) or not isinstance(millis, int | float | Decimal):
        return None
    try:
        day = datetime.fromtimestamp(float(millis) / 1000.0, UTC).strftime("%Y-%m-%d")
    except (ValueError, OverflowError, OSError):
        return None
    props = _props(image.get("d"))
    name = _text(image.get("n"))
    experience, variant = _text(image.get("exp")), _text(image.get("var"))
    purchased: tuple[str, ...] = ()
    if kind == "conversion":
        items = props.get("items")
        if isinstance(items, list):
            purchased = tuple(str(i) for i in items if isinstance(i, str | int))
        elif isinstance(props.get("item"), str | int):
            purchased = (str(props["item"]),)
    viewed = None
    if kind in ("page_view", "click") and isinstance(props.get("item"), str | int):
        viewed = str(props["item"])
    if kind == "click" and experience is None:
        # a click may name its slot's experience in props (the API stores top-level ones)
        experience, variant = _text(props.get("experience")), _text(props.get("variant"))
    ttl = image.get("ttl")
    return Event(
        site=parts[1],
        owner=pk,
        event_id=event_id,
        type=kind,
        day=day,
        experience=experience,
        variant=variant,
        name=name or ("purchase" if kind == "conversion" else None),
        value=_number(image.get("val")),
        personalization=image.get("pc") is True,
        viewed=viewed,
        purchased=tuple(dict.fromkeys(purchased))[:_MAX_ITEMS_PER_EVENT],
        ttl=None if ttl is None else int(ttl),
        dims=Dims.from_props(props) if kind == "exposure" else Dims(),
        outside_scope=kind == "exposure" and props.get("scope") is False,
    )


def shard_of(event_id: str, shards: int) -> int:
    """A stable shard for an event id (crc32 is fast and the same in every process)."""
    return zlib.crc32(event_id.encode()) % shards


def aggregate(event: Event, sink: Sink, *, shards: int = DEFAULT_SHARDS) -> list[Add]:
    """Apply one event's effect through `sink`; returns the counter rows it added."""
    rows: list[Add] = []
    if event.type == "exposure" and event.experience and event.variant:
        rows.extend(_exposure_rows(event, event.experience, event.variant, sink))
    elif event.type == "conversion" and event.name:
        rows.extend(_conversion_rows(event, sink))
    elif event.type == "click" and event.experience:
        rows.extend(_click_rows(event, event.experience, sink))
    segments_before: Sequence[str] = ()
    if event.personalization:
        state = sink.update_profile(
            event.owner, _profile_change(event), rules=sink.segment_rules(event.site)
        )
        segments_before = state.segments_before
        rows.extend(_histogram_moves(state))
        if event.viewed is not None:
            rows.extend(_co_view_rows(event.viewed, state.recent_before))
    if event.viewed is not None:
        deltas = {"views": 1.0}
        deltas.update({f"views@{s}": 1.0 for s in segments_before})
        rows.append(Add("I", event.viewed, {"item": event.viewed}, deltas))
    rows.extend(Add("I", item, {"item": item}, {"purchases": 1.0}) for item in event.purchased)
    if rows:
        shard = shard_of(event.event_id, shards)
        pairs = [row for row in rows if row.table == "CV"]
        if pairs:
            # A pair lives in one shard (its key's), so the publisher reads each pair once;
            # pairs are far less hot than single items.
            rows_here = [row for row in rows if row.table != "CV"]
            for pair in pairs:
                sink.add(event.site, shard_of(pair.key, shards), [pair])
        else:
            rows_here = rows
        if rows_here:
            sink.add(event.site, shard, rows_here)
    return rows


def _exposure_rows(event: Event, experience: str, variant: str, sink: Sink) -> list[Add]:
    attrs = {"var": variant, "day": event.day, "dim": event.dims.key, "eid": event.event_id}
    marker = sink.claim(event.owner, f"MX#{experience}", attrs, event.ttl)
    if not marker.created:
        # Exposures go to the variant shown, in the cell of the visitor's first exposure.
        dims = Dims.parse(marker.attrs.get("dim"))
        return [_variant_row(event, experience, variant, dims, {"exposures": 1.0})]
    rows = [
        _variant_row(event, experience, variant, event.dims, {"exposures": 1.0, "visitors": 1.0})
    ]
    if not experience.startswith("__") and not event.outside_scope:
        # Once per experience and visitor, not per exposure: the claim costs a write.
        seen = sink.claim(
            event.owner, f"MX#{PERSONALIZED}", {**attrs, "var": PERSONALIZED_VARIANT}, event.ttl
        )
        if seen.created:
            rows.append(
                _variant_row(
                    event, PERSONALIZED, PERSONALIZED_VARIANT, event.dims, {"visitors": 1.0}
                )
            )
    return rows


def _conversion_rows(event: Event, sink: Sink) -> list[Add]:
    name = event.name or "conversion"
    value = event.value
    rows = []
    for experience, marker in sorted(sink.assignments(event.owner).items()):
        variant = marker.get("var")
        if not variant:
            continue
        dims = Dims.parse(marker.get("dim"))
        attrs = {"var": variant, "dim": dims.key, "eid": event.event_id}
        running = sink.accumulate(event.owner, f"MC#{experience}#{name}", attrs, value, event.ttl)
        deltas = {"conversions": 1.0, "value": value, f"c:{name}": 1.0, f"v:{name}": value}
        if running.first:
            deltas[f"u:{name}"] = 1.0
        if value:
            # The visitor's total goes from t to t + v: the sum of squares moves by 2tv + v^2.
            deltas[f"q:{name}"] = 2.0 * running.before * value + value * value
        rows.append(_variant_row(event, experience, variant, dims, deltas))
    return rows


def _click_rows(event: Event, experience: str, sink: Sink) -> list[Add]:
    marker = sink.assignments(event.owner).get(experience) or {}
    # The assigned variant and cell when the visitor was exposed (the usual case: the
    # exposure precedes the click in the stream), else what the click says.
    variant = marker.get("var") or event.variant
    if not variant:
        return []
    dims = Dims.parse(marker.get("dim"))
    attrs = {"var": variant, "eid": event.event_id}
    first = sink.claim(event.owner, f"MK#{experience}", attrs, event.ttl).created
    deltas = {"clicks": 1.0, "clickers": 1.0} if first else {"clicks": 1.0}
    return [_variant_row(event, experience, variant, dims, deltas)]


def _variant_row(
    event: Event, experience: str, variant: str, dims: Dims, deltas: dict[str, float]
) -> Add:
    labels = {"exp": experience, "var": variant, "day": event.day}
    key = f"{experience}#{variant}#{event.day}"
    if dims.known:
        # Rows without a breakdown keep the short key (and the publisher's row count).
        labels.update(dims.labels)
        key = f"{key}#{dims.key}"
    return Add("X", key, labels, deltas)


def _profile_change(event: Event) -> ProfileChange:
    counts = {event.type: 1}
    conv: dict[str, int] = {}
    if event.type == "conversion" and event.name:
        counts[event.name] = counts.get(event.name, 0) + 1
        conv[event.name] = 1
    expo, assign = {}, {}
    if event.type == "exposure" and event.experience and event.variant:
        expo[event.experience] = 1
        assign[event.experience] = event.variant
    return ProfileChange(
        day=event.day,
        counts=counts,
        expo=expo,
        assign=assign,
        conv=conv,
        value=event.value if event.type == "conversion" else 0.0,
        viewed=event.viewed,
    )


def _histogram_moves(state: ProfileState) -> list[Add]:
    rows: list[Add] = []
    before, after = state.before, state.after
    if before == after:
        return rows  # most events change no feature (a view on a day already counted)
    for feature in FEATURES:
        old_value, new_value = before.get(feature, 0.0), after.get(feature, 0.0)
        if old_value == new_value:
            continue
        old = bucket_of(feature, float(old_value))
        new = bucket_of(feature, float(new_value))
        if old == new:
            continue
        if old is not None:
            rows.append(_histogram_row(feature, old, -1.0))
        if new is not None:
            rows.append(_histogram_row(feature, new, 1.0))
    return rows


def _histogram_row(feature: str, bucket: int, delta: float) -> Add:
    return Add("H", f"{feature}#{bucket}", {"f": feature, "bucket": str(bucket)}, {"n": delta})


def _co_view_rows(item: str, recent: Sequence[str]) -> list[Add]:
    """One row per unordered pair (a < b): half the writes; readers count both directions."""
    rows = []
    for other in list(dict.fromkeys(recent))[:RECENT]:
        if other == item:
            continue
        a, b = (item, other) if item < other else (other, item)
        rows.append(Add("CV", f"{a}#{b}", {"a": a, "b": b}, {"n": 1.0}))
    return rows


def _props(data: Any) -> dict[str, Any]:
    """The msgpack payload's props; a damaged payload counts as no props, not a failure."""
    if isinstance(data, str):
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return {}
    if not isinstance(data, bytes | bytearray):
        return {}
    try:
        payload = msgpack.unpackb(bytes(data), raw=False)
    except (ValueError, msgpack.UnpackException, TypeError):
        return {}
    props = payload.get("props") if isinstance(payload, dict) else None
    return props if isinstance(props, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return 0.0
    return float(value)
