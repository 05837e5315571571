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

Owns the compiler (`_compile`: the recursion, `Predicate`, `attribute_paths`; `_paths`:
dotted paths), the operator table (`_operators`), JavaScript's coercions (`_coerce`) and the check
that refuses patterns able to backtrack for minutes (`_regex`, which the ruleset
compiler uses too: `translate`, `backtracking_risk`). Imports `edge.limits` and
`edge.types` only.
"""

from __future__ import annotations

from edge.conditions._compile import OPERATORS, Predicate, attribute_paths, compile, evaluate
from edge.conditions._operators import SavedGroups
from edge.conditions._regex import backtracking_risk, translate

__all__ = [
    "OPERATORS",
    "Predicate",
    "SavedGroups",
    "attribute_paths",
    "backtracking_risk",
    "compile",
    "evaluate",
    "translate",
]
