"""Frequency caps and session counts, read from the on-device profile.

Periods are ROLLING windows ending at `now`, not calendar periods:

| per | counts exposures of this experience ... |
|---|---|
| `view` | on this page view (an experience fills one slot once, so only `max: 0` holds) |
| `session` | since `profile["session"]["started"]` (none without a session) |
| `day` / `week` / `month` | in the last 24 h / 7 x 24 h / 30 x 24 h (`(now - w, now]`) |
| `lifetime` | ever (as far as the device remembers) |

Why rolling: a calendar day needs the visitor's time zone database (Pyodide does not
ship tzdata by default), and a visitor crossing midnight or travelling would get a
fresh allowance at an arbitrary moment; a rolling window is exact, cheap and needs
nothing but the timestamps. Timestamps are ISO-8601 strings (no offset = UTC) or
epoch seconds; anything unreadable is ignored, never fatal.

>>> exposures_within(["2026-11-22T10:00:00Z", "junk"], since=0.0)
1
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from edge.model import Frequency
from edge.types import Profile

__all__ = [
    "PERIOD_SECONDS",
    "cap_reached",
    "exposure_count",
    "exposures_within",
    "parse_timestamp",
    "session_exposures",
    "session_started",
]

_DAY = 86_400.0
PERIOD_SECONDS: dict[str, float] = {"day": _DAY, "week": 7 * _DAY, "month": 30 * _DAY}


@lru_cache(maxsize=4096)
def _parse_iso(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


def parse_timestamp(value: Any) -> float | None:
    """Epoch seconds from an ISO-8601 string or a number; None when unreadable."""
    if isinstance(value, str):
        return _parse_iso(value) if len(value) <= 64 else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if number == number and abs(number) < 1e12 else None


def exposures_within(timestamps: Any, *, since: float) -> int:
    """How many readable timestamps are at or after `since`."""
    if not isinstance(timestamps, list):
        return 0
    count = 0
    for value in timestamps:
        moment = parse_timestamp(value)
        if moment is not None and moment >= since:
            count += 1
    return count


def session_started(profile: Profile) -> float | None:
    session = profile.get("session")
    return parse_timestamp(session.get("started")) if isinstance(session, dict) else None


def session_exposures(profile: Profile) -> int:
    """`profile["session"]["exposures"]`: exposures so far this session (0 if unknown)."""
    session = profile.get("session")
    count = session.get("exposures") if isinstance(session, dict) else None
    if isinstance(count, bool) or not isinstance(count, int | float) or count != count:
        return 0
    return max(0, int(min(count, 1e9)))


_ALWAYS = (float("-inf"), float("inf"))


def _rolling(timestamps: Any, *, now: float, window: float) -> tuple[int, float, float]:
    # The window is (now - window, now]: an exposure counts while now < ts + window.
    # Besides the count, the span [low, high) in which it stays the same: a counted
    # exposure leaves at ts + window, an older one left then. The result cache uses it
    # to know how long a cached result holds.
    count, low, high = 0, float("-inf"), float("inf")
    if not isinstance(timestamps, list):
        return count, low, high
    since = now - window
    for value in timestamps:
        moment = parse_timestamp(value)
        if moment is None:
            continue
        if moment > since:
            count += 1
            high = min(high, moment + window)
        else:
            low = max(low, moment + window)
    return count, low, high


def exposure_count(
    frequency: Frequency, experience_id: str, profile: Profile, now: float
) -> tuple[int, float, float]:
    """Exposures of one experience that count against its cap at `now`.

    Returns (count, low, high): the count is the same for any moment in [low, high).
    """
    per = frequency.per
    if per == "view":
        return 0, *_ALWAYS
    exposures = profile.get("exposures")
    timestamps = exposures.get(experience_id) if isinstance(exposures, dict) else None
    if per == "session":
        started = session_started(profile)
        count = 0 if started is None else exposures_within(timestamps, since=started)
        return count, *_ALWAYS
    window = PERIOD_SECONDS.get(per)
    if window is None:
        # "lifetime", or an unknown period (a newer artifact?): count everything;
        # capping too much is the safe side of a limit the marketer asked for.
        return exposures_within(timestamps, since=float("-inf")), *_ALWAYS
    return _rolling(timestamps, now=now, window=window)


def cap_reached(
    frequency: Frequency, experience_id: str, profile: Profile, now: float
) -> int | None:
    """The exposure count when the cap holds, else None."""
    count = exposure_count(frequency, experience_id, profile, now)[0]
    return count if count >= frequency.max else None
