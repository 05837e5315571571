"""Schedules: local times resolve in the ruleset's (or schedule's) zone, DST-correct."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edge.compiler import compile_text


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


def schedule_of(schedule: str, *, timezone: str = "UTC") -> tuple[float | None, float | None]:
    text = (
        f"site: demo\ntimezone: {timezone}\nslots: {{hero: h1}}\nexperiences:\n"
        f"  - id: x\n    slot: hero\n    schedule: {schedule}\n    variants: [{{id: a}}]\n"
    )
    result = compile_text(text, filename="s.yaml")
    assert result.problems == [], [str(p) for p in result.problems]
    assert result.ruleset is not None
    sched = result.ruleset.experiences[0].schedule
    return sched.start, sched.end


@pytest.mark.parametrize(
    ("timezone", "local", "expected"),
    [
        # Plain days either side of the changes.
        ("America/New_York", "2026-03-07T12:00", utc(2026, 3, 7, 17)),  # EST, -5
        ("America/New_York", "2026-03-09T12:00", utc(2026, 3, 9, 16)),  # EDT, -4
        ("America/New_York", "2026-10-31T12:00", utc(2026, 10, 31, 16)),  # EDT
        ("America/New_York", "2026-11-02T12:00", utc(2026, 11, 2, 17)),  # EST
        # Spring forward (2026-03-08 02:00 -> 03:00): 01:59 is EST, 03:00 is EDT.
        ("America/New_York", "2026-03-08T01:59", utc(2026, 3, 8, 6, 59)),
        ("America/New_York", "2026-03-08T03:00", utc(2026, 3, 8, 7)),
        # A time inside the gap reads with the offset before it: 02:30 EST = 03:30 EDT.
        ("America/New_York", "2026-03-08T02:30", utc(2026, 3, 8, 7, 30)),
        # Fall back (2026-11-01 02:00 -> 01:00): 01:30 happens twice; the first (EDT) wins.
        ("America/New_York", "2026-11-01T01:30", utc(2026, 11, 1, 5, 30)),
        ("America/New_York", "2026-11-01T03:00", utc(2026, 11, 1, 8)),
        # Europe/Berlin: spring forward 2026-03-29 02:00 -> 03:00, fall back 2026-10-25.
        ("Europe/Berlin", "2026-03-29T01:30", utc(2026, 3, 29, 0, 30)),
        ("Europe/Berlin", "2026-03-29T03:30", utc(2026, 3, 29, 1, 30)),
        ("Europe/Berlin", "2026-03-29T02:30", utc(2026, 3, 29, 1, 30)),  # in the gap
        ("Europe/Berlin", "2026-10-25T02:30", utc(2026, 10, 25, 0, 30)),  # first 02:30 (CEST)
        ("Europe/Berlin", "2026-10-25T03:30", utc(2026, 10, 25, 2, 30)),
        # Southern hemisphere without DST since 2019.
        ("America/Sao_Paulo", "2026-11-25T00:00", utc(2026, 11, 25, 3)),
        # A date alone is local midnight.
        ("Europe/Berlin", "2026-07-01", utc(2026, 6, 30, 22)),
    ],
)
def test_local_times_resolve_in_the_ruleset_zone(
    timezone: str, local: str, expected: float
) -> None:
    start, _ = schedule_of(f'{{start: "{local}"}}', timezone=timezone)
    assert start == expected


def test_a_time_with_an_offset_ignores_the_zone() -> None:
    start, end = schedule_of(
        '{start: "2026-11-25T00:00Z", end: "2026-11-26T00:00-03:00"}', timezone="Asia/Tokyo"
    )
    assert start == utc(2026, 11, 25)
    assert end == utc(2026, 11, 26, 3)


def test_the_schedule_zone_beats_the_ruleset_zone() -> None:
    start, _ = schedule_of(
        '{start: "2026-11-01T01:30", timezone: America/New_York}', timezone="Europe/Berlin"
    )
    assert start == utc(2026, 11, 1, 5, 30)


def test_unquoted_yaml_timestamps_are_local_times_too() -> None:
    # YAML would read these as timestamps (UTC); the compiler keeps them local.
    start, end = schedule_of(
        "{start: 2026-11-25 00:00:00, end: 2026-12-01}", timezone="America/Sao_Paulo"
    )
    assert start == utc(2026, 11, 25, 3)
    assert end == utc(2026, 12, 1, 3)


@pytest.mark.parametrize(
    ("schedule", "needle"),
    [
        ('{start: "2026-12-01T00:00", end: "2026-11-25T00:00"}', "ends (2026-11-25T00:00) before"),
        ('{start: "2026-12-01T00:00", end: "2026-12-01T00:00"}', "before it starts"),
        ('{start: "next tuesday"}', "is not an ISO date-time"),
        (
            '{start: "2026-11-25", timezone: Atlantis/Central}',
            "unknown time zone 'Atlantis/Central'",
        ),
        ('{start: "2026-11-25", until: "2026-12-01"}', "unknown key 'until'"),
        ("{start: 20261125}", "must be an ISO date-time"),
    ],
)
def test_bad_schedules_are_rejected_at_their_line(schedule: str, needle: str) -> None:
    text = (
        "site: demo\nslots: {hero: h1}\nexperiences:\n  - id: x\n    slot: hero\n"
        f"    schedule: {schedule}\n    variants: [{{id: a}}]\n"
    )
    result = compile_text(text, filename="s.yaml")
    assert result.ruleset is None
    assert len(result.problems) == 1, [str(p) for p in result.problems]
    assert result.problems[0].line == 6
    assert needle in result.problems[0].message


def test_fall_back_end_after_start_across_the_repeated_hour() -> None:
    # 00:30 EDT to 01:30 (first, EDT): one hour, not two.
    start, end = schedule_of(
        '{start: "2026-11-01T00:30", end: "2026-11-01T01:30"}', timezone="America/New_York"
    )
    assert start is not None and end is not None
    assert end - start == 3600
