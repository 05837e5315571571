"""Explaining decisions: which condition failed, in words (explain mode only).

The fast path evaluates an audience as one compiled predicate. When asked to
explain, the audience is taken apart: each top-level key (and each member of a
top-level `$and`, where inlined segments end up) is evaluated on its own, and the
first that fails is named. A member that equals a declared segment is named after
it too, since the marketer wrote `{$segment: evening}`, not the inlined condition.

>>> failed_at({"device.type": "mobile", "language": "pt"}, {"device": {"type": "desktop"}})
'device.type'
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from edge._decide_prepare import compile_safely
from edge.types import Attributes, Condition

__all__ = ["failed_at", "format_epoch"]

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
        if not compile_safely({key: value})(attributes):
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
