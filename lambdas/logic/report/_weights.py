"""Which variant weights were live, day by day, and the split of visitors they predict.

The publisher records an experience's weights whenever they change (`WeightsRecord`:
learned bandit weights, or declared weights changed by a deploy). Before the first record
the declared weights stand. A day's weights are the time-weighted mean of those live
during it (UTC; today up to `now`); a visitor counts on the day of their first exposure,
so the expected share of a variant is sum over days of (new visitors x weight) / all.

>>> from lambdas.models.counters import WeightsRecord
>>> noon = 1_795_003_200  # 2026-11-18T12:00:00Z
>>> history = [WeightsRecord("x", noon, {"a": 0.2, "b": 0.8})]
>>> day_weights("2026-11-18", ["a", "b"], [0.5, 0.5], history, now=noon + 86_400)
{'a': 0.35, 'b': 0.65}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from lambdas.models.counters import WeightsRecord

__all__ = ["day_weights", "expected_split"]

_DAY = 86_400


def day_weights(
    day: str,
    variants: Sequence[str],
    declared: Sequence[float],
    history: Sequence[WeightsRecord],
    *,
    now: int,
) -> dict[str, float]:
    """The time-weighted weights of `day` (YYYY-MM-DD, UTC)."""
    start = int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    end = max(start + 1, min(start + _DAY, now))
    records = sorted(history, key=lambda r: r.at)
    live: Mapping[str, float] = dict(zip(variants, declared, strict=True))
    moments: list[tuple[int, Mapping[str, float]]] = []
    for record in records:
        if record.at <= start:
            live = record.weights
        elif record.at < end:
            moments.append((record.at, record.weights))
    total = dict.fromkeys(variants, 0.0)
    cursor = start
    for at, weights in [*moments, (end, live)]:
        span = at - cursor
        for variant in variants:
            total[variant] += span * float(live.get(variant, 0.0))
        cursor, live = at, weights
    length = end - start
    return {variant: round(total[variant] / length, 6) for variant in variants}


def expected_split(
    new_visitors: Mapping[str, int],
    variants: Sequence[str],
    declared: Sequence[float],
    history: Sequence[WeightsRecord],
    *,
    now: int,
) -> tuple[list[float], dict[str, dict[str, float]]]:
    """Expected visitors per variant from each day's new visitors and that day's weights.

    Returns the expected counts (in `variants` order) and the weights used per day.
    """
    expected = [0.0] * len(variants)
    used: dict[str, dict[str, float]] = {}
    for day, visitors in sorted(new_visitors.items()):
        weights = day_weights(day, variants, declared, history, now=now)
        used[day] = weights
        norm = sum(weights.values()) or 1.0
        for index, variant in enumerate(variants):
            expected[index] += visitors * weights[variant] / norm
    return expected, used
