"""Recommendation lists and server-side segment thresholds from counters (no I/O).

- `popular`: items by views (purchases count `PURCHASE_WEIGHT` views), best first;
- `popular:<segment>`: the same over views by visitors of a server-side segment;
- `co_viewed`: per item, the items most viewed by the same visitors (at least `min_pairs`);
- segment thresholds: the top `quantile` (a decile by default) of each visitor feature
  histogram (`value`, `purchases`, `visits`) becomes a segment rule `{feature, min}`.

When the ruleset has a catalog, only catalog items are recommended. Ties are broken by item
id, so equal counters always give equal lists (and an unchanged artifact).

>>> from lambdas.models.counters import Snapshot
>>> snap = Snapshot(items={"a": {"views": 3.0}, "b": {"views": 9.0}})
>>> recommendation_lists(snap)["popular"]
['b', 'a']
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from lambdas.models.counters import FEATURES, Snapshot, bucket_floor

__all__ = [
    "PURCHASE_WEIGHT",
    "SEGMENT_NAMES",
    "co_viewed",
    "recommendation_lists",
    "segment_thresholds",
]

PURCHASE_WEIGHT = 5.0
# The server-side segment each feature's top quantile defines.
SEGMENT_NAMES = {"value": "high_value", "purchases": "frequent_buyer", "visits": "loyal"}


def recommendation_lists(
    snapshot: Snapshot, *, size: int = 20, catalog: Collection[str] = ()
) -> dict[str, list[str]]:
    """`popular` and `popular:<segment>` lists (a segment list needs some views)."""
    allowed = set(catalog)
    scores: dict[str, dict[str, float]] = {"popular": {}}
    for item, counts in snapshot.items.items():
        if allowed and item not in allowed:
            continue
        purchases = counts.get("purchases", 0.0)
        scores["popular"][item] = counts.get("views", 0.0) + PURCHASE_WEIGHT * purchases
        for name, amount in counts.items():
            if name.startswith("views@") and amount > 0:
                scores.setdefault(f"popular:{name[6:]}", {})[item] = amount
    return {name: _top(values, size) for name, values in sorted(scores.items()) if values}


def co_viewed(
    snapshot: Snapshot, *, size: int = 10, min_pairs: float = 2.0, catalog: Collection[str] = ()
) -> dict[str, list[str]]:
    """Per item, the items viewed by the same visitors, most shared first."""
    allowed = set(catalog)
    out = {}
    for item, pairs in sorted(snapshot.co_views.items()):
        if allowed and item not in allowed:
            continue
        kept = {
            other: n
            for other, n in pairs.items()
            if n >= min_pairs and other != item and (not allowed or other in allowed)
        }
        if kept:
            out[item] = _top(kept, size)
    return out


def segment_thresholds(
    snapshot: Snapshot, *, quantile: float = 0.9, min_visitors: int = 20
) -> dict[str, dict[str, Any]]:
    """A rule `{feature, min, quantile, visitors}` per feature with enough visitors.

    `min` is the floor of the histogram bucket where the top `1 - quantile` of visitors
    (with a non-zero feature) starts, so at least that share qualifies.
    """
    rules: dict[str, dict[str, Any]] = {}
    for feature in FEATURES:
        histogram = {b: n for b, n in snapshot.histograms.get(feature, {}).items() if n > 0}
        total = sum(histogram.values())
        if total < min_visitors:
            continue
        wanted, seen = (1.0 - quantile) * total, 0.0
        for bucket in sorted(histogram, reverse=True):
            seen += histogram[bucket]
            if seen >= wanted:
                minimum = round(bucket_floor(feature, bucket), 2)
                rules[SEGMENT_NAMES[feature]] = {
                    "feature": feature,
                    "min": minimum,
                    "quantile": quantile,
                    "visitors": int(total),
                }
                break
    return rules


def _top(scores: Mapping[str, float], size: int) -> list[str]:
    ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    return [item for item, score in ranked[:size] if score > 0]
