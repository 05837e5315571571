"""Explaining decisions: why each candidate was passed over, in words (explain mode only).

The slot walk (`edge.decide._walk`) hands a `Trace` each candidate it passes over,
with the step that stopped it; the trace turns it into a line:
`evening-free-shipping: audience failed at local.hour (segment evening)`,
`capped: frequency cap 3/day reached (3 exposures)`, `x: matched, variant v1 (sticky)`.
On the fast path there is no trace (None): the walk notes nothing.

The fast path evaluates an audience as one compiled predicate. To explain, the
audience is taken apart: each top-level key (and each member of a top-level `$and`,
where inlined segments end up) is evaluated on its own, and the first that fails is
named. A member that equals a declared segment is named after it too, since the
marketer wrote `{$segment: evening}`, not the inlined condition.

>>> failed_at({"device.type": "mobile", "language": "pt"}, {"device": {"type": "desktop"}})
'device.type'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from edge import conditions
from edge.decide._caps import cap_reached
from edge.decide._prepare import PreparedExperience
from edge.decide._result import Decision
from edge.decide._run import Run
from edge.types import Attributes, Condition

__all__ = ["Trace", "failed_at", "format_epoch"]

_MAX_DEPTH = 8


def _first_failure(
    condition: Condition, attributes: Attributes, segments: Mapping[str, Condition], depth: int
) -> str | None:
    for key, value in condition.items():
        if key == "$and" and isinstance(value, list) and depth < _MAX_DEPTH:
            for member in value:
                if not isinstance(member, dict):
                    return "$and"
                found = _first_failure(member, attributes, segments, depth + 1)
                if found is not None:
                    named = next((n for n, c in segments.items() if c == member), None)
                    return found if named is None else f"{found} (segment {named})"
            continue
        if not conditions.compile({key: value})(attributes):
            return key
    return None


def failed_at(
    condition: Any, attributes: Attributes, segments: Mapping[str, Condition] | None = None
) -> str:
    """The first part of `condition` that `attributes` fail, as a dotted path or operator.

    When every part passes alone (an odd interplay), the whole audience is blamed.
    """
    if not isinstance(condition, dict):
        return "audience"
    found = _first_failure(condition, attributes, segments or {}, 0)
    return "audience" if found is None else found


def format_epoch(seconds: float) -> str:
    """`1764028800.0` -> `2025-11-25T00:00Z` (for schedule traces)."""
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%MZ")
    except (OverflowError, ValueError, OSError):
        return str(seconds)


class Trace:
    """The explain lines of one slot, in the order its candidates were walked."""

    __slots__ = ("lines", "run", "segments")

    def __init__(self, run: Run) -> None:
        self.run = run
        self.segments = run.prepared.ruleset.segments
        self.lines: list[str] = []

    def skipped(self, candidate: PreparedExperience, reason: str, index: int = -1) -> None:
        """`candidate` stopped at `reason` (`index`: the variant, for no_recommendations)."""
        self.lines.append(self._why(candidate, reason, index))

    def matched(self, candidate: PreparedExperience, index: int) -> None:
        variant = candidate.variant_ids[index]
        # The slot loop keeps a stored assignment when it names a variant: that one.
        how = " (sticky)" if self.run.sticky.get(candidate.id) == variant else ""
        if candidate.multi:
            # This slot's factor and its level in the combination (level ids in factor order).
            experience = candidate.experience
            at = next(i for i, f in enumerate(experience.factors) if f.slot == experience.slot)
            level = variant.split(".")[at]
            self.lines.append(
                f"{candidate.id}: matched, combination {variant}{how}: "
                f"factor {experience.factors[at].id} at level {level}"
            )
            return
        self.lines.append(f"{candidate.id}: matched, variant {variant}{how}")

    def default(self, slot: str, reason: str, *lines: str) -> Decision:
        """The slot's default, carrying the lines so far (and `lines`)."""
        return Decision(slot, None, None, None, reason, (*self.lines, *lines))

    def _why(self, candidate: PreparedExperience, reason: str, index: int) -> str:
        experience = candidate.experience
        name = experience.id
        if reason == "schedule":
            start = "always" if candidate.start == -math.inf else format_epoch(candidate.start)
            end = "open" if candidate.end == math.inf else format_epoch(candidate.end)
            return f"{name}: not scheduled now (runs {start} to {end})"
        if reason == "consent":
            purpose = experience.consent
            if purpose != "none" and not self.run.consent.get(purpose):
                return f"{name}: consent '{purpose}' not granted"
            return f"{name}: needs a visitor id (consent) to split variants or apply coverage"
        if reason == "audience":
            where = failed_at(experience.audience, self.run.context, self.segments)
            return f"{name}: audience failed at {where}"
        if reason == "frequency_cap" and experience.frequency is not None:
            cap = experience.frequency
            count = cap_reached(cap, name, self.run.profile, self.run.now)
            return f"{name}: frequency cap {cap.max}/{cap.per} reached ({count} exposures)"
        if reason == "coverage":
            return f"{name}: visitor outside coverage {experience.coverage:g}"
        variant = candidate.variant_ids[index] if index >= 0 else "?"
        return f"{name}: variant {variant} has no recommendations left after filtering"
