"""What a ruleset reads, and how long a decision stays valid (issue 8: decide ahead).

The device keeps decisions for the views to come and applies one before first paint
when its key matches. `reads(ruleset)` says what that key must hold: the groups of
signals, the profile keys, the `custom.*` names and the query parameters that any
condition, placeholder or step of `decide` can read, and the finest unit of local time
a condition reads. Anything left out of the key would let a decision outlive what it
was made from, so each rule below errs on the side of reading more.

`valid_window` turns a `Result.valid` (the schedules and cap windows `decide` read)
into the span, in epoch milliseconds, in which the device may apply the decision:
cut at the next boundary of that unit of local time.

>>> from edge.model import Experience, Ruleset, Slot, Variant
>>> rs = Ruleset(site="s", slots={"hero": Slot("hero", "h1")}, experiences=(
...     Experience(id="e", slot="hero", consent="none", audience={"local.hour": {"$gte": 18}},
...                variants=(Variant("v", 1.0, {"text": "Hi {custom.name|you}"}),)),))
>>> reads(rs).to_dict()
{'parts': ['consent', 'timezone'], 'profile': [], 'custom': ['name'], 'query': [], 'time': 'hour'}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from edge.conditions import attribute_paths
from edge.context import PROFILE_COUNTERS, parse_time, wall_clock
from edge.model import PLACEHOLDER, Experience, Ruleset
from edge.types import Attributes, Signals

__all__ = ["PARTS", "TIME_UNITS", "Reads", "reads", "valid_window"]

# The groups of signals a key may hold (`Reads.parts`).
PARTS = (
    "consent",
    "device",
    "geo",
    "id",
    "languages",
    "path",
    "referrer",
    "segments",
    "timezone",
)
# Units of the device's wall clock, finest first.
TIME_UNITS = ("minute", "hour", "date")
# The keys of the context's `profile` map, as the device's profile names them
# (`days_since_last_visit` is computed from `last_seen`; traits sit under `traits`).
_PROFILE_MAP = (*PROFILE_COUNTERS, "first_seen", "last_seen", "traits", "viewed")
_UNIT_OF_LOCAL = {"minute": "minute", "hour": "hour", "weekday": "date", "date": "date"}
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "date": 86_400}
_DAY = 86_400.0
# The local clock's offset from UTC is read to the nearest quarter hour (every zone in
# use is a multiple of 15 minutes): a `local_time` read a little before `now` then
# still names the same instant.
_OFFSET_STEP = 900
_EPOCH = datetime(1970, 1, 1)
_KEPT = 4


@dataclass(frozen=True, slots=True)
class Reads:
    """What a ruleset reads; `to_dict()` is the JSON the device keys its cache on.

    - `parts`: the signal groups (`PARTS`), `consent` always;
    - `profile`: top-level keys of the device's profile (counters, `traits`, `viewed`,
      `first_seen`, `last_seen`, `exposures`, `session`);
    - `custom`: `custom.*` names, or `("*",)` when the whole map is read;
    - `query`: page query parameters, or `("*",)` when the whole query is read;
    - `time`: the finest unit of local time read (`TIME_UNITS`), or None.
    """

    parts: tuple[str, ...]
    profile: tuple[str, ...]
    custom: tuple[str, ...]
    query: tuple[str, ...]
    time: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "parts": list(self.parts),
            "profile": list(self.profile),
            "custom": list(self.custom),
            "query": list(self.query),
            "time": self.time,
        }


@dataclass(slots=True)
class _Found:
    parts: set[str] = field(default_factory=lambda: {"consent"})
    profile: set[str] = field(default_factory=set)
    custom: set[str] = field(default_factory=set)
    query: set[str] = field(default_factory=set)
    time: int = len(TIME_UNITS)  # an index into TIME_UNITS; past the end: none

    def unit(self, name: str) -> None:
        self.parts.add("timezone")
        self.time = min(self.time, TIME_UNITS.index(name))

    def url(self, query: str) -> None:
        self.parts.add("path")
        self.query.add(query)

    def freeze(self) -> Reads:
        return Reads(
            parts=tuple(sorted(self.parts)),
            profile=tuple(sorted(self.profile)),
            custom=("*",) if "*" in self.custom else tuple(sorted(self.custom)),
            query=("*",) if "*" in self.query else tuple(sorted(self.query)),
            time=TIME_UNITS[self.time] if self.time < len(TIME_UNITS) else None,
        )


# --- attribute paths: the head of a path names what it reads (DESIGN §4) -------------


def _group(name: str) -> Callable[[_Found, list[str]], None]:
    def read(found: _Found, rest: list[str]) -> None:
        found.parts.add(name)

    return read


def _local(found: _Found, rest: list[str]) -> None:
    # The whole `local` map, or a key it never holds: the finest unit, to be safe.
    found.unit(_UNIT_OF_LOCAL.get(rest[0], "minute") if rest else "minute")


def _page(found: _Found, rest: list[str]) -> None:
    if rest[:1] == ["path"]:
        found.parts.add("path")
    elif rest[:1] == ["query"] and len(rest) > 1:
        found.url(rest[1])
    else:  # page, page.url, page.query: the whole query string
        found.url("*")


def _utm(found: _Found, rest: list[str]) -> None:
    found.url(f"utm_{rest[0]}" if rest else "*")


def _channel(found: _Found, rest: list[str]) -> None:
    # utm parameters and click ids first, then the referrer (edge.context._channel).
    found.url("*")
    found.parts.add("referrer")


def _profile(found: _Found, rest: list[str]) -> None:
    if not rest:
        found.profile.update(_PROFILE_MAP)
        found.unit("date")  # the map holds days_since_last_visit
    elif rest[0] == "days_since_last_visit":
        found.profile.add("last_seen")
        found.unit("date")
    elif rest[0] in _PROFILE_MAP:
        found.profile.add(rest[0])
    else:
        found.profile.add("traits")  # a trait the site stored (perso.identify)


def _custom(found: _Found, rest: list[str]) -> None:
    found.custom.add(rest[0] if rest else "*")


def _nothing(found: _Found, rest: list[str]) -> None:
    """`journey` (its stages are read whenever there are any) and paths the context
    never holds: they read as null whatever the visitor does."""


_HEADS: dict[str, Callable[[_Found, list[str]], None]] = {
    "device": _group("device"),
    "language": _group("languages"),
    "languages": _group("languages"),
    "locale": _group("languages"),
    "timezone": _group("timezone"),
    "local": _local,
    "geo": _group("geo"),
    "page": _page,
    "utm": _utm,
    "channel": _channel,
    "referrer": _group("referrer"),
    "profile": _profile,
    "segments": _group("segments"),
    "consent": _group("consent"),
    "id": _group("id"),
    "custom": _custom,
}


def _path(found: _Found, path: str) -> None:
    head, *rest = path.split(".")
    _HEADS.get(head, _nothing)(found, rest)


# --- what decide reads beyond the audiences -----------------------------------------


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif depth < 16 and isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif depth < 16 and isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def _experience(found: _Found, experience: Experience) -> None:
    for path in attribute_paths(experience.audience):
        _path(found, path)
    # The visitor id: hashed for a split or partial coverage, and needed at all by
    # what asks for consent (decide skips those without an id). On the device it never
    # changes while consent holds, so keying on it costs no hit.
    if experience.consent != "none" or len(experience.variants) > 1 or not experience.coverage >= 1:
        found.parts.add("id")
    frequency = experience.frequency
    if frequency is not None and frequency.per != "view":  # ("view" is no cap: _caps)
        found.profile.add("exposures")
        if frequency.per == "session":
            found.profile.add("session")  # the window starts with the session
    # A multivariate experience's content is its factors' levels (edge.model.Factor).
    levels = [lv.content for f in getattr(experience, "factors", ()) for lv in f.levels]
    for content in [v.content for v in experience.variants] + levels:
        if not isinstance(content, dict):
            continue
        for text in _strings(content):
            if "{" in text:
                for match in PLACEHOLDER.finditer(text):
                    _path(found, match.group(1))
        if "recommend" in content:
            # Viewed items are left out (and seed co_viewed); the current item,
            # page.query.id, is left out too.
            found.profile.add("viewed")
            found.url("id")


def _collect(ruleset: Ruleset) -> Reads:
    found = _Found()
    if ruleset.holdout > 0:
        found.parts.add("id")
    if ruleset.policy.max_exposures_per_session is not None:
        found.profile.add("session")  # profile.session.exposures
    # The journey stage comes out with every result (and rides on its exposures), so
    # its stages are read whenever there are any, whether an audience names it or not.
    for stage in ruleset.journey:
        for path in attribute_paths(stage.when):
            _path(found, path)
    for experience in ruleset.experiences:
        if experience.slot in ruleset.slots and experience.variants:  # as decide does
            _experience(found, experience)
    return found.freeze()


# Computed once per ruleset, kept by identity as edge.decide keeps its preparation
# (holding the ruleset, so its id() cannot be reused while the entry lives).
_known: dict[int, tuple[Ruleset, Reads]] = {}


def reads(ruleset: Ruleset) -> Reads:
    """What `ruleset` reads (see `Reads`); computed once per ruleset object.

    Segments are inlined where they are used by the compiler, so the ruleset's own
    `segments` map (kept for explain's words) adds nothing: decide never evaluates it.
    """
    known = _known.get(id(ruleset))
    if known is not None and known[0] is ruleset:
        return known[1]
    found = _collect(ruleset)
    if len(_known) >= _KEPT:
        del _known[next(iter(_known))]
    _known[id(ruleset)] = (ruleset, found)
    return found


# --- the window in which a decision may be applied -----------------------------------


def _local_span(unit: str, signals: Signals, now: datetime) -> tuple[float, float] | None:
    """[start, end) in epoch seconds of the current `unit` of the device's wall clock."""
    wall = wall_clock(signals, now)
    if wall is None:
        return None
    naive = wall.replace(tzinfo=None)
    offset = wall.utcoffset()
    if offset is not None:
        shift = offset.total_seconds()
    else:  # the device's own clock, without its offset: read it against `now`
        drift = (naive - now.astimezone(UTC).replace(tzinfo=None)).total_seconds()
        shift = round(drift / _OFFSET_STEP) * _OFFSET_STEP
    if unit == "date":
        start = naive.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "hour":
        start = naive.replace(minute=0, second=0, microsecond=0)
    else:
        start = naive.replace(second=0, microsecond=0)
    begins = (start - _EPOCH).total_seconds() - shift
    # Wall-clock arithmetic: a day is 24 h. On the day clocks go forward, a view
    # between midnight and the change gets a "date" window up to the change (1 h)
    # longer than the day; on the day they go back, one a little shorter (harmless:
    # one more decision). Hours and minutes change on the hour, so they are exact.
    return begins, begins + _UNIT_SECONDS[unit]


def _last_seen_span(context: Attributes, now: float) -> tuple[float, float] | None:
    """The span in which `profile.days_since_last_visit` keeps its value: it steps
    every 24 h after `last_seen`, not at midnight."""
    profile = context.get("profile")
    last = parse_time(profile.get("last_seen")) if isinstance(profile, dict) else None
    if last is None:
        return None
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    try:
        seen = last.timestamp()
    except (OverflowError, ValueError, OSError):
        return None
    days = math.floor((now - seen) / _DAY)
    if days < 0:  # a visit stamped ahead of now reads as 0 days until a day after it
        return -math.inf, seen + _DAY
    return seen + days * _DAY, seen + (days + 1) * _DAY


def valid_window(
    read: Reads,
    valid: tuple[float, float],
    *,
    signals: Signals,
    context: Attributes,
    now: datetime,
) -> list[int | None]:
    """`[from_ms, until_ms)`: `valid` (a `Result.valid`, epoch seconds) cut to the
    current unit of local time the ruleset reads, in epoch milliseconds on the device's
    clock; None for an unbounded side.

    >>> from edge.reads import Reads
    >>> hourly = Reads(("consent", "timezone"), (), (), (), "hour")
    >>> now = datetime(2026, 11, 25, 22, 42, 10, tzinfo=UTC)
    >>> window = valid_window(hourly, (-math.inf, math.inf),
    ...     signals={"local_time": "2026-11-25T19:42:10"}, context={}, now=now)
    >>> (window[1] - now.timestamp() * 1000) / 1000   # to 20:00 local: 17 min 50 s
    1070.0
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    low, high = valid
    if read.time is not None:
        span = _local_span(read.time, signals, now)
        if span is not None:
            low, high = max(low, span[0]), min(high, span[1])
    if "last_seen" in read.profile:
        span = _last_seen_span(context, now.timestamp())
        if span is not None:
            low, high = max(low, span[0]), min(high, span[1])
    high = max(low, high)  # disjoint spans: an empty window, never applied
    return [
        None if math.isinf(low) else math.ceil(low * 1000),
        None if math.isinf(high) else math.floor(high * 1000),
    ]
