"""Time zones and schedule times for the compiler (build time only; uses zoneinfo).

A schedule time written without an offset ("2026-11-25T00:00", or a date alone,
meaning midnight) is a wall-clock time in the ruleset's `timezone`, or in the
schedule's own `timezone` when it has one. A time with an offset ("...Z",
"...-03:00") is that instant. Both resolve to UTC epoch seconds.

Daylight saving time, as `zoneinfo` does it (PEP 495, `fold=0`):
- a wall time that happens twice (the hour repeated when clocks fall back) is the
  first occurrence, the earlier instant: 2026-11-01T01:30 in America/New_York is
  01:30 EDT (05:30 UTC);
- a wall time that never happens (the hour skipped when clocks spring forward) is read
  with the offset in force just before the gap, so it lands as far past the gap as it
  was into it: 2026-03-08T02:30 in America/New_York is 07:30 UTC, which is 03:30 EDT.

>>> resolve("2026-11-25T00:00", "America/Sao_Paulo")
1795575600.0
>>> resolve("2026-11-25T00:00:00Z", "America/Sao_Paulo")
1795564800.0
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["close_zone", "resolve", "zone"]


def zone(name: str) -> ZoneInfo | None:
    """The IANA zone `name`, or None if there is no such zone."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def close_zone(name: str) -> str | None:
    """The IANA zone `name` was probably meant to be, or None.

    >>> close_zone("america/sao_paulo"), close_zone("Europe/Berln")
    ('America/Sao_Paulo', 'Europe/Berlin')
    """
    import difflib
    from zoneinfo import available_timezones

    names = available_timezones()  # empty where there is no tz database
    by_case = {known.lower(): known for known in names}
    if name.lower() in by_case:
        return by_case[name.lower()]
    close = difflib.get_close_matches(name, sorted(names), n=1)
    return close[0] if close else None


def resolve(text: str, timezone: str) -> float:
    """UTC epoch seconds for an ISO date or date-time; raises ValueError if unreadable."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        day = date.fromisoformat(raw)  # raises ValueError with its own message
        moment = datetime(day.year, day.month, day.day)
    if moment.tzinfo is None:
        tz = zone(timezone)
        if tz is None:
            raise ValueError(f"unknown time zone {timezone!r}")
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()
