"""The slot loop of `decide`: one call's state, shared by the slots of a page.

`Page` holds what the slots of one `decide` call share (the page policy's counts,
the exposures and assignments so far, the [low, high) window in which the result
stays valid) and decides each slot: `decide_slot_fast`, the hot loop, with every
check inlined, and `decide_slot_explained`, the same steps with a trace line per
skipped candidate. It is separate from `edge.decide`, which keeps the entry points,
the result cache, the journey and the holdout, so each module stays readable at
under ~500 lines; `decide` builds one `Page` per call and calls its methods
directly, so the split adds no call on the hot path.
"""

from __future__ import annotations

import math
from typing import Any

from edge import bucketing
from edge._content import Recommender, page_items
from edge._decide_caps import cap_reached, exposure_count, session_exposures
from edge._decide_explain import failed_at, format_epoch
from edge._decide_prefetch import SlotStart
from edge._decide_prepare import ContextMemo, PreparedExperience, PreparedRuleset
from edge._decide_result import Decision
from edge.types import Attributes, Content, Profile

__all__ = ["HASH_VERSION", "UNSET", "Page"]

HASH_VERSION = 2
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
UNSET: Any = object()  # a hash not computed yet (None is a hash that failed)
_NO_TRACE: list[str] = []  # matched() appends to the trace in explain mode only


class Page:
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
        share = self.hashes.get(candidate.index, UNSET)
        if share is UNSET:
            share = bucketing.hash(candidate.experience.id, self.visitor, HASH_VERSION)
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

    def decide_slot_fast(
        self,
        slot: str,
        candidates: tuple[PreparedExperience, ...],
        resume: SlotStart | None = None,
    ) -> Decision:
        """`decide_slot_explained` without trace, with `skip` inlined: the hot loop.

        Every step and every narrowing of the [low, high) window is the same as in
        `skip`, in the same order (the result cache relies on the window). `resume`,
        from `prefetch_hashes`, skips the candidates it already found failing.
        """
        prepared = self.prepared
        if not candidates:
            return prepared.default(slot, "no_match")
        if prepared.has_policy and self.policy_reached() is not None:
            return prepared.default(slot, "policy")
        now = self.now
        consent = self.consent
        visitor = self.visitor
        no_visitor = visitor is None
        audience = self.memo.audience
        context = self.context
        exposed = self.exposed
        sticky = self.sticky
        hashes = self.hashes
        low = self.low
        high = self.high
        furthest = 0
        if resume is not None:
            first, skipped_low, skipped_high, furthest = resume
            if skipped_low > low:
                low = skipped_low
            if skipped_high < high:
                high = skipped_high
            if first:
                candidates = candidates[first:]
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
            # variant_index() and the static path of matched(), inlined.
            kept = sticky.get(candidate.id)
            if isinstance(kept, str) and kept in candidate.variant_index:
                index = candidate.variant_index[kept]
            elif visitor is None or not candidate.needs_hash:
                index = 0  # single variant, coverage 1 (checked above)
            else:
                share = hashes.get(candidate.index, UNSET)
                if share is UNSET:
                    share = hashes[candidate.index] = bucketing.hash(
                        candidate.id, visitor, HASH_VERSION
                    )
                index = -1 if share is None else bucketing.choose_variation(share, candidate.ranges)
                if index < 0:
                    if furthest < 5:
                        furthest = 5
                    continue
            decision = candidate.static[index]
            if decision is None:
                decision = self.matched(slot, candidate, index, False, _NO_TRACE)
                if decision is None:
                    furthest = 6
                    continue
            else:
                variant_id = candidate.variant_ids[index]
                self.exposures.append(
                    {"experience": candidate.id, "variant": variant_id, "slot": slot}
                )
                if not no_visitor:
                    self.assignments[candidate.id] = variant_id
            self.low = low
            self.high = high
            return decision
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
