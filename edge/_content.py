"""Content at decision time: placeholders and `recommend` lists (DESIGN §3).

Placeholders look like `{profile.first_name|there}`: a dotted path into the
context, then an optional fallback after `|`. They are filled in every string of a
variant's content. How a filled value is made safe depends on where it lands:

- `html`: the value AND the fallback are HTML-escaped (the snippet inserts HTML);
- `redirect`: the value is percent-encoded, so a context value cannot change the
  target's host or path (no open redirect through `{page.query.next}`);
- every other kind (`text`, `attrs`, `class`, `data`, ...): plain, because the snippet
  sets it as text or as an attribute value, never parses it.

Rules are data: a placeholder is a lookup, never an expression.

>>> fill_content({"html": "<b>Hi {profile.first_name|there}</b>"}, {"profile": {}})
{'html': '<b>Hi there</b>'}
>>> fill_content({"html": "Hi {name}"}, {"name": "<i>Ann</i>"})
{'html': 'Hi &lt;i&gt;Ann&lt;/i&gt;'}
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from edge.model import Learned
from edge.types import Attributes, Content, Profile

__all__ = [
    "DEFAULT_RECOMMEND_COUNT",
    "fill_content",
    "has_placeholders",
    "lookup",
    "resolve_recommend",
]

DEFAULT_RECOMMEND_COUNT = 4
# A path is letters, digits, `_`, `-` and dots; the fallback is anything but braces.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)(?:\|([^{}]*))?\}")
_MAX_DEPTH = 16


def _plain(value: str) -> str:
    return value


def _url_part(value: str) -> str:
    return quote(value, safe="")


_ESCAPERS: dict[str, Callable[[str], str]] = {"html": html.escape, "redirect": _url_part}


def lookup(attributes: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or None (`lookup({"a": {"b": 1}}, "a.b") == 1`)."""
    current: Any = attributes
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _as_text(value: Any) -> str | None:
    # Only scalars fill a placeholder: a dict or list would print Python syntax.
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _fill_string(text: str, context: Mapping[str, Any], escape: Callable[[str], str]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = _as_text(lookup(context, match.group(1)))
        if value is None:
            value = match.group(2) or ""
            # The fallback is author-written, but an `html` fallback is escaped too,
            # so `{x|<b>}` shows `<b>` rather than opening a tag.
            return html.escape(value) if escape is html.escape else value
        return escape(value)

    return _PLACEHOLDER.sub(replace, text)


def _fill(value: Any, context: Mapping[str, Any], escape: Callable[[str], str], depth: int) -> Any:
    if isinstance(value, str):
        return _fill_string(value, context, escape) if "{" in value else value
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {k: _fill(v, context, escape, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, context, escape, depth + 1) for v in value]
    return value


def fill_content(content: Content, context: Mapping[str, Any]) -> Content:
    """A copy of `content` with every placeholder filled from `context`."""
    return {
        kind: _fill(value, context, _ESCAPERS.get(kind, _plain), 0)
        for kind, value in content.items()
    }


def has_placeholders(value: Any, depth: int = 0) -> bool:
    """Whether any string inside `value` holds a placeholder (checked once per ruleset)."""
    if isinstance(value, str):
        return _PLACEHOLDER.search(value) is not None
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return any(has_placeholders(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(has_placeholders(v, depth + 1) for v in value)
    return False


def _str_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _current_item(context: Attributes, viewed: list[str]) -> str | None:
    item = lookup(context, "page.query.id")
    if isinstance(item, str) and item:
        return item
    return viewed[-1] if viewed else None


def _count(spec: Mapping[str, Any]) -> int:
    count = spec.get("count", DEFAULT_RECOMMEND_COUNT)
    if isinstance(count, bool) or not isinstance(count, int | float) or count != count:
        return DEFAULT_RECOMMEND_COUNT
    return max(0, int(min(count, 1000)))


def resolve_recommend(
    spec: Any,
    *,
    learned: Learned,
    catalog: Mapping[str, Mapping[str, Any]],
    context: Attributes,
    profile: Profile,
) -> dict[str, Any] | None:
    """Resolve `{list, count, exclude_viewed}` to `{"items": [...]}`, or None if empty.

    `list` is "popular", "co_viewed" (seeded by `page.query.id`, else the last viewed
    item), or any name in `learned.recommendations` (such as "popular:<segment>").
    Items the visitor viewed (unless `exclude_viewed` is false), the current item,
    duplicates and ids missing from the catalog are dropped on the device.
    """
    if not isinstance(spec, Mapping):
        return None
    name = spec.get("list", "popular")
    viewed = _str_list(profile.get("viewed"))
    current = _current_item(context, viewed)
    if name == "co_viewed":
        candidates = learned.co_viewed.get(current, []) if current is not None else []
    elif isinstance(name, str):
        candidates = learned.recommendations.get(name, [])
    else:
        return None
    skip = set(viewed) if spec.get("exclude_viewed", True) is not False else set()
    if current is not None:
        skip.add(current)
    count = _count(spec)
    items: list[dict[str, Any]] = []
    for item_id in candidates:
        if len(items) >= count:
            break
        fields = catalog.get(item_id)
        if item_id in skip or not isinstance(fields, Mapping):
            continue
        skip.add(item_id)
        items.append({**fields, "id": item_id})
    if not items:
        return None
    extra = {k: v for k, v in spec.items() if k not in ("list", "count", "exclude_viewed")}
    return {**extra, "items": items}
