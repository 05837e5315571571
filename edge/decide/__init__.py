"""Deciding what each slot shows (DESIGN §5): a pure function of its four inputs.

For each slot (in `ruleset.slots` order) the experiences are taken by priority,
higher first, ties in file order; the first one that

1. is scheduled now (`start <= now < end`, UTC epoch seconds),
2. has its consent purpose granted (`context["consent"][purpose]`; "none" always),
3. matches its audience (conditions compiled once per ruleset),
4. is under its frequency cap (rolling windows, see `_caps`),
5. is allowed by the page policy (checked once per slot, before its candidates),
6. and covers the visitor (GrowthBook hash v2, seed = experience id, attribute `id`)

fills the slot. A multivariate experience fills all its factors' slots or none (one
exposure per view, the combination as its variant: see `_multi`). A sticky assignment
(`profile["assignments"][id]` naming a variant that still exists) is kept without
hashing. A visitor in the global holdout gets every
default, and one `__holdout__` exposure is logged per page view so lift can be
measured. Without a visitor id (no consent) nothing is hashed, so only single-variant
experiences whose consent is "none" (and coverage 1) can run. Nothing here raises for
an odd context or profile: unreadable parts are ignored, and an unexpected failure
turns every slot into its default with reason "error". Details: docs/notes/decide.md.

Owns the entry points (`_decide`: `decide`, `decide_signals` for raw signals), the
slot loop (`_walk`) and its one walk over candidates (`_steps`), multivariate
experiences' all-or-none (`_multi`), the ruleset prepared once and its caches
(`_prepare`), frequency caps (`_caps`), QA overrides (`_force`), content filling and
recommend lists (`_content`), explain's words (`_explain`) and what comes out
(`_result`). Imports `edge.conditions`, `edge.bucketing`, `edge.context`,
`edge.model` and `edge.types`.
"""

from __future__ import annotations

from edge.decide._decide import decide, decide_signals, decide_unguarded
from edge.decide._force import parse_forced
from edge.decide._result import HOLDOUT_EXPERIENCE, HOLDOUT_VARIANT, REASONS, Decision, Result

__all__ = [
    "HOLDOUT_EXPERIENCE",
    "HOLDOUT_VARIANT",
    "REASONS",
    "Decision",
    "Result",
    "decide",
    "decide_signals",
    "decide_unguarded",
    "parse_forced",
]
