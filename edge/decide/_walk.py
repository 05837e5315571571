"""The slot loop of `decide`, around one walk over a slot's candidates.

`walk` goes through a slot's candidates (by priority) from a given one to the first
that passes steps 1-4: scheduled now, consent granted (and a visitor id when it needs
one), audience matched, under its frequency cap. Every schedule and cap it reads
narrows the run's window [low, high) in which the result stays the same (the result
cache's time to live); every candidate it passes over raises `furthest`, how far a
candidate got, so a default slot reports the reason of the one that came closest.
It is the only place those steps are written, and three callers share it:

- `fill_slots`, the slot loop: the page policy before each slot, then the variant
  (step 6: sticky, else the hash) of what `walk` returns; outside coverage, or with
  an empty recommend list, it walks on from the next candidate;
- `prefetch_hashes`, for a visitor new to this ruleset (in this worker): walks every
  slot first, to hash the candidates the slot loop will need in one batch
  (`bucketing.hash_many`, several times faster than one by one), and hands each slot's
  first walk over (`SlotStart`), so the slot loop does not walk it again;
- explain: `fill_slots` with a `Trace` per slot, which the walk hands every candidate
  it passes over. On the fast path the trace is None: one `is not None` test per
  candidate passed over.

The walk is the hottest code of `decide`: locals and precomputed fields, no helper
calls. What the slots of one call share is a `Run` (`edge.decide._run`).
"""

from __future__ import annotations

import math
from typing import Any

from edge import bucketing
from edge.decide._caps import exposure_count
from edge.decide._explain import Trace
from edge.decide._prepare import PreparedExperience
from edge.decide._result import Decision
from edge.decide._run import Run

__all__ = [
    "HASH_VERSION",
    "HOLDOUT_KEY",
    "UNSET",
    "SlotStart",
    "fill_slots",
    "prefetch_hashes",
    "walk",
]

HASH_VERSION = 2
HOLDOUT_KEY = -1  # the holdout's place among a visitor's cached hashes
UNSET: Any = object()  # a hash not computed yet (None is a hash that failed)
# How far a candidate got before it was passed over; a default slot reports the furthest.
_REASON_AT = (
    "no_match",
    "schedule",
    "consent",
    "audience",
    "frequency_cap",
    "coverage",
    "no_recommendations",
)
_COVERAGE = 5
_NO_RECOMMENDATIONS = 6

# A slot's first walk, done ahead by `prefetch_hashes`: the first candidate passing
# steps 1-4 (None: none does), the window [low, high) and the furthest step of the
# walk up to it (that candidate's own schedule and cap included).
SlotStart = tuple[PreparedExperience | None, float, float, int]


def walk(
    run: Run,
    candidates: tuple[PreparedExperience, ...],
    start: int,
    trace: Trace | None,
) -> PreparedExperience | None:
    """The first of `candidates[start:]` that passes steps 1-4, or None.

    Narrows `run.low`/`run.high` with the schedules and caps it reads (the passing
    candidate's included) and raises `run.furthest` for the ones it passes over (from
    0 when `start` is 0: a new slot). Each step reads precomputed fields only.
    """
    now = run.now
    consent = run.consent
    no_visitor = run.visitor is None
    audience = run.audience
    context = run.context
    exposed = run.exposed
    low = run.low
    high = run.high
    furthest = run.furthest if start else 0
    for candidate in candidates[start:] if start else candidates:
        # 1. schedule: start <= now < end
        begins = candidate.start
        ends = candidate.end
        if now < begins:
            if begins < high:
                high = begins
            if furthest < 1:
                furthest = 1
            if trace is not None:
                trace.skipped(candidate, "schedule")
            continue
        if now >= ends:
            if ends > low:
                low = ends
            if furthest < 1:
                furthest = 1
            if trace is not None:
                trace.skipped(candidate, "schedule")
            continue
        if begins > low:
            low = begins
        if ends < high:
            high = ends
        # 2. consent, and a visitor id where variants or coverage need a hash
        purpose = candidate.consent
        if (purpose != "none" and not consent.get(purpose)) or (no_visitor and candidate.needs_id):
            if furthest < 2:
                furthest = 2
            if trace is not None:
                trace.skipped(candidate, "consent")
            continue
        # 3. audience, evaluated once per context
        key = candidate.audience_key
        matched = audience.get(key)
        if matched is None:
            matched = audience[key] = candidate.audience(context)
        if not matched:
            if furthest < 3:
                furthest = 3
            if trace is not None:
                trace.skipped(candidate, "audience")
            continue
        # 4. frequency cap
        frequency = candidate.frequency
        if frequency is not None:
            # Never shown to this visitor: no exposure counts, in any window.
            count = 0
            if candidate.id in exposed:
                count, since, until = exposure_count(frequency, candidate.id, run.profile, now)
                if since > low:
                    low = since
                if until < high:
                    high = until
            if count >= frequency.max:
                if furthest < 4:
                    furthest = 4
                if trace is not None:
                    trace.skipped(candidate, "frequency_cap")
                continue
        run.low = low
        run.high = high
        run.furthest = furthest
        return candidate
    run.low = low
    run.high = high
    run.furthest = furthest
    return None


def fill_slots(run: Run, starts: list[SlotStart] | None, *, explain: bool) -> list[Decision]:
    """One decision per slot of the ruleset, in order (the slot loop).

    `starts`, from `prefetch_hashes`, stands for each slot's first walk. With
    `explain`, every decision carries its trace.
    """
    prepared = run.prepared
    has_policy = prepared.has_policy
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
                    decision = _matched(run, slot, candidate, index, trace)
                if decision is not None:
                    variant = candidate.variant_ids[index]
                    exposures.append({"experience": candidate.id, "variant": variant, "slot": slot})
                    if visitor is not None:
                        assignments[candidate.id] = variant
                    break
                run.furthest = _NO_RECOMMENDATIONS
                if trace is not None:
                    trace.skipped(candidate, "no_recommendations", index)
            else:
                if run.furthest < _COVERAGE:
                    run.furthest = _COVERAGE
                if trace is not None:
                    trace.skipped(candidate, "coverage")
            # Outside coverage (or nothing to recommend): on to the next candidate.
            candidate = walk(run, candidates, candidate.position + 1, trace)
        if decision is None:
            reason = _REASON_AT[run.furthest]
            decision = (
                prepared.default(slot, reason) if trace is None else trace.default(slot, reason)
            )
        decisions.append(decision)
    return decisions


def _matched(
    run: Run,
    slot: str,
    candidate: PreparedExperience,
    index: int,
    trace: Trace | None,
) -> Decision | None:
    """The decision of a candidate whose content is filled on the page (placeholders,
    recommend lists), or for explain; None when its recommend list came out empty."""
    content, available = run.content(candidate, index)
    if not available:
        return None
    lines: tuple[str, ...] = ()
    if trace is not None:
        trace.matched(candidate, index)
        lines = tuple(trace.lines)
    return Decision(slot, candidate.id, candidate.variant_ids[index], content, "matched", lines)


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
