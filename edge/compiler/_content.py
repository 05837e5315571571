"""Variant content at compile time: check each kind's shape and normalize it.

The shapes (what `decide` and the browser runtime receive, after normalizing):

| kind | YAML | artifact |
|---|---|---|
| `text` | a string; `{profile.first_name\\|there}` placeholders allowed | same |
| `html` | a string (no `<script>`, no `on*=` handlers, no `javascript:`) | same |
| `attrs` | `{name: value}`; value a string, number, bool, or null to remove | strings or null |
| `class` | `{add: name or [names], remove: name or [names]}` | `{add: [...], remove: [...]}` |
| `hide` | `true` | `true` |
| `redirect` | `/path`, `?query`, or another site in full: `https://...` | same |
| `data` | any mapping, handed to `perso.on("decision")` callbacks | same |
| `recommend` | `{list: popular, count: 4, exclude_viewed: true, title: ...}` | defaults filled |

Which attribute names and values `attrs` may use, and which redirect targets leave
the site, is decided in `edge.compiler._dom` (mirrored by the browser runtime).

Several kinds may be combined (`{text: ..., class: {add: promo}}`), except `text` with
`html`, and `redirect` stands alone.

>>> check_content(Checker("r.yaml"), {"class": {"add": "promo"}}, line=3, where="v")
{'class': {'add': ['promo'], 'remove': []}}
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from edge.compiler._check import Checker, kind_of
from edge.compiler._dom import attr_problem, redirect_problem
from edge.compiler._yaml import line_at, plain
from edge.model import CONTENT_KINDS, PLACEHOLDER

__all__ = ["RECOMMEND_DEFAULTS", "check_content"]

RECOMMEND_DEFAULTS: dict[str, Any] = {"list": "popular", "count": 4, "exclude_viewed": True}
# Optional keys handed through to the page with the items (a heading for the list).
_RECOMMEND_EXTRA = ("title",)
_RECOMMEND_MAX = 50
_ATTR_NAME = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*\Z")
_CLASS_NAME = re.compile(r"-?[_a-zA-Z][-_a-zA-Z0-9]*\Z")
_BAD_URL = re.compile(r"\s*(javascript|data|vbscript):", re.IGNORECASE)
_SCRIPT = re.compile(r"<\s*script", re.IGNORECASE)
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def check_content(check: Checker, content: Any, *, line: int, where: str) -> dict[str, Any] | None:
    """The normalized content, or None (after reporting) if it is unusable."""
    if content is None:
        return None
    if not isinstance(content, dict):
        check.report(
            line, f"content of {where} must be a mapping of kinds, not {kind_of(content)}."
        )
        return None
    if not content:
        check.report(line, f"content of {where} is empty; leave it out to keep the page's default.")
        return None
    out: dict[str, Any] = {}
    ok = True
    for kind, value in content.items():
        at = line_at(content, kind, line)
        if kind not in CONTENT_KINDS:
            check.report(
                at, f"unknown content kind {kind!r} in {where} ({', '.join(CONTENT_KINDS)})."
            )
            ok = False
            continue
        checked = _CHECKS[kind](check, value, at, f"{kind} of {where}")
        if checked is _INVALID:
            ok = False
        else:
            out[kind] = checked
    if "text" in content and "html" in content:
        check.report(line, f"content of {where} has both text and html; keep one.")
        ok = False
    if "redirect" in content and len(content) > 1:
        check.report(line, f"content of {where} redirects, so it cannot also change the page.")
        ok = False
    return out if ok else None


_INVALID: Any = object()


def _string(check: Checker, value: Any, at: int, where: str) -> Any:
    if not isinstance(value, str):
        check.report(at, f"{where} must be text, not {kind_of(value)}.")
        return _INVALID
    return value


def _html(check: Checker, value: Any, at: int, where: str) -> Any:
    if _string(check, value, at, where) is _INVALID:
        return _INVALID
    for pattern, what in (
        (_SCRIPT, "<script> elements"),
        (_HANDLER, "event handler attributes (on...=)"),
        (_BAD_URL, "javascript: URLs"),
    ):
        found = "javascript:" in value.lower() if pattern is _BAD_URL else pattern.search(value)
        if found:
            check.report(
                at, f"{where} contains {what}, which the sanitizer removes; take them out."
            )
            return _INVALID
    return value


def _attrs(check: Checker, value: Any, at: int, where: str) -> Any:
    if not isinstance(value, dict) or not value:
        check.report(at, f"{where} must be a mapping of attribute names to values.")
        return _INVALID
    out: dict[str, str | None] = {}
    ok = True
    for name, attr in value.items():
        here = line_at(value, name, at)
        if not _ATTR_NAME.match(name):
            check.report(here, f"{name!r} in {where} is not an attribute name.")
            ok = False
        elif attr is not None and not isinstance(attr, str | int | float | bool):
            check.report(here, f"attribute {name!r} in {where} must be text, not {kind_of(attr)}.")
            ok = False
        else:
            text = None if attr is None else _attr_text(attr)
            problem = attr_problem(name, text)
            if problem is not None:
                check.report(here, f"{where} cannot set the attribute {name!r}: {problem}.")
                ok = False
            else:
                out[name] = text
    return out if ok else _INVALID


def _attr_text(value: str | int | float | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _class(check: Checker, value: Any, at: int, where: str) -> Any:
    if not isinstance(value, dict) or not value:
        check.report(at, f"{where} must be a mapping with add and/or remove.")
        return _INVALID
    out: dict[str, list[str]] = {"add": [], "remove": []}
    ok = True
    for key, names in value.items():
        here = line_at(value, key, at)
        if key not in out:
            check.report(here, f"unknown key {key!r} in {where} (expected add, remove).")
            ok = False
            continue
        items = [names] if isinstance(names, str) else names
        if not isinstance(items, list) or not all(isinstance(n, str) for n in items):
            check.report(here, f"{key} in {where} must be a class name or a list of them.")
            ok = False
            continue
        bad = [n for n in items if not _CLASS_NAME.match(n)]
        if bad:
            check.report(here, f"{bad[0]!r} in {where} is not a class name.")
            ok = False
        out[key] = list(items)
    return out if ok else _INVALID


def _hide(check: Checker, value: Any, at: int, where: str) -> Any:
    if value is not True:
        check.report(at, f"{where} must be true (leave it out to show the element).")
        return _INVALID
    return True


def _redirect(check: Checker, value: Any, at: int, where: str) -> Any:
    if _string(check, value, at, where) is _INVALID:
        return _INVALID
    # Placeholders are filled percent-encoded (never a "/", "\\" or ":"), or by their
    # fallback when the context has no value: the fallbacks are the worst case
    # ("/{page.query.x|/evil.example}" becomes "//evil.example").
    for target in dict.fromkeys((value, PLACEHOLDER.sub(lambda m: m.group(2) or "", value))):
        problem = redirect_problem(target)
        if problem is not None:
            shown = repr(value) if target == value else f"{value!r} (as {target!r})"
            check.report(at, f"{where} {shown} {problem}.")
            return _INVALID
    return value


def _data(check: Checker, value: Any, at: int, where: str) -> Any:
    if not isinstance(value, dict):
        check.report(at, f"{where} must be a mapping, not {kind_of(value)}.")
        return _INVALID
    return plain(value)


def _recommend(check: Checker, value: Any, at: int, where: str) -> Any:
    if not isinstance(value, dict):
        check.report(at, f"{where} must be a mapping like {{list: popular, count: 4}}.")
        return _INVALID
    out = dict(RECOMMEND_DEFAULTS)
    ok = True
    for key, item in value.items():
        here = line_at(value, key, at)
        if key not in RECOMMEND_DEFAULTS and key not in _RECOMMEND_EXTRA:
            known = ", ".join((*RECOMMEND_DEFAULTS, *_RECOMMEND_EXTRA))
            check.report(here, f"unknown key {key!r} in {where} (expected {known}).")
            ok = False
        elif key == "count" and not (
            isinstance(item, int) and not isinstance(item, bool) and 1 <= item <= _RECOMMEND_MAX
        ):
            check.report(
                here, f"count in {where} must be a whole number from 1 to {_RECOMMEND_MAX}."
            )
            ok = False
        elif key == "exclude_viewed" and not isinstance(item, bool):
            check.report(here, f"exclude_viewed in {where} must be true or false.")
            ok = False
        elif key in ("list", "title") and not (isinstance(item, str) and item):
            check.report(here, f"{key} in {where} must be text, not {kind_of(item)}.")
            ok = False
        else:
            out[key] = item
    return out if ok else _INVALID


_CHECKS: dict[str, Callable[[Checker, Any, int, str], Any]] = {
    "text": _string,
    "html": _html,
    "attrs": _attrs,
    "class": _class,
    "hide": _hide,
    "redirect": _redirect,
    "data": _data,
    "recommend": _recommend,
}
