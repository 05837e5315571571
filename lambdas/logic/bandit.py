"""Bandit allocations: Thompson sampling over Beta posteriors (no I/O, no clock).

Each variant's conversion rate has the posterior Beta(1 + conversions, 1 + exposed -
conversions). The weight of a variant is the share of posterior draws in which it is the
best, then squeezed so every variant keeps at least `floor` of the traffic (exploration
never stops). Nothing moves until every variant has `min_exposed` visitors: before that the
current weights are returned unchanged.

The random generator is seeded from the site, the experience and the counts, so the same
counts always give the same weights: an unchanged experiment yields an unchanged artifact
(same sha256), and the publisher writes nothing.

>>> arms = [Arm(exposed=1000, conversions=20), Arm(exposed=1000, conversions=60)]
>>> w = thompson_weights(arms, current=[0.5, 0.5], seed="demo:x")
>>> w[1] > w[0], round(sum(w), 6)
(True, 1.0)
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_DRAWS", "DEFAULT_FLOOR", "DEFAULT_MIN_EXPOSED", "Arm", "thompson_weights"]

DEFAULT_FLOOR = 0.05
DEFAULT_MIN_EXPOSED = 100
DEFAULT_DRAWS = 2000
# Weights are rounded so that tiny Monte Carlo noise can't produce a new artifact.
_DIGITS = 4


@dataclass(frozen=True, slots=True)
class Arm:
    """What one variant saw: visitors exposed and, of those, visitors who converted."""

    exposed: int
    conversions: int


def thompson_weights(
    arms: Sequence[Arm],
    *,
    current: Sequence[float],
    seed: str,
    floor: float = DEFAULT_FLOOR,
    min_exposed: int = DEFAULT_MIN_EXPOSED,
    draws: int = DEFAULT_DRAWS,
) -> list[float]:
    """Weights (summing to 1, same order as `arms`) from Thompson sampling.

    `current` is returned (normalized) while any arm has fewer than `min_exposed` visitors.
    """
    if len(arms) != len(current):
        raise ValueError(f"{len(arms)} arms but {len(current)} current weights")
    if not arms:
        return []
    if len(arms) == 1:
        return [1.0]
    if floor < 0 or floor * len(arms) > 1:
        raise ValueError(f"floor {floor} is impossible for {len(arms)} variants")
    if any(arm.exposed < min_exposed for arm in arms):
        return _normalized(current)
    rng = random.Random(_seed_bytes(seed, arms))
    wins = [0] * len(arms)
    params = [
        (1.0 + min(a.conversions, a.exposed), 1.0 + a.exposed - min(a.conversions, a.exposed))
        for a in arms
    ]
    beta = rng.betavariate
    for _ in range(draws):
        best, best_value = 0, -1.0
        for index, (alpha, b) in enumerate(params):
            value = beta(alpha, b)
            if value > best_value:
                best, best_value = index, value
        wins[best] += 1
    share = 1.0 - floor * len(arms)
    return _rounded([floor + share * w / draws for w in wins])


def _seed_bytes(seed: str, arms: Sequence[Arm]) -> int:
    text = seed + "|" + ",".join(f"{a.exposed}:{a.conversions}" for a in arms)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _normalized(weights: Sequence[float]) -> list[float]:
    total = sum(weights)
    if total <= 0:
        return _rounded([1.0 / len(weights)] * len(weights))
    return _rounded([w / total for w in weights])


def _rounded(weights: list[float]) -> list[float]:
    """Round to `_DIGITS` and put the rounding error on the largest weight (sum stays 1)."""
    out = [round(w, _DIGITS) for w in weights]
    top = max(range(len(out)), key=out.__getitem__)
    out[top] = round(out[top] + (1.0 - sum(out)), _DIGITS)
    return out
