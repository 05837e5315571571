"""Patterns for `$regex` and its kin: compiled once, refused when they can stall.

A backtracking matcher (JavaScript's, Python's) can take exponential time on some
patterns: `(a+)+$` against 41 characters kept the core busy for a minute, and the
value is often the visitor's (a URL anyone can craft). So a pattern is refused, as if
it were invalid, when it has one of three shapes:

1. a repeated group whose repetitions can trade characters: a part of it that varies
   in length can take both what ends one repetition and what starts the next:
   `(a+)+`, `(a*)*`, `(\\w+\\s?)+`, `(a|aa)+`, `(b[ab]*a)+`;
2. a repeated group holding alternatives that can match the same text from the same
   point: `(a|a)*`, `(ab|abc?)+` (alternatives of single characters, like `(\\w|\\d)`,
   become one character class in Python's parser and do not backtrack);
3. unbounded repetitions in a sequence (through groups and alternatives) that can take
   the same characters, with nothing in between that the first could not take too:
   `\\d+\\d+x`, `.*.*x`, `.*/p/.*x`, `(?:a+|b)a+x`. Each such pair multiplies the
   work by the text's length, and so does the search trying every start position,
   unless the pattern starts with `^`: one pair is then tolerated (`^.*/sale/.*$`).

The check reads a pattern as Python's own parser does (the tree `re.compile` builds
from) and compares character classes over a sample alphabet (Latin-1, the pattern's
own characters and a few of each Unicode class). It is conservative: it may refuse a
safe pattern (a simpler spelling then passes: drop a leading `.*`, since `$regex`
finds a match anywhere). It is no proof of safety either, and quadratic patterns are
allowed, so the operators read at most `MAX_REGEX_INPUT` characters of a value. Of
1,500 random patterns (atoms, classes, nested optional and repeated groups), the 867
it let through each searched 2,049 hostile characters in under half a second.

>>> backtracking_risk("(a+)+$", ignore_case=False) is not None
True
>>> backtracking_risk("^/(p|c)/[a-z0-9-]+$", ignore_case=False) is None
True
"""

from __future__ import annotations

import re

# Python's own reader of patterns (the tree `re.compile` works from), stdlib since 3.11;
# private, so typeshed has no stub for it and mypy reads it as Any.
import re._parser as _parser
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = ["backtracking_risk", "compile_pattern", "translate"]

_UNBOUNDED: int = _parser.MAXREPEAT
_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})
_GROUPS = frozenset({"SUBPATTERN", "ATOMIC_GROUP", "BRANCH", "GROUPREF_EXISTS"})
_INFINITE = 1 << 40
_CATEGORIES = {
    "CATEGORY_DIGIT": re.compile(r"\d"),
    "CATEGORY_NOT_DIGIT": re.compile(r"\D"),
    "CATEGORY_SPACE": re.compile(r"\s"),
    "CATEGORY_NOT_SPACE": re.compile(r"\S"),
    "CATEGORY_WORD": re.compile(r"\w"),
    "CATEGORY_NOT_WORD": re.compile(r"\W"),
}
# Latin-1, plus a few characters of the Unicode classes \d, \s, \w and case folding
# reach beyond it (Arabic-Indic digits, an em space, a CJK letter, the Kelvin sign...).
_SAMPLES = frozenset(map(chr, range(256))) | frozenset(
    "\u0661\u0663\u2003\u2028\u3000\u4e2d\u212a\u0130\u017f\u03c3\u1e9e\uffff\U0001f600"
)

NESTED = (
    "a repeated group can split the same text into repetitions in many ways, since a "
    "part of varying length can take both the end of one and the start of the next "
    "(as in (a+)+)"
)
ALTERNATIVES = (
    "a repeated group has alternatives that can match the same text (as in (a|a)* or (ab|abc?)+)"
)
ADJACENT = (
    "two unbounded repetitions in a row can take the same characters (as in \\d+\\d+ "
    "or .*x.*; $regex finds a match anywhere, so a leading .* is never needed)"
)

Item = tuple[Any, Any]
# Open repeats (rule 3): id of the item -> (the item, length of its chain of rivals).
_Open = dict[int, tuple[Item, int]]


