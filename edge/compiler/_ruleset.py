"""YAML ruleset -> `Ruleset`, with every problem as `file:line: sentence` (DESIGN §3).

The top of the file (site, time zone, holdout and its scope, policy, segments,
journey, slots, catalog, guardrails, objective) is read here; experiences in
`_experiences`, their content in `_content`, conditions and `$segment` in
`_conditions`. All problems are collected by one `Checker` and reported together;
a ruleset is returned only when there are none.

>>> result = compile_text("site: demo\\nslots: {hero: {selector: h1}}\\nexperiences: []\\n")
>>> result.ruleset.site, result.problems
('demo', [])
>>> print(compile_text("site: Demo Shop\\n", filename="r.yaml").problems[0])
r.yaml:1: site 'Demo Shop' must use only a-z, 0-9 and - (it is the CDN path prefix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.artifact import encode
from edge.compiler import _yaml
from edge.compiler._check import Checker, Problem, is_number, kind_of
from edge.compiler._conditions import SegmentInliner
from edge.compiler._dom import unsafe_subject
from edge.compiler._experiences import compile_experiences
from edge.limits import MAX_ARTIFACT_BYTES, MAX_EXPERIENCES, MAX_SLOTS, MAX_SOURCE_BYTES
from edge.model import (
    HOLDOUT_SCOPES,
    OBJECTIVE_PERIODS,
    JourneyStage,
    Objective,
    Policy,
    Ruleset,
    Slot,
)

__all__ = ["TOP_LEVEL_KEYS", "CompileResult", "compile_file", "compile_text"]

TOP_LEVEL_KEYS = (
    "site", "timezone", "holdout", "policy", "journey", "segments", "slots", "experiences",
    "catalog", "guardrails", "objective",
)  # fmt: skip
_SITE = re.compile(r"[a-z0-9-]+\Z")


@dataclass(frozen=True, slots=True)
class CompileResult:
    """The ruleset (None if anything is wrong) and every problem found."""

    ruleset: Ruleset | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.ruleset is not None and not self.problems


def compile_file(path: str | Path) -> CompileResult:
    """Compile a YAML file; an unreadable file is a problem too, never an exception."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return CompileResult(None, [Problem(name, 0, "the file does not exist.")])
    except (OSError, UnicodeDecodeError) as exc:
        return CompileResult(None, [Problem(name, 0, f"the file cannot be read ({exc}).")])
    return compile_text(text, filename=name)


