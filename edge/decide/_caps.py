"""Frequency caps and session counts, read from the on-device profile.

Periods are ROLLING windows ending at `now`, not calendar periods:

| per | counts exposures of this experience ... |
|---|---|
| `session` | since `profile["session"]["started"]`, up to now (none without a session) |
| `day` / `week` / `month` | in the last 24 h / 7 x 24 h / 30 x 24 h (`(now - w, now]`) |
| `lifetime` | ever, up to now (as far as the device remembers) |

No window reaches past `now`: an exposure stamped later (a device clock that was
ahead, then corrected) counts from that moment on, never before.

Why rolling: a calendar day needs the visitor's time zone database (Pyodide does not
ship tzdata by default), and a visitor crossing midnight or travelling would get a
fresh allowance at an arbitrary moment; a rolling window is exact, cheap and needs
nothing but the timestamps. Timestamps are ISO-8601 strings (no offset = UTC) or
epoch seconds; anything unreadable is ignored, never fatal.

>>> from edge.model import Frequency
>>> moment = parse_timestamp("2026-11-22T10:00:00Z")
>>> exposure_count(Frequency(max=1, per="day"), "x",
...                {"exposures": {"x": ["2026-11-22T10:00:00Z", "junk"]}}, moment + 60)[0]
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
    "effective_cap",
    "exposure_count",
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
_INFINITY = float("inf")


def effective_cap(frequency: Frequency | None) -> Frequency | None:
    """The cap `decide` applies: None for none, and for `per: view`.

    `view` is no longer a period (an experience fills one slot once per view, so a
    per-view cap never held; the compiler refuses it). An older artifact may still
    carry one: it is no cap, which is what it always did, where counting it as
    `lifetime` (like other unknown periods) would hide experiences that showed.
    """
    return None if frequency is None or frequency.per == "view" else frequency


def _in_window(
    timestamps: Any, *, now: float, window: float, started: float = -_INFINITY
) -> tuple[int, float, float]:
    # Exposures in (now - window, now], none before `started`; with the span [low, high)
    # in which that count stays the same (the result cache's time to live): a counted
    # exposure entered at ts and leaves at ts + window, an older one left at ts + window,
    # and one stamped after now (a device clock that stepped back) enters at ts.
    count, low, high = 0, -_INFINITY, _INFINITY
    if not isinstance(timestamps, list):
        return count, low, high
    since = now - window
    for value in timestamps:
        moment = parse_timestamp(value)
        if moment is None or moment < started:
            continue  # unreadable, or before the session: never counts
        if moment > now:
            if moment < high:
                high = moment
        elif moment > since:
            count += 1
            if moment > low:
                low = moment
            if moment + window < high:
                high = moment + window
        elif moment + window > low:
            low = moment + window
    return count, low, high


def exposure_count(
    frequency: Frequency, experience_id: str, profile: Profile, now: float
) -> tuple[int, float, float]:
    """Exposures of one experience that count against its cap at `now`.

    Every window ends at `now`: an exposure stamped later (the device clock stepped
    back) does not count yet, for any period. Returns (count, low, high): the count is
    the same for any moment in [low, high).
    """
    exposures = profile.get("exposures")
    timestamps = exposures.get(experience_id) if isinstance(exposures, dict) else None
    per = frequency.per
    if per == "session":
        started = session_started(profile)
        if started is None:
            return 0, *_ALWAYS
        return _in_window(timestamps, now=now, window=_INFINITY, started=started)
    # "lifetime", or an unknown period (a newer artifact?): everything up to now;
    # capping too much is the safe side of a limit the marketer asked for.
    return _in_window(timestamps, now=now, window=PERIOD_SECONDS.get(per, _INFINITY))


def cap_reached(
    frequency: Frequency, experience_id: str, profile: Profile, now: float
) -> int | None:
    """The exposure count when the cap holds, else None."""
    count = exposure_count(frequency, experience_id, profile, now)[0]
    return count if count >= frequency.max else None
