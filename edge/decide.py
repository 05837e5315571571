"""Deciding what each slot shows (DESIGN §5): a pure function of its four inputs.

For each slot (in `ruleset.slots` order) the experiences are taken by priority,
higher first, ties in file order; the first one that

1. is scheduled now (`start <= now < end`, UTC epoch seconds),
2. has its consent purpose granted (`context["consent"][purpose]`; "none" always),
3. matches its audience (conditions compiled once per ruleset),
4. is under its frequency cap (rolling windows, see `edge._decide_caps`),
5. is allowed by the page policy (checked once per slot, before its candidates),
6. and covers the visitor (GrowthBook hash v2, seed = experience id, attribute `id`)

fills the slot. A sticky assignment (`profile["assignments"][id]` naming a variant that
still exists) is kept without hashing. A visitor in the global holdout gets every
default, and one `__holdout__` exposure is logged per page view so lift can be
measured. Without a visitor id (no consent) nothing is hashed, so only single-variant
experiences whose consent is "none" (and coverage 1) can run.

Nothing here raises for an odd context or profile: unreadable parts are ignored, and
an unexpected failure turns every slot into its default with reason "error".
The slot loop itself (`Page`) is in `edge._decide_page`.

>>> from edge.model import Ruleset, Slot, Experience, Variant
>>> rs = Ruleset(site="s", slots={"hero": Slot("hero", "#h")}, experiences=(
...     Experience(id="hi", slot="hero", consent="none",
...                variants=(Variant("v", 1.0, {"text": "Hi {name|there}"}),)),))
>>> decide(rs, {}, {}, datetime(2026, 1, 1, tzinfo=UTC)).decisions[0].content
{'text': 'Hi there'}
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from edge import bucketing
from edge._decide_page import HASH_VERSION, UNSET, Page
from edge._decide_prefetch import SlotStart, prefetch_hashes
from edge._decide_prepare import PreparedRuleset, prepare, profile_key, visitor_id
from edge._decide_result import HOLDOUT_EXPERIENCE, HOLDOUT_VARIANT, REASONS, Decision, Result
from edge.model import Ruleset
from edge.types import Attributes, Profile

__all__ = ["HOLDOUT_EXPERIENCE", "REASONS", "Decision", "Result", "decide", "decide_unguarded"]

_HOLDOUT = -1  # the holdout's place among a visitor's cached hashes


def decide(
    ruleset: Ruleset,
    context: Attributes,
    profile: Profile,
    now: datetime,
    *,
    explain: bool = False,
) -> Result:
    """Decide every slot of `ruleset` for this context, profile and moment."""
    if not isinstance(ruleset, Ruleset):
        raise TypeError(f"decide() needs an edge.model.Ruleset, not {type(ruleset).__name__}")
    if not isinstance(now, datetime):
        raise TypeError(f"decide() needs `now` as a datetime, not {type(now).__name__}")
    try:
        return decide_unguarded(ruleset, context, profile, now, explain=explain)
    except Exception as exc:  # the page must still render: every slot gets its default
        trace = (f"decide failed ({type(exc).__name__}: {exc}); defaults shown",) if explain else ()
        decisions = [Decision(slot, None, None, None, "error", trace) for slot in ruleset.slots]
        return Result(decisions, trace=trace)


def decide_unguarded(
    ruleset: Ruleset,
    context: Any,
    profile: Any,
    now: datetime,
    *,
    explain: bool = False,
) -> Result:
    """`decide` without its safety net (so tests see any bug instead of defaults)."""
    prepared = prepare(ruleset)
    ctx: Attributes = context if isinstance(context, dict) else {}
    prof: Profile = profile if isinstance(profile, dict) else {}
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    moment = now.timestamp()
    memo, key = prepared.memo_for(ctx)
    # A context seen for the first time (a new page, the minute moved on) cannot be in
    # the result cache: its JSON key, the profile's, the store and the copy are only
    # paid from the second sight on (a repeat view), where they save the whole decision.
    parts = profile_key(prof) if key is not None and not explain else None
    whole = None if parts is None else f"{key}\x00{parts}"
    if whole is not None:
        cached = prepared.results.get(whole)
        if cached is not None and cached[0] <= moment < cached[1]:
            return _copy(cached[2])
    if not memo.journey_known:
        memo.journey = _journey(prepared, ctx)
    journey: str | None = memo.journey
    if journey is not None:
        ctx = {**ctx, "journey": journey}
    visitor = visitor_id(ctx)
    hashes = prepared.hashes_for(visitor) if visitor is not None else {}
    page_trace = [f"journey: {journey}"] if explain and journey is not None else []
    starts: list[SlotStart] | None = None
    if visitor is not None and len(hashes) == 0:
        # A visitor new to this ruleset (in this worker): hash the likely matches and
        # the holdout in one batch (wasted only for the few visitors in the holdout).
        holdout = ruleset.site + "/holdout" if ruleset.holdout > 0 else None
        starts = prefetch_hashes(
            prepared,
            ctx,
            prof,
            memo,
            hashes,
            visitor,
            moment,
            holdout_seed=holdout,
            holdout_key=_HOLDOUT,
        )
    if _in_holdout(ruleset, visitor, hashes):
        if explain:
            page_trace.append(f"holdout: visitor is in the {ruleset.holdout:.0%} global holdout")
        decisions = [prepared.default(slot, "holdout") for slot in ruleset.slots]
        marker = {"experience": HOLDOUT_EXPERIENCE, "variant": HOLDOUT_VARIANT, "slot": None}
        result = Result(decisions, [marker], {}, journey, tuple(page_trace))
        low, high = -math.inf, math.inf
    else:
        page = Page(prepared, ctx, prof, memo, hashes, visitor, moment, explain)
        if explain:
            decisions = [page.decide_slot_explained(slot, c) for slot, c in prepared.slots]
        elif starts is None:
            decisions = [page.decide_slot_fast(slot, c) for slot, c in prepared.slots]
        else:
            # The prefetch walked each slot up to its first passing candidate already.
            fast = page.decide_slot_fast
            decisions = [
                fast(slot, c, resume)
                for (slot, c), resume in zip(prepared.slots, starts, strict=True)
            ]
        result = Result(decisions, page.exposures, page.assignments, journey, tuple(page_trace))
        low, high = page.low, page.high
    if whole is not None:
        prepared.results[whole] = (low, high, result)
        return _copy(result)
    return result


def _copy(result: Result) -> Result:
    # Decisions are frozen and shared; the containers are the caller's to keep.
    return Result(
        list(result.decisions),
        [dict(e) for e in result.exposures],
        dict(result.assignments),
        result.journey,
        result.trace,
    )


def _journey(prepared: PreparedRuleset, context: Attributes) -> str | None:
    for stage, when in prepared.journey:
        if when(context):
            return stage
    return None


def _in_holdout(ruleset: Ruleset, visitor: str | None, hashes: dict[int, float | None]) -> bool:
    if visitor is None or not ruleset.holdout > 0:
        return False
    share = hashes.get(_HOLDOUT, UNSET)
    if share is UNSET:
        share = hashes[_HOLDOUT] = bucketing.hash(ruleset.site + "/holdout", visitor, HASH_VERSION)
    return share is not None and share < ruleset.holdout
