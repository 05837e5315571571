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
from edge._content import Recommender, page_items
from edge._decide_caps import cap_reached, exposure_count, session_exposures
from edge._decide_explain import failed_at, format_epoch
from edge._decide_prefetch import prefetch_hashes
from edge._decide_prepare import (
    ContextMemo,
    PreparedExperience,
    PreparedRuleset,
    prepare,
    profile_key,
    visitor_id,
)
from edge._decide_result import HOLDOUT_EXPERIENCE, HOLDOUT_VARIANT, REASONS, Decision, Result
from edge.model import Ruleset
from edge.types import Attributes, Content, Profile

__all__ = ["HOLDOUT_EXPERIENCE", "REASONS", "Decision", "Result", "decide", "decide_unguarded"]

_HASH_VERSION = 2
# How far a candidate got before it was skipped; a default slot reports the furthest.
_RANK = {
    "schedule": 1,
    "consent": 2,
    "audience": 3,
    "frequency_cap": 4,
    "coverage": 5,
    "no_recommendations": 6,
}
_REASON_AT = {rank: reason for reason, rank in _RANK.items()} | {0: "no_match"}
_UNSET: Any = object()
_HOLDOUT = -1  # the holdout's place among a visitor's cached hashes
_NO_TRACE: list[str] = []  # matched() appends to the trace in explain mode only


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
    if visitor is not None and len(hashes) == 0:
        # A visitor new to this ruleset (in this worker): hash the likely matches and
        # the holdout in one batch (wasted only for the few visitors in the holdout).
        holdout = ruleset.site + "/holdout" if ruleset.holdout > 0 else None
        prefetch_hashes(
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
        page = _Page(prepared, ctx, prof, memo, hashes, visitor, moment, explain)
        decisions = [page.decide_slot(slot, candidates) for slot, candidates in prepared.slots]
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
    share = hashes.get(_HOLDOUT, _UNSET)
    if share is _UNSET:
        share = hashes[_HOLDOUT] = bucketing.hash(ruleset.site + "/holdout", visitor, _HASH_VERSION)
    return share is not None and share < ruleset.holdout


class _Page:
    """The state of one `decide` call, shared by its slots (page policy counts)."""

    __slots__ = (
        "assignments",
        "consent",
        "context",
        "explain",
        "exposed",
        "exposures",
        "hashes",
        "high",
        "items",
        "low",
        "memo",
        "now",
        "prepared",
        "profile",
        "session_count",
        "sticky",
        "visitor",
    )

    def __init__(
        self,
        prepared: PreparedRuleset,
        context: Attributes,
        profile: Profile,
        memo: ContextMemo,
        hashes: dict[int, float | None],
        visitor: str | None,
        now: float,
        explain: bool,
    ) -> None:
        self.hashes = hashes
        self.prepared = prepared
        self.context = context
        self.profile = profile
        self.memo = memo
        self.visitor = visitor
        self.now = now
        self.explain = explain
        self.exposures: list[dict[str, Any]] = []
        self.assignments: dict[str, str] = {}
        sticky = profile.get("assignments")
        self.sticky: dict[str, Any] = sticky if isinstance(sticky, dict) else {}
        self.session_count = session_exposures(profile)
        exposed = profile.get("exposures")
        self.exposed: dict[Any, Any] = exposed if isinstance(exposed, dict) else {}
        consent = context.get("consent")
        self.consent: dict[Any, Any] = consent if isinstance(consent, dict) else {}
        # The span of time around `now` in which this page's result stays the same
        # (narrowed by every schedule and cap window examined): the result cache's TTL.
        self.low = -math.inf
        self.high = math.inf
        # The viewed items and the current one, read at the first recommend list.
        self.items: tuple[list[str], str | None] | None = None

    def granted(self, purpose: str) -> bool:
        return purpose == "none" or bool(self.consent.get(purpose))

    def policy_reached(self) -> str | None:
        policy = self.prepared.ruleset.policy
        on_page = len(self.exposures)
        per_page = policy.max_experiences_per_page
        if per_page is not None and on_page >= per_page:
            return f"max_experiences_per_page {per_page} reached"
        per_session = policy.max_exposures_per_session
        if per_session is not None and self.session_count + on_page >= per_session:
            return f"max_exposures_per_session {per_session} reached"
        return None

    def skip(self, candidate: PreparedExperience) -> str | None:
        """Why `candidate` cannot fill its slot (steps 1-4), or None.

        The hottest code of `decide`: locals and precomputed fields, no helper calls.
        """
        now, start, end = self.now, candidate.start, candidate.end
        if now < start:
            if start < self.high:
                self.high = start
            return "schedule"
        if now >= end:
            if end > self.low:
                self.low = end
            return "schedule"
        if start > self.low:
            self.low = start
        if end < self.high:
            self.high = end
        purpose = candidate.consent
        if purpose != "none" and not self.consent.get(purpose):
            return "consent"
        if self.visitor is None and candidate.needs_id:
            return "consent"
        audience = self.memo.audience
        matched = audience.get(candidate.audience_key)
        if matched is None:
            matched = audience[candidate.audience_key] = candidate.audience(self.context)
        if not matched:
            return "audience"
        frequency = candidate.frequency
        if frequency is not None:
            count, low, high = exposure_count(frequency, candidate.id, self.profile, now)
            if low > self.low:
                self.low = low
            if high < self.high:
                self.high = high
            if count >= frequency.max:
                return "frequency_cap"
        return None

    def variant_index(self, candidate: PreparedExperience) -> tuple[int, bool]:
        """(variant index or -1 outside coverage, whether it was sticky)."""
        kept = self.sticky.get(candidate.experience.id)
        if isinstance(kept, str) and kept in candidate.variant_index:
            return candidate.variant_index[kept], True
        if self.visitor is None or not candidate.needs_hash:
            return 0, False  # single variant, coverage 1 (skip() made sure)
        share = self.hashes.get(candidate.index, _UNSET)
        if share is _UNSET:
            share = bucketing.hash(candidate.experience.id, self.visitor, _HASH_VERSION)
            self.hashes[candidate.index] = share
        if share is None:
            return -1, False
        return bucketing.choose_variation(share, candidate.ranges), False

    def content(self, candidate: PreparedExperience, index: int) -> tuple[Content | None, bool]:
        """The variant's content made ready, and False when a recommend list came out empty."""
        content = candidate.variants[index].content
        if content is None:
            return None, True
        filler = candidate.fillers[index]
        if filler is not None:
            content = filler.fill(self.context)
        if candidate.is_recommend[index]:
            spec = content.get("recommend")
            recommender = candidate.recommenders[index]
            if recommender is None or recommender.spec is not spec:
                recommender = Recommender(spec)  # a spec with placeholders, filled above
            items = self.items
            if items is None:
                items = self.items = page_items(self.context, self.profile)
            resolved = recommender.resolve(
                learned=self.prepared.ruleset.learned,
                catalog=self.prepared.catalog,
                viewed=items[0],
                current=items[1],
            )
            if resolved is None:
                return None, False
            content = {**content, "recommend": resolved}
        return content, True

    def decide_slot(self, slot: str, candidates: tuple[PreparedExperience, ...]) -> Decision:
        if not self.explain:
            return self.decide_slot_fast(slot, candidates)
        return self.decide_slot_explained(slot, candidates)

    def decide_slot_fast(self, slot: str, candidates: tuple[PreparedExperience, ...]) -> Decision:
        """`decide_slot_explained` without trace, with `skip` inlined: the hot loop.

        Every step and every narrowing of the [low, high) window is the same as in
        `skip`, in the same order (the result cache relies on the window).
        """
        prepared = self.prepared
        if not candidates:
            return prepared.default(slot, "no_match")
        if prepared.has_policy and self.policy_reached() is not None:
            return prepared.default(slot, "policy")
        now = self.now
        consent = self.consent
        no_visitor = self.visitor is None
        audience = self.memo.audience
        context = self.context
        exposed = self.exposed
        low = self.low
        high = self.high
        furthest = 0
        for candidate in candidates:
            start = candidate.start
            end = candidate.end
            if now < start:
                if start < high:
                    high = start
                if furthest < 1:
                    furthest = 1
                continue
            if now >= end:
                if end > low:
                    low = end
                if furthest < 1:
                    furthest = 1
                continue
            if start > low:
                low = start
            if end < high:
                high = end
            purpose = candidate.consent
            if (purpose != "none" and not consent.get(purpose)) or (
                no_visitor and candidate.needs_id
            ):
                if furthest < 2:
                    furthest = 2
                continue
            key = candidate.audience_key
            matched = audience.get(key)
            if matched is None:
                matched = audience[key] = candidate.audience(context)
            if not matched:
                if furthest < 3:
                    furthest = 3
                continue
            frequency = candidate.frequency
            if frequency is not None:
                # Never shown to this visitor: no exposure counts, in any window.
                count = 0
                if candidate.id in exposed:
                    count, since, until = exposure_count(frequency, candidate.id, self.profile, now)
                    if since > low:
                        low = since
                    if until < high:
                        high = until
                if count >= frequency.max:
                    if furthest < 4:
                        furthest = 4
                    continue
            index, sticky = self.variant_index(candidate)
            if index < 0:
                if furthest < 5:
                    furthest = 5
                continue
            decision = self.matched(slot, candidate, index, sticky, _NO_TRACE)
            if decision is not None:
                self.low = low
                self.high = high
                return decision
            furthest = 6
        self.low = low
        self.high = high
        return prepared.default(slot, _REASON_AT[furthest])

    def decide_slot_explained(
        self, slot: str, candidates: tuple[PreparedExperience, ...]
    ) -> Decision:
        explain = self.explain
        if not candidates:
            if explain:
                return Decision(slot, None, None, None, "no_match", ("no experience targets it",))
            return self.prepared.default(slot, "no_match")
        held = self.policy_reached()
        if held is not None:
            if explain:
                line = f"page policy: {held} before this slot"
                return Decision(slot, None, None, None, "policy", (line,))
            return self.prepared.default(slot, "policy")
        trace: list[str] = []
        furthest = 0
        for candidate in candidates:
            reason = self.skip(candidate)
            index = -1
            if reason is None:
                index, sticky = self.variant_index(candidate)
                if index < 0:
                    reason = "coverage"
                else:
                    decision = self.matched(slot, candidate, index, sticky, trace)
                    if decision is not None:
                        return decision
                    reason = "no_recommendations"
            rank = _RANK[reason]
            if rank > furthest:
                furthest = rank
            if explain:
                trace.append(self.describe(candidate, reason, index))
        reason = _REASON_AT[furthest]
        if explain:
            return Decision(slot, None, None, None, reason, tuple(trace))
        return self.prepared.default(slot, reason)

    def matched(
        self,
        slot: str,
        candidate: PreparedExperience,
        index: int,
        sticky: bool,
        trace: list[str],
    ) -> Decision | None:
        """The decision for a candidate that fills the slot (None: no recommendations)."""
        variant_id = candidate.variants[index].id
        decision = None if self.explain else candidate.static[index]
        if decision is None:
            content, available = self.content(candidate, index)
            if not available:
                return None
            if self.explain:
                how = " (sticky)" if sticky else ""
                trace.append(f"{candidate.id}: matched, variant {variant_id}{how}")
            decision = Decision(slot, candidate.id, variant_id, content, "matched", tuple(trace))
        self.exposures.append({"experience": candidate.id, "variant": variant_id, "slot": slot})
        if self.visitor is not None:
            self.assignments[candidate.id] = variant_id
        return decision

    def describe(self, candidate: PreparedExperience, reason: str, index: int) -> str:
        """One trace line saying why `candidate` was skipped (explain mode only)."""
        experience = candidate.experience
        name = experience.id
        if reason == "schedule":
            start = "always" if candidate.start == float("-inf") else format_epoch(candidate.start)
            end = "open" if candidate.end == float("inf") else format_epoch(candidate.end)
            return f"{name}: not scheduled now (runs {start} to {end})"
        if reason == "consent":
            if not self.granted(experience.consent):
                return f"{name}: consent '{experience.consent}' not granted"
            return f"{name}: needs a visitor id (consent) to split variants or apply coverage"
        if reason == "audience":
            where = failed_at(experience.audience, self.context, self.prepared.ruleset.segments)
            return f"{name}: audience failed at {where}"
        if reason == "frequency_cap" and experience.frequency is not None:
            cap = experience.frequency
            count = cap_reached(cap, name, self.profile, self.now)
            return f"{name}: frequency cap {cap.max}/{cap.per} reached ({count} exposures)"
        if reason == "coverage":
            return f"{name}: visitor outside coverage {experience.coverage:g}"
        variant = candidate.variants[index].id if index >= 0 else "?"
        return f"{name}: variant {variant} has no recommendations left after filtering"
