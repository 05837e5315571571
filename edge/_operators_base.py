"""The shapes every compiled condition node shares (private to `edge.conditions`).

`Test`, the error for a shape JavaScript could not evaluate, and the combinators
(`always`, `never`, `negate`, `all_of`, `any_of`) that both the condition compiler
(`edge._operators`) and the operator families (`edge._operators_compare`,
`edge._operators_logical`) build on. They live apart so those modules can share them
without importing one another in a circle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "Factory",
    "MalformedConditionError",
    "SavedGroups",
    "Test",
    "all_of",
    "always",
    "any_of",
    "is_operator_object",
    "negate",
    "never",
]

type SavedGroups = Mapping[str, Any]
type Test = Callable[[Any, SavedGroups | None], bool]
type Factory = Callable[[Any], Test]


class MalformedConditionError(ValueError):
    """A condition whose shape JavaScript could not evaluate (it would throw)."""


def always(value: Any, groups: SavedGroups | None) -> bool:
    return True


def never(value: Any, groups: SavedGroups | None) -> bool:
    return False


def negate(test: Test) -> Test:
    def negated(value: Any, groups: SavedGroups | None) -> bool:
        return not test(value, groups)

    return negated


def all_of(tests: list[Test]) -> Test:
    if not tests:
        return always
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


def any_of(tests: list[Test]) -> Test:
    # evalOr: an empty $or passes.
    if not tests:
        return always
    if len(tests) == 1:
        return tests[0]
    chain = tuple(tests)

    def some(value: Any, groups: SavedGroups | None) -> bool:
        for test in chain:  # noqa: SIM110 - faster than any() over a generator
            if test(value, groups):
                return True
        return False

    return some


def is_operator_object(value: Any) -> bool:
    """Non-empty, and every key starts with "$" (an empty object is a literal {})."""
    if type(value) is not dict or not value:
        return False
    for key in value:  # noqa: SIM110 - a loop is cheaper than all() here
        if type(key) is not str or not key.startswith("$"):
            return False
    return True
