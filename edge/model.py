"""The ruleset model: what an artifact holds once compiled (DESIGN §3, §6).

The compiler (`edge.compiler`) turns YAML into these dataclasses; `edge.artifact`
encodes them as msgpack (`to_dict`) and loads them back (`from_dict`). `decide` only
ever sees a `Ruleset`. Everything here is plain data: no field is ever executed.

>>> Variant.from_dict({"id": "a", "weight": 0.5}).weight
0.5
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from edge.types import Condition, Content

__all__ = [
    "ALLOCATIONS",
    "CONSENT_PURPOSES",
    "CONTENT_KINDS",
    "EXPERIENCE_TYPES",
    "FREQUENCY_PERIODS",
    "HOLDOUT_SCOPES",
    "OBJECTIVE_PERIODS",
    "PLACEHOLDER",
    "SCHEMA_VERSION",
    "Experience",
    "Factor",
    "Frequency",
    "JourneyStage",
    "Learned",
    "Level",
    "Objective",
    "Policy",
    "Ruleset",
    "Schedule",
    "Slot",
    "Variant",
]

SCHEMA_VERSION = 1
CONTENT_KINDS = ("text", "html", "attrs", "class", "hide", "redirect", "data", "recommend")
CONSENT_PURPOSES = ("personalization", "analytics", "none")
ALLOCATIONS = ("fixed", "bandit")
# "ab": variants on one slot; "multivariate": factors, each on its own slot, whose
# level combinations are the variants (ids: level ids joined by "." in factor order).
EXPERIENCE_TYPES = ("ab", "multivariate")
# Rolling windows ending now (edge.decide._caps). There is no "view": an experience
# fills one slot once per page view, so a per-view cap could never hold.
FREQUENCY_PERIODS = ("session", "day", "week", "month", "lifetime")
# A placeholder in any string of a variant's content: `{profile.first_name|there}`, a
# dotted path into the context, then an optional fallback after `|`. The path is
# letters, digits, `_`, `-` and dots; the fallback anything but braces. `edge.decide`
# fills them; the compiler checks redirect targets with their fallbacks in place.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)(?:\|([^{}]*))?\}")


@dataclass(frozen=True, slots=True)
class Slot:
    """A place on the page: `{"selector": "#hero h1", "hide_until_decided": false}`."""

    id: str
    selector: str
    hide_until_decided: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"selector": self.selector, "hide_until_decided": self.hide_until_decided}

    @classmethod
    def from_dict(cls, slot_id: str, data: dict[str, Any]) -> Slot:
        return cls(
            id=slot_id,
            selector=str(data["selector"]),
            hide_until_decided=bool(data.get("hide_until_decided", False)),
        )


@dataclass(frozen=True, slots=True)
class Variant:
    """One arm of an experience; `content` None means the page's default."""

    id: str
    weight: float
    content: Content | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "weight": self.weight, "content": self.content}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Variant:
        content = data.get("content")
        return cls(id=str(data["id"]), weight=float(data["weight"]), content=content)


@dataclass(frozen=True, slots=True)
class Level:
    """One level of a factor; `content` None means the page's default (the slot is kept)."""

    id: str
    content: Content | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "content": self.content}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Level:
        return cls(id=str(data["id"]), content=data.get("content"))


