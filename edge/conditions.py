"""GrowthBook's condition language: compile once, evaluate many times.

A condition is a JSON object (MongoDB-like) tested against the visitor's attributes,
with the semantics of GrowthBook's reference JavaScript SDK, coercions included:

>>> evaluate({"device.type": "mobile", "visits": {"$gt": 2}},
...          {"device": {"type": "mobile"}, "visits": "3"})
True
>>> is_returning = compile({"visits": {"$gte": 2}})
>>> is_returning({"visits": 5}), is_returning({})
(True, False)

Rules are data, and bad data never raises: a malformed condition (an `$or` that is
not a list, a value that is not JSON, ...) is false as a whole, an unknown operator
or an invalid regular expression fails its own test (as in the reference SDK, where
`$not` can turn that failure into a pass). Details: docs/notes/conditions.md.
"""

from __future__ import annotations

from typing import Protocol

from edge._operators import (
    OPERATORS,
    MalformedConditionError,
    SavedGroups,
    Test,
    compile_condition,
)
from edge.types import Attributes, Condition

__all__ = ["OPERATORS", "Predicate", "SavedGroups", "compile", "evaluate"]


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
    """Compile `condition` into a predicate; never raises.

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
