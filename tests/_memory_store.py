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
    Marker,
    ProfileChange,
    ProfileState,
    Running,
    Snapshot,
    WeightsRecord,
    segments_for,
)

__all__ = ["MemorySink"]


class MemorySink:
    def __init__(self, *, rules: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None):
        # (site, table, shard, key) -> (labels, counters)
        self.rows: dict[tuple[str, str, int, str], tuple[Mapping[str, str], dict[str, float]]] = {}
        self.markers: dict[tuple[str, str], dict[str, Any]] = {}
        self.assigned: dict[str, dict[str, dict[str, Any]]] = {}  # owner -> exp -> MX# marker
        self.weights: dict[str, list[WeightsRecord]] = {}
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

    def claim(self, owner: str, marker: str, attrs: Mapping[str, str], ttl: int | None) -> Marker:
        old = self.markers.get((owner, marker))
        if old is not None:
            return Marker(False, dict(old))
        self.markers[(owner, marker)] = dict(attrs)
        if marker.startswith("MX#"):
            self.assigned.setdefault(owner, {})[marker[3:]] = self.markers[(owner, marker)]
        return Marker(True, dict(attrs))

    def accumulate(
        self, owner: str, marker: str, attrs: Mapping[str, str], value: float, ttl: int | None
    ) -> Running:
        old = self.markers.get((owner, marker))
        if old is not None and attrs.get("eid") in old["ids"]:
            return Running(False, old["tot"] - value)  # a redelivered event
        first = old is None
        if old is None:
            old = self.markers[(owner, marker)] = {
                **{k: v for k, v in attrs.items() if k != "eid"},
                "tot": 0.0,
                "n": 0,
                "ids": set(),
            }
        before = old["tot"]
        old["ids"].add(attrs.get("eid"))
        old.update(tot=before + value, n=old["n"] + 1)
        return Running(first, before)

    def assignments(self, owner: str) -> dict[str, Mapping[str, str]]:
        return {exp: dict(attrs) for exp, attrs in self.assigned.get(owner, {}).items()}

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

    def record_weights(self, site: str, record: WeightsRecord) -> bool:
        history = self.weights.setdefault(site, [])
        last = [r for r in history if r.experience == record.experience]
        if last and dict(last[-1].weights) == dict(record.weights):
            return False
        history.append(record)
        return True

    def variant_rows(self, site: str, experience: str | None = None) -> list[Add]:
        return [
            Add(table, key, labels, dict(counters))
            for (row_site, table, _shard, key), (labels, counters) in self.rows.items()
            if row_site == site and table == "X" and experience in (None, labels["exp"])
        ]

    def weight_history(self, site: str, experience: str | None = None) -> list[WeightsRecord]:
        return [r for r in self.weights.get(site, []) if experience in (None, r.experience)]
