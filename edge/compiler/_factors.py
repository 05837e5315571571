"""A multivariate experience's factors and design at compile time.

```yaml
factors:
  headline: {slot: hero, levels: [{id: default}, {id: short, content: {text: Hi}}]}
  button: {slot: cta, levels: [{id: default}, {id: bold, content: {class: {add: bold}}}]}
design: full                          # or {fractional: {resolution: IV}} (III, IV, V)
```

Each factor has its own slot (declared, not shared with another factor), at least two
levels with unique ids (letters, digits, `_` and `-`: combination ids join them with
`.`, and `?perso_force=` separates pairs with `,` and `:`); its first level is its
reference. The design's combinations become the experience's variants, equal weights,
`"short.bold"` style ids in factor order; a design past `MAX_COMBINATIONS` is refused.

>>> from edge.compiler._check import Checker
>>> from edge.compiler._yaml import load
>>> from edge.model import Slot
>>> spec, _ = load("factors: {a: {slot: s, levels: [{id: x}, {id: y}]}, "
...                "b: {slot: t, levels: [{id: x}, {id: z}]}}")
>>> slots = {"s": Slot("s", "#s"), "t": Slot("t", "#t")}
>>> factors, variants = compile_factors(Checker("r.yaml"), spec, "experience 'm'", slots)
>>> [v.id for v in variants]
['x.x', 'x.z', 'y.x', 'y.z']
"""

from __future__ import annotations

import re
from typing import Any

from edge.compiler import _yaml
from edge.compiler._check import Checker, kind_of, known_slot
from edge.compiler._content import check_content
from edge.compiler._design import RESOLUTIONS, design_size, fractional, full
from edge.limits import MAX_COMBINATION_ID, MAX_COMBINATIONS
from edge.model import Factor, Level, Slot, Variant

__all__ = ["MULTIVARIATE_KEYS", "compile_factors"]

MULTIVARIATE_KEYS = ("factors", "design")
_LEVEL_ID = re.compile(r"[A-Za-z0-9_-]+\Z")


def compile_factors(
    check: Checker, spec: _yaml.LineDict, where: str, slots: dict[str, Slot]
) -> tuple[tuple[Factor, ...], tuple[Variant, ...]]:
    """The factors, and the design's combinations as variants (() after a problem)."""
    raw = spec.get("factors")
    line = spec.line_of("factors")
    if not isinstance(raw, _yaml.LineDict) or len(raw) < 2:
        check.report(
            line if "factors" in spec else spec.line,
            f"{where} is multivariate: it needs factors, a mapping of at least two factors "
            "(name: {slot, levels}), not " + kind_of(raw) + ".",
        )
        return (), ()
    factors: list[Factor] = []
    owners: dict[str, str] = {}
    for name, value in raw.items():
        at = raw.line_of(name)
        factor = _factor(check, str(name), value, line=at, where=f"{where} factor {name!r}")
        if factor is None:
            continue
        if factor.slot in slots and factor.slot in owners:
            check.report(
                raw.line_of(name),
                f"{where} factors {owners[factor.slot]!r} and {name!r} share slot "
                f"{factor.slot!r}; each factor needs its own slot.",
            )
        owners.setdefault(factor.slot, str(name))
        known_slot(check, factor.slot, slots, line=at, where=f"{where} factor {name!r}")
        factors.append(factor)
    if len(factors) != len(raw):
        return tuple(factors), ()
    return tuple(factors), _combinations(check, spec, where, tuple(factors))


def _factor(check: Checker, name: str, value: Any, *, line: int, where: str) -> Factor | None:
    factor = check.mapping(value, line=line, where=where)
    if factor is None:
        return None
    check.keys(factor, ("slot", "levels"), where=where)
    slot = factor.get("slot")
    if not isinstance(slot, str) or not slot:
        check.report(line, f"{where} needs a slot (one of the names under slots).")
        return None
    levels = factor.get("levels")
    if not isinstance(levels, _yaml.LineList) or len(levels) < 2:
        check.report(
            factor.line_of("levels") if "levels" in factor else line,
            f"{where} needs levels, a list of at least two (the first is the reference), "
            f"not {kind_of(levels)}.",
        )
        return None
    out: list[Level] = []
    for i, item in enumerate(levels):
        level = _level(check, item, line=levels.line_of(i), where=f"{where} levels[{i}]")
        if level is None:
            return None
        if any(lv.id == level.id for lv in out):
            check.report(levels.line_of(i), f"{where} has two levels with id {level.id!r}.")
            return None
        out.append(level)
    return Factor(id=name, slot=slot, levels=tuple(out))


