"""What a ruleset may do to the page: slot selectors, `attrs` names and values, URLs.

The browser runtime has the same rules, and applies them again to whatever artifact
it gets (one may be crafted without this compiler); here they become sentences at
build time. The lists are mirrored in the snippet, and must change together:

- `UNSAFE_TAGS`: `UNSAFE_TAG` in snippet/src/instant.js (slots skip those elements);
- `CONTENT_ATTRS`, `URL_ATTRS`, `safe_url`, `attr_problem`: `ATTRS`, `URL_ATTRS`,
  `safeUrl`, `safeAttr` and `contentAttr` in snippet/src/sanitize.js.

>>> unsafe_subject("svg|SCRIPT[type='a,b'], #hero h1")
'script'
>>> unsafe_subject("script + p, div:has(> script)") is None
True
>>> attr_problem("src", "java\\tscript:alert(1)")
'its value is a script URL (only http, https, mailto, tel and relative URLs pass)'
"""

from __future__ import annotations

import re

__all__ = [
    "CONTENT_ATTRS",
    "UNSAFE_TAGS",
    "URL_ATTRS",
    "attr_problem",
    "redirect_problem",
    "safe_url",
    "unsafe_subject",
]

# Elements a slot never touches: changing them runs or loads code, or restyles the page.
UNSAFE_TAGS = frozenset(
    {"script", "style", "iframe", "frame", "object", "embed", "link", "meta", "base",
     "template", "noscript"}
)  # fmt: skip
# The html sanitizer's attribute allowlist without `type` (it turns a JSON-LD block
# into a script, a button into a submit button); data-*, aria-* and style come on top.
CONTENT_ATTRS = frozenset(
    {"class", "id", "title", "lang", "dir", "role", "alt", "href", "src", "srcset", "sizes",
     "width", "height", "target", "rel", "colspan", "rowspan", "datetime", "loading",
     "decoding", "media", "open", "value", "cite", "style"}
)  # fmt: skip
URL_ATTRS = frozenset(
    {"href", "src", "cite", "action", "formaction", "xlink:href", "poster", "background"}
)
_DATA_OR_ARIA = re.compile(r"(data|aria)-[-a-z0-9_.]+\Z")
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)
# Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
_IGNORED = re.compile(r"[\x00-\x20\x7f-\x9f]")
_STYLE_SCRIPT = re.compile(r"expression|url\s*\(\s*['\"]?\s*javascript", re.IGNORECASE)
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_C0_OR_SPACE = "".join(map(chr, range(0x21)))
_ABSOLUTE = re.compile(r"https?://", re.IGNORECASE)
_PLAIN_ABSOLUTE = re.compile(r"https?://[^\\\s\x00-\x1f\x7f-\x9f]*\Z", re.IGNORECASE)


# --- URLs -------------------------------------------------------------------------


def safe_url(value: str) -> bool:
    """http, https, mailto, tel or relative, read as a browser reads the scheme."""
    match = _SCHEME.match(_IGNORED.sub("", value))
    return match is None or match.group(1).lower() in _SAFE_SCHEMES


def redirect_problem(target: str) -> str | None:
    """Why a redirect target is refused (the end of a sentence), or None.

    Another site only when it is named in full (`https://other.example/...`): a path
    that a browser reads as another host (`//evil.example`, `/\\evil.example`,
    `/<tab>/evil.example`) is refused, as the runtime refuses it.
    """
    # URL parsers drop leading and trailing controls and spaces, tabs and newlines
    # anywhere, and read "\" as "/" in http(s) URLs.
    read = _TAB_OR_NEWLINE.sub("", target.strip(_C0_OR_SPACE)).replace("\\", "/")
    if not read or not safe_url(target):
        return "must be a page URL (/path or https://...)"
    if read.startswith("//"):
        return (
            f"leaves the site without naming it (a browser reads it as {read!r}); "
            "write the full https:// address if another site is meant"
        )
    if _ABSOLUTE.match(target):
        if not _PLAIN_ABSOLUTE.match(target):
            return "must not hold backslashes, spaces or control characters"
        return None
    if not target.startswith(("/", "?")):
        return "must start with /, ?, https:// or http://"
    return None


