"""Multivariate experiences in the slot loop: all their slots, or none.

A multivariate experience has one entry among each of its factors' slots' candidates
(`_prepare`): a view of it from that slot, with the same id, priority, audience,
schedule and combinations, each combination's content being that factor's level. The
slot loop reaches it first at one of its slots (the first, in `ruleset.slots` order,
where no higher-ranked candidate filled the slot); `take` then settles it for all its
slots at once:

1. the combination: sticky when the device kept one that still exists, else the hash
   (seed: the experience id, as for any variant); outside coverage it takes none;
2. every other slot must be free: an earlier one (in the slot loop's order) is not,
   since the walk would have reached the experience there had it been (another
   experience or the page policy holds it); a later one is free unless a higher-ranked
   candidate there would fill it (steps 1-4, its variant, its recommend list; another
   multivariate experience taking it included);
3. each slot's content is made (an empty recommend list in any one: it takes none).

Taking: one exposure for the page view, on the first factor's slot (so it counts once
for the page policy), the assignment (experience id -> combination id), and each slot's
decision in `run.claimed`, which the slot loop uses before checking the page policy.
Passing over: the id goes to `run.passed` with why, so the experience is passed over
in its other slots too and each of them falls to its next candidate. Every slot orders
its candidates the same way (priority, then file order), so looking at a later slot
only meets higher-ranked experiences and never comes back to this one.
"""

from __future__ import annotations

from edge import bucketing
from edge.decide._explain import Trace
from edge.decide._prepare import PreparedExperience
from edge.decide._result import Decision
from edge.decide._run import Run
from edge.decide._steps import (
    COVERAGE,
    HASH_VERSION,
    NO_RECOMMENDATIONS,
    SLOT_TAKEN,
    UNSET,
    matched,
    walk,
)

__all__ = ["choose", "take"]


def take(
    run: Run, candidate: PreparedExperience, number: int, trace: Trace | None
) -> Decision | None:
    """Slot `number`'s decision when `candidate`'s experience takes all its slots, else
    None (the slot loop walks on to the next candidate)."""
    slot = candidate.experience.slot
    if candidate.id not in run.passed and _settle(run, candidate, number, trace):
        return run.claimed.pop(slot)
    step, line = run.passed[candidate.id]
    if run.furthest < step:
        run.furthest = step
    if trace is not None:
        trace.lines.append(line)
    return None


def choose(run: Run, candidate: PreparedExperience) -> int:
    """Step 6, the variant's index: sticky when the device kept one that still exists,
    else the hash; -1 outside coverage. (The slot loop has the same steps inline: it
    is the hot path.)"""
    kept = run.sticky.get(candidate.id)
    if isinstance(kept, str) and kept in candidate.variant_index:
        return candidate.variant_index[kept]
    visitor = run.visitor
    if visitor is None or not candidate.needs_hash:
        return 0
    share = run.hashes.get(candidate.index, UNSET)
    if share is UNSET:
        share = run.hashes[candidate.index] = bucketing.hash(candidate.id, visitor, HASH_VERSION)
    return -1 if share is None else bucketing.choose_variation(share, candidate.ranges)


def _settle(
    run: Run,
    candidate: PreparedExperience,
    number: int,
    trace: Trace | None,
    *,
    explain: bool = False,
) -> bool:
    """Whether the experience takes all its slots (their decisions then in `run.claimed`);
    if not, why is in `run.passed`. `number`: the slot the loop is at."""
    explain = explain or trace is not None
    exp_id = candidate.id
    index = choose(run, candidate)
    if index < 0:
        coverage = candidate.experience.coverage
        run.passed[exp_id] = (COVERAGE, f"{exp_id}: visitor outside coverage {coverage:g}")
        return False
    entries = run.prepared.multi[exp_id]
    slots = run.prepared.slots
    for slot_number, entry in entries:
        if entry is candidate:
            continue
        if slot_number <= number or _taken_ahead(run, slot_number, entry.position, number, explain):
            run.passed[exp_id] = (
                SLOT_TAKEN,
                f"{exp_id}: its slot {slots[slot_number][0]} is held by a higher-priority "
                "experience or the page policy (a multivariate experience takes all its "
                "slots or none)",
            )
            return False
    decisions: list[Decision] = []
    # The slot at hand last: its trace only says "matched" once every slot is made.
    for _slot_number, entry in sorted(entries, key=lambda e: e[1] is candidate):
        own = trace if entry is candidate else Trace(run) if explain else None
        decision = entry.static[index] if own is None else None
        if decision is None:
            decision = matched(run, entry.experience.slot, entry, index, own)
        if decision is None:
            run.passed[exp_id] = (
                NO_RECOMMENDATIONS,
                f"{exp_id}: combination {entry.variant_ids[index]} has no recommendations "
                f"left after filtering in slot {entry.experience.slot}",
            )
            return False
        decisions.append(decision)
    variant = candidate.variant_ids[index]
    # One exposure per view, on the first factor's slot (the experience's own `slot`).
    run.exposures.append(
        {"experience": exp_id, "variant": variant, "slot": entries[0][1].experience.slot}
    )
    if run.visitor is not None:
        run.assignments[exp_id] = variant
    for decision in decisions:
        run.claimed[decision.slot] = decision
    return True


def _taken_ahead(run: Run, slot_number: int, stop: int, number: int, explain: bool) -> bool:
    """Whether a candidate ranked above position `stop` would fill the later slot
    `slot_number` (the walk's window narrows as it reads; `furthest` is the slot at
    hand's and is kept)."""
    slot, candidates = run.prepared.slots[slot_number]
    if slot in run.claimed:
        return True  # another multivariate experience took it
    furthest = run.furthest
    try:
        candidate = walk(run, candidates, 0, None)
        while candidate is not None and candidate.position < stop:
            if candidate.multi:
                if candidate.id not in run.passed and _settle(
                    run, candidate, number, None, explain=explain
                ):
                    return True
            else:
                index = choose(run, candidate)
                if index >= 0 and (
                    candidate.static[index] is not None or run.content(candidate, index)[1]
                ):
                    return True
            candidate = walk(run, candidates, candidate.position + 1, None)
        return False
    finally:
        run.furthest = furthest
