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

import re
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
        "$regex": _regex(flags=0, negate=False),
        "$regexi": _regex(flags=re.IGNORECASE, negate=False),
        "$notRegex": _regex(flags=0, negate=True),
        "$notRegexi": _regex(flags=re.IGNORECASE, negate=True),
        "$type": _type,
    }


_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")


def _regex(*, flags: int, negate: bool) -> Factory:
    def factory(expected: Any) -> Test:
        if type(expected) is not str:
            return never
        try:
            # JavaScript spells named groups (?<name>...), Python (?P<name>...).
            pattern = re.compile(_NAMED_GROUP.sub("(?P<", expected), flags)
        except (re.error, RecursionError, OverflowError, ValueError):
            return never  # an invalid regular expression fails the test
        search = pattern.search

        def test(value: Any, groups: SavedGroups | None) -> bool:
            # RegExp.prototype.test(value) reads String(value).
            found = search(value if type(value) is str else to_string(value)) is not None
            return found is not negate

        return test

    return factory


def _type(expected: Any) -> Test:
    if type(expected) is not str:
        return never
    return lambda value, groups: js_type(value) == expected
