"""`build_context`: raw browser signals to the attributes rules see (DESIGN §4).

The snippet reads the signals on the page's main thread; this module derives the
attributes (the device from `_ua`, the channel from `_channel`). It never raises: a
signal of the wrong type is ignored, as if absent.

>>> ctx = build_context({"languages": ["pt-BR", "en"], "local_time": "2026-11-25T19:30:00"})
>>> ctx["language"], ctx["locale"], ctx["local"]["hour"], ctx["local"]["weekday"]
('pt', 'pt-BR', 19, 3)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from edge.context._channel import classify_channel
from edge.context._ua import classify_device
from edge.types import Attributes, Profile, Signals

__all__ = ["PROFILE_COUNTERS", "build_context", "language_tag", "parse_time", "wall_clock"]

PROFILE_COUNTERS = ("visits", "pageviews", "cart_items", "purchases")
UTM_KEYS = ("source", "medium", "campaign", "term", "content")
GEO_KEYS = ("country", "region")
_MAX_QUERY_KEYS = 50  # a hostile URL should not make the context unbounded


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 1e15:
        return int(value)
    return 0


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 timestamp (with or without offset, "Z" allowed) or None.

    >>> parse_time("2026-11-25T19:30:00Z").hour
    19
    """
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _language_tags(languages: Any) -> list[str]:
    if isinstance(languages, str):
        languages = [languages]
    if not isinstance(languages, list):
        return []
    tags: list[str] = []
    for raw in languages:
        if not isinstance(raw, str) or not raw.strip():
            continue
        tag = language_tag(raw)
        if tag not in tags:
            tags.append(tag)
    return tags


def language_tag(raw: str) -> str:
    """A language tag as the context holds it (`locale`, `languages`).

    >>> language_tag("pt_br"), language_tag("ZH-hant-tw")
    ('pt-BR', 'zh-Hant-TW')
    """
    parts = raw.strip().replace("_", "-").split("-")
    # BCP 47 casing: language lower, 4-letter script title, 2-letter region upper.
    norm = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 2:
            norm.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            norm.append(part.title())
        else:
            norm.append(part.lower())
    return "-".join(norm)


def wall_clock(signals: Signals, now: datetime | None) -> datetime | None:
    """The device's wall clock, which `local.*` is read from: the signals' `local_time`
    (naive, or with its offset), else `now` in the signals' `timezone` (UTC without one).

    >>> wall_clock({"local_time": "2026-11-25T19:42:10"}, None).minute
    42
    """
    wall = parse_time(signals.get("local_time"))
    if wall is None and now is not None:
        wall = _wall_clock_from(now, _str(signals.get("timezone")))
    return wall


def _local(signals: Signals, now: datetime | None) -> dict[str, Any]:
    wall = wall_clock(signals, now)
    if wall is None:
        return {}
    return {
        "hour": wall.hour,
        "minute": wall.minute,
        "weekday": wall.isoweekday(),  # 1 = Monday, as DESIGN §4 says
        "date": wall.date().isoformat(),
    }


def _wall_clock_from(now: datetime, timezone: str) -> datetime | None:
    """The wall clock in `timezone` at `now` when the device did not send one."""
    if now.tzinfo is None:
        return now
    try:
        from zoneinfo import ZoneInfo

        return now.astimezone(ZoneInfo(timezone)) if timezone else now.astimezone(UTC)
    except Exception:  # unknown zone, or no tz database (some Pyodide builds)
        return now.astimezone(UTC)


def _page(url: str) -> tuple[dict[str, Any], dict[str, str], str]:
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        host = parts.hostname or ""
    except ValueError:
        return {"url": url, "path": "", "query": {}}, {}, ""
    query: dict[str, str] = {}
    for key, value in pairs[: _MAX_QUERY_KEYS * 4]:
        if key not in query and len(query) < _MAX_QUERY_KEYS:
            query[key] = value  # the first value of a repeated key, as URLSearchParams.get
    return {"url": url, "path": parts.path or "/", "query": query}, query, host