# --- attrs content ------------------------------------------------------------------


def attr_problem(name: str, value: str | None) -> str | None:
    """Why `attrs` content cannot set `name` to `value` (`None` removes it), or None."""
    lower = name.lower()
    if lower.startswith("on"):
        return "it is an event handler"
    if lower not in CONTENT_ATTRS and not _DATA_OR_ARIA.match(lower):
        return (
            "it is not one that content may set (data-*, aria-* and "
            + ", ".join(sorted(CONTENT_ATTRS))
            + ")"
        )
    if value is None:
        return None
    if lower in URL_ATTRS and not safe_url(value):
        return "its value is a script URL (only http, https, mailto, tel and relative URLs pass)"
    if lower == "srcset" and not all(safe_url(_first_word(c)) for c in value.split(",")):
        return (
            "one of its URLs is a script URL (only http, https, mailto, tel and relative URLs pass)"
        )
    if lower == "style" and _STYLE_SCRIPT.search(value):
        return "its value runs script (expression() or url(javascript:...))"
    return None


def _first_word(text: str) -> str:
    words = text.split()
    return words[0] if words else ""


# --- slot selectors ---------------------------------------------------------------

# A part of a compound selector: ("type", name, []) or ("pseudo", name, its argument
# read as a selector list: each selector as its compounds).
_Part = tuple[str, str, list[list[list["_Part"]]]]
_NAME_CHAR = re.compile(r"[-\w]", re.ASCII)
_HEX = re.compile(r"[0-9a-fA-F]{1,6}")
_SPACE = " \t\n\r\f"
_NESTING = 16  # functional pseudo-classes read inside one another, at most


def unsafe_subject(selector: str) -> str | None:
    """The first of `UNSAFE_TAGS` that `selector` can select by its name, or None.

    Conservative: a tag counts when it stands as a type selector in the subject (the
    last compound) of any selector of the list (any case, any namespace, escapes
    read), or anywhere inside a functional pseudo-class of that subject (`:is()`,
    `:where()`, `:not()`, `:nth-child(... of S)`, ...), except `:has()`, whose
    argument is about other elements.
    """
    for compounds in _Reader(selector).selector_list(closing=None):
        if compounds:
            found = _unsafe_in(compounds[-1])
            if found is not None:
                return found
    return None


def _unsafe_in(compound: list[_Part]) -> str | None:
    for part in compound:
        if part[0] == "type" and part[1] in UNSAFE_TAGS:
            return part[1]
        if part[0] == "pseudo" and part[1] != "has":
            for inner in part[2]:
                for other in inner:  # every compound of the argument, not just its subject
                    found = _unsafe_in(other)
                    if found is not None:
                        return found
    return None


