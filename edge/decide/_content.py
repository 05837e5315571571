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
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from edge.model import PLACEHOLDER, Learned
from edge.types import Attributes, Content, Profile

__all__ = [
    "DEFAULT_RECOMMEND_COUNT",
    "ContentFiller",
    "Recommender",
    "catalog_items",
    "fill_content",
    "has_placeholders",
    "page_items",
]

DEFAULT_RECOMMEND_COUNT = 4
_MAX_DEPTH = 16
_CURRENT_ITEM = ("page", "query", "id")


def _plain(value: str) -> str:
    return value


def _url_part(value: str) -> str:
    return quote(value, safe="")


Escape = Callable[[str], str]
_ESCAPERS: dict[str, Escape] = {"html": html.escape, "redirect": _url_part}


def _as_text(value: Any) -> str | None:
    # Only scalars fill a placeholder: a dict or list would print Python syntax.
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


class _Template:
    """A string cut once into literals and lookups: filling it is a join, no regex."""

    __slots__ = ("escape", "parts")

    def __init__(self, parts: list[str | tuple[tuple[str, ...], str]], escape: Escape) -> None:
        self.parts = parts
        self.escape = escape

    @classmethod
    def parse(cls, text: str, escape: Escape) -> _Template:
        parts: list[str | tuple[tuple[str, ...], str]] = []
        last = 0
        for match in PLACEHOLDER.finditer(text):
            parts.append(text[last : match.start()])
            fallback = match.group(2) or ""
            # The fallback is author-written, but an `html` fallback is escaped too,
            # so `{x|<b>}` shows `<b>` rather than opening a tag.
            if escape is html.escape:
                fallback = html.escape(fallback)
            parts.append((tuple(match.group(1).split(".")), fallback))
            last = match.end()
        parts.append(text[last:])
        return cls(parts, escape)

    def fill(self, context: Mapping[str, Any]) -> str:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = _as_text(_walk(context, part[0]))
            out.append(part[1] if value is None else self.escape(value))
        return "".join(out)


