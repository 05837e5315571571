"""What `decide` returns: one `Decision` per slot, inside a `Result`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from edge.types import Content

__all__ = ["HOLDOUT_EXPERIENCE", "HOLDOUT_VARIANT", "REASONS", "Decision", "Result"]

# The exposure logged once per page view for a visitor in the global holdout, so the
# aggregator can compare holdout visitors with everyone else (total lift).
HOLDOUT_EXPERIENCE = "__holdout__"
HOLDOUT_VARIANT = "holdout"

# Why a slot got what it got. For a default, the reason of the candidate that came
# furthest (this order, later = further), or "no_match" when the slot has none.
REASONS = (
    "matched",
    "no_match",
    "holdout",
    "schedule",
    "consent",
    "audience",
    "frequency_cap",
    "policy",
    "coverage",
    "slot_taken",  # a multivariate experience passed over: another of its slots is held
    "no_recommendations",
    "error",
    "forced",  # a QA override (?perso_force=...), edge.decide._force
)


class Decision(NamedTuple):
    """What one slot shows. `experience`/`variant` None means the page's default.

    A control variant (no content) is a real decision: `experience` and `variant` are
    set, `content` is None, `reason` is "matched", and it is logged as an exposure.
    `content` may be shared with the ruleset: treat it as read-only.

    A named tuple, not a frozen dataclass: it is as immutable for the caller
    (attribute access, equality, repr, `to_dict`), and building one costs ~0.6 us
    instead of ~1.6 us (a frozen dataclass sets each field through
    `object.__setattr__`); a page builds one per filled slot.
    """

    slot: str
    experience: str | None
    variant: str | None
    content: Content | None
    reason: str
    trace: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.experience is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "experience": self.experience,
            "variant": self.variant,
            "content": self.content,
            "reason": self.reason,
            "trace": list(self.trace),
        }


@dataclass(frozen=True, slots=True)
class Result:
    """Every slot's decision, the exposures to log, the assignments to keep.

    - `decisions`: one per slot, in `ruleset.slots` order;
    - `exposures`: `{"experience", "variant", "slot"}` per non-default decision, or, for a
      visitor in the holdout, one `{"experience": "__holdout__", "variant": "holdout",
      "slot": None}`;
    - `assignments`: experience id -> variant id for this page's decisions (sticky
      assignments to store on the device; empty without a visitor id);
    - `journey`: the journey stage that matched, or None;
    - `valid`: [from, until) in UTC epoch seconds (either may be infinite): the same
      context and profile get this same result at any moment inside it (the schedules
      and frequency-cap windows `decide` read). Empty (from == until) when the result
      must not be kept: a decision that failed and fell back to the defaults.
    """

    decisions: list[Decision]
    exposures: list[dict[str, Any]] = field(default_factory=list)
    assignments: dict[str, str] = field(default_factory=dict)
    journey: str | None = None
    trace: tuple[str, ...] = ()
    valid: tuple[float, float] = (-math.inf, math.inf)

    def decision(self, slot: str) -> Decision:
        """The decision for one slot (`KeyError` naming the slot if it is not declared)."""
        for decision in self.decisions:
            if decision.slot == slot:
                return decision
        raise KeyError(f"slot {slot!r} is not declared in the ruleset")

    def to_dict(self) -> dict[str, Any]:
        return {
            "decisions": [d.to_dict() for d in self.decisions],
            "exposures": [dict(e) for e in self.exposures],
            "assignments": dict(self.assignments),
            "journey": self.journey,
            "trace": list(self.trace),
        }
