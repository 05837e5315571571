"""The entry points: `decide`, `decide_unguarded` and `decide_signals`.

Around the slot loop (`edge.decide._walk`) a call reads the caches of the prepared
ruleset (a repeated context and profile return the stored result while its window
holds), sets the journey stage, and sends a visitor in the global holdout to the
defaults, with one `__holdout__` exposure so lift can be measured.

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
from edge.context import build_context
from edge.decide._prepare import PreparedRuleset, prepare, profile_key, visitor_id
from edge.decide._result import HOLDOUT_EXPERIENCE, HOLDOUT_VARIANT, Decision, Result
from edge.decide._run import Run
from edge.decide._walk import (
    HASH_VERSION,
    HOLDOUT_KEY,
    UNSET,
    SlotStart,
    fill_slots,
    prefetch_hashes,
)
from edge.model import Ruleset
from edge.types import Attributes, Profile, Signals

__all__ = ["decide", "decide_signals", "decide_unguarded"]


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


def decide_signals(
    ruleset: Ruleset,
    signals: Signals,
    profile: Profile,
    now: datetime,
    *,
    explain: bool = False,
) -> tuple[Attributes, Result]:
    """`decide` on a page's raw signals, as the browser worker and `perso simulate` do:
    the context built from them (DESIGN §4), and the result.

    Without personalization consent the core gets no profile at all: `build_context`
    hides it from the rules, and decide must not see stored assignments either.
    """
    context = build_context(signals, profile=profile, now=now)
    consented = context.get("consent", {}).get("personalization") is True
    return context, decide(ruleset, context, profile if consented else {}, now, explain=explain)


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
    run = Run(prepared, ctx, prof, memo.audience, hashes, visitor, moment)
    starts: list[SlotStart] | None = None
    if visitor is not None and len(hashes) == 0 and not explain:
        # A visitor new to this ruleset (in this worker): hash the likely matches and
        # the holdout in one batch (wasted only for the few visitors in the holdout).
        holdout = ruleset.site + "/holdout" if ruleset.holdout > 0 else None
        starts = prefetch_hashes(run, visitor, holdout_seed=holdout)
    if _in_holdout(ruleset, visitor, hashes):
        if explain:
            page_trace.append(f"holdout: visitor is in the {ruleset.holdout:.0%} global holdout")
        decisions = [prepared.default(slot, "holdout") for slot in ruleset.slots]
        marker = {"experience": HOLDOUT_EXPERIENCE, "variant": HOLDOUT_VARIANT, "slot": None}
        result = Result(decisions, [marker], {}, journey, tuple(page_trace))
        low, high = -math.inf, math.inf
    else:
        decisions = fill_slots(run, starts, explain=explain)
        result = Result(decisions, run.exposures, run.assignments, journey, tuple(page_trace))
        low, high = run.low, run.high
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
    share = hashes.get(HOLDOUT_KEY, UNSET)
    if share is UNSET:
        share = hashes[HOLDOUT_KEY] = bucketing.hash(
            ruleset.site + "/holdout", visitor, HASH_VERSION
        )
    return share is not None and share < ruleset.holdout
