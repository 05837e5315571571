"""Compile GrowthBook conditions into closures (private to `edge.conditions`).

Every node of a condition becomes a `Test`, a function `(value, saved_groups) -> bool`:
for a condition the value is the object whose paths it reads, for a value condition
(`{"$gt": 5}`, `"us"`, `[1, 2]`) it is the attribute value. Each operator is a small
factory in `OPERATORS` that takes the operator's argument once, at compile time
(regexes compiled, version strings padded, `$in` lists turned into sets), and returns
its `Test`. Semantics are those of GrowthBook's reference JavaScript SDK (`mongrule.ts`).

>>> test = compile_condition({"country": {"$in": ["fr", "be"]}, "visits": {"$gte": 3}})
>>> test({"country": "fr", "visits": "4"}, None)
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from edge._operators_coerce import (
    NUMBER_TYPES,
    compare_strings,
    js_type,
    json_equal,
    less_than,
    padded_version,
    same_value_zero,
    to_number,
    to_string,
    truthy,
)
from edge._operators_range import number_range

__all__ = ["OPERATORS", "MalformedConditionError", "SavedGroups", "Test", "compile_condition"]

type SavedGroups = Mapping[str, Any]
type Test = Callable[[Any, SavedGroups | None], bool]
type Factory = Callable[[Any], Test]


class MalformedConditionError(ValueError):
    """A condition whose shape JavaScript could not evaluate (it would throw)."""


def _always(value: Any, groups: SavedGroups | None) -> bool:
    return True


def _never(value: Any, groups: SavedGroups | None) -> bool:
    return False


def _negate(test: Test) -> Test:
    def negated(value: Any, groups: SavedGroups | None) -> bool:
        return not test(value, groups)

    return negated


def _all_of(tests: list[Test]) -> Test:
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests

        def both(value: Any, groups: SavedGroups | None) -> bool:
            return first(value, groups) and second(value, groups)

        return both
    chain = tuple(tests)

    def every(value: Any, groups: SavedGroups | None) -> bool:
        # A plain loop: all() over a generator costs more on this hot path.
        for test in chain:  # noqa: SIM110
            if not test(value, groups):
                return False
        return True

    return every


def _any_of(tests: list[Test]) -> Test:
    # evalOr: an empty $or passes.
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    chain = tuple(tests)

    def some(value: Any, groups: SavedGroups | None) -> bool:
        for test in chain:  # noqa: SIM110 - faster than any() over a generator
            if test(value, groups):
                return True
        return False

    return some


# --- conditions on an object: {"path.to.attr": value_condition, "$or": [...], ...}


def _is_index(key: str, length: int) -> bool:
    return key.isascii() and key.isdigit() and (key == "0" or key[0] != "0") and int(key) < length


def _walk(current: Any, parts: tuple[str, ...]) -> Any:
    """getPath: only objects and arrays have properties; anything else reads as null."""
    for part in parts:
        kind = type(current)
        if kind is dict:
            current = current.get(part)
        elif kind is list:
            if part == "length":
                current = len(current)
            elif _is_index(part, len(current)):
                current = current[int(part)]
            else:
                return None
        else:
            return None
    return current


def _path_test(path: str, test: Test) -> Test:
    parts = tuple(path.split("."))
    if len(parts) == 1:
        # The common case, an attribute at the top of a dict, costs one dict lookup.
        def top(obj: Any, groups: SavedGroups | None) -> bool:
            if type(obj) is dict:
                return test(obj.get(path), groups)
            return test(_walk(obj, parts), groups)

        return top

    if len(parts) == 2:
        first, second = parts

        # `device.type`, `local.hour`: two dict lookups, without the general walk.
        def pair(obj: Any, groups: SavedGroups | None) -> bool:
            if type(obj) is dict:
                inner = obj.get(first)
                if type(inner) is dict:
                    return test(inner.get(second), groups)
            return test(_walk(obj, parts), groups)

        return pair

    def nested(obj: Any, groups: SavedGroups | None) -> bool:
        return test(_walk(obj, parts), groups)

    return nested


def _path_equals(path: str, expected: str) -> Test:
    """`{"device.type": "mobile"}`, the most common test, in one call when the value is
    a string (anything else takes the general path, with its coercions)."""
    general = _path_test(path, _string_equals(expected, False))
    parts = tuple(path.split("."))
    if len(parts) == 1:

        def top_equals(obj: Any, groups: SavedGroups | None) -> bool:
            if type(obj) is dict:
                value = obj.get(path)
                if type(value) is str:
                    return bool(value == expected)
            return general(obj, groups)

        return top_equals
    if len(parts) == 2:
        first, second = parts

        def pair_equals(obj: Any, groups: SavedGroups | None) -> bool:
            if type(obj) is dict:
                inner = obj.get(first)
                if type(inner) is dict:
                    value = inner.get(second)
                    if type(value) is str:
                        return bool(value == expected)
            return general(obj, groups)

        return pair_equals
    return general


def _condition_list(value: Any, key: str) -> list[Test]:
    if type(value) is not list:
        raise MalformedConditionError(f"{key} needs a list of conditions, not {js_type(value)}")
    return [compile_condition(item) for item in value]


_LOGICAL = frozenset(("$or", "$nor", "$and", "$not"))


def compile_condition(condition: Any) -> Test:
    """Compile `{"path": value_condition, "$or": [...], ...}`: every entry must pass."""
    if type(condition) is not dict:
        raise MalformedConditionError(f"a condition must be an object, not {js_type(condition)}")
    tests: list[Test] = []
    for key, value in condition.items():
        if type(key) is not str:
            raise MalformedConditionError(f"condition key {key!r} is not a string")
        if not key.startswith("$") or key not in _LOGICAL:
            # Any other key, "$groups" included, is an attribute path.
            if type(value) is str:
                tests.append(_path_equals(key, value))
            else:
                tests.append(_path_test(key, compile_value(value)))
        elif key == "$or":
            tests.append(_any_of(_condition_list(value, key)))
        elif key == "$nor":
            tests.append(_negate(_any_of(_condition_list(value, key))))
        elif key == "$and":
            tests.append(_all_of(_condition_list(value, key)))
        else:
            tests.append(_negate(compile_condition(value)))
    return _all_of(tests)


# --- conditions on a value: "us", 3, true, null, [..], {..}, {"$op": arg, ...}


def is_operator_object(value: Any) -> bool:
    """Non-empty, and every key starts with "$" (an empty object is a literal {})."""
    if type(value) is not dict or not value:
        return False
    for key in value:  # noqa: SIM110 - a loop is cheaper than all() here
        if type(key) is not str or not key.startswith("$"):
            return False
    return True


def _string_equals(expected: str, insensitive: bool) -> Test:
    if insensitive:
        folded = expected.lower()

        def equals_folded(value: Any, groups: SavedGroups | None) -> bool:
            return to_string(value).lower() == folded

        return equals_folded

    # value + "" === condition
    def equals(value: Any, groups: SavedGroups | None) -> bool:
        if type(value) is str:
            return bool(value == expected)
        return to_string(value) == expected

    return equals


def _number_equals(expected: float) -> Test:
    # value * 1 === condition
    def equals(value: Any, groups: SavedGroups | None) -> bool:
        if type(value) in NUMBER_TYPES:
            return bool(value == expected)
        return to_number(value) == expected

    return equals


def _json_equals(expected: Any) -> Test:
    # JSON.stringify(value) === JSON.stringify(condition): only a value of the same
    # JSON kind (array or object) can produce the same text.
    kind = type(expected)

    def equals(value: Any, groups: SavedGroups | None) -> bool:
        return type(value) is kind and json_equal(value, expected)

    return equals


def compile_value(expected: Any, insensitive: bool = False) -> Test:
    """Compile the right-hand side of `{"attr": <this>}` (evalConditionValue)."""
    kind = type(expected)
    if kind is str:
        return _string_equals(expected, insensitive)
    if kind in NUMBER_TYPES:
        return _number_equals(expected)
    if kind is bool:

        def equals_bool(value: Any, groups: SavedGroups | None) -> bool:
            return value is not None and truthy(value) is expected

        return equals_bool
    if expected is None:

        def is_null(value: Any, groups: SavedGroups | None) -> bool:
            return value is None

        return is_null
    if is_operator_object(expected):
        ranged = number_range(expected)
        if ranged is not None:
            return ranged
        return _all_of([_operator(op, arg) for op, arg in expected.items()])
    if kind is list or kind is dict:
        return _json_equals(expected)
    raise MalformedConditionError(f"{type(expected).__name__} is not a JSON value")


def _operator(name: str, argument: Any) -> Test:
    factory = OPERATORS.get(name)
    # The reference SDK logs an unknown operator and treats it as failing.
    return _never if factory is None else factory(argument)


# --- the operators


def _eq(expected: Any) -> Test:
    # actual === expected; arrays and objects are never the same reference.
    kind = type(expected)
    if kind is str:
        return lambda value, groups: type(value) is str and bool(value == expected)
    if kind in NUMBER_TYPES:
        return lambda value, groups: type(value) in NUMBER_TYPES and bool(value == expected)
    if kind is bool or expected is None:
        return lambda value, groups: value is expected
    return _never


def _ne(expected: Any) -> Test:
    return _negate(_eq(expected))


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
        return _never
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


def _not(expected: Any) -> Test:
    return _negate(compile_value(expected))


def _size(expected: Any) -> Test:
    inner = compile_value(expected)
    return lambda value, groups: type(value) is list and inner(len(value), groups)


def _elem_match(expected: Any) -> Test:
    if type(expected) is not dict:
        raise MalformedConditionError("$elemMatch needs an object")
    # Operators test each element itself; a plain condition reads each element's fields.
    check = compile_value(expected) if is_operator_object(expected) else compile_condition(expected)

    def test(value: Any, groups: SavedGroups | None) -> bool:
        if type(value) is not list:
            return False
        # Falsy elements (0, "", false, null) are skipped, as in the reference SDK.
        return any(truthy(item) and check(item, groups) for item in value)

    return test


def _all(*, fold: bool) -> Factory:
    def factory(expected: Any) -> Test:
        if type(expected) is not list:
            return _never
        checks = tuple(compile_value(item, fold) for item in expected)

        def test(value: Any, groups: SavedGroups | None) -> bool:
            if type(value) is not list:
                return False
            return all(any(check(item, groups) for item in value) for check in checks)

        return test

    return factory


_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")


def _regex(*, flags: int, negate: bool) -> Factory:
    def factory(expected: Any) -> Test:
        if type(expected) is not str:
            return _never
        try:
            # JavaScript spells named groups (?<name>...), Python (?P<name>...).
            pattern = re.compile(_NAMED_GROUP.sub("(?P<", expected), flags)
        except (re.error, RecursionError, OverflowError, ValueError):
            return _never  # an invalid regular expression fails the test
        search = pattern.search

        def test(value: Any, groups: SavedGroups | None) -> bool:
            # RegExp.prototype.test(value) reads String(value).
            found = search(value if type(value) is str else to_string(value)) is not None
            return found is not negate

        return test

    return factory


def _type(expected: Any) -> Test:
    if type(expected) is not str:
        return _never
    return lambda value, groups: js_type(value) == expected


OPERATORS: dict[str, Factory] = {
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
    "$not": _not,
    "$size": _size,
    "$elemMatch": _elem_match,
    "$all": _all(fold=False),
    "$alli": _all(fold=True),
    "$regex": _regex(flags=0, negate=False),
    "$regexi": _regex(flags=re.IGNORECASE, negate=False),
    "$notRegex": _regex(flags=0, negate=True),
    "$notRegexi": _regex(flags=re.IGNORECASE, negate=True),
    "$type": _type,
}
