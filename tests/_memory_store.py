"""A test double: an in-memory `Sink` and counter reader, the aggregation semantics
without a database.

The benchmark folds a million events through `aggregate` into it, and unit tests use it to
check the logic alone. It behaves as `DynamoCounters` does: markers are claimed once,
profiles keep counts/value/visits/recent/segments, counter rows are summed per shard.

>>> from lambdas.logic.aggregate import Event, aggregate
>>> sink = MemorySink()
>>> _ = aggregate(Event("s", "V#s#v", "e1", "exposure", "2026-11-22", "x", "a"), sink)
>>> sink.snapshot("s").variants[("x", "a")]
{'exposures': 1.0, 'visitors': 1.0}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lambdas.models.counters import (
    RECENT,
    Add,
    ProfileChange,
    ProfileState,
    Snapshot,
    segments_for,
)

__all__ = ["MemorySink"]


class MemorySink:
    def __init__(self, *, rules: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None):
        # (site, table, shard, key) -> (labels, counters)
        self.rows: dict[tuple[str, str, int, str], tuple[Mapping[str, str], dict[str, float]]] = {}
        self.markers: set[tuple[str, str]] = set()
        self.assigned: dict[str, dict[str, str]] = {}
        self.profiles: dict[str, dict[str, Any]] = {}
        self.rules = dict(rules or {})

    def add(self, site: str, shard: int, rows: Sequence[Add]) -> None:
        for row in rows:
            key = (site, row.table, shard, row.key)
            entry = self.rows.get(key)
            if entry is None:
                entry = self.rows[key] = (row.labels, {})
            counters = entry[1]
            for name, delta in row.deltas.items():
                counters[name] = counters.get(name, 0.0) + delta

    def claim(self, owner: str, marker: str, attrs: Mapping[str, str], ttl: int | None) -> bool:
        if (owner, marker) in self.markers:
            return False
        self.markers.add((owner, marker))
        if marker.startswith("MX#"):
            self.assigned.setdefault(owner, {})[marker[3:]] = attrs["var"]
        return True

    def assignments(self, owner: str) -> dict[str, str]:
        return dict(self.assigned.get(owner, {}))

    def segment_rules(self, site: str) -> Mapping[str, Mapping[str, Any]]:
        return self.rules.get(site, {})

    def update_profile(
        self, owner: str, change: ProfileChange, *, rules: Mapping[str, Mapping[str, Any]]
    ) -> ProfileState:
        profile = self.profiles.get(owner)
        if profile is None:
            profile = self.profiles[owner] = {
                "value": 0.0, "purchases": 0.0, "visits": 0.0, "lastday": None,
                "recent": [], "segments": [], "counts": {},
            }  # fmt: skip
        before = {k: profile[k] for k in ("value", "purchases", "visits")}
        counts = profile["counts"]
        for name, amount in change.counts.items():
            counts[name] = counts.get(name, 0) + amount
        profile["value"] += change.value
        profile["purchases"] += change.counts.get("purchase", 0)
        if profile["lastday"] != change.day:
            profile["visits"] += 1
            profile["lastday"] = change.day
        after = {k: profile[k] for k in ("value", "purchases", "visits")}
        recent_before = profile["recent"]
        if change.viewed is not None:
            profile["recent"] = [change.viewed, *(i for i in recent_before if i != change.viewed)][
                :RECENT
            ]
        segments_before = profile["segments"]
        profile["segments"] = segments_for(after, rules) if rules else []
        return ProfileState(before, after, recent_before, segments_before, profile["segments"])

    def snapshot(self, site: str) -> Snapshot:
        snapshot = Snapshot()
        for (row_site, table, _shard, key), (labels, counters) in self.rows.items():
            if row_site == site:
                snapshot.add(Add(table, key, labels, counters))
        return snapshot

    def put_segment_rules(self, site: str, rules: Mapping[str, Mapping[str, Any]]) -> None:
        self.rules[site] = {k: dict(v) for k, v in rules.items()}
