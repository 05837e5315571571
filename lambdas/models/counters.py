"""Counter rows, summed snapshots, feature buckets and profile changes: what the
aggregator writes, the data access layer stores and the publisher reads back.

The aggregator emits `Add` rows (a counter table, a sort key, labels and deltas); the data
access layer turns the table into a sharded partition key (see lambdas/dal/TABLE.md). The
publisher reads the rows back and folds them into a `Snapshot` (summed over shards and
days) with `fold`. A `ProfileChange` is what one event adds to a visitor's profile, a
`ProfileState` what the store answers, with the server-side segments from `segments_for`.

Experience rows carry the visitor's breakdown at first exposure (`Dims`: device type,
journey stage, new or returning) in their key; the publisher sums them away, the report
keeps them. `HOLDOUT` and `PERSONALIZED` are the reserved experiences that compare the
global holdout with the visitors who were shown any experience.

>>> snap = fold([Add("X", "x#a#2026-11-22", {"exp": "x", "var": "a"}, {"visitors": 2.0})])
>>> snap.variants[("x", "a")]["visitors"]
2.0
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

__all__ = [
    "FEATURES",
    "HOLDOUT",
    "HOLDOUT_VARIANT",
    "PERSONALIZED",
    "PERSONALIZED_VARIANT",
    "RECENT",
    "TABLES",
    "UNKNOWN",
    "Add",
    "Dims",
    "Marker",
    "ProfileChange",
    "ProfileState",
    "Running",
    "Snapshot",
    "WeightsRecord",
    "bucket_floor",
    "bucket_of",
    "fold",
    "segments_for",
]

# Counter tables: experience/variant/day, item, co-view pair, feature histogram.
TABLES = ("X", "I", "CV", "H")
# Visitor features kept on the profile and histogrammed for server-side segments.
FEATURES = ("value", "purchases", "visits")
_INT_BUCKET_CAP = 1000
# Co-views are counted against at most this many recently viewed items (writes stay bounded).
RECENT = 5
_EMPTY: Mapping[str, Any] = MappingProxyType({})

# The exposure the runtime logs per page view for a visitor in the global holdout
# (edge.decide's HOLDOUT_EXPERIENCE; models import nothing of edge, so it is spelled here).
HOLDOUT, HOLDOUT_VARIANT = "__holdout__", "holdout"
# The other side of the holdout comparison: a visitor counts here at the first exposure to
# any experience that is not reserved (ids starting with "__"), whatever the variant.
PERSONALIZED, PERSONALIZED_VARIANT = "__personalized__", "personalized"
UNKNOWN = "unknown"
_DEVICES = frozenset(("mobile", "tablet", "desktop", "bot"))
_STAGE = re.compile(r"[A-Za-z0-9_.:@-]{1,32}")


class Dims(NamedTuple):
    """A visitor's breakdown at first exposure; each part "unknown" unless the exposure said.

    >>> Dims.from_props({"device": "mobile", "journey": "cart", "returning": False}).key
    'mobile#cart#new'
    >>> Dims.parse("mobile#cart#new").stage, Dims.parse(None).key
    ('cart', 'unknown#unknown#unknown')
    """

    device: str = UNKNOWN
    stage: str = UNKNOWN
    visitor: str = UNKNOWN  # "new" or "returning"

    @property
    def key(self) -> str:
        return f"{self.device}#{self.stage}#{self.visitor}"

    @property
    def known(self) -> bool:
        return self != _NO_DIMS

    @property
    def labels(self) -> dict[str, str]:
        return {"dev": self.device, "stage": self.stage, "nr": self.visitor}

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> Dims:
        """From an exposure's props: `device` (device.type), `journey`, `returning` (bool)."""
        device = props.get("device")
        stage = props.get("journey")
        returning = props.get("returning")
        return cls(
            device if isinstance(device, str) and device in _DEVICES else UNKNOWN,
            stage if isinstance(stage, str) and _STAGE.fullmatch(stage) else UNKNOWN,
            UNKNOWN if not isinstance(returning, bool) else "returning" if returning else "new",
        )

    @classmethod
    def parse(cls, text: object) -> Dims:
        """From a marker's `dim` attribute or a row's key tail (anything else: unknown)."""
        parts = text.split("#") if isinstance(text, str) else []
        return cls(*parts) if len(parts) == 3 and all(parts) else _NO_DIMS

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> Dims:
        return cls(
            labels.get("dev", UNKNOWN), labels.get("stage", UNKNOWN), labels.get("nr", UNKNOWN)
        )


_NO_DIMS = Dims()


class Marker(NamedTuple):
    """A claimed marker: `created` when this call made it, and the stored attributes
    (`var`, `dim`, `eid`, ...: this call's when created, the existing marker's otherwise)."""

    created: bool
    attrs: Mapping[str, str]


class Running(NamedTuple):
    """A visitor's running value total for one experience and goal, before this event."""

    first: bool  # this event is the visitor's first conversion of that name there
    before: float


class WeightsRecord(NamedTuple):
    """Variant weights that went live for an experience at `at` (epoch seconds, UTC).

    The publisher records one whenever the live weights change (learned bandit weights, or
    declared weights changed by a deploy); the report's SRM check expects new visitors in
    these shares, day by day.
    """

    experience: str
    at: int
    weights: Mapping[str, float]


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
        return math.pow(2.0, bucket / 4.0) - 1.0
    return float(bucket)


# Changes and states are NamedTuples: a million are made per publish in the bench.
class ProfileChange(NamedTuple):
    """What one event adds to the visitor's profile."""

    day: str
    counts: Mapping[str, int] = _EMPTY
    expo: Mapping[str, int] = _EMPTY
    assign: Mapping[str, str] = _EMPTY
    conv: Mapping[str, int] = _EMPTY
    value: float = 0.0
    viewed: str | None = None


class ProfileState(NamedTuple):
    """The profile's features before and after the change (as the sink applied it)."""

    before: Mapping[str, float]
    after: Mapping[str, float]
    recent_before: Sequence[str]
    segments_before: Sequence[str]
    segments_after: Sequence[str]


def segments_for(
    features: Mapping[str, float], rules: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Server-side segments whose threshold the features reach.

    >>> segments_for({"value": 500.0}, {"high_value": {"feature": "value", "min": 300.0}})
    ['high_value']
    """
    out = []
    for name, rule in rules.items():
        feature, minimum = rule.get("feature"), rule.get("min")
        if (
            isinstance(feature, str)
            and isinstance(minimum, int | float | Decimal)
            and features.get(feature, 0.0) >= float(minimum) > 0
        ):
            out.append(name)
    return sorted(out)