def translate(pattern: str) -> str:
    """JavaScript's named groups `(?<name>` in Python's spelling `(?P<name>`."""
    return _NAMED_GROUP.sub("(?P<", pattern)


def compile_pattern(pattern: str, *, ignore_case: bool) -> re.Pattern[str] | None:
    """The compiled pattern, or None when it is invalid or can backtrack catastrophically."""
    try:
        compiled = re.compile(translate(pattern), re.IGNORECASE if ignore_case else 0)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None
    if backtracking_risk(pattern, ignore_case=ignore_case) is not None:
        return None
    return compiled


@lru_cache(maxsize=256)
def backtracking_risk(pattern: str, *, ignore_case: bool) -> str | None:
    """Why `pattern` can take exponential (or high polynomial) time, or None.

    An invalid pattern is None here: `compile_pattern` and the compiler say so.
    """
    try:
        tree = _parser.parse(translate(pattern), re.IGNORECASE if ignore_case else 0)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None
    if not _has_repeat(tree.data):
        return None  # every rule needs something repeated: the common case ends here
    return _Shape(tree).risk()


def _has_repeat(items: Iterable[Item]) -> bool:
    return any(
        op.name in _REPEATS or any(_has_repeat(sub) for sub in _children(op.name, av))
        for op, av in items
    )


def _children(name: str, av: Any) -> list[Any]:
    """The sub-sequences of one item (a group's body, a branch's alternatives...)."""
    if name in _REPEATS:
        return [av[2]]
    if name == "SUBPATTERN":
        return [av[3]]
    if name in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    if name == "ATOMIC_GROUP":
        return [av]
    if name == "BRANCH":
        return list(av[1])
    if name == "GROUPREF_EXISTS":
        return [av[1]] if av[2] is None else [av[1], av[2]]
    return []


