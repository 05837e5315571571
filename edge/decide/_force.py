"""QA overrides: `?perso_force=experience:variant` (DESIGN §5, issue 10 §3).

Follows GrowthBook's query-string override (`edge.bucketing.get_query_string_override`):
a pair naming an unknown experience, or a variant the experience does not have, is
ignored, and a forced result is returned before everything else an experiment checks.
A forced experience fills its slot and SKIPS steps 1-6 of `decide` for it: schedule,
consent, audience, frequency cap, page policy, coverage and the hash (and a sticky
assignment), and the global holdout. The variant's content is still filled as usual
(placeholders, recommend lists). A forced slot's decision has reason `forced`; it
logs no exposure and stores no assignment, so the person testing is never counted
(as GrowthBook forced results never reach the tracking callback). Other slots are
decided as usual. Forced results are never read from nor stored in the result cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.decide._result import Decision, Result
from edge.decide._run import Run

__all__ = ["FORCED", "apply_forced", "parse_forced"]

FORCED = "forced"


def parse_forced(value: Any) -> dict[str, str]:
    """`{"exp": "variant"}` from `"exp:variant,exp2:variant"` (or a mapping); odd pairs dropped.

    >>> parse_forced("hero-test:b, promo:on,bad,:x")
    {'hero-test': 'b', 'promo': 'on'}
    """
    pairs: dict[str, str] = {}
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, str):
        items = [piece.partition(":")[::2] for piece in value.split(",")]
    else:
        return pairs
    for exp, variant in items:
        if isinstance(exp, str) and isinstance(variant, str):
            exp, variant = exp.strip(), variant.strip()
            if exp and variant and exp not in pairs:
                pairs[exp] = variant
    return pairs


def apply_forced(run: Run, result: Result, forced: Mapping[str, str]) -> Result:
    """`result` with each valid forced pair's slot replaced by the forced variant.

    The first valid pair for a slot wins. The replaced slot's exposure and its
    experience's assignment are dropped (nothing was shown of it), as is the holdout's
    marker when a forced slot is in the view.
    """
    by_slot: dict[str, tuple[Any, int]] = {}
    for slot, candidates in run.prepared.slots:
        for candidate in candidates:
            variant = forced.get(candidate.id)
            index = candidate.variant_index.get(variant) if variant is not None else None
            if index is not None and slot not in by_slot:
                by_slot[slot] = (candidate, index)
    if not by_slot:
        return result
    decisions: list[Decision] = []
    dropped: set[str] = set()
    for decision in result.decisions:
        chosen = by_slot.get(decision.slot)
        if chosen is None:
            decisions.append(decision)
            continue
        candidate, index = chosen
        if decision.experience is not None:
            dropped.add(decision.experience)
        dropped.add(candidate.id)
        content, _available = run.content(candidate, index)
        trace = decision.trace
        if trace:
            line = f"{candidate.id}: forced to {candidate.variant_ids[index]} by perso_force"
            trace = (line,)
        decisions.append(
            Decision(
                decision.slot, candidate.id, candidate.variant_ids[index], content, FORCED, trace
            )
        )
    # A multivariate experience logs its exposure on its first slot: one that a forced
    # slot cut into is not counted either.
    exposures = [
        e
        for e in result.exposures
        if e.get("slot") not in by_slot
        and e.get("slot") is not None
        and e.get("experience") not in dropped
    ]
    assignments = {k: v for k, v in result.assignments.items() if k not in dropped}
    return Result(decisions, exposures, assignments, result.journey, result.trace, result.valid)