@dataclass(frozen=True, slots=True)
class Factor:
    """One element a multivariate experience varies, on its own slot; the first level is
    its reference (what the report compares the others with).

    >>> Factor.from_dict({"id": "headline", "slot": "hero", "levels": [{"id": "default"}]}).levels
    (Level(id='default', content=None),)
    """

    id: str
    slot: str
    levels: tuple[Level, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "slot": self.slot, "levels": [lv.to_dict() for lv in self.levels]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Factor:
        return cls(
            id=str(data["id"]),
            slot=str(data["slot"]),
            levels=tuple(Level.from_dict(lv) for lv in data["levels"]),
        )


@dataclass(frozen=True, slots=True)
class Schedule:
    """A window in UTC epoch seconds; the compiler resolves local times (zoneinfo, DST)."""

    start: float | None = None
    end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Schedule:
        data = data or {}
        start, end = data.get("start"), data.get("end")
        return cls(
            start=None if start is None else float(start),
            end=None if end is None else float(end),
        )


@dataclass(frozen=True, slots=True)
class Frequency:
    """At most `max` exposures per visitor per `per` (counted on the device)."""

    max: int
    per: str = "day"

    def to_dict(self) -> dict[str, Any]:
        return {"max": self.max, "per": self.per}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Frequency | None:
        if not data:
            return None
        return cls(max=int(data["max"]), per=str(data.get("per", "day")))


@dataclass(frozen=True, slots=True)
class Experience:
    """An experience competes for one slot; variants split its audience.

    A multivariate one (`type` "multivariate") competes for each of its factors' slots
    at once (all or none); its variants are the combinations of its design, content
    None (the content is each factor's level: `combination`), and `slot` is the first
    factor's slot, where its one exposure per view is logged.
    """

    id: str
    slot: str
    variants: tuple[Variant, ...]
    priority: int = 0
    audience: Condition = field(default_factory=dict)
    schedule: Schedule = field(default_factory=Schedule)
    frequency: Frequency | None = None
    consent: str = "personalization"
    allocation: str = "fixed"
    goals: tuple[str, ...] = ()
    coverage: float = 1.0
    type: str = "ab"
    factors: tuple[Factor, ...] = ()

    def combination(self, variant_id: str) -> tuple[Level, ...] | None:
        """Each factor's level in a combination (`"short.bold"`), or None if it names none.

        >>> f = Factor("h", "hero", (Level("default"), Level("short", {"text": "Hi"})))
        >>> Experience("x", "hero", (), type="multivariate", factors=(f,)).combination("short")
        (Level(id='short', content={'text': 'Hi'}),)
        """
        ids = variant_id.split(".")
        if len(ids) != len(self.factors):
            return None
        levels = []
        for factor, level_id in zip(self.factors, ids, strict=True):
            level = next((lv for lv in factor.levels if lv.id == level_id), None)
            if level is None:
                return None
            levels.append(level)
        return tuple(levels)

    def to_dict(self) -> dict[str, Any]:
        # An A/B experience writes no `type`: its bytes (and artifact hash) stay as they were.
        extra: dict[str, Any] = (
            {"type": self.type, "factors": [f.to_dict() for f in self.factors]}
            if self.type != "ab"
            else {}
        )
        return {
            **extra,
            "id": self.id,
            "slot": self.slot,
            "priority": self.priority,
            "audience": self.audience,
            "schedule": self.schedule.to_dict(),
            "frequency": None if self.frequency is None else self.frequency.to_dict(),
            "consent": self.consent,
            "allocation": self.allocation,
            "goals": list(self.goals),
            "coverage": self.coverage,
            "variants": [v.to_dict() for v in self.variants],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Experience:
        return cls(
            id=str(data["id"]),
            slot=str(data["slot"]),
            priority=int(data.get("priority", 0)),
            audience=dict(data.get("audience") or {}),
            schedule=Schedule.from_dict(data.get("schedule")),
            frequency=Frequency.from_dict(data.get("frequency")),
            consent=str(data.get("consent", "personalization")),
            allocation=str(data.get("allocation", "fixed")),
            goals=tuple(data.get("goals") or ()),
            coverage=float(data.get("coverage", 1.0)),
            variants=tuple(Variant.from_dict(v) for v in data["variants"]),
            type=str(data.get("type") or "ab"),
            factors=tuple(Factor.from_dict(f) for f in data.get("factors") or ()),
        )


@dataclass(frozen=True, slots=True)
class JourneyStage:
    stage: str
    when: Condition

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "when": self.when}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JourneyStage:
        return cls(stage=str(data["stage"]), when=dict(data.get("when") or {}))


@dataclass(frozen=True, slots=True)
class Policy:
    """Page policy; None means no limit."""

    max_experiences_per_page: int | None = None
    max_exposures_per_session: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_experiences_per_page": self.max_experiences_per_page,
            "max_exposures_per_session": self.max_exposures_per_session,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Policy:
        data = data or {}
        per_page, per_session = (
            data.get("max_experiences_per_page"),
            data.get("max_exposures_per_session"),
        )
        return cls(
            max_experiences_per_page=None if per_page is None else int(per_page),
            max_exposures_per_session=None if per_session is None else int(per_session),
        )


@dataclass(frozen=True, slots=True)
class Learned:
    """What the publisher learned from events, merged into the artifact.

    - `weights`: experience id -> variant weights (bandit allocations), same order as variants;
    - `recommendations`: list name -> item ids, best first ("popular", "popular:<segment>");
    - `co_viewed`: item id -> item ids viewed with it, best first;
    - `segments`: server-side segment name -> parameters (e.g. a threshold), for reference.
    """

    weights: dict[str, list[float]] = field(default_factory=dict)
    recommendations: dict[str, list[str]] = field(default_factory=dict)
    co_viewed: dict[str, list[str]] = field(default_factory=dict)
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "recommendations": self.recommendations,
            "co_viewed": self.co_viewed,
            "segments": self.segments,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Learned:
        data = data or {}
        return cls(
            weights={k: [float(w) for w in v] for k, v in (data.get("weights") or {}).items()},
            recommendations={k: list(v) for k, v in (data.get("recommendations") or {}).items()},
            co_viewed={k: list(v) for k, v in (data.get("co_viewed") or {}).items()},
            segments=dict(data.get("segments") or {}),
        )


HOLDOUT_SCOPES = ("consent", "all")
OBJECTIVE_PERIODS = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True, slots=True)
class Objective:
    """A site-level financial goal: the incremental value of `goal` (value per visitor,
    personalized minus holdout, times the personalized visitors) to reach per period."""

    goal: str
    target: float
    per: str = "month"

    def to_dict(self) -> dict[str, Any]:
        return {"goal": self.goal, "target": self.target, "per": self.per}

    @classmethod
    def from_dict(cls, data: Any) -> Objective | None:
        if not isinstance(data, dict) or not isinstance(data.get("goal"), str):
            return None
        return cls(
            str(data["goal"]), float(data.get("target") or 0.0), str(data.get("per", "month"))
        )