def _level(check: Checker, item: Any, *, line: int, where: str) -> Level | None:
    level = check.mapping(item, line=line, where=where)
    if level is None:
        return None
    check.keys(level, ("id", "content"), where=where)
    level_id = level.get("id")
    if not isinstance(level_id, str) or not _LEVEL_ID.match(level_id):
        shown = repr(level_id) if isinstance(level_id, str) else kind_of(level_id)
        check.report(
            line,
            f"{where} id {shown} must use only letters, digits, _ and - "
            "(combination ids join level ids with '.').",
        )
        return None
    at = level.line_of("content")
    content = check_content(check, level.get("content"), line=at, where=f"{where} {level_id!r}")
    if content is not None and "redirect" in content:
        check.report(
            at,
            f"{where} {level_id!r} cannot redirect: the page would leave before the "
            "other factors' slots are shown.",
        )
        return None
    return Level(id=level_id, content=content)


def _combinations(
    check: Checker, spec: _yaml.LineDict, where: str, factors: tuple[Factor, ...]
) -> tuple[Variant, ...]:
    resolution = _resolution(check, spec, where)
    if resolution == 0:
        return ()
    line = spec.line_of("design") if "design" in spec else spec.line_of("factors")
    levels = tuple(len(f.levels) for f in factors)
    size = design_size(levels, resolution)
    if size is None:
        roman = next(k for k, v in RESOLUTIONS.items() if v == resolution)
        if any(n != 2 for n in levels):
            why = "fractional designs need every factor at two levels"
        else:
            why = f"there is no fraction of resolution {roman} for {len(factors)} factors"
        check.report(line, f"{where} design: {why} (use design: full).")
        return ()
    if size > MAX_COMBINATIONS:
        name = "full" if resolution is None else "fractional"
        check.report(
            line,
            f"{where} design {name} needs {size:,} combinations; the limit is "
            f"{MAX_COMBINATIONS} (use a fraction, or fewer factors or levels).",
        )
        return ()
    longest = sum(max(len(level.id) for level in f.levels) for f in factors) + len(factors) - 1
    if longest > MAX_COMBINATION_ID:
        check.report(
            line,
            f"{where} combination ids (level ids joined with '.') reach {longest} characters; "
            f"the limit is {MAX_COMBINATION_ID} (use shorter level ids).",
        )
        return ()
    runs = full(levels) if resolution is None else fractional(len(factors), resolution=resolution)
    weight = 1.0 / len(runs)
    return tuple(
        Variant(
            id=".".join(f.levels[i].id for f, i in zip(factors, run, strict=True)), weight=weight
        )
        for run in runs
    )


def _resolution(check: Checker, spec: _yaml.LineDict, where: str) -> int | None:
    """None for `full` (the default), the declared resolution, or 0 after a problem."""
    design = spec.get("design", "full")
    if design == "full":
        return None
    line = spec.line_of("design")
    wanted = "full, or {fractional: {resolution: III}} (III, IV or V)"
    if not isinstance(design, _yaml.LineDict) or list(design) != ["fractional"]:
        check.report(line, f"{where} design must be {wanted}, not {kind_of(design)}.")
        return 0
    inner = design["fractional"]
    value = inner.get("resolution") if isinstance(inner, dict) else None
    if isinstance(inner, _yaml.LineDict):
        check.keys(inner, ("resolution",), where=f"{where} design fractional")
    if isinstance(value, int) and not isinstance(value, bool) and value in RESOLUTIONS.values():
        return value
    if isinstance(value, str) and value.upper() in RESOLUTIONS:
        return RESOLUTIONS[value.upper()]
    check.report(
        line, f"{where} design fractional resolution must be III, IV or V, not {kind_of(value)}."
    )
    return 0
