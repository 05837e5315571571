"""Experiences at compile time: slots, audience, schedule, frequency, variants (a
multivariate experience's factors and design: `_factors`)."""

from __future__ import annotations

from typing import Any

from edge.compiler import _yaml
from edge.compiler._check import Checker, is_int, is_number, kind_of, known_slot
from edge.compiler._conditions import SegmentInliner
from edge.compiler._content import check_content
from edge.compiler._factors import MULTIVARIATE_KEYS, compile_factors
from edge.compiler._time import resolve
from edge.limits import MAX_VARIANTS
from edge.model import (
    ALLOCATIONS,
    CONSENT_PURPOSES,
    EXPERIENCE_TYPES,
    FREQUENCY_PERIODS,
    Experience,
    Factor,
    Frequency,
    Schedule,
    Slot,
    Variant,
)

__all__ = ["EXPERIENCE_KEYS", "compile_experiences"]

EXPERIENCE_KEYS = (
    "id", "type", "slot", "priority", "audience", "schedule", "frequency", "consent", "allocation",
    "goals", "coverage", "variants",
)  # fmt: skip
_WEIGHT_TOLERANCE = 1e-6


def compile_experiences(
    check: Checker,
    top: _yaml.LineDict,
    slots: dict[str, Slot],
    inliner: SegmentInliner,
    timezone: str,
) -> list[Experience]:
    """The experiences of `top` (those too broken to keep are left out, reported)."""
    raw = top.get("experiences")
    if raw is None:
        return []
    if not isinstance(raw, _yaml.LineList):
        check.report(top.line_of("experiences"), "experiences must be a list.")
        return []
    out: list[Experience] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        line = raw.line_of(i)
        spec = check.mapping(item, line=line, where=f"experiences[{i}]")
        if spec is None:
            continue
        exp_id = spec.get("id")
        where = f"experience {exp_id!r}" if isinstance(exp_id, str) else f"experiences[{i}]"
        if not isinstance(exp_id, str) or not exp_id.strip():
            check.report(line, f"experiences[{i}] needs an id (text).")
            exp_id = f"#{i}"
        elif exp_id in seen:
            check.report(line, f"experience id {exp_id!r} is used twice (line {seen[exp_id]}).")
        seen.setdefault(exp_id, line)
        experience = _experience(check, spec, exp_id, where, slots, inliner, timezone)
        if experience is not None:
            out.append(experience)
    return out


def _experience(
    check: Checker,
    spec: _yaml.LineDict,
    exp_id: str,
    where: str,
    slots: dict[str, Slot],
    inliner: SegmentInliner,
    timezone: str,
) -> Experience | None:
    at = spec.line_of
    kind = check.choice(
        spec.get("type", "ab"), EXPERIENCE_TYPES, line=at("type"), where=f"{where} type"
    )
    multivariate = kind == "multivariate"
    # The other kind's keys get a sentence saying which kind they need.
    other = ("slot", "variants") if multivariate else MULTIVARIATE_KEYS
    allowed = tuple(k for k in (*EXPERIENCE_KEYS, *MULTIVARIATE_KEYS) if k not in other)
    check.keys(spec, allowed, where=where, reported=other)
    for key in other:
        if key in spec:
            need = (
                "its slots are its factors' and its variants their combinations"
                if multivariate
                else "factors and design need type: multivariate"
            )
            check.report(at(key), f"{where} cannot have {key}: {need}.")
    slot = spec.get("slot")
    variants: tuple[Variant, ...] = ()
    factors: tuple[Factor, ...] = ()
    if multivariate:
        factors, variants = compile_factors(check, spec, where, slots)
        slot = factors[0].slot if factors else ""
    elif not isinstance(slot, str):
        check.report(spec.line, f"{where} needs a slot (one of the names under slots).")
    else:
        known_slot(check, slot, slots, line=at("slot"), where=where)
    priority = spec.get("priority", 0)
    if not is_int(priority):
        check.report(
            at("priority"),
            f"{where} priority must be a whole number, not {kind_of(priority)}.",
        )
        priority = 0
    consent = check.choice(
        spec.get("consent", "personalization"),
        CONSENT_PURPOSES,
        line=at("consent"),
        where=f"{where} consent",
    )
    allocation = check.choice(
        spec.get("allocation", "fixed"),
        ALLOCATIONS,
        line=at("allocation"),
        where=f"{where} allocation",
    )
    goals = spec.get("goals", [])
    if not isinstance(goals, list) or not all(isinstance(g, str) and g for g in goals):
        check.report(at("goals"), f"{where} goals must be a list of event names.")
        goals = []
    if not multivariate:
        variants = _variants(check, spec, where)
    return Experience(
        id=exp_id,
        slot=slot if isinstance(slot, str) else "",
        variants=variants,
        type=kind,
        factors=factors,
        priority=int(priority),
        audience=inliner.inline(
            spec.get("audience"), line=at("audience"), where=f"{where} audience"
        ),
        schedule=_schedule(check, spec, where, timezone),
        frequency=_frequency(check, spec, where),
        consent=consent,
        allocation=allocation,
        goals=tuple(goals),
        coverage=check.fraction(
            spec.get("coverage"), line=at("coverage"), where=f"{where} coverage", default=1.0
        ),
    )