def compile_text(text: str, *, filename: str = "<string>") -> CompileResult:
    """Compile YAML text; `filename` only labels the problems."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        # Before parsing: reading YAML is the slow part (seconds per megabyte).
        message = (
            f"the file is {size:,} bytes; a ruleset may be at most {MAX_SOURCE_BYTES:,} "
            "(split the site's rules, or move catalog data out of it)."
        )
        return CompileResult(None, [Problem(filename, 1, message)])
    data, yaml_problems = _yaml.load(text)
    check = Checker(filename)
    for line, message in yaml_problems:
        check.report(line, message)
    ruleset = _ruleset(check, data) if data is not None or not yaml_problems else None
    if ruleset is not None and not check.problems:
        _artifact_size(check, ruleset)
    problems = sorted(check.problems, key=lambda p: p.line)
    return CompileResult(ruleset if not problems else None, problems)


# --- the ruleset ----------------------------------------------------------------


def _ruleset(check: Checker, data: Any) -> Ruleset | None:
    top = check.mapping(data, line=1, where="a ruleset")
    if top is None:
        return None
    if "learned" in top:
        check.report(top.line_of("learned"), "learned is written by the publisher; remove it.")
    check.keys(top, TOP_LEVEL_KEYS, where="the ruleset", reported=("learned",))
    site = _site(check, top)
    if not _within_counts(check, top):
        return None  # fail fast: compiling thousands of experiences only to refuse them
    timezone = check.timezone(top.get("timezone", "UTC"), line=top.line_of("timezone"))
    holdout, holdout_scope = _holdout(check, top)
    segment_source = _segment_source(check, top)
    inliner = SegmentInliner(segment_source, check)
    segments = {
        name: inliner.segment(name, line=segment_source.line_of(name)) for name in segment_source
    }
    slots = _slots(check, top)
    experiences = compile_experiences(check, top, slots, inliner, timezone)
    catalog = _catalog(check, top)
    contents = [v.content for e in experiences for v in e.variants] + [
        lv.content for e in experiences for f in e.factors for lv in f.levels
    ]
    recommends = any("recommend" in (c or {}) for c in contents)
    if recommends and not catalog:
        line = top.line_of("experiences")
        check.report(line, "recommend content needs a catalog: list the items there.")
    return Ruleset(
        site=site,
        timezone=timezone,
        holdout=holdout,
        holdout_scope=holdout_scope,
        policy=_policy(check, top),
        journey=_journey(check, top, inliner),
        segments=segments,
        slots=slots,
        experiences=tuple(experiences),
        catalog=catalog,
        guardrails=_guardrails(check, top),
        objective=_objective(check, top),
    )


def _holdout(check: Checker, top: _yaml.LineDict) -> tuple[float, str]:
    """`holdout: 0.05` is `{share: 0.05, scope: consent}`: the holdout withholds what
    consent adds; `scope: all` withholds every experience."""
    value, line = top.get("holdout"), top.line_of("holdout")
    if not isinstance(value, _yaml.LineDict):
        return check.fraction(value, line=line, where="holdout", default=0.0), "consent"
    check.keys(value, ("share", "scope"), where="holdout")
    line_of = value.line_of
    if "share" not in value:
        check.report(line, "holdout needs a share: the part of visitors held out, e.g. 0.05.")
    share = check.fraction(
        value.get("share"), line=line_of("share"), where="holdout share", default=0.0
    )
    scope = check.choice(
        value.get("scope", "consent"),
        HOLDOUT_SCOPES,
        line=line_of("scope"),
        where="holdout scope",
    )
    return share, scope


def _guardrails(check: Checker, top: _yaml.LineDict) -> tuple[str, ...]:
    """`guardrails: [unsubscribe, refund]`: goal names whose rise is bad."""
    value, line = top.get("guardrails"), top.line_of("guardrails")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        check.report(
            line,
            f"guardrails must be a list of goal names, like [unsubscribe, refund], "
            f"not {kind_of(value)}.",
        )
        return ()
    if len(set(value)) != len(value):
        check.report(line, "guardrails lists a goal twice.")
    return tuple(dict.fromkeys(value))


def _objective(check: Checker, top: _yaml.LineDict) -> Objective | None:
    """`objective: {goal: purchase, target: 10000, per: month}`: incremental value of
    the goal against the holdout to reach per period."""
    if top.get("objective") is None:
        return None
    line = top.line_of("objective")
    value = check.mapping(top["objective"], line=line, where="objective")
    if value is None:
        return None
    check.keys(value, ("goal", "target", "per"), where="objective")
    goal = check.text(value.get("goal"), line=value.line_of("goal"), where="objective goal")
    given = value.get("target")
    target = float(given) if isinstance(given, int | float) and is_number(given) else 0.0
    if not target > 0:
        check.report(
            value.line_of("target"),
            f"objective target must be a positive amount of value, not {kind_of(given)}.",
        )
    per = check.choice(
        value.get("per", "month"),
        OBJECTIVE_PERIODS,
        line=value.line_of("per"),
        where="objective per",
    )
    if not top.get("holdout"):
        check.report(line, "objective is measured against the holdout: declare a holdout too.")
    return Objective(goal, target, per) if goal else None


def _within_counts(check: Checker, top: _yaml.LineDict) -> bool:
    ok = True
    for key, limit in (("experiences", MAX_EXPERIENCES), ("slots", MAX_SLOTS)):
        value = top.get(key)
        if isinstance(value, list | dict) and len(value) > limit:
            check.report(
                top.line_of(key),
                f"the ruleset has {len(value):,} {key}; the limit is {limit:,} "
                "(each one is read on every page view).",
            )
            ok = False
    return ok


def _artifact_size(check: Checker, ruleset: Ruleset) -> None:
    """Report an artifact too big for every visitor to download."""
    size = encode(ruleset).size
    if size > MAX_ARTIFACT_BYTES:
        check.report(
            1,
            f"the artifact would be {size:,} bytes; the limit is "
            f"{MAX_ARTIFACT_BYTES:,} (every visitor downloads it).",
        )


def _site(check: Checker, top: _yaml.LineDict) -> str:
    site = top.get("site")
    line = top.line_of("site")
    if "site" not in top:
        check.report(top.line, "site is missing (the name used in CDN paths, like demo-shop).")
    elif not isinstance(site, str) or not _SITE.match(site):
        shown = repr(site) if isinstance(site, str) else kind_of(site)
        check.report(
            line, f"site {shown} must use only a-z, 0-9 and - (it is the CDN path prefix)."
        )
    return site if isinstance(site, str) else ""


def _policy(check: Checker, top: _yaml.LineDict) -> Policy:
    if "policy" not in top:
        return Policy()
    policy = check.mapping(top["policy"], line=top.line_of("policy"), where="policy")
    if policy is None:
        return Policy()
    names = ("max_experiences_per_page", "max_exposures_per_session")
    check.keys(policy, names, where="policy")
    per_page, per_session = (
        check.count(policy.get(n), line=policy.line_of(n), where=f"policy {n}") for n in names
    )
    return Policy(max_experiences_per_page=per_page, max_exposures_per_session=per_session)


def _segment_source(check: Checker, top: _yaml.LineDict) -> _yaml.LineDict:
    if "segments" not in top or top["segments"] is None:
        return _yaml.LineDict()
    source = check.mapping(top["segments"], line=top.line_of("segments"), where="segments")
    return source if source is not None else _yaml.LineDict()


def _journey(
    check: Checker, top: _yaml.LineDict, inliner: SegmentInliner
) -> tuple[JourneyStage, ...]:
    stages = top.get("journey")
    if stages is None:
        return ()
    if not isinstance(stages, _yaml.LineList):
        check.report(top.line_of("journey"), "journey must be a list of {stage, when}.")
        return ()
    out: list[JourneyStage] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(stages):
        line = stages.line_of(i)
        item = check.mapping(raw, line=line, where=f"journey[{i}]")
        if item is None:
            continue
        check.keys(item, ("stage", "when"), where=f"journey[{i}]")
        name = check.text(item.get("stage"), line=item.line_of("stage"), where="journey stage")
        if name in seen:
            check.report(line, f"journey stage {name!r} is listed twice (line {seen[name]}).")
        seen.setdefault(name, line)
        when = inliner.inline(
            item.get("when"), line=item.line_of("when"), where=f"journey stage {name!r}"
        )
        out.append(JourneyStage(stage=name, when=when))
    return tuple(out)


def _slots(check: Checker, top: _yaml.LineDict) -> dict[str, Slot]:
    if top.get("slots") is None:
        return {}
    slots = check.mapping(top["slots"], line=top.line_of("slots"), where="slots")
    if slots is None:
        return {}
    out: dict[str, Slot] = {}
    for slot_id, raw in slots.items():
        line = slots.line_of(slot_id)
        where = f"slot {slot_id!r}"
        if isinstance(raw, str):  # shorthand: `hero: "#hero h1"`
            raw = {"selector": raw}
        spec = check.mapping(raw, line=line, where=where) if not isinstance(raw, dict) else raw
        if spec is None:
            continue
        if isinstance(spec, _yaml.LineDict):
            check.keys(spec, ("selector", "hide_until_decided"), where=where)
        selector = check.text(spec.get("selector"), line=line, where=f"{where} selector")
        unsafe = unsafe_subject(selector)
        if unsafe is not None:
            check.report(
                line,
                f"{where} selector {selector!r} can select <{unsafe}> elements, "
                "which content must never change (they run, load or style the page).",
            )
        hide = spec.get("hide_until_decided", False)
        if not isinstance(hide, bool):
            check.report(line, f"{where} hide_until_decided must be true or false.")
            hide = False
        out[slot_id] = Slot(id=slot_id, selector=selector, hide_until_decided=hide)
    return out


def _catalog(check: Checker, top: _yaml.LineDict) -> dict[str, dict[str, Any]]:
    items = top.get("catalog")
    if items is None:
        return {}
    if not isinstance(items, _yaml.LineList):
        check.report(top.line_of("catalog"), "catalog must be a list of items with an id.")
        return {}
    out: dict[str, dict[str, Any]] = {}
    for i, raw in enumerate(items):
        line = items.line_of(i)
        item = check.mapping(raw, line=line, where=f"catalog[{i}]")
        if item is None:
            continue
        item_id = item.get("id")
        if isinstance(item_id, int) and not isinstance(item_id, bool):
            item_id = str(item_id)
        if not isinstance(item_id, str) or not item_id:
            check.report(line, f"catalog[{i}] needs an id (text).")
            continue
        if item_id in out:
            check.report(line, f"catalog item id {item_id!r} is listed twice.")
            continue
        for key in ("title", "url", "image", "category"):
            if key in item and not isinstance(item[key], str):
                check.report(item.line_of(key), f"catalog item {item_id!r} {key} must be text.")
        if "price" in item and not is_number(item["price"]):
            check.report(item.line_of("price"), f"catalog item {item_id!r} price must be a number.")
        out[item_id] = {**_yaml.plain(item), "id": item_id}
    return out