class _Shape:
    """One parsed pattern, read for the three shapes; character sets over samples."""

    def __init__(self, tree: Any) -> None:
        self.fold = bool(tree.state.flags & re.IGNORECASE) or _adds_ignorecase(tree.data)
        samples = set(_SAMPLES) | _own_characters(tree.data)
        if self.fold:  # closed under case mapping, so a folded set stays in it
            samples |= {c for s in list(samples) for c in (s.lower(), s.upper()) if len(c) == 1}
        self.samples = frozenset(samples)
        self.items: list[Item] = list(tree.data)
        # Python's search tries each start unless the pattern starts with ^ (no
        # MULTILINE): one competing pair is then only quadratic, fine within the bound.
        first = self.items[0] if self.items else None
        anchored = (
            first is not None
            and first[0].name == "AT"
            and first[1].name in ("AT_BEGINNING", "AT_BEGINNING_STRING")
            and not tree.state.flags & re.MULTILINE
        )
        self.tolerated = 2 if anchored else 1
        # Keyed by the id of an item of the parsed tree (alive as long as self.items).
        self.memo: dict[tuple[str, int], Any] = {}

    # --- the three rules ------------------------------------------------------------

    def risk(self) -> str | None:
        return self._walk(self.items)

    def _walk(self, items: list[Item]) -> str | None:
        if self._scan(items, {}) is None:
            return ADJACENT
        for op, av in items:
            name = op.name
            if name in _REPEATS and av[1] > 1:
                body = list(av[2])
                if self._trades(body):
                    return NESTED
                if self._overlapping_alternatives(body):
                    return ALTERNATIVES
            for sub in _children(name, av):
                found = self._walk(list(sub))
                if found is not None:
                    return found
        return None

    def _trades(self, body: list[Item]) -> bool:
        """Rule 1: a part of varying length can take both the end of one repetition and
        the start of the next (so the same text splits into repetitions many ways)."""
        first, last = self._first(body), self._last(body)
        return any(
            self._chars_of(part) & first and self._chars_of(part) & last
            for part in self._variable_parts(body)
        )

    def _variable_parts(self, items: list[Item]) -> list[Item]:
        """Repeats and alternations of varying length, at any depth (groups opened up)."""
        found: list[Item] = []
        for item in items:
            op, av = item
            low, high = self._width_of(item)
            if low != high and op.name not in ("SUBPATTERN", "ATOMIC_GROUP"):
                found.append(item)
            for sub in _children(op.name, av):
                found += self._variable_parts(list(sub))
        return found

    def _overlapping_alternatives(self, items: list[Item]) -> bool:
        """Rule 2: some alternation inside can start two alternatives on the same text."""
        for op, av in items:
            if op.name == "BRANCH":
                alternatives = [list(a) for a in av[1]]
                for i, one in enumerate(alternatives):
                    for other in alternatives[i + 1 :]:
                        both_empty = self._nullable(one) and self._nullable(other)
                        if both_empty or self._first(one) & self._first(other):
                            return True
            for sub in _children(op.name, av):
                if self._overlapping_alternatives(list(sub)):
                    return True
        return False

    def _scan(self, items: list[Item], open_repeats: _Open) -> _Open | None:
        """Rule 3 along every path through `items`: None when repeats compete too much.

        `open_repeats` maps the unbounded repeats met before that may still give back
        characters to how many others they already compete with in a chain: one stays
        open while what follows can match characters it takes too (the attacker picks
        those). Each link multiplies the work by the text's length; so does the search
        trying every start, unless the pattern is anchored (`^`). Returns those still
        open at the end.
        """
        for item in items:
            op, av = item
            name = op.name
            if name in _REPEATS and av[1] >= _UNBOUNDED:
                first = self._first_of(item)
                rivals = [n for r, n in open_repeats.values() if self._last_of(r) & first]
                chain = 1 + max(rivals) if rivals else 0
                if chain >= self.tolerated:
                    return None
                if self._width_of(item)[0] > 0:
                    open_repeats = self._still_open(open_repeats, self._chars_of(item))
                open_repeats = {**open_repeats, id(item): (item, chain)}
            elif (name in _REPEATS and av[1] > 0) or name in _GROUPS:
                # Each way through (an alternative, the body once or twice, or skipping
                # an optional part) carries the open repeats on.
                paths: list[_Open] = []
                for sub in _children(name, av):
                    through = self._scan(list(sub), open_repeats)
                    if through is not None and name in _REPEATS and av[1] > 1:
                        through = self._scan(list(sub), through)
                    if through is None:
                        return None
                    paths.append(through)
                if (name in _REPEATS and av[0] == 0) or (
                    name == "GROUPREF_EXISTS" and av[2] is None
                ):
                    paths.append(open_repeats)
                merged: _Open = {}
                for path in paths:
                    for key, (repeat, chain) in path.items():
                        if key not in merged or merged[key][1] < chain:
                            merged[key] = (repeat, chain)
                open_repeats = merged
            elif self._width_of(item)[0] > 0:  # one character (or a back reference)
                open_repeats = self._still_open(open_repeats, self._chars_of(item))
        return open_repeats

    def _still_open(self, open_repeats: _Open, chars: frozenset[str]) -> _Open:
        return {k: v for k, v in open_repeats.items() if chars & self._chars_of(v[0])}

    # --- reading items --------------------------------------------------------------

    def _first(self, items: list[Item]) -> frozenset[str]:
        return self._edge(items, reverse=False)

    def _last(self, items: list[Item]) -> frozenset[str]:
        return self._edge(items, reverse=True)

    def _edge(self, items: list[Item], *, reverse: bool) -> frozenset[str]:
        found: frozenset[str] = frozenset()
        for item in reversed(items) if reverse else items:
            found |= self._last_of(item) if reverse else self._first_of(item)
            if self._width_of(item)[0] > 0:
                break
        return found

    def _nullable(self, items: list[Item]) -> bool:
        return self._width(items)[0] == 0

    def _width(self, items: list[Item]) -> tuple[int, int]:
        low = high = 0
        for item in items:
            one, other = self._width_of(item)
            low, high = low + one, min(high + other, _INFINITE)
        return low, high

    def _width_of(self, item: Item) -> tuple[int, int]:
        key = ("width", id(item))
        if key not in self.memo:
            self.memo[key] = self._compute_width(item[0].name, item[1])
        width: tuple[int, int] = self.memo[key]
        return width

    def _compute_width(self, name: str, av: Any) -> tuple[int, int]:
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            return 1, 1
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            return 0, 0
        if name in _REPEATS:
            low, high = self._width(list(av[2]))
            most = _INFINITE if av[1] >= _UNBOUNDED else min(av[1] * high, _INFINITE)
            return av[0] * low, most
        if name in _GROUPS:
            widths = [self._width(list(sub)) for sub in _children(name, av)]
            if name == "GROUPREF_EXISTS" and av[2] is None:
                widths.append((0, 0))
            return min(w[0] for w in widths), max(w[1] for w in widths)
        return 0, _INFINITE  # a back reference: anything, of any length

    def _first_of(self, item: Item) -> frozenset[str]:
        return self._cached("first", item, lambda subs: self._union(self._first, subs))

    def _last_of(self, item: Item) -> frozenset[str]:
        return self._cached("last", item, lambda subs: self._union(self._last, subs))

    def _chars_of(self, item: Item) -> frozenset[str]:
        return self._cached("chars", item, lambda subs: self._union(self._chars, subs))

    def _chars(self, items: list[Item]) -> frozenset[str]:
        found: frozenset[str] = frozenset()
        for item in items:
            found |= self._chars_of(item)
        return found

    def _union(self, read: Any, subs: list[Any]) -> frozenset[str]:
        found: frozenset[str] = frozenset()
        for sub in subs:
            found |= read(list(sub))
        return found

    def _cached(self, what: str, item: Item, compound: Any) -> frozenset[str]:
        key = (what, id(item))
        if key not in self.memo:
            op, av = item
            name = op.name
            if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
                value = self._atom(name, av)
            elif name in ("AT", "ASSERT", "ASSERT_NOT"):
                value = frozenset()  # zero width: takes no character
            elif name in _REPEATS or name in _GROUPS:
                value = compound(_children(name, av))
            else:
                value = self.samples  # a back reference can be anything
            self.memo[key] = value
        found: frozenset[str] = self.memo[key]
        return found

    def _atom(self, name: str, av: Any) -> frozenset[str]:
        if name == "LITERAL":
            raw = frozenset({chr(av)})
        elif name == "NOT_LITERAL":
            raw = self.samples - {chr(av)}
        elif name == "ANY":
            raw = self.samples
        else:
            raw = self._class(av)
        if not self.fold:
            return raw
        return frozenset(
            c for c in self.samples if c in raw or c.lower() in raw or c.upper() in raw
        )

    def _class(self, items: list[Item]) -> frozenset[str]:
        negate = any(op.name == "NEGATE" for op, _ in items)
        members: set[str] = set()
        for op, av in items:
            name = op.name
            if name == "LITERAL":
                members.add(chr(av))
            elif name == "RANGE":
                members |= {c for c in self.samples if av[0] <= ord(c) <= av[1]}
            elif name == "CATEGORY":
                pattern = _CATEGORIES.get(av.name)
                members |= {c for c in self.samples if pattern is None or pattern.match(c)}
        return frozenset(self.samples - members if negate else members)


def _adds_ignorecase(items: Iterable[Item]) -> bool:
    """Whether a group turns on case-insensitivity somewhere (`(?i:...)`)."""
    for op, av in items:
        if op.name == "SUBPATTERN" and av[1] & re.IGNORECASE:
            return True
        if any(_adds_ignorecase(sub) for sub in _children(op.name, av)):
            return True
    return False


def _own_characters(items: Iterable[Item]) -> set[str]:
    """The pattern's literal characters and range ends: a sample where classes meet."""
    found: set[str] = set()
    for op, av in items:
        name = op.name
        if name in ("LITERAL", "NOT_LITERAL"):
            found.add(chr(av))
        elif name == "IN":
            for inner, value in av:
                if inner.name == "LITERAL":
                    found.add(chr(value))
                elif inner.name == "RANGE":
                    found |= {chr(value[0]), chr(value[1])}
        for sub in _children(name, av):
            found |= _own_characters(sub)
    return found
