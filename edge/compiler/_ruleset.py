"""YAML ruleset -> `Ruleset`, with every problem as `file:line: sentence` (DESIGN §3).

The top of the file (site, time zone, holdout, policy, segments, journey, slots,
catalog) is read here; experiences in `_experiences`, their content in `_content`,
conditions and `$segment` in `_conditions`. All problems are collected by one
`Checker` and reported together; a ruleset is returned only when there are none.

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
from edge.model import JourneyStage, Policy, Ruleset, Slot

__all__ = ["TOP_LEVEL_KEYS", "CompileResult", "compile_file", "compile_text"]

TOP_LEVEL_KEYS = (
    "site", "timezone", "holdout", "policy", "journey", "segments", "slots", "experiences",
    "catalog",
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
    holdout = check.fraction(
        top.get("holdout"), line=top.line_of("holdout"), where="holdout", default=0.0
    )
    segment_source = _segment_source(check, top)
    inliner = SegmentInliner(segment_source, check)
    segments = {
        name: inliner.segment(name, line=segment_source.line_of(name)) for name in segment_source
    }
    slots = _slots(check, top)
    experiences = compile_experiences(check, top, slots, inliner, timezone)
    catalog = _catalog(check, top)
    recommends = any("recommend" in (v.content or {}) for e in experiences for v in e.variants)
    if recommends and not catalog:
        line = top.line_of("experiences")
        check.report(line, "recommend content needs a catalog: list the items there.")
    return Ruleset(
        site=site,
        timezone=timezone,
        holdout=holdout,
        policy=_policy(check, top),
        journey=_journey(check, top, inliner),
        segments=segments,
        slots=slots,
        experiences=tuple(experiences),
        catalog=catalog,
    )


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