def _schedule(check: Checker, spec: _yaml.LineDict, where: str, timezone: str) -> Schedule:
    if spec.get("schedule") is None:
        return Schedule()
    raw = check.mapping(spec["schedule"], line=spec.line_of("schedule"), where=f"{where} schedule")
    if raw is None:
        return Schedule()
    check.keys(raw, ("start", "end", "timezone"), where=f"{where} schedule")
    if "timezone" in raw:
        own = check.timezone(raw["timezone"], line=raw.line_of("timezone"))
        timezone = own if own == raw["timezone"] else timezone
    times: dict[str, float | None] = {"start": None, "end": None}
    for key in times:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            check.report(
                raw.line_of(key),
                f"{where} schedule {key} must be an ISO date-time like 2026-11-25T00:00.",
            )
            continue
        try:
            times[key] = resolve(value, timezone)
        except ValueError as exc:
            check.report(
                raw.line_of(key),
                f"{where} schedule {key} {value!r} is not an ISO date-time ({exc}).",
            )
    start, end = times["start"], times["end"]
    if start is not None and end is not None and end <= start:
        check.report(
            raw.line_of("end"),
            f"{where} schedule ends ({raw['end']}) before it starts ({raw['start']}).",
        )
    return Schedule(start=start, end=end)


def _frequency(check: Checker, spec: _yaml.LineDict, where: str) -> Frequency | None:
    if spec.get("frequency") is None:
        return None
    raw = check.mapping(
        spec["frequency"], line=spec.line_of("frequency"), where=f"{where} frequency"
    )
    if raw is None:
        return None
    check.keys(raw, ("max", "per"), where=f"{where} frequency")
    if "max" not in raw:
        check.report(raw.line, f"{where} frequency needs max (exposures per period).")
    most = check.count(raw.get("max"), line=raw.line_of("max"), where=f"{where} frequency max")
    if raw.get("per") == "view":
        check.report(
            raw.line_of("per"),
            f"{where} frequency per view can never hold (an experience shows once per "
            f"page view); use one of: {', '.join(FREQUENCY_PERIODS)}.",
        )
        return None
    per = check.choice(
        raw.get("per", "day"),
        FREQUENCY_PERIODS,
        line=raw.line_of("per"),
        where=f"{where} frequency per",
    )
    return Frequency(max=most or 1, per=per)


def _variants(check: Checker, spec: _yaml.LineDict, where: str) -> tuple[Variant, ...]:
    raw = spec.get("variants")
    if not isinstance(raw, _yaml.LineList) or not raw:
        check.report(spec.line_of("variants"), f"{where} needs a non-empty list of variants.")
        return ()
    if len(raw) > MAX_VARIANTS:
        check.report(
            spec.line_of("variants"),
            f"{where} has {len(raw)} variants; the limit is {MAX_VARIANTS}.",
        )
        return ()
    parsed: list[tuple[str, float | None, dict[str, Any] | None]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        line = raw.line_of(i)
        variant = check.mapping(item, line=line, where=f"{where} variants[{i}]")
        if variant is None:
            continue
        check.keys(variant, ("id", "weight", "content"), where=f"{where} variants[{i}]")
        var_id = variant.get("id")
        if not isinstance(var_id, str) or not var_id:
            check.report(line, f"{where} variants[{i}] needs an id (text).")
            var_id = f"#{i}"
        elif var_id in seen:
            check.report(line, f"{where} has two variants with id {var_id!r}.")
        seen.add(var_id)
        weight = variant.get("weight")
        if weight is not None and (not is_number(weight) or not 0 <= weight <= 1):
            check.report(
                variant.line_of("weight"),
                f"{where} variant {var_id!r} weight must be a number from 0 to 1, "
                f"not {kind_of(weight)}.",
            )
            weight = 0.0
        content = check_content(
            check,
            variant.get("content"),
            line=variant.line_of("content"),
            where=f"{where} variant {var_id!r}",
        )
        parsed.append((var_id, None if weight is None else float(weight), content))
    return _weigh(check, parsed, line=spec.line_of("variants"), where=where)


def _weigh(
    check: Checker,
    parsed: list[tuple[str, float | None, dict[str, Any] | None]],
    *,
    line: int,
    where: str,
) -> tuple[Variant, ...]:
    given = sum(w for _, w, _ in parsed if w is not None)
    missing = sum(1 for _, w, _ in parsed if w is None)
    left = 1.0 - given
    if missing and left < -_WEIGHT_TOLERANCE:
        check.report(line, f"{where} variant weights sum to {given:g}, more than 1.")
    elif missing and left <= _WEIGHT_TOLERANCE:
        check.report(
            line,
            f"{where} variant weights already sum to {given:g}, "
            f"leaving nothing for the {missing} without a weight.",
        )
    elif not missing and abs(left) > _WEIGHT_TOLERANCE:
        check.report(line, f"{where} variant weights sum to {given:g}, not 1.")
    share = max(left, 0.0) / missing if missing else 0.0
    return tuple(
        Variant(id=var_id, weight=share if w is None else w, content=content)
        for var_id, w, content in parsed
    )