class _Reader:
    """A forgiving reader of CSS selector lists: what it cannot read, it steps over."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.depth = 0  # functional pseudo-classes open around `at`

    def selector_list(self, *, closing: str | None) -> list[list[list[_Part]]]:
        """Each selector of the list as its compounds; stops after `closing` if given."""
        selectors: list[list[list[_Part]]] = [[]]
        combinator = True  # the next part starts a new compound
        text = self.text
        while self.at < len(text):
            start = self.at
            char = text[self.at]
            if char == closing:
                self.at += 1
                break
            if char == ",":
                selectors.append([])
                combinator = True
                self.at += 1
                continue
            if char in _SPACE or char in ">+~" or text.startswith(("||", "/*"), self.at):
                self._skip_combinator()
                combinator = True
                continue
            if char in "\"'(":
                self._skip_string(char) if char != "(" else self._skip_block(")")
                continue  # stray: no part of a compound
            part: _Part | None = None
            if char == "[":
                self._skip_block("]")  # an attribute test: [type="a,b"] names no element
            elif char == ":":
                part = self._pseudo()
            elif char in ".#":
                self.at += 1
                self._name()
            elif char in "*|\\" or self._starts_name():
                part = ("type", self._type_name(), [])
            if combinator:
                selectors[-1].append([])
                combinator = False
            if part is not None:
                selectors[-1][-1].append(part)
            if self.at == start:
                self.at += 1  # a number, a stray character: step over it
        return [s for s in selectors if s]

    def _pseudo(self) -> _Part | None:
        """`:name` (nothing to check) or `:name(argument)` with its argument read."""
        self.at += 1
        if self.text.startswith(":", self.at):
            self.at += 1  # a pseudo-element: ::slotted(script) selects scripts too
        name = self._name().lower()
        if not self.text.startswith("(", self.at):
            return None
        if self.depth >= _NESTING:
            # No selector nests this deep but a hostile one: every word inside counts
            # as a type selector, without recursing further.
            start = self.at
            self._skip_block(")")
            end, self.at = self.at, start
            words: list[_Part] = []
            while self.at < end:
                if self.text[self.at] == "\\" or self._starts_name():
                    words.append(("type", self._name().lower(), []))
                self.at += 1
            self.at = end
            return ("pseudo", name, [[words]])
        self.at += 1
        self.depth += 1
        try:
            return ("pseudo", name, self.selector_list(closing=")"))
        finally:
            self.depth -= 1

    def _type_name(self) -> str:
        """`name`, `ns|name`, `*|name`, `|name`: the element name, lower-cased."""
        first = "*" if self.text.startswith("*", self.at) else None
        if first:
            self.at += 1
        else:
            first = self._name()
        if self.text.startswith("|", self.at) and not self.text.startswith("||", self.at):
            self.at += 1
            if self.text.startswith("*", self.at):
                self.at += 1
                return "*"
            return self._name().lower()
        return first.lower()

    def _starts_name(self) -> bool:
        char = self.text[self.at]
        return (bool(_NAME_CHAR.match(char)) and not char.isdigit()) or ord(char) >= 0x80

    def _name(self) -> str:
        """An identifier with its escapes read (`\\73 cript` is `script`)."""
        out: list[str] = []
        text = self.text
        while self.at < len(text):
            char = text[self.at]
            if char == "\\" and self.at + 1 < len(text) and text[self.at + 1] != "\n":
                out.append(self._escape())
            elif _NAME_CHAR.match(char) or ord(char) >= 0x80:
                out.append(char)
                self.at += 1
            else:
                break
        return "".join(out)

    def _escape(self) -> str:
        self.at += 1  # the backslash
        digits = _HEX.match(self.text, self.at)
        if digits is None:
            char = self.text[self.at]
            self.at += 1
            return char
        self.at = digits.end()
        if self.text.startswith(tuple(_SPACE), self.at):
            self.at += 1  # one white space ends a hex escape
        code = int(digits.group(), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    def _skip_combinator(self) -> None:
        text = self.text
        while self.at < len(text):
            if text.startswith("/*", self.at):
                end = text.find("*/", self.at + 2)
                self.at = len(text) if end < 0 else end + 2
            elif text.startswith("||", self.at):
                self.at += 2
            elif text[self.at] in _SPACE or text[self.at] in ">+~":
                self.at += 1
            else:
                break

    def _skip_block(self, closing: str) -> None:
        """Past the bracket at `at` and its balanced contents (strings and escapes read)."""
        self.at += 1
        closers = [closing]
        while self.at < len(self.text) and closers:
            char = self.text[self.at]
            if char in "\"'":
                self._skip_string(char)
                continue
            if char == closers[-1]:
                closers.pop()
            elif char in "[(":
                closers.append("]" if char == "[" else ")")
            self.at += 2 if char == "\\" else 1

    def _skip_string(self, quote: str) -> None:
        self.at += 1
        while self.at < len(self.text):
            char = self.text[self.at]
            self.at += 2 if char == "\\" else 1
            if char == quote:
                return
