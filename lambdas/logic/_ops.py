"""Decisions as the DOM ops the loader stub applies as they are (issue 8).

On a new visitor's first view the stub applies the answer of `POST /v1/decide` before
first paint, in the device cache's own format (`cachedOps` in snippet/src/dom.js,
applied by `applyOp` in snippet/src/instant.js): per slot
`{"slot", "s": selector, "h": inner HTML, "a": {name: value or null}, "c": {"add",
"remove"}, "x": 1}`, only the keys that apply. `text`, `html` and `recommend` become
`h` (the last of them wins, as `applyContent` applies them in that order), `attrs` `a`,
`class` `c`, `hide` `x`. `redirect` and `data` never become ops: the runtime handles
them once it runs (a redirect is a navigation, data goes to the page's callbacks).

Why the server may build `h`, which the stub sets as `innerHTML` with no sanitizer of
its own: the stub trusts its cache because the runtime sanitized it on the device; here
the same rules run in Python, so what the stub gets is no less safe. Text is escaped;
`html` (already refused at build time when it holds scripts, handlers or `javascript:`
URLs, and its placeholders filled HTML-escaped by `edge.decide`) is parsed and written
out again through the runtime's allowlist (`sanitize.js`: elements kept, unwrapped or
dropped with their contents, attributes by name and by URL scheme), every text and
attribute value escaped by us, so the browser parses exactly the elements written
here; `attrs` pass `contentAttr`'s rules (`edge.compiler.attr_problem`, which
mirrors them). Where this port differs from the browser it is stricter (a `data-*`
name outside `[-a-z0-9_.]` is dropped).

>>> dom_ops([{"slot": "hero", "content": {"text": "<b>Hi</b>", "class": {"add": "x"}}}],
...         {"hero": "#hero"})
[{'slot': 'hero', 's': '#hero', 'h': '&lt;b&gt;Hi&lt;/b&gt;', 'c': {'add': ['x'], 'remove': []}}]
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from typing import Any

from edge.compiler import CONTENT_ATTRS, attr_problem, safe_url

__all__ = ["dom_ops", "sanitize_html"]

# snippet/src/dom.js CHILD_KINDS: the kinds that replace a slot's children, in order.
_CHILD_KINDS = ("text", "html", "recommend")
# snippet/src/sanitize.js DROP (removed with their contents) and KEEP (the rest unwrapped).
_DROP = frozenset(
    {"script", "style", "iframe", "object", "embed", "link", "meta", "base", "frame",
     "frameset", "noscript", "template", "svg", "math", "form", "input", "textarea",
     "select", "button", "applet", "portal", "title"}
)  # fmt: skip
_KEEP = frozenset(
    {"a", "abbr", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "caption",
     "cite", "code", "col", "colgroup", "data", "dd", "del", "details", "dfn", "div", "dl",
     "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
     "header", "hr", "i", "img", "ins", "kbd", "li", "main", "mark", "nav", "ol", "p",
     "picture", "pre", "q", "s", "samp", "section", "small", "source", "span", "strong",
     "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
     "u", "ul", "var", "wbr"}
)  # fmt: skip
# The html sanitizer's attributes: `attrs` content's list without style, with type
# (sanitize.js ATTRS; `contentAttr` is that list minus type plus style).
_HTML_ATTRS = (CONTENT_ATTRS - {"style"}) | {"type"}
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "frame", "hr", "img", "input", "keygen", "link",
     "meta", "param", "source", "track", "wbr"}
)  # fmt: skip
_SPACES = re.compile(r"\s+")


def _text(value: str) -> str:
    # As innerHTML serializes a text node.
    return (
        value.replace("&", "&amp;")
        .replace("\xa0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _attr(value: str) -> str:
    # As innerHTML serializes an attribute value.
    return value.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace('"', "&quot;")


def _js_string(value: Any) -> str:
    """`String(value)` as JavaScript writes JSON values."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", 0) and not (isinstance(value, float) and value != value)