def _walk(attributes: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at a dotted path, or None (`_walk({"a": {"b": 1}}, ("a", "b")) == 1`)."""
    current: Any = attributes
    for part in path:
        if type(current) is dict or isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


# A compiled value: the same shape as the content, with templates where strings
# held placeholders; `_render` rebuilds only what holds a template.
def _compile(value: Any, escape: Escape, depth: int) -> tuple[Any, bool]:
    if isinstance(value, str):
        if "{" in value and PLACEHOLDER.search(value):
            return _Template.parse(value, escape), True
        return value, False
    if depth >= _MAX_DEPTH:
        return value, False
    if isinstance(value, dict):
        items = {k: _compile(v, escape, depth + 1) for k, v in value.items()}
        if any(dynamic for _, dynamic in items.values()):
            return _Dynamic({k: v for k, (v, _) in items.items()}), True
        return value, False
    if isinstance(value, list):
        members = [_compile(v, escape, depth + 1) for v in value]
        if any(dynamic for _, dynamic in members):
            return _Dynamic([v for v, _ in members]), True
        return value, False
    return value, False


class _Dynamic:
    __slots__ = ("value",)

    def __init__(self, value: dict[str, Any] | list[Any]) -> None:
        self.value = value


def _render(value: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(value, _Template):
        return value.fill(context)
    if isinstance(value, _Dynamic):
        inner = value.value
        if isinstance(inner, dict):
            return {k: _render(v, context) for k, v in inner.items()}
        return [_render(v, context) for v in inner]
    return value


class ContentFiller:
    """A variant's content with its placeholders parsed once (at ruleset preparation).

    >>> ContentFiller({"text": "Hi {name|you}", "data": {"n": 1}}).fill({"name": "Bo"})
    {'text': 'Hi Bo', 'data': {'n': 1}}
    """

    __slots__ = ("compiled",)

    def __init__(self, content: Content) -> None:
        self.compiled = {
            kind: _compile(value, _ESCAPERS.get(kind, _plain), 0)[0]
            for kind, value in content.items()
        }

    def fill(self, context: Mapping[str, Any]) -> Content:
        return {kind: _render(value, context) for kind, value in self.compiled.items()}


def fill_content(content: Content, context: Mapping[str, Any]) -> Content:
    """A copy of `content` with every placeholder filled from `context`."""
    return ContentFiller(content).fill(context)


def has_placeholders(value: Any, depth: int = 0) -> bool:
    """Whether any string inside `value` holds a placeholder (checked once per ruleset)."""
    if isinstance(value, str):
        return PLACEHOLDER.search(value) is not None
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return any(has_placeholders(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(has_placeholders(v, depth + 1) for v in value)
    return False


def catalog_items(catalog: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{id: {**fields, "id": id}}` for every readable catalog entry (built once)."""
    return {
        item_id: {**fields, "id": item_id}
        for item_id, fields in catalog.items()
        if isinstance(item_id, str) and isinstance(fields, Mapping)
    }


def _str_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _current_item(context: Attributes, viewed: list[str]) -> str | None:
    item = _walk(context, _CURRENT_ITEM)
    if isinstance(item, str) and item:
        return item
    return viewed[-1] if viewed else None


def _count(spec: Mapping[str, Any]) -> int:
    count = spec.get("count", DEFAULT_RECOMMEND_COUNT)
    if isinstance(count, bool) or not isinstance(count, int | float) or count != count:
        return DEFAULT_RECOMMEND_COUNT
    return max(0, int(min(count, 1000)))


def page_items(context: Attributes, profile: Profile) -> tuple[list[str], str | None]:
    """The visitor's viewed items and the current one (read once per page)."""
    viewed = _str_list(profile.get("viewed"))
    return viewed, _current_item(context, viewed)


class Recommender:
    """One `recommend` spec read once (at ruleset preparation): resolving it on a page
    is then the filtering loop alone."""

    __slots__ = ("count", "exclude_viewed", "extra", "name", "spec")

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        readable = type(spec) is dict or isinstance(spec, Mapping)
        self.name: Any = spec.get("list", "popular") if readable else None
        self.exclude_viewed = readable and spec.get("exclude_viewed", True) is not False
        self.count = _count(spec) if readable else 0
        self.extra: dict[str, Any] = (
            {k: v for k, v in spec.items() if k not in ("list", "count", "exclude_viewed")}
            if readable
            else {}
        )

    def resolve(
        self,
        *,
        learned: Learned,
        catalog: Mapping[str, dict[str, Any]],
        viewed: list[str],
        current: str | None,
    ) -> dict[str, Any] | None:
        """`{"items": [...], ...extra keys}`, or None when no item is left.

        `list` is "popular", "co_viewed" (seeded by the current item: `page.query.id`,
        else the last viewed one), or any name in `learned.recommendations` (such as
        "popular:<segment>"). Items the visitor viewed (unless `exclude_viewed` is
        false), the current item, duplicates and ids missing from the catalog are
        dropped on the device. `catalog` maps an id to its item dict, which already
        holds `"id"` (see `catalog_items`); the items are shared, not copied.
        """
        name = self.name
        if name == "co_viewed":
            candidates = learned.co_viewed.get(current, []) if current is not None else []
        elif isinstance(name, str):
            candidates = learned.recommendations.get(name, [])
        else:
            return None  # (also a spec that is not a mapping)
        skip = set(viewed) if self.exclude_viewed else set()
        if current is not None:
            skip.add(current)
        count = self.count
        items: list[dict[str, Any]] = []
        for item_id in candidates:
            if len(items) >= count:
                break
            item = catalog.get(item_id)
            if item is None or item_id in skip:
                continue
            skip.add(item_id)
            items.append(item)
        if not items:
            return None
        return {**self.extra, "items": items}
