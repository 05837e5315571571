"""`perso simulate`: decide a ruleset for one visitor's signals, as the browser would.

The moment decided at is `--now` when given; otherwise the moment the signals were
taken (`local_time` read in the signals' `timezone`), so a saved signals file decides
the same way every day; otherwise the current time.

>>> from edge.model import Ruleset
>>> out = simulate(Ruleset(site="s"), {}, now=datetime(2026, 1, 1, tzinfo=UTC), as_json=True)
>>> json.loads(out)["decisions"]
[]
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge.decide import Result, decide_signals
from edge.model import Ruleset

__all__ = ["moment_of", "simulate"]

_CONTENT_WIDTH = 70


def moment_of(signals: dict[str, Any]) -> datetime:
    """When the signals were taken: `local_time` in `timezone`, else now (UTC)."""
    local, zone_name = signals.get("local_time"), signals.get("timezone")
    if isinstance(local, str) and isinstance(zone_name, str) and zone_name:
        try:
            wall = datetime.fromisoformat(local.replace("Z", "+00:00"))
            if wall.tzinfo is None:
                wall = wall.replace(tzinfo=ZoneInfo(zone_name))
            return wall.astimezone(UTC)
        except (ValueError, ZoneInfoNotFoundError, OSError):
            pass
    return datetime.now(UTC)


def simulate(
    ruleset: Ruleset,
    signals: dict[str, Any],
    *,
    profile: dict[str, Any] | None = None,
    now: datetime | None = None,
    explain: bool = False,
    as_json: bool = False,
) -> str:
    """The decisions for these signals, as a table (or one JSON object)."""
    moment = now if now is not None else moment_of(signals)
    if profile is None:
        source = signals.get("profile")
        profile = source if isinstance(source, dict) else {}
    # As the browser's worker does (without personalization consent, no profile).
    context, result = decide_signals(ruleset, signals, profile, moment, explain=explain)
    if result.journey is not None:
        context = {**context, "journey": result.journey}
    decisions = [
        {
            "slot": d.slot,
            "experience": d.experience,
            "variant": d.variant,
            "content": d.content,
        }
        for d in result.decisions
    ]
    if as_json:
        payload = {"context": context, "decisions": decisions, "exposures": result.exposures}
        if explain:
            payload["trace"] = {d.slot: list(d.trace) for d in result.decisions}
        return json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    return _table(ruleset, context, moment, result, explain=explain)


def _table(
    ruleset: Ruleset, context: dict[str, Any], moment: datetime, result: Result, *, explain: bool
) -> str:
    device = context.get("device") or {}
    local = context.get("local") or {}
    consent = context.get("consent") or {}
    granted = [name for name in ("analytics", "personalization") if consent.get(name)]
    lines = [
        f"ruleset {ruleset.site}: {len(ruleset.experiences)} experiences, "
        f"{len(ruleset.slots)} slots",
        f"now     {moment.astimezone(UTC).isoformat().replace('+00:00', 'Z')}"
        f" (visitor's clock {local.get('hour', '?'):>02}:{local.get('minute', 0):02}"
        f" {context.get('timezone') or 'unknown zone'})",
        f"visitor {device.get('type', '?')} {device.get('os', '?')} {device.get('browser', '?')}, "
        f"locale {context.get('locale') or '?'}, channel {context.get('channel', '?')}, "
        f"journey {context.get('journey') or '-'}, consent {'+'.join(granted) or 'none'}",
    ]
    if explain:
        lines.extend(f"        {line}" for line in result.trace)
    rows = [("slot", "experience", "variant", "content")]
    for d in result.decisions:
        rows.append(
            (
                d.slot,
                d.experience or "-",
                d.variant or f"(default: {d.reason})",
                _summary(d.content),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines.append("")
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        )
        if explain and index > 0:
            trace = result.decisions[index - 1].trace
            lines.extend(f"    - {line}" for line in trace)
    lines.append("")
    exposures = ", ".join(f"{e.get('experience')}/{e.get('variant')}" for e in result.exposures)
    lines.append(f"exposures: {exposures or 'none'}")
    return "\n".join(lines)


def _summary(content: Any) -> str:
    if content is None:
        return "-"
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= _CONTENT_WIDTH else text[: _CONTENT_WIDTH - 1] + "…"