class _Sanitizer(HTMLParser):
    """sanitize.js `clean()` as a token stream: what it keeps is written out again."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []  # kept elements not closed yet
        # A dropped element and what opened inside it, until its end tag: everything
        # in there goes (an end tag that never comes drops the rest: the safe side).
        self.skipped: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        void = tag in _VOID
        if self.skipped or tag in _DROP:
            if not void:
                self.skipped.append(tag)
            return
        if tag not in _KEEP:
            return  # unwrapped: its children stay
        kept: dict[str, str] = {}
        for name, raw in attrs:
            value = raw or ""
            if name not in kept and _html_attr_ok(name, value):
                kept[name] = value
        if kept.get("target") == "_blank":
            kept["rel"] = "noopener noreferrer"
        written = "".join(f' {name}="{_attr(value)}"' for name, value in kept.items())
        self.out.append(f"<{tag}{written}>")
        if not void:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # `<b/>` is an open tag to an HTML parser, except for void elements.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.skipped:
            if tag in self.skipped:
                while self.skipped.pop() != tag:
                    pass
            return
        if tag in self.open:
            while self.open:
                name = self.open.pop()
                self.out.append(f"</{name}>")
                if name == tag:
                    break

    def handle_data(self, data: str) -> None:
        if not self.skipped:
            self.out.append(_text(data))

    def result(self) -> str:
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def _html_attr_ok(name: str, value: str) -> bool:
    if name == "type":
        return True  # not a URL, and no handler: safeAttr has nothing to check
    if name not in _HTML_ATTRS and not name.startswith(("data-", "aria-")):
        return False
    return attr_problem(name, value) is None


# Most html content is static (the same few strings on every request): parse it once.
@functools.lru_cache(maxsize=256)
def sanitize_html(markup: str) -> str:
    """`html` content as the runtime's sanitizer leaves it, serialized.

    >>> sanitize_html('<p onclick="x()">Hi <blink>you</blink><script>x()</script></p>')
    '<p>Hi you</p>'
    >>> sanitize_html('<a href="javascript:x()" target=_blank>a &amp; b</a>')
    '<a target="_blank" rel="noopener noreferrer">a &amp; b</a>'
    """
    parser = _Sanitizer()
    parser.feed(markup)
    return parser.result()


def _recommend(value: Any) -> str:
    """renderRecommend (snippet/src/dom.js), serialized."""
    if isinstance(value, list):
        items: Any = value
    elif isinstance(value, Mapping):
        items = value.get("items") or value.get("recommend") or []
    else:
        items = []
    out = ['<ul class="perso-recs">']
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        ident = item.get("id")
        extra = f' data-perso-item="{_attr(_js_string(ident))}"' if ident is not None else ""
        out.append(f'<li class="perso-rec"{extra}>')
        url = item.get("url")
        link = _truthy(url) and safe_url(_js_string(url))
        out.append(f'<a href="{_attr(_js_string(url))}">' if link else "<span>")
        image = item.get("image")
        if _truthy(image) and safe_url(_js_string(image)):
            title = _js_string(item.get("title") or "")
            out.append(
                f'<img src="{_attr(_js_string(image))}" alt="{_attr(title)}" loading="lazy">'
            )
        label = item.get("title") or ident or ""
        out.append(f'<span class="perso-rec-title">{_text(_js_string(label))}</span>')
        price = item.get("price")
        if price is not None:
            out.append(f'<span class="perso-rec-price">{_text(_js_string(price))}</span>')
        out.append("</a></li>" if link else "</span></li>")
    out.append("</ul>")
    return "".join(out)


def _inner(kind: str, value: Any) -> str:
    if kind == "text":
        return _text("" if value is None else _js_string(value))
    if kind == "html":
        return sanitize_html("" if value is None else _js_string(value))
    return _recommend(value)


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_js_string(v) for v in value if _truthy(v)]
    return [n for n in _SPACES.split(_js_string(value or "")) if n]


def _op(slot: str, selector: str, content: Mapping[str, Any]) -> dict[str, Any] | None:
    op: dict[str, Any] = {"slot": slot, "s": selector}
    last = next((kind for kind in reversed(_CHILD_KINDS) if kind in content), None)
    if last is not None:
        op["h"] = _inner(last, content[last])
    attrs = content.get("attrs")
    if isinstance(attrs, Mapping):
        kept: dict[str, str | None] = {}
        for name, value in attrs.items():
            text = None if value is None or value is False else _js_string(value)
            if isinstance(name, str) and attr_problem(name, text) is None:
                kept[name] = text
        op["a"] = kept
    classes = content.get("class")
    if isinstance(classes, Mapping):
        op["c"] = {"add": _names(classes.get("add")), "remove": _names(classes.get("remove"))}
    if _truthy(content.get("hide")):
        op["x"] = 1
    return op if len(op) > 2 else None


def dom_ops(
    decisions: Sequence[Mapping[str, Any]], selectors: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The ops of the decisions that change the page (`{"slot", "content"}` each;
    `selectors`: slot -> selector), in slot order."""
    ops: list[dict[str, Any]] = []
    for decision in decisions:
        content = decision.get("content")
        slot = decision.get("slot")
        selector = selectors.get(slot) if isinstance(slot, str) else None
        if not isinstance(content, Mapping) or not selector or not isinstance(slot, str):
            continue
        op = _op(slot, selector, content)
        if op is not None:
            ops.append(op)
    return ops
