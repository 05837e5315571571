"""Compile GrowthBook conditions into predicates: the recursion, paths and literals.

A condition (`{"path": value_condition, "$or": [...], ...}`) compiles into a tree of
`Test` closures; `compile` wraps the tree's root into a `Predicate` that never raises.
A value condition (`"us"`, `3`, `[1, 2]`, `{"$gt": 5}`) compiles through the operator
table: the operators that test one value come from `edge.conditions._operators`, the
ones that hold a condition of their own (`$not`, `$size`, `$elemMatch`, `$all`,
`$alli`) are here, beside the compiler they recurse into, and `OPERATORS` is the whole
table. Semantics: GrowthBook's reference JavaScript SDK (`mongrule.ts`).

>>> test = compile_condition({"country": {"$in": ["fr", "be"]}, "visits": {"$gte": 3}})
>>> test({"country": "fr", "visits": "4"}, None)
True
"""

from __future__ import annotations

from typing import Any, Protocol

from edge.conditions._coerce import NUMBER_TYPES, js_type, json_equal, to_number, to_string, truthy
from edge.conditions._operators import (
    LEAF_OPERATORS,
    Factory,
    MalformedConditionError,
    SavedGroups,
    Test,
    negate,
    never,
    number_range,
)
from edge.conditions._paths import path_equals, path_test
from edge.types import Attributes, Condition

__all__ = [
    "OPERATORS",
    "Predicate",
    "attribute_paths",
    "compile",
    "compile_condition",
    "compile_value",
    "evaluate",
]


class Predicate(Protocol):
    """A compiled condition: `predicate(attributes, saved_groups=None) -> bool`."""

    def __call__(self, attributes: Attributes, saved_groups: SavedGroups | None = None) -> bool: ...


def _never(attributes: Attributes, saved_groups: SavedGroups | None = None) -> bool:
    return False


def _guard(test: Test) -> Predicate:
    def predicate(attributes: Attributes, saved_groups: SavedGroups | None = None) -> bool:
        try:
            return test(attributes, saved_groups)
        except Exception:
            # Where the reference SDK would throw (a saved group that is not a list,
            # attributes nested too deep to stringify...), the rule does not match.
            return False

    return predicate


def compile(condition: Condition) -> Predicate:
    """Compile `condition` into a predicate; never raises (anything but an object
    of conditions matches nothing).

    >>> compile({"$or": "not a list"})({"anything": 1})
    False
    """
    try:
        test = compile_condition(condition)
    except (MalformedConditionError, RecursionError, TypeError, ValueError):
        return _never
    return _guard(test)


# evaluate() remembers what it compiled, keyed by repr(condition): repr is exact for
# JSON values (1, 1.0 and True differ) and costs far less than compiling again.
_CACHE_SIZE = 512
_compiled: dict[str, Test] = {}


def evaluate(
    condition: Condition, attributes: Attributes, saved_groups: SavedGroups | None = None
) -> bool:
    """Compile (or reuse the compiled) `condition` and test `attributes` with it.

    Hot paths should hold on to `compile(condition)` instead: no key to build.

    >>> evaluate({"id": {"$inGroup": "staff"}}, {"id": 7}, {"staff": [7, 8]})
    True
    """
    try:
        key = repr(condition)
        test = _compiled.get(key)
        if test is None:
            test = compile_condition(condition)
            if len(_compiled) >= _CACHE_SIZE:
                del _compiled[next(iter(_compiled))]  # the oldest entry
            _compiled[key] = test
        return test(attributes, saved_groups)
    except Exception:
        # Malformed: as in compile(), false rather than an exception.
        return False


# --- combining tests ------------------------------------------------------------


def _always(value: Any, groups: SavedGroups | None) -> bool:
    return True


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


def _is_operator_object(value: Any) -> bool:
    """Non-empty, and every key starts with "$" (an empty object is a literal {})."""
    if type(value) is not dict or not value:
        return False
    for key in value:  # noqa: SIM110 - a loop is cheaper than all() here
        if type(key) is not str or not key.startswith("$"):
            return False
    return True


# --- conditions on an object: {"path.to.attr": value_condition, "$or": [...], ...}


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
                tests.append(path_equals(key, value, _string_equals(value, False)))
            else:
                tests.append(path_test(key, compile_value(value)))
        elif key == "$or":
            tests.append(_any_of(_condition_list(value, key)))
        elif key == "$nor":
            tests.append(negate(_any_of(_condition_list(value, key))))
        elif key == "$and":
            tests.append(_all_of(_condition_list(value, key)))
        else:
            tests.append(negate(compile_condition(value)))
    return _all_of(tests)


def attribute_paths(condition: Any) -> set[str]:
    """Every attribute path `condition` can read, through `$and`, `$or`, `$nor` and
    `$not` (the keys `compile_condition` treats as logic; any other key is a path).

    Value operators (`$elemMatch` too) test the value at their own path, so they add
    none. Whatever `compile_condition` would refuse is walked as far as it goes:
    naming a path too many is safe for a caller keying on what rules read.

    >>> sorted(attribute_paths({"$or": [{"a.b": 1}, {"$not": {"c": {"$gt": 2}}}], "d": 3}))
    ['a.b', 'c', 'd']
    """
    found: set[str] = set()
    pending: list[Any] = [condition]
    while pending:
        current = pending.pop()
        if type(current) is list:
            pending.extend(current)
            continue
        if type(current) is not dict:
            continue
        for key, value in current.items():
            if type(key) is not str:
                continue
            if key in _LOGICAL:
                pending.append(value)
            else:
                found.add(key)
    return found


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
    if _is_operator_object(expected):
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
    return never if factory is None else factory(argument)


# --- the operators that hold a condition of their own -----------------------------


def _not(expected: Any) -> Test:
    return negate(compile_value(expected))


def _size(expected: Any) -> Test:
    inner = compile_value(expected)
    return lambda value, groups: type(value) is list and inner(len(value), groups)


def _elem_match(expected: Any) -> Test:
    if type(expected) is not dict:
        raise MalformedConditionError("$elemMatch needs an object")
    # Operators test each element itself; a plain condition reads each element's fields.
    check = (
        compile_value(expected) if _is_operator_object(expected) else compile_condition(expected)
    )

    def test(value: Any, groups: SavedGroups | None) -> bool:
        if type(value) is not list:
            return False
        # Falsy elements (0, "", false, null) are skipped, as in the reference SDK.
        return any(truthy(item) and check(item, groups) for item in value)

    return test


def _all(*, fold: bool) -> Factory:
    def factory(expected: Any) -> Test:
        if type(expected) is not list:
            return never
        checks = tuple(compile_value(item, fold) for item in expected)

        def test(value: Any, groups: SavedGroups | None) -> bool:
            if type(value) is not list:
                return False
            return all(any(check(item, groups) for item in value) for check in checks)

        return test

    return factory


OPERATORS: dict[str, Factory] = LEAF_OPERATORS | {
    "$not": _not,
    "$size": _size,
    "$elemMatch": _elem_match,
    "$all": _all(fold=False),
    "$alli": _all(fold=True),
}
