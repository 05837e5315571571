"""Rulesets, contexts and profiles for tests and benchmarks (no YAML needed).

`generated_ruleset()` builds a realistic large ruleset straight from the `edge.model`
dataclasses: audiences in the shapes marketers write (device, language, local hour,
channel, profile counters, journey, `$in`, `$or`), schedules, frequency caps, 1 to 3
variants with text/html/attrs/data/recommend content, bandit weights and a catalog.
The same seed gives the same ruleset. Pure stdlib + edge, so it also runs in Pyodide.
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from typing import Any

from edge.model import (
    Experience,
    Frequency,
    JourneyStage,
    Learned,
    Policy,
    Ruleset,
    Schedule,
    Slot,
    Variant,
)

__all__ = [
    "NOW",
    "generated_ruleset",
    "sample_context",
    "sample_profile",
]

# A fixed "now" (a Wednesday evening in São Paulo) that sample_context() agrees with.
NOW = datetime(2026, 11, 25, 22, 30, tzinfo=UTC)

_DEVICES = ("mobile", "desktop", "tablet")
_LANGUAGES = ("pt", "en", "es", "de", "fr")
_CHANNELS = ("direct", "search", "social", "email", "paid", "referral")
_SEGMENTS = {
    "pt_speakers": {"language": "pt"},
    "evening": {"local.hour": {"$gte": 18, "$lt": 23}},
    "mobile": {"device.type": "mobile"},
    "loyal": {"profile.visits": {"$gte": 3}},
}
_JOURNEY = (
    JourneyStage("customer", {"profile.purchases": {"$gte": 1}}),
    JourneyStage("cart", {"profile.cart_items": {"$gt": 0}}),
    JourneyStage("engaged", {"profile.pageviews": {"$gte": 5}}),
    JourneyStage("returning", {"profile.visits": {"$gte": 2}}),
    JourneyStage("new", {}),
)


def _audience(rng: random.Random) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for _ in range(rng.randint(0, 4)):
        kind = rng.randrange(8)
        if kind == 0:
            parts.append({"device.type": rng.choice(_DEVICES)})
        elif kind == 1:
            parts.append({"language": {"$in": rng.sample(_LANGUAGES, 2)}})
        elif kind == 2:
            start = rng.randint(0, 20)
            parts.append({"local.hour": {"$gte": start, "$lt": start + rng.randint(2, 8)}})
        elif kind == 3:
            parts.append({"channel": {"$in": rng.sample(_CHANNELS, 3)}})
        elif kind == 4:
            parts.append({"profile.visits": {"$gte": rng.randint(1, 5)}})
        elif kind == 5:
            parts.append({"journey": rng.choice([s.stage for s in _JOURNEY])})
        elif kind == 6:
            parts.append(copy.deepcopy(rng.choice(list(_SEGMENTS.values()))))
        else:
            parts.append({"$or": [{"utm.source": "news"}, {"page.path": {"$regex": "^/(p|c)/"}}]})
    if not parts:
        return {}
    if len(parts) == 1 or rng.random() < 0.5:
        merged: dict[str, Any] = {}
        for part in parts:
            merged.update(part)
        return merged
    return {"$and": parts}


def _content(rng: random.Random, index: int) -> dict[str, Any]:
    kind = rng.randrange(5)
    if kind == 0:
        return {"text": f"Olá {{profile.first_name|there}}, oferta {index}"}
    if kind == 1:
        return {"html": f"<strong>Offer {index}</strong> for {{geo.country|you}}"}
    if kind == 2:
        return {"attrs": {"href": f"/promo/{index}"}, "class": {"add": ["promo"]}}
    if kind == 3:
        return {"data": {"offer": index, "tier": rng.choice(["gold", "silver"])}}
    return {"recommend": {"list": rng.choice(["popular", "co_viewed"]), "count": 4}}


def _variants(rng: random.Random, index: int) -> tuple[Variant, ...]:
    count = rng.choice((1, 2, 2, 3))
    weight = round(1.0 / count, 6)
    variants = [Variant("control", weight, None)] if count > 1 else []
    while len(variants) < count:
        variants.append(Variant(f"v{len(variants)}", weight, _content(rng, index)))
    return tuple(variants)


def _schedule(rng: random.Random) -> Schedule:
    now = NOW.timestamp()
    roll = rng.random()
    if roll < 0.7:
        return Schedule()
    if roll < 0.85:  # running now
        return Schedule(start=now - rng.randint(1, 30) * 86_400, end=now + 86_400)
    return Schedule(start=now + 86_400, end=now + 10 * 86_400)  # not yet


def _frequency(rng: random.Random) -> Frequency | None:
    if rng.random() < 0.6:
        return None
    return Frequency(max=rng.randint(1, 5), per=rng.choice(("session", "day", "week", "lifetime")))


def generated_ruleset(*, experiences: int = 200, slots: int = 20, seed: int = 7) -> Ruleset:
    """A realistic ruleset of `experiences` spread over `slots` (same seed, same ruleset)."""
    rng = random.Random(seed)
    slot_ids = [f"slot-{i:02d}" for i in range(slots)]
    exps: list[Experience] = []
    weights: dict[str, list[float]] = {}
    for i in range(experiences):
        variants = _variants(rng, i)
        bandit = len(variants) > 1 and rng.random() < 0.2
        exp_id = f"exp-{i:03d}"
        if bandit:
            raw = [rng.random() + 0.05 for _ in variants]
            weights[exp_id] = [w / sum(raw) for w in raw]
        exps.append(
            Experience(
                id=exp_id,
                slot=slot_ids[i % slots],
                variants=variants,
                priority=rng.choice((0, 0, 10, 50, 100)),
                audience=_audience(rng),
                schedule=_schedule(rng),
                frequency=_frequency(rng),
                consent=rng.choice(("personalization", "personalization", "analytics", "none")),
                allocation="bandit" if bandit else "fixed",
                goals=("purchase",),
                coverage=rng.choice((1.0, 1.0, 1.0, 0.5)),
            )
        )
    items = [f"sku-{n}" for n in range(60)]
    catalog = {
        item: {"title": f"Item {item}", "url": f"/p/{item}", "price": 10.0 + n}
        for n, item in enumerate(items)
    }
    learned = Learned(
        weights=weights,
        recommendations={"popular": items[:20], "popular:loyal": items[20:35]},
        co_viewed={item: rng.sample(items, 8) for item in items},
    )
    return Ruleset(
        site="bench-shop",
        timezone="America/Sao_Paulo",
        holdout=0.05,
        policy=Policy(max_experiences_per_page=None, max_exposures_per_session=50),
        journey=_JOURNEY,
        segments=copy.deepcopy(_SEGMENTS),
        slots={s: Slot(s, f"[data-perso-slot={s}]") for s in slot_ids},
        experiences=tuple(exps),
        catalog=catalog,
        learned=learned,
    )


def sample_context(
    *, visitor: str | None = "3f0c1b9e-8d0a-4c1e-9a51-6a1b2c3d4e5f"
) -> dict[str, Any]:
    """A context shaped like `edge.context.build_context` output (consent granted)."""
    context: dict[str, Any] = {
        "device": {"type": "mobile", "os": "ios", "browser": "safari"},
        "language": "pt",
        "languages": ["pt-BR", "en"],
        "locale": "pt-BR",
        "timezone": "America/Sao_Paulo",
        "local": {"hour": 19, "minute": 30, "weekday": 3, "date": "2026-11-25"},
        "channel": "search",
        "utm": {"source": "news"},
        "page": {
            "url": "https://shop.example/p/sku-1?id=sku-1",
            "path": "/p/sku-1",
            "query": {"id": "sku-1"},
        },
        "referrer": "https://www.google.com/",
        "consent": {"analytics": True, "personalization": True},
        "segments": ["loyal"],
        "custom": {},
        "profile": {
            "visits": 3,
            "pageviews": 7,
            "cart_items": 1,
            "purchases": 0,
            "first_name": "Ana",
        },
    }
    if visitor is not None:
        context["id"] = visitor
    return context


def sample_profile() -> dict[str, Any]:
    """An on-device profile with exposures, assignments, a session and viewed items."""
    return {
        "visits": 3,
        "pageviews": 7,
        "cart_items": 1,
        "purchases": 0,
        "first_seen": "2026-11-01T12:00:00Z",
        "last_seen": "2026-11-25T22:00:00Z",
        "exposures": {
            "exp-001": ["2026-11-25T21:00:00Z", "2026-11-25T22:00:00Z"],
            "exp-021": ["2026-11-20T10:00:00Z"],
        },
        "assignments": {"exp-001": "control"},
        "session": {"id": "s-1", "started": "2026-11-25T21:55:00Z", "exposures": 2},
        "viewed": ["sku-1", "sku-2", "sku-3"],
        "traits": {},
    }
