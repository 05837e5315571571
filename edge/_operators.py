"""Compile GrowthBook conditions into closures (private to `edge.conditions`).

Every node of a condition becomes a `Test`, a function `(value, saved_groups) -> bool`:
for a condition the value is the object whose paths it reads, for a value condition
(`{"$gt": 5}`, `"us"`, `[1, 2]`) it is the attribute value. Each operator is a small
factory in `OPERATORS` that takes the operator's argument once, at compile time
(regexes compiled, version strings padded, `$in` lists turned into sets), and returns
its `Test`. Semantics are those of GrowthBook's reference JavaScript SDK (`mongrule.ts`).

This module holds the compiler itself (paths, literals, the recursion) and assembles
the table; the operator families live in `edge._operators_compare` (comparison and
membership) and `edge._operators_logical` (logical, array, regex, type), the shared
`Test` shapes and combinators in `edge._operators_base`.

>>> test = compile_condition({"country": {"$in": ["fr", "be"]}, "visits": {"$gte": 3}})
>>> test({"country": "fr", "visits": "4"}, None)
True
"""

from __future__ import annotations

from typing import Any

from edge._operators_base import (
    Factory,
    MalformedConditionError,
    SavedGroups,
    Test,
    all_of,
    any_of,
    is_operator_object,
    negate,
    never,
)
from edge._operators_coerce import NUMBER_TYPES, js_type, json_equal, to_number, to_string, truthy
from edge._operators_compare import COMPARISON_OPERATORS
from edge._operators_logical import logical_operators
from edge._operators_range import number_range

__all__ = [
    "OPERATORS",
    "MalformedConditionError",
    "SavedGroups",
    "Test",
    "compile_condition",
    "compile_value",
    "is_operator_object",
]


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
            tests.append(any_of(_condition_list(value, key)))
        elif key == "$nor":
            tests.append(negate(any_of(_condition_list(value, key))))
        elif key == "$and":
            tests.append(all_of(_condition_list(value, key)))
        else:
            tests.append(negate(compile_condition(value)))
    return all_of(tests)


# --- conditions on a value: "us", 3, true, null, [..], {..}, {"$op": arg, ...}


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
        return all_of([_operator(op, arg) for op, arg in expected.items()])
    if kind is list or kind is dict:
        return _json_equals(expected)
    raise MalformedConditionError(f"{type(expected).__name__} is not a JSON value")


def _operator(name: str, argument: Any) -> Test:
    factory = OPERATORS.get(name)
    # The reference SDK logs an unknown operator and treats it as failing.
    return never if factory is None else factory(argument)


OPERATORS: dict[str, Factory] = COMPARISON_OPERATORS | logical_operators(
    compile_value, compile_condition
)
