"""Type aliases shared across `edge` (one place, so every module agrees)."""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = ["JSON", "Attributes", "Condition", "Content", "Profile", "Signals"]

# A JSON-compatible value (what msgpack and JSON carry between the parts).
JSON: TypeAlias = Any
# A GrowthBook condition: a mapping of attribute paths / operators to values.
Condition: TypeAlias = dict[str, Any]
# The attributes rules see (DESIGN §4), nested: {"device": {"type": "mobile"}, ...}.
Attributes: TypeAlias = dict[str, Any]
# Raw browser signals handed over by the snippet (see edge.context).
Signals: TypeAlias = dict[str, Any]
# The on-device profile (see edge.context): visits, pageviews, exposures, assignments, ...
Profile: TypeAlias = dict[str, Any]
# A variant's content: {kind: value} for the kinds in edge.model.CONTENT_KINDS.
Content: TypeAlias = dict[str, Any]
