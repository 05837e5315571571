"""The operator table of GrowthBook's condition language: the tests of one value.

Every compiled node of a condition is a `Test`, a function `(value, saved_groups) ->
bool`. Each operator here is a small factory that takes the operator's argument once,
at compile time (regexes compiled, version strings padded, `$in` lists turned into
sets), and returns its `Test`: `$eq`/`$ne`, the orderings (`$lt`, `$gte`, ...), the
version orderings (`$veq`, ...), `$exists`, membership (`$in`, `$nin`, `$ini`, `$nini`,
`$inGroup`, `$notInGroup`), the patterns (`$regex` & co.) and `$type`. None of them
holds a condition of its own; those that do (`$not`, `$size`, `$elemMatch`, `$all`,
`$alli`) recurse into the compiler, so they live with it (`edge.conditions._compile`),
which assembles the whole table. Semantics: GrowthBook's reference SDK (`mongrule.ts`).

>>> _gte(18)("21", None), _in(["fr", "be"])(["de", "be"], None)
(True, True)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from edge.conditions._coerce import (
    NUMBER_TYPES,
    compare_strings,
    js_type,
    less_than,
    padded_version,
    same_value_zero,
    to_number,
    to_string,
    truthy,
)
from edge.conditions._regex import compile_pattern
from edge.limits import MAX_REGEX_INPUT

__all__ = [
    "LEAF_OPERATORS",
    "Factory",
    "MalformedConditionError",
    "SavedGroups",
    "Test",
    "negate",
    "never",
    "number_range",
]

type SavedGroups = Mapping[str, Any]
type Test = Callable[[Any, SavedGroups | None], bool]
type Factory = Callable[[Any], Test]


class MalformedConditionError(ValueError):
    """A condition whose shape JavaScript could not evaluate (it would throw)."""


def never(value: Any, groups: SavedGroups | None) -> bool:
    return False


def negate(test: Test) -> Test:
    def negated(value: Any, groups: SavedGroups | None) -> bool:
        return not test(value, groups)

    return negated


# --- comparison and membership: one value against a literal ---------------------


def _eq(expected: Any) -> Test:
    # actual === expected; arrays and objects are never the same reference.
    kind = type(expected)
    if kind is str:
        return lambda value, groups: type(value) is str and bool(value == expected)
    if kind in NUMBER_TYPES:
        return lambda value, groups: type(value) in NUMBER_TYPES and bool(value == expected)
    if kind is bool or expected is None:
        return lambda value, groups: value is expected
    return never


def _ne(expected: Any) -> Test:
    return negate(_eq(expected))


def _ordering(numbers: Callable[[Any, Any], bool], general: Callable[[Any, Any], bool]) -> Factory:
    """A comparison with fast paths for number-number and string-string pairs."""

    def factory(expected: Any) -> Test:
        if type(expected) in NUMBER_TYPES:

            def with_number(value: Any, groups: SavedGroups | None) -> bool:
                # Against a number, JavaScript compares ToNumber(value); NaN fails.
                if type(value) in NUMBER_TYPES:
                    return numbers(value, expected)
                return numbers(to_number(value), expected)

            return with_number
        if type(expected) is str:

            def with_string(value: Any, groups: SavedGroups | None) -> bool:
                if type(value) is str:
                    return numbers(compare_strings(value, expected), 0)
                return general(value, expected)

            return with_string
        return lambda value, groups: general(value, expected)

    return factory


# `a > b` is `b < a`; `a <= b` is "b < a is false" (undefined, from NaN, fails both).
_lt = _ordering(lambda a, b: bool(a < b), lambda a, b: less_than(a, b) is True)
_gt = _ordering(lambda a, b: bool(a > b), lambda a, b: less_than(b, a) is True)
_lte = _ordering(lambda a, b: bool(a <= b), lambda a, b: less_than(b, a) is False)
_gte = _ordering(lambda a, b: bool(a >= b), lambda a, b: less_than(a, b) is False)


def _version(holds: Callable[[int], bool]) -> Factory:
    def factory(expected: Any) -> Test:
        padded = padded_version(expected)
        return lambda value, groups: holds(compare_strings(padded_version(value), padded))

    return factory


def _exists(expected: Any) -> Test:
    if truthy(expected):
        return lambda value, groups: value is not None
    return lambda value, groups: value is None


def _members(values: list[Any], *, fold: bool) -> Callable[[Any], bool]:
    """`values.includes(x)` (SameValueZero), precomputed as a set of primitives."""
    primitives: set[Any] = set()
    flags = {"true": False, "false": False, "null": False, "nan": False}
    for item in values:
        kind = type(item)
        if kind is str:
            primitives.add(item.lower() if fold else item)
        elif kind in NUMBER_TYPES:
            if item != item:
                flags["nan"] = True
            else:
                primitives.add(item)
        elif kind is bool:
            flags["true" if item else "false"] = True
        elif item is None:
            flags["null"] = True
    # Strings and numbers share the set: no str equals a number in Python. Booleans
    # stay out of it, since True == 1 in Python but not in JavaScript.
    frozen = frozenset(primitives)
    has_true, has_false, has_null, has_nan = (
        flags["true"],
        flags["false"],
        flags["null"],
        flags["nan"],
    )

    def contains(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return (value.lower() if fold else value) in frozen
        if kind in NUMBER_TYPES:
            return value in frozen or (has_nan and value != value)
        if kind is bool:
            return has_true if value else has_false
        return value is None and has_null

    return contains


def _membership(expected: Any, *, fold: bool, negate: bool) -> Test:
    if type(expected) is not list:
        return never
    contains = _members(expected, fold=fold)

    def test(value: Any, groups: SavedGroups | None) -> bool:
        # An array attribute passes when any of its elements is in the list.
        found = any(map(contains, value)) if type(value) is list else contains(value)
        return found is not negate

    return test


def _in(expected: Any) -> Test:
    if type(expected) is list and all(type(item) is str for item in expected):
        # The usual case, a list of strings: one set lookup.
        strings = frozenset(expected)

        def in_strings(value: Any, groups: SavedGroups | None) -> bool:
            if type(value) is str:
                return value in strings
            if type(value) is list:
                return any(type(item) is str and item in strings for item in value)
            return False

        return in_strings
    return _membership(expected, fold=False, negate=False)


def _includes(values: list[Any], value: Any) -> bool:
    if type(value) is str:
        return value in values  # a str equals only a str
    if type(value) is list:
        return any(same_value_zero(item, candidate) for item in value for candidate in values)
    return any(same_value_zero(value, candidate) for candidate in values)


def _group(negate: bool) -> Factory:
    def factory(expected: Any) -> Test:
        group_id = expected if type(expected) is str else to_string(expected)

        def test(value: Any, groups: SavedGroups | None) -> bool:
            # savedGroups[expected] || []
            values = groups.get(group_id) if groups is not None else None
            if not truthy(values):
                return negate
            if type(values) is not list:
                raise MalformedConditionError(f"saved group {group_id!r} is not a list")
            return _includes(values, value) is not negate

        return test

    return factory


# --- numeric ranges, fused ---------------------------------------------------------
# `{"$gte": 18, "$lt": 23}` is the most common value condition in rulesets (local hour,
# visit counts); compiled operator by operator it costs five calls per evaluation, fused
# it costs one, with the semantics of `$lt`/`$lte`/`$gt`/`$gte` against a number:
# compare ToNumber(value), NaN failing every comparison.

_NUMBER_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "$lt": operator.lt,
    "$lte": operator.le,
    "$gt": operator.gt,
    "$gte": operator.ge,
}


def number_range(expected: dict[str, Any]) -> Test | None:
    """`{"$gte": 18, "$lt": 23}` as one test, the same as the operators one by one
    (each compares ToNumber(value) with a number); None for any other shape."""
    checks: list[tuple[Callable[[Any, Any], bool], Any]] = []
    for name, bound in expected.items():
        holds = _NUMBER_ORDER.get(name)
        if holds is None or type(bound) not in NUMBER_TYPES:
            return None
        checks.append((holds, bound))
    if len(checks) == 1:
        ((holds, bound),) = checks

        def single(value: Any, groups: SavedGroups | None) -> bool:
            if type(value) not in NUMBER_TYPES:
                value = to_number(value)
            return holds(value, bound)

        return single
    if len(checks) == 2:
        (first, low), (second, high) = checks

        def between(value: Any, groups: SavedGroups | None) -> bool:
            if type(value) not in NUMBER_TYPES:
                value = to_number(value)
            return first(value, low) and second(value, high)

        return between
    chain = tuple(checks)

    def within(value: Any, groups: SavedGroups | None) -> bool:
        if type(value) not in NUMBER_TYPES:
            value = to_number(value)
        for holds, bound in chain:  # noqa: SIM110 - a loop is cheaper than all() here
            if not holds(value, bound):
                return False
        return True

    return within


# --- patterns and types ----------------------------------------------------------


def _regex(*, ignore_case: bool, negate: bool) -> Factory:
    def factory(expected: Any) -> Test:
        if type(expected) is not str:
            return never
        pattern = compile_pattern(expected, ignore_case=ignore_case)
        if pattern is None:
            # Invalid, or able to backtrack for minutes (edge.conditions._regex): fails the test,
            # as an invalid regular expression does in the reference SDK.
            return never
        search = pattern.search

        def test(value: Any, groups: SavedGroups | None) -> bool:
            # RegExp.prototype.test(value) reads String(value); at most MAX_REGEX_INPUT
            # characters of it, so a crafted value cannot stretch a slow match.
            text = value if type(value) is str else to_string(value)
            found = search(text, 0, MAX_REGEX_INPUT) is not None
            return found is not negate

        return test

    return factory


def _type(expected: Any) -> Test:
    if type(expected) is not str:
        return never
    return lambda value, groups: js_type(value) == expected


LEAF_OPERATORS: dict[str, Factory] = {
    "$eq": _eq,
    "$ne": _ne,
    "$lt": _lt,
    "$lte": _lte,
    "$gt": _gt,
    "$gte": _gte,
    "$veq": _version(lambda order: order == 0),
    "$vne": _version(lambda order: order != 0),
    "$vlt": _version(lambda order: order < 0),
    "$vlte": _version(lambda order: order <= 0),
    "$vgt": _version(lambda order: order > 0),
    "$vgte": _version(lambda order: order >= 0),
    "$exists": _exists,
    "$in": _in,
    "$nin": lambda expected: _membership(expected, fold=False, negate=True),
    "$ini": lambda expected: _membership(expected, fold=True, negate=False),
    "$nini": lambda expected: _membership(expected, fold=True, negate=True),
    "$inGroup": _group(negate=False),
    "$notInGroup": _group(negate=True),
    "$regex": _regex(ignore_case=False, negate=False),
    "$regexi": _regex(ignore_case=True, negate=False),
    "$notRegex": _regex(ignore_case=False, negate=True),
    "$notRegexi": _regex(ignore_case=True, negate=True),
    "$type": _type,
}
