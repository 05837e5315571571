"""A ruleset made ready for deciding: compiled once, then reused for every call.

`prepare(ruleset)` compiles every audience and journey condition, sorts each slot's
experiences by priority (stable: ties keep file order) and notes which contents hold
placeholders. Prepared rulesets are cached by identity: `Ruleset` is a frozen
dataclass with `__slots__` (no weak references), so the cache keeps the ruleset
itself beside its preparation; holding it means its `id()` cannot be reused by a
newer object while the entry lives. Only a few rulesets are live at once (the
current artifact, maybe the last good one), so the cache is small.

Each prepared ruleset also keeps LRUs. The *result cache* maps (context,
profile parts decide reads) to a whole `Result` and the span of time it holds for
(until the next schedule boundary or the moment an exposure leaves a cap window
among the candidates examined): a repeated page view costs two `json.dumps` and a
lookup. The *context memos*: for one context (keyed
by its JSON) the journey stage and the audience results, filled lazily; a
repeated context evaluates no condition. A third small LRU keeps each visitor's
hashes (they depend on the id alone), so a returning visitor hashes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from edge import bucketing, conditions
from edge.conditions import Predicate
from edge.decide._caps import effective_cap
from edge.decide._content import ContentFiller, Recommender, catalog_items, has_placeholders
from edge.decide._result import Decision
from edge.model import Experience, Frequency, Learned, Ruleset, Variant
from edge.types import Attributes, Profile

__all__ = [
    "ContextMemo",
    "Lru",
    "PreparedExperience",
    "PreparedRuleset",
    "context_key",
    "prepare",
    "profile_key",
    "visitor_id",
]

_MISSING: Any = object()
_RULESETS_KEPT = 4
_CONTEXTS_KEPT = 512
_RESULTS_KEPT = 256
_VISITORS_KEPT = 64
# The only profile fields decide() reads: stickiness, caps, session policy, recommend.
_PROFILE_PARTS = ("assignments", "exposures", "session", "viewed")


@dataclass(frozen=True, slots=True)
class PreparedExperience:
    """One experience with what deciding needs precomputed."""

    # Its place in the ruleset's experiences (its key among a visitor's hashes).
    index: int
    # Its place among its slot's candidates (by priority): a walk resumes after it.
    position: int
    experience: Experience
    audience: Predicate
    # Experiences with the same audience share one compiled predicate and one key:
    # a page evaluates each distinct audience at most once.
    audience_key: int
    id: str
    start: float
    end: float
    variant_index: dict[str, int]
    ranges: list[tuple[float, float]]
    fillers: tuple[ContentFiller | None, ...]
    is_recommend: tuple[bool, ...]
    # Each variant's `recommend` spec read once (None: no recommend list).
    recommenders: tuple[Recommender | None, ...]
    consent: str
    # Hashing (several variants, coverage) or consent needs a visitor id.
    needs_id: bool
    # One variant at full coverage: every hash lands in [0, 1), so none is computed.
    needs_hash: bool
    # Coverage below 1: a visitor may fall outside it (then the next candidate is tried).
    partial: bool
    frequency: Frequency | None
    # The matched decision per variant when its content is static (no placeholder,
    # no recommend list): decisions are frozen, so one object serves every call.
    static: tuple[Decision | None, ...]
    # The variants' ids, by index (read in the hot loop without the property's hops).
    variant_ids: tuple[str, ...]
    # One slot of a multivariate experience: `experience` is its view from this slot
    # (its slot, and each combination's level of this slot's factor as the content).
    multi: bool = False

    @property
    def variants(self) -> tuple[Variant, ...]:
        return self.experience.variants


class Lru[K, V]:
    """A least-recently-used map on a plain dict (insertion order is recency).

    cachetools' LRUCache costs about a microsecond per lookup in pure Python; a page
    makes several, so this keeps to dict operations (tens of nanoseconds).
    """

    __slots__ = ("data", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.data: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        data = self.data
        value = data.pop(key, None)
        if value is not None:
            data[key] = value  # now the most recent
        return value

    def __setitem__(self, key: K, value: V) -> None:
        data = self.data
        data.pop(key, None)
        data[key] = value
        if len(data) > self.maxsize:
            del data[next(iter(data))]  # the least recent

    def __len__(self) -> int:
        return len(self.data)

    def clear(self) -> None:
        self.data.clear()


@dataclass(slots=True)
class ContextMemo:
    """What one context decides regardless of profile and time (filled lazily)."""

    journey: Any = _MISSING
    audience: dict[int, bool] = field(default_factory=dict)

    @property
    def journey_known(self) -> bool:
        return self.journey is not _MISSING


@dataclass(slots=True)
class PreparedRuleset:
    ruleset: Ruleset
    slots: tuple[tuple[str, tuple[PreparedExperience, ...]], ...]
    journey: tuple[tuple[str, Predicate], ...]
    catalog: dict[str, dict[str, Any]]
    # Default decisions without trace, by (slot, reason): shared, they are frozen.
    defaults: dict[tuple[str, str], Decision]
    memos: Lru[str, ContextMemo]
    # Glances of the contexts seen (see memo_for): a first sight skips the JSON key.
    glances: Lru[tuple[Any, ...], bool]
    # A visitor's hashes by experience index (-1: the holdout): they depend on the id
    # only, so they outlive the context (which changes every minute with local time).
    visitors: Lru[str, dict[int, float | None]]
    # Whole results: (context key, profile key) -> (valid from, valid until, result).
    results: Lru[str, tuple[float, float, Any]]
    # Whether the page policy limits anything (else it is never checked).
    has_policy: bool = False
    # Each multivariate experience's entries, one per factor in factor order, with the
    # place of the entry's slot in `slots`: it takes all of them or none.
    multi: dict[str, tuple[tuple[int, PreparedExperience], ...]] = field(default_factory=dict)

    def hashes_for(self, visitor: str) -> dict[int, float | None]:
        hashes = self.visitors.get(visitor)
        if hashes is None:
            hashes = self.visitors[visitor] = {}
        return hashes

    def default(self, slot: str, reason: str) -> Decision:
        decision = self.defaults.get((slot, reason))
        if decision is None:
            decision = self.defaults[slot, reason] = Decision(slot, None, None, None, reason)
        return decision

    def memo_for(self, context: Attributes) -> tuple[ContextMemo, str | None]:
        """The context's memo, and its key when it may be a repeat (else None).

        A context whose glance (id, page, minute) was never seen cannot have been
        seen whole: it gets a fresh memo without paying for its JSON key.
        """
        look = _glance(context)
        try:
            hash(look)  # (an empty dict would not hash it before the store below)
        except TypeError:  # an unhashable part: take the long way
            new = False
        else:
            new = self.glances.get(look) is None
        if new:
            self.glances[look] = True
            return ContextMemo(), None
        key = context_key(context)
        if key is None:
            return ContextMemo(), None  # uncacheable context: decide from scratch
        memo = self.memos.get(key)
        if memo is None:
            memo = self.memos[key] = ContextMemo()
        return memo, key


def _canonical(value: Any) -> str | None:
    # Insertion order is kept (no sort_keys, which costs 2.5x): equal contexts built
    # in another key order only miss the cache, they never share a wrong entry.
    try:
        return json.dumps(value, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return None


def _glance(context: Attributes) -> tuple[Any, ...]:
    # What changes from one page view to the next; a few lookups, no JSON.
    page = context.get("page")
    local = context.get("local")
    return (
        context.get("id"),
        page.get("url") if type(page) is dict else page,
        page.get("path") if type(page) is dict else None,
        local.get("minute") if type(local) is dict else local,
        local.get("hour") if type(local) is dict else None,
    )


def context_key(context: Attributes) -> str | None:
    """The JSON of the context (the context memo's key), or None when it has none."""
    return _canonical(context)


def profile_key(profile: Profile) -> str | None:
    """The JSON of the profile parts `decide` reads (with the context key: the result
    cache's key), or None."""
    return _canonical([profile.get(part) for part in _PROFILE_PARTS])


def visitor_id(context: Attributes) -> str | None:
    """`context["id"]` when it can be hashed (a non-empty string or an integer)."""
    value = context.get("id")
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _bound(value: float | None, default: float) -> float:
    return default if value is None or math.isnan(value) else value


def _weights(experience: Experience, learned: Learned) -> list[float]:
    """The bandit's learned weights when usable, else the variants' own weights."""
    own = [v.weight for v in experience.variants]
    if experience.allocation != "bandit":
        return own
    weights = learned.weights.get(experience.id)
    if (
        not isinstance(weights, list)
        or len(weights) != len(own)
        or not all(isinstance(w, int | float) and 0.0 <= w <= 1.0 for w in weights)
    ):
        return own
    return [float(w) for w in weights]


def _prepare_experience(
    index: int,
    position: int,
    experience: Experience,
    learned: Learned,
    audiences: dict[str, tuple[int, Predicate]],
) -> PreparedExperience:
    fillers = tuple(
        ContentFiller(v.content)
        if isinstance(v.content, dict) and has_placeholders(v.content)
        else None
        for v in experience.variants
    )
    is_recommend = tuple(
        isinstance(v.content, dict) and "recommend" in v.content for v in experience.variants
    )
    static = tuple(
        None
        if filler is not None or recommend
        else Decision(experience.slot, experience.id, v.id, v.content, "matched")
        for v, filler, recommend in zip(experience.variants, fillers, is_recommend, strict=True)
    )
    # repr tells JSON values apart exactly (1, 1.0 and True differ); a key order that
    # differs only costs sharing.
    text = repr(experience.audience)
    shared = audiences.get(text)
    if shared is None:
        shared = audiences[text] = (len(audiences), conditions.compile(experience.audience))
    return PreparedExperience(
        index=index,
        position=position,
        experience=experience,
        audience=shared[1],
        audience_key=shared[0],
        id=experience.id,
        start=_bound(experience.schedule.start, -math.inf),
        end=_bound(experience.schedule.end, math.inf),
        variant_index={v.id: i for i, v in enumerate(experience.variants)},
        ranges=bucketing.get_bucket_ranges(
            len(experience.variants), experience.coverage, _weights(experience, learned)
        ),
        fillers=fillers,
        is_recommend=is_recommend,
        recommenders=tuple(
            Recommender(v.content["recommend"]) if recommend and v.content is not None else None
            for v, recommend in zip(experience.variants, is_recommend, strict=True)
        ),
        consent=experience.consent,
        needs_id=experience.consent != "none"
        or len(experience.variants) > 1
        or experience.coverage < 1,
        needs_hash=len(experience.variants) > 1 or experience.coverage < 1,
        partial=not experience.coverage >= 1,
        frequency=effective_cap(experience.frequency),
        static=static,
        variant_ids=tuple(v.id for v in experience.variants),
        multi=experience.type == "multivariate",
    )


def _factor_views(experience: Experience, slots: Mapping[str, object]) -> list[Experience]:
    """A multivariate experience as one experience per factor: the factor's slot, and as
    each combination's content that factor's level. None of them when the artifact is
    malformed (a factor's slot undeclared, a combination naming no level): it could
    never take all its slots, so it takes none."""
    combinations = [experience.combination(v.id) for v in experience.variants]
    factor_slots = {f.slot for f in experience.factors}
    if len(factor_slots) != len(experience.factors) or len(factor_slots) < 2:
        return []
    if any(slot not in slots for slot in factor_slots):
        return []
    views: list[Experience] = []
    for i, factor in enumerate(experience.factors):
        variants = []
        for variant, levels in zip(experience.variants, combinations, strict=True):
            if levels is None:
                return []
            variants.append(Variant(variant.id, variant.weight, levels[i].content))
        views.append(replace(experience, slot=factor.slot, variants=tuple(variants)))
    return views


def _build(ruleset: Ruleset) -> PreparedRuleset:
    by_slot: dict[str, list[tuple[int, Experience]]] = {slot: [] for slot in ruleset.slots}
    for index, experience in enumerate(ruleset.experiences):
        if not experience.variants:
            continue
        if experience.type == "multivariate":
            for view in _factor_views(experience, by_slot):
                by_slot[view.slot].append((index, view))
        elif experience.slot in by_slot:
            by_slot[experience.slot].append((index, experience))
    audiences: dict[str, tuple[int, Predicate]] = {}
    slots = tuple(
        (
            slot,
            tuple(
                _prepare_experience(index, position, experience, ruleset.learned, audiences)
                for position, (index, experience) in enumerate(
                    # sorted() is stable, so equal priorities keep file order.
                    sorted(members, key=lambda member: -member[1].priority)
                )
            ),
        )
        for slot, members in by_slot.items()
    )
    journey = tuple((stage.stage, conditions.compile(stage.when)) for stage in ruleset.journey)
    multi: dict[str, list[tuple[int, PreparedExperience]]] = {}
    for number, (_slot, candidates) in enumerate(slots):
        for candidate in candidates:
            if candidate.multi:
                multi.setdefault(candidate.id, []).append((number, candidate))
    for entries in multi.values():
        factors = [f.slot for f in entries[0][1].experience.factors]
        entries.sort(key=lambda entry: factors.index(entry[1].experience.slot))
    return PreparedRuleset(
        ruleset,
        slots,
        journey,
        catalog_items(ruleset.catalog),
        {},
        Lru(maxsize=_CONTEXTS_KEPT),
        Lru(maxsize=_CONTEXTS_KEPT),
        Lru(maxsize=_VISITORS_KEPT),
        Lru(maxsize=_RESULTS_KEPT),
        ruleset.policy.max_experiences_per_page is not None
        or ruleset.policy.max_exposures_per_session is not None,
        {exp_id: tuple(entries) for exp_id, entries in multi.items()},
    )


_PREPARED: Lru[int, PreparedRuleset] = Lru(maxsize=_RULESETS_KEPT)


def prepare(ruleset: Ruleset) -> PreparedRuleset:
    """The prepared form of `ruleset`, built on first use and then reused."""
    prepared = _PREPARED.get(id(ruleset))
    if prepared is None or prepared.ruleset is not ruleset:
        prepared = _PREPARED[id(ruleset)] = _build(ruleset)
    return prepared
