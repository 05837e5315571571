"""The slot loop of `decide`, around one walk over a slot's candidates (`_steps.walk`).

The walk (steps 1-4) has three callers here:

- `fill_slots`, the slot loop: the page policy before each slot, then the variant
  (step 6: sticky, else the hash) of what `walk` returns; outside coverage, or with
  an empty recommend list, it walks on from the next candidate. A multivariate
  experience is handed to `_multi.take`, which fills all its slots or none: the later
  ones it took are `run.claimed`, filled before the page policy is checked (it counted
  once, on its first slot);
- `prefetch_hashes`, for a visitor new to this ruleset (in this worker): walks every
  slot first, to hash the candidates the slot loop will need in one batch
  (`bucketing.hash_many`, several times faster than one by one), and hands each slot's
  first walk over (`SlotStart`), so the slot loop does not walk it again;
- explain: `fill_slots` with a `Trace` per slot, which the walk hands every candidate
  it passes over.

What the slots of one call share is a `Run` (`edge.decide._run`).
"""

from __future__ import annotations

import math

from edge import bucketing
from edge.decide import _multi
from edge.decide._explain import Trace
from edge.decide._prepare import PreparedExperience
from edge.decide._result import Decision
from edge.decide._run import Run
from edge.decide._steps import (
    COVERAGE,
    HASH_VERSION,
    NO_RECOMMENDATIONS,
    REASON_AT,
    UNSET,
    matched,
    walk,
)

__all__ = [
    "HASH_VERSION",
    "HOLDOUT_KEY",
    "UNSET",
    "SlotStart",
    "fill_slots",
    "prefetch_hashes",
    "walk",
]

HOLDOUT_KEY = -1  # the holdout's place among a visitor's cached hashes

# A slot's first walk, done ahead by `prefetch_hashes`: the first candidate passing
# steps 1-4 (None: none does), the window [low, high) and the furthest step of the
# walk up to it (that candidate's own schedule and cap included).
SlotStart = tuple[PreparedExperience | None, float, float, int]


def fill_slots(run: Run, starts: list[SlotStart] | None, *, explain: bool) -> list[Decision]:
    """One decision per slot of the ruleset, in order (the slot loop).

    `starts`, from `prefetch_hashes`, stands for each slot's first walk. With
    `explain`, every decision carries its trace.
    """
    prepared = run.prepared
    has_policy = prepared.has_policy
    claimed = run.claimed if prepared.multi else None
    sticky = run.sticky
    hashes = run.hashes
    visitor = run.visitor
    exposures = run.exposures
    assignments = run.assignments
    decisions: list[Decision] = []
    trace: Trace | None = None
    for number, (slot, candidates) in enumerate(prepared.slots):
        if explain:
            trace = Trace(run)
        if claimed:
            taken = claimed.get(slot)
            if taken is not None:  # a multivariate experience took it with an earlier slot
                decisions.append(taken)
                continue
        if not candidates:
            if trace is None:
                decisions.append(prepared.default(slot, "no_match"))
            else:
                decisions.append(trace.default(slot, "no_match", "no experience targets it"))
            continue
        # 5. the page policy, once before each slot
        if has_policy:
            held = run.policy_reached()
            if held is not None:
                if trace is None:
                    decisions.append(prepared.default(slot, "policy"))
                else:
                    line = f"page policy: {held} before this slot"
                    decisions.append(trace.default(slot, "policy", line))
                continue
        if starts is None:
            candidate = walk(run, candidates, 0, trace)
        else:
            candidate, low, high, run.furthest = starts[number]
            if low > run.low:
                run.low = low
            if high < run.high:
                run.high = high
        decision = None
        while candidate is not None:
            if candidate.multi:
                decision = _multi.take(run, candidate, number, trace)
                if decision is not None:
                    break
                candidate = walk(run, candidates, candidate.position + 1, trace)
                continue
            # 6. the variant: sticky when the device kept one that still exists, else
            # the hash; a single variant at full coverage needs none.
            kept = sticky.get(candidate.id)
            if isinstance(kept, str) and kept in candidate.variant_index:
                index = candidate.variant_index[kept]
            elif visitor is None or not candidate.needs_hash:
                index = 0  # single variant, coverage 1 (walk() made sure)
            else:
                share = hashes.get(candidate.index, UNSET)
                if share is UNSET:
                    share = hashes[candidate.index] = bucketing.hash(
                        candidate.id, visitor, HASH_VERSION
                    )
                index = -1 if share is None else bucketing.choose_variation(share, candidate.ranges)
            if index >= 0:
                # A static content's decision is made once per ruleset; explain's carry a trace.
                decision = candidate.static[index] if trace is None else None
                if decision is None:
                    decision = matched(run, slot, candidate, index, trace)
                if decision is not None:
                    variant = candidate.variant_ids[index]
                    exposures.append({"experience": candidate.id, "variant": variant, "slot": slot})
                    if visitor is not None:
                        assignments[candidate.id] = variant
                    break
                run.furthest = NO_RECOMMENDATIONS
                if trace is not None:
                    trace.skipped(candidate, "no_recommendations", index)
            else:
                if run.furthest < COVERAGE:
                    run.furthest = COVERAGE
                if trace is not None:
                    trace.skipped(candidate, "coverage")
            # Outside coverage (or nothing to recommend): on to the next candidate.
            candidate = walk(run, candidates, candidate.position + 1, trace)
        if decision is None:
            reason = REASON_AT[run.furthest]
            decision = (
                prepared.default(slot, reason) if trace is None else trace.default(slot, reason)
            )
        decisions.append(decision)
    return decisions


def prefetch_hashes(run: Run, visitor: str, *, holdout_seed: str | None) -> list[SlotStart]:
    """Hash, in one batch, the candidates the slot loop will hash, and the holdout.

    For each slot, the first candidate passing steps 1-4 is the one the slot loop
    hashes, unless its assignment is sticky or its hash is known. When it has partial
    coverage (the visitor may fall outside it), the next one passing is hashed too,
    and so on: an extra lane in the batch costs far less than a hash on its own (~3 us)
    in the slot loop. `holdout_seed`'s hash goes to `hashes[HOLDOUT_KEY]`. Only a
    prediction: the slot loop hashes whatever is missing, an extra hash changes
    nothing. Returns each slot's first walk (`SlotStart`), for the slot loop to start
    from.
    """
    sticky = run.sticky
    hashes = run.hashes
    wanted: list[PreparedExperience] = []
    starts: list[SlotStart] = []
    for _slot, candidates in run.prepared.slots:
        run.low = -math.inf
        run.high = math.inf
        candidate = walk(run, candidates, 0, None)
        starts.append((candidate, run.low, run.high, run.furthest))
        while candidate is not None:
            kept = sticky.get(candidate.id)
            if isinstance(kept, str) and kept in candidate.variant_index:
                break  # sticky: it fills the slot without a hash
            if candidate.needs_hash and candidate.index not in hashes:
                wanted.append(candidate)
            if not candidate.partial:
                break  # every hash lands in a variant: it fills the slot
            candidate = walk(run, candidates, candidate.position + 1, None)
    run.low = -math.inf
    run.high = math.inf
    run.furthest = 0
    seeds = [c.id for c in wanted]
    if holdout_seed is not None:
        seeds.append(holdout_seed)
    if len(seeds) > 1:
        shares = bucketing.hash_many(seeds, visitor)
        for candidate, share in zip(wanted, shares, strict=False):
            hashes[candidate.index] = share
        if holdout_seed is not None:
            hashes[HOLDOUT_KEY] = shares[-1]
    return starts
