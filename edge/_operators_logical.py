"""The logical, array, pattern and type operators of GrowthBook's condition language.

`$not`, `$size`, `$elemMatch`, `$all`/`$alli` hold a condition of their own, so they
compile it with the compiler of `edge._operators`; that compiler needs this table in
turn. Rather than import each other in a circle, `edge._operators` passes its two
compile functions to `logical_operators` once, at import, and gets the factories
back. The compile functions run when a condition is compiled, never when a compiled
test is evaluated, so this costs the hot path nothing. `$regex` & co. and `$type`
test a value's text or kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge._operators_base import (
    Factory,
    MalformedConditionError,
    SavedGroups,
    Test,
    is_operator_object,
    negate,
    never,
)
from edge._operators_coerce import js_type, to_string, truthy
from edge._regex import MAX_REGEX_INPUT, compile_pattern

__all__ = ["logical_operators"]

type ValueCompiler = Callable[[Any, bool], Test]
type ConditionCompiler = Callable[[Any], Test]


def logical_operators(
    compile_value: ValueCompiler, compile_condition: ConditionCompiler
) -> dict[str, Factory]:
    """`$not` ... `$type`, in the order of GrowthBook's operator list."""

    def not_(expected: Any) -> Test:
        return negate(compile_value(expected, False))

    def size(expected: Any) -> Test:
        inner = compile_value(expected, False)
        return lambda value, groups: type(value) is list and inner(len(value), groups)

    def elem_match(expected: Any) -> Test:
        if type(expected) is not dict:
            raise MalformedConditionError("$elemMatch needs an object")
        # Operators test each element itself; a plain condition reads each element's fields.
        if is_operator_object(expected):
            check = compile_value(expected, False)
        else:
            check = compile_condition(expected)

        def test(value: Any, groups: SavedGroups | None) -> bool:
            if type(value) is not list:
                return False
            # Falsy elements (0, "", false, null) are skipped, as in the reference SDK.
            return any(truthy(item) and check(item, groups) for item in value)

        return test

    def all_(*, fold: bool) -> Factory:
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

    return {
        "$not": not_,
        "$size": size,
        "$elemMatch": elem_match,
        "$all": all_(fold=False),
        "$alli": all_(fold=True),
        "$regex": _regex(ignore_case=False, negate=False),
        "$regexi": _regex(ignore_case=True, negate=False),
        "$notRegex": _regex(ignore_case=False, negate=True),
        "$notRegexi": _regex(ignore_case=True, negate=True),
        "$type": _type,
    }


def _regex(*, ignore_case: bool, negate: bool) -> Factory:
    def factory(expected: Any) -> Test:
        if type(expected) is not str:
            return never
        pattern = compile_pattern(expected, ignore_case=ignore_case)
        if pattern is None:
            # Invalid, or able to backtrack for minutes (edge._regex): fails the test,
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