@dataclass(frozen=True, slots=True)
class Ruleset:
    """A compiled ruleset: `$segment` already inlined, schedules in UTC epoch seconds.

    `experiences` keep file order; `decide` sorts by priority (stable, so ties keep it).
    `catalog` maps item id -> item fields (title, url, image, price, category, ...),
    for `recommend` content.
    """

    site: str
    timezone: str = "UTC"
    holdout: float = 0.0
    # What the holdout withholds: "consent" (what consent adds: `consent: none`
    # experiences still run for holdout visitors) or "all" (every experience).
    holdout_scope: str = "consent"
    policy: Policy = field(default_factory=Policy)
    journey: tuple[JourneyStage, ...] = ()
    segments: dict[str, Condition] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)
    experiences: tuple[Experience, ...] = ()
    catalog: dict[str, dict[str, Any]] = field(default_factory=dict)
    learned: Learned = field(default_factory=Learned)
    guardrails: tuple[str, ...] = ()
    objective: Objective | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "site": self.site,
            "timezone": self.timezone,
            "holdout": self.holdout,
            "holdout_scope": self.holdout_scope,
            "policy": self.policy.to_dict(),
            "journey": [j.to_dict() for j in self.journey],
            "segments": self.segments,
            "slots": {k: s.to_dict() for k, s in self.slots.items()},
            "experiences": [e.to_dict() for e in self.experiences],
            "catalog": self.catalog,
            "learned": self.learned.to_dict(),
            "guardrails": list(self.guardrails),
            "objective": None if self.objective is None else self.objective.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ruleset:
        return cls(
            site=str(data["site"]),
            timezone=str(data.get("timezone", "UTC")),
            holdout=float(data.get("holdout", 0.0)),
            holdout_scope="all" if data.get("holdout_scope") == "all" else "consent",
            policy=Policy.from_dict(data.get("policy")),
            journey=tuple(JourneyStage.from_dict(j) for j in data.get("journey") or ()),
            segments=dict(data.get("segments") or {}),
            slots={k: Slot.from_dict(k, v) for k, v in (data.get("slots") or {}).items()},
            experiences=tuple(Experience.from_dict(e) for e in data.get("experiences") or ()),
            catalog=dict(data.get("catalog") or {}),
            learned=Learned.from_dict(data.get("learned")),
            guardrails=tuple(str(g) for g in data.get("guardrails") or ()),
            objective=Objective.from_dict(data.get("objective")),
        )

    def goal_names(self) -> tuple[str, ...]:
        """Every goal the ruleset declares (experiences' goals, guardrails, the objective's
        goal), in that order, once each: the names `perso.track` sends as conversions."""
        names = [g for e in self.experiences for g in e.goals] + list(self.guardrails)
        if self.objective is not None:
            names.append(self.objective.goal)
        return tuple(dict.fromkeys(names))
