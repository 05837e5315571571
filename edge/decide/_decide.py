"""The entry points: `decide`, `decide_unguarded` and `decide_signals`.

Around the slot loop (`edge.decide._walk`) a call reads the caches of the prepared
ruleset (a repeated context and profile return the stored result while its window
holds), sets the journey stage, and sends a visitor in the global holdout to the
defaults within the holdout's scope (`_held_out`), with one `__holdout__` exposure
on a view where something was withheld, so lift can be measured.

>>> from edge.model import Ruleset, Slot, Experience, Variant
>>> rs = Ruleset(site="s", slots={"hero": Slot("hero", "#h")}, experiences=(
...     Experience(id="hi", slot="hero", consent="none",
...                variants=(Variant("v", 1.0, {"text": "Hi {name|there}"}),)),))
>>> decide(rs, {}, {}, datetime(2026, 1, 1, tzinfo=UTC)).decisions[0].content
{'text': 'Hi there'}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from edge import bucketing
from edge.context import build_context
from edge.decide._force import apply_forced
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
    forced: Mapping[str, str] | None = None,
) -> Result:
    """Decide every slot of `ruleset` for this context, profile and moment.

    `forced` (experience id -> variant id, a QA override) fills each named
    experience's slot with that variant, skipping every step of the walk, the holdout
    and the exposure: see `edge.decide._force`.
    """
    if not isinstance(ruleset, Ruleset):
        raise TypeError(f"decide() needs an edge.model.Ruleset, not {type(ruleset).__name__}")
    if not isinstance(now, datetime):
        raise TypeError(f"decide() needs `now` as a datetime, not {type(now).__name__}")
    try:
        return decide_unguarded(ruleset, context, profile, now, explain=explain, forced=forced)
    except Exception as exc:  # the page must still render: every slot gets its default
        trace = (f"decide failed ({type(exc).__name__}: {exc}); defaults shown",) if explain else ()
        decisions = [Decision(slot, None, None, None, "error", trace) for slot in ruleset.slots]
        # An empty window: defaults shown for a failure are never worth keeping.
        moment = (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).timestamp()
        return Result(decisions, trace=trace, valid=(moment, moment))


def decide_signals(
    ruleset: Ruleset,
    signals: Signals,
    profile: Profile,
    now: datetime,
    *,
    explain: bool = False,
    forced: Mapping[str, str] | None = None,
) -> tuple[Attributes, Result]:
    """`decide` on a page's raw signals, as the browser worker and `perso simulate` do:
    the context built from them (DESIGN §4), and the result.

    Without personalization consent the core gets no profile at all: `build_context`
    hides it from the rules, and decide must not see stored assignments either.
    """
    context = build_context(signals, profile=profile, now=now)
    consented = context.get("consent", {}).get("personalization") is True
    decided = decide(
        ruleset, context, profile if consented else {}, now, explain=explain, forced=forced
    )
    return context, decided


def decide_unguarded(
    ruleset: Ruleset,
    context: Any,
    profile: Any,
    now: datetime,
    *,
    explain: bool = False,
    forced: Mapping[str, str] | None = None,
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
    # A forced (QA) result is never read from nor stored in the result cache.
    parts = profile_key(prof) if key is not None and not explain and not forced else None
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
        # the holdout in one batch (the holdout's counterfactual starts from the same walks).
        holdout = ruleset.site + "/holdout" if ruleset.holdout > 0 else None
        starts = prefetch_hashes(run, visitor, holdout_seed=holdout)
    if _in_holdout(ruleset, visitor, hashes):
        if explain:
            share = f"{ruleset.holdout:.0%} global holdout"
            scope = "every experience" if ruleset.holdout_scope == "all" else "what consent adds"
            page_trace.append(f"holdout: visitor is in the {share} (withheld: {scope})")
        decisions, withheld = _held_out(run, starts, explain=explain)
        # Counted for the holdout only on a view where something was withheld.
        exposures = [*run.exposures, dict(_HOLDOUT_MARKER)] if withheld else run.exposures
    else:
        decisions = fill_slots(run, starts, explain=explain)
        exposures = run.exposures
    low, high = run.low, run.high
    result = Result(decisions, exposures, run.assignments, journey, tuple(page_trace), (low, high))
    if forced:
        return apply_forced(run, result, forced)
    if whole is not None:
        prepared.results[whole] = (low, high, result)
        return _copy(result)
    return result


_HOLDOUT_MARKER = {"experience": HOLDOUT_EXPERIENCE, "variant": HOLDOUT_VARIANT, "slot": None}


def _held_out(
    run: Run, starts: list[SlotStart] | None, *, explain: bool
) -> tuple[list[Decision], bool]:
    """The decisions of a visitor in the global holdout (only they pay for this), and
    whether anything was withheld.

    First the counterfactual: the slots as a visitor outside the holdout would get them.
    A slot it fills with an experience in the holdout's scope (every experience for
    `scope: all`; for `scope: consent`, those that need consent) is withheld: default,
    reason `holdout`. With `scope: consent` the visitor keeps what needs no consent
    (`consent: none`), as they saw it before consenting: the slots are decided again
    with no purpose granted. Whether anything was withheld says whether this view
    counts for the holdout (its `__holdout__` exposure), so the holdout and the
    personalized side are both visitors who would have been personalized.
    """
    prepared = run.prepared
    ruleset = prepared.ruleset
    scope_all = ruleset.holdout_scope == "all"
    counterfactual = Run(
        prepared, run.context, run.profile, run.audience, run.hashes, run.visitor, run.now
    )
    would = fill_slots(counterfactual, starts, explain=explain)
    if scope_all:
        in_scope = [d.experience is not None for d in would]
        kept = would
    else:
        needs = {e.id for e in ruleset.experiences if e.consent != "none"}
        in_scope = [d.experience in needs for d in would]
        run.consent = {}  # what needs no consent runs, as it did before consent
        kept = fill_slots(run, None, explain=explain)
    run.low = max(run.low, counterfactual.low)
    run.high = min(run.high, counterfactual.high)
    decisions: list[Decision] = []
    for decision, held, was in zip(kept, in_scope, would, strict=True):
        if not held and decision.experience is None:
            # Nothing withheld here: the slot keeps the reason and the explanation it
            # would have had outside the holdout (not `consent`, which only this second
            # pass lacked: telling a consenting visitor otherwise would mislead).
            decision = was if was.experience is None else decision._replace(reason=was.reason)
        if held and (scope_all or decision.experience is None):
            withheld = prepared.default(decision.slot, "holdout")
            if explain:
                line = f"{was.experience}: withheld, the visitor is in the global holdout"
                withheld = withheld._replace(trace=(*was.trace, line))
            decision = withheld
        decisions.append(decision)
    return decisions, any(in_scope)


def _copy(result: Result) -> Result:
    # Decisions are frozen and shared; the containers are the caller's to keep.
    return Result(
        list(result.decisions),
        [dict(e) for e in result.exposures],
        dict(result.assignments),
        result.journey,
        result.trace,
        result.valid,
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
