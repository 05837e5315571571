"""Counter rows, summed snapshots and feature buckets shared by aggregate and publish.

The aggregator emits `Add` rows (a counter table, a sort key, labels and deltas); the data
access layer turns the table into a sharded partition key (see lambdas/dal/TABLE.md). The
publisher reads the rows back and folds them into a `Snapshot` (summed over shards and
days) with `fold`.

>>> snap = fold([Add("X", "x#a#2026-11-22", {"exp": "x", "var": "a"}, {"visitors": 2.0})])
>>> snap.variants[("x", "a")]["visitors"]
2.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "FEATURES",
    "TABLES",
    "Add",
    "Snapshot",
    "bucket_floor",
    "bucket_of",
    "fold",
]

# Counter tables: experience/variant/day, item, co-view pair, feature histogram.
TABLES = ("X", "I", "CV", "H")
# Visitor features kept on the profile and histogrammed for server-side segments.
FEATURES = ("value", "purchases", "visits")
_INT_BUCKET_CAP = 1000


class Add(NamedTuple):
    """Add `deltas` to the counter row `key` of `table`; `labels` name the row's parts.

    A NamedTuple, not a frozen dataclass: millions are made, and tuples are built fastest.
    """

    table: str
    key: str
    labels: Mapping[str, str]
    deltas: Mapping[str, float]


@dataclass(slots=True)
class Snapshot:
    """Counters summed over shards and days, as the publisher needs them."""

    variants: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    items: dict[str, dict[str, float]] = field(default_factory=dict)
    co_views: dict[str, dict[str, float]] = field(default_factory=dict)
    histograms: dict[str, dict[int, float]] = field(default_factory=dict)

    def add(self, row: Add) -> None:
        """Fold one row (or one stored counter item with the same labels) in."""
        labels, deltas = row.labels, row.deltas
        if row.table == "X":
            _merge(self.variants.setdefault((labels["exp"], labels["var"]), {}), deltas)
        elif row.table == "I":
            _merge(self.items.setdefault(labels["item"], {}), deltas)
        elif row.table == "CV":
            # stored once per unordered pair; both items see each other
            n = float(deltas.get("n", 0.0))
            for a, b in ((labels["a"], labels["b"]), (labels["b"], labels["a"])):
                pairs = self.co_views.setdefault(a, {})
                pairs[b] = pairs.get(b, 0.0) + n
        elif row.table == "H":
            hist = self.histograms.setdefault(labels["f"], {})
            bucket = int(labels["bucket"])
            hist[bucket] = hist.get(bucket, 0.0) + float(deltas.get("n", 0.0))


def fold(rows: Iterable[Add]) -> Snapshot:
    snapshot = Snapshot()
    for row in rows:
        snapshot.add(row)
    return snapshot


def _merge(target: dict[str, float], deltas: Mapping[str, float]) -> None:
    for name, delta in deltas.items():
        target[name] = target.get(name, 0.0) + float(delta)


def bucket_of(feature: str, value: float) -> int | None:
    """Histogram bucket of a feature value; None for zero (not histogrammed).

    Money is bucketed on a quarter-log2 scale, counts exactly up to 1000.

    >>> bucket_of("value", 100.0), bucket_of("visits", 3), bucket_of("value", 0)
    (26, 3, None)
    """
    if value <= 0:
        return None
    if feature == "value":
        return int(math.log2(1.0 + value) * 4)
    return min(int(value), _INT_BUCKET_CAP)


def bucket_floor(feature: str, bucket: int) -> float:
    """The smallest value of a bucket (a segment threshold is always a bucket floor).

    >>> bucket_floor("visits", 3), round(bucket_floor("value", 26), 2)
    (3.0, 89.51)
    """
    if feature == "value":
        return 2.0 ** (bucket / 4.0) - 1.0
    return float(bucket)