def _profile_attrs(profile: Profile, now: datetime | None) -> dict[str, Any]:
    traits = profile.get("traits")
    attrs: dict[str, Any] = dict(traits) if isinstance(traits, dict) else {}
    # Traits come first so a trait can never shadow a counter the device maintains.
    for key in PROFILE_COUNTERS:
        attrs[key] = _int(profile.get(key))
    for key in ("first_seen", "last_seen"):
        if isinstance(profile.get(key), str):
            attrs[key] = profile[key]
    last = parse_time(profile.get("last_seen"))
    if last is not None and now is not None:
        try:
            if last.tzinfo is None:
                last = last.replace(tzinfo=UTC)
            attrs["days_since_last_visit"] = max(0, (now - last).days)
        except (TypeError, OverflowError):
            pass
    viewed = profile.get("viewed")
    if isinstance(viewed, list):
        attrs["viewed"] = [v for v in viewed if isinstance(v, str)]
    return attrs


def build_context(
    signals: Signals, *, profile: Profile | None = None, now: datetime | None = None
) -> Attributes:
    """The attributes of DESIGN §4 from raw signals (the snippet's dict).

    `profile` defaults to `signals["profile"]`. Without personalization consent the
    context has no `profile` (not even zero counters), and there is no visitor `id`
    unless analytics consent was given: the core never sees what the visitor did not
    agree to share with it.
    `journey` is added by `edge.decide`, which knows the ruleset's stages.
    """
    sig: Signals = signals if isinstance(signals, dict) else {}
    consent_raw = sig.get("consent")
    consent_map = consent_raw if isinstance(consent_raw, dict) else {}
    consent = {
        "analytics": consent_map.get("analytics") is True,
        "personalization": consent_map.get("personalization") is True,
    }
    touch = sig.get("max_touch_points")
    ua_ch = sig.get("ua_ch")
    tags = _language_tags(sig.get("languages"))
    page, query, host = _page(_str(sig.get("url")))
    referrer = _str(sig.get("referrer"))

    ctx: Attributes = {
        "device": classify_device(
            _str(sig.get("user_agent")),
            ua_ch if isinstance(ua_ch, dict) else None,
            touch if isinstance(touch, int) and not isinstance(touch, bool) else 0,
        ),
        "language": tags[0].split("-", 1)[0] if tags else "",
        "languages": tags,
        "locale": tags[0] if tags else "",
        "timezone": _str(sig.get("timezone")),
        "local": _local(sig, now),
        "channel": classify_channel(query, referrer, host),
        "utm": {k: query[f"utm_{k}"] for k in UTM_KEYS if f"utm_{k}" in query},
        "page": page,
        "referrer": referrer,
        "consent": consent,
        "segments": [s for s in sig.get("segments") or [] if isinstance(s, str)]
        if isinstance(sig.get("segments"), list)
        else [],
        "custom": dict(sig["custom"]) if isinstance(sig.get("custom"), dict) else {},
    }
    geo = sig.get("geo")
    if isinstance(geo, dict):
        ctx["geo"] = {k: v for k, v in geo.items() if k in GEO_KEYS and isinstance(v, str)}
    visitor_id = sig.get("visitor_id")
    consented = consent["analytics"] or consent["personalization"]
    if isinstance(visitor_id, str) and visitor_id and consented:
        ctx["id"] = visitor_id
    # Without personalization consent there is no stored profile (DESIGN §5), so the
    # rules see no `profile.*` at all: `{profile.visits: {$exists: false}}` tells that
    # visitor from a new one who consented (`profile.visits` 0). Comparisons read a
    # missing number as null, which compares as 0 does, so the journey still starts at
    # its catch-all stage.
    if consent["personalization"]:
        source = profile if profile is not None else sig.get("profile")
        ctx["profile"] = _profile_attrs(source if isinstance(source, dict) else {}, now)
    return ctx
