"""Hashing a new visitor's experiences in one batch, before the slot loop of `decide`.

For each slot, the first candidate passing steps 1-4 (schedule, consent, audience,
frequency cap) is the one `decide` will hash, unless its assignment is sticky or its
hash is already known. A new visitor needs ~20 such hashes, which
`bucketing.hash_many` computes several times faster together than one by one. When
that candidate has partial coverage (the visitor may fall outside it), the next one
passing steps 1-4 is hashed too, and so on: an extra lane in the batch costs far less
than a hash on its own (~3 us) in the slot loop. The global holdout's hash joins the
batch (`holdout_seed`). This is only a prediction: the slot loop still hashes
whatever is missing, and an extra hash changes no result. Audience results go to the
same memo as the slot loop's, so no audience is evaluated twice, and each slot's
walk is handed over (`SlotStart`): the slot loop starts at the first candidate that
passed steps 1-4, with the time window and furthest reason of those skipped before
it, exactly as if it had walked them itself (max and min do not care about order).

Steps 1-4 are written out here and again in `_decide_page.Page.decide_slot` on
purpose: a shared helper would be one more call per candidate (~57 per page) on the
hot path. The two must change together; `test_decide_fuzz.py` (cached, uncached and
explained results equal) and `test_decide.py` catch them drifting apart.
"""

from __future__ import annotations

import math
from typing import Any

from edge import bucketing
from edge._decide_caps import exposure_count
from edge._decide_prepare import ContextMemo, PreparedExperience, PreparedRuleset
from edge.types import Attributes, Profile

__all__ = ["SlotStart", "prefetch_hashes"]

# (index of the first candidate passing steps 1-4, or len(candidates) when none does;
# low and high of the time window narrowed by the candidates before it; the furthest
# step those reached): the slot loop starts there instead of walking them again.
SlotStart = tuple[int, float, float, int]


def prefetch_hashes(
    prepared: PreparedRuleset,
    context: Attributes,
    profile: Profile,
    memo: ContextMemo,
    hashes: dict[int, float | None],
    visitor: str,
    now: float,
    *,
    holdout_seed: str | None = None,
    holdout_key: int = -1,
) -> list[SlotStart]:
    """Fill `hashes` (experience index -> share) for the likely matches of this page,
    and `hashes[holdout_key]` with the hash of `holdout_seed` when one is given.

    Returns, per slot of `prepared.slots`, where its slot loop may start (`SlotStart`).
    """
    raw_sticky = profile.get("assignments")
    sticky: dict[Any, Any] = raw_sticky if isinstance(raw_sticky, dict) else {}
    raw_consent = context.get("consent")
    consent: dict[Any, Any] = raw_consent if isinstance(raw_consent, dict) else {}
    audience = memo.audience
    raw_exposed = profile.get("exposures")
    exposed: dict[Any, Any] = raw_exposed if isinstance(raw_exposed, dict) else {}
    wanted: list[PreparedExperience] = []
    starts: list[SlotStart] = []
    for _slot, candidates in prepared.slots:
        # The slot loop resumes at the first candidate passing steps 1-4 (`first`),
        # with the time window and furthest reason of the ones skipped before it.
        first = -1
        low = -math.inf
        high = math.inf
        furthest = 0
        position = -1
        for candidate in candidates:
            position += 1
            start = candidate.start
            end = candidate.end
            if now < start:
                if first < 0:
                    if start < high:
                        high = start
                    if furthest < 1:
                        furthest = 1
                continue
            if now >= end:
                if first < 0:
                    if end > low:
                        low = end
                    if furthest < 1:
                        furthest = 1
                continue
            purpose = candidate.consent
            if purpose != "none" and not consent.get(purpose):
                if first < 0:
                    if start > low:
                        low = start
                    if end < high:
                        high = end
                    if furthest < 2:
                        furthest = 2
                continue
            key = candidate.audience_key
            matched = audience.get(key)
            if matched is None:
                matched = audience[key] = candidate.audience(context)
            if not matched:
                if first < 0:
                    if start > low:
                        low = start
                    if end < high:
                        high = end
                    if furthest < 3:
                        furthest = 3
                continue
            frequency = candidate.frequency
            if frequency is not None:
                count = 0  # never shown: nothing counts
                if candidate.id in exposed:
                    count, since, until = exposure_count(frequency, candidate.id, profile, now)
                    if count >= frequency.max and first < 0:
                        if since > low:
                            low = since
                        if until < high:
                            high = until
                if count >= frequency.max:
                    if first < 0:
                        if start > low:
                            low = start
                        if end < high:
                            high = end
                        if furthest < 4:
                            furthest = 4
                    continue
            if first < 0:
                first = position
            kept = sticky.get(candidate.id)
            if isinstance(kept, str) and kept in candidate.variant_index:
                break  # sticky: it fills the slot without a hash
            if candidate.needs_hash and candidate.index not in hashes:
                wanted.append(candidate)
            if not candidate.partial:
                break  # every hash lands in a variant: it fills the slot
        starts.append((len(candidates) if first < 0 else first, low, high, furthest))
    seeds = [c.id for c in wanted]
    if holdout_seed is not None:
        seeds.append(holdout_seed)
    if len(seeds) > 1:
        shares = bucketing.hash_many(seeds, visitor)
        for candidate, share in zip(wanted, shares, strict=False):
            hashes[candidate.index] = share
        if holdout_seed is not None:
            hashes[holdout_key] = shares[-1]
    return starts
