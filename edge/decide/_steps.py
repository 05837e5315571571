"""Steps 1-4 of `decide` for one slot (`walk`), and a matched candidate's decision.

`walk` goes through a slot's candidates (by priority) from a given one to the first
that passes steps 1-4: scheduled now, consent granted (and a visitor id when it needs
one), audience matched, under its frequency cap. Every schedule and cap it reads
narrows the run's window [low, high) in which the result stays the same (the result
cache's time to live); every candidate it passes over raises `furthest`, how far a
candidate got, so a default slot reports the reason of the one that came closest.
It is the only place those steps are written: the slot loop (`edge.decide._walk`) and
multivariate experiences' look at their other slots (`edge.decide._multi`) share it.

The walk is the hottest code of `decide`: locals and precomputed fields, no helper
calls. On the fast path the trace is None: one `is not None` test per candidate
passed over.
"""

from __future__ import annotations

from typing import Any

from edge.decide._caps import exposure_count
from edge.decide._explain import Trace
from edge.decide._prepare import PreparedExperience
from edge.decide._result import Decision
from edge.decide._run import Run

__all__ = [
    "COVERAGE",
    "HASH_VERSION",
    "NO_RECOMMENDATIONS",
    "REASON_AT",
    "SLOT_TAKEN",
    "UNSET",
    "matched",
    "walk",
]

HASH_VERSION = 2
UNSET: Any = object()  # a hash not computed yet (None is a hash that failed)
# How far a candidate got before it was passed over; a default slot reports the furthest.
REASON_AT = (
    "no_match",
    "schedule",
    "consent",
    "audience",
    "frequency_cap",
    "coverage",
    "slot_taken",  # a multivariate experience: another of its slots is taken
    "no_recommendations",
)
COVERAGE = 5
SLOT_TAKEN = 6
NO_RECOMMENDATIONS = 7


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


def matched(
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
