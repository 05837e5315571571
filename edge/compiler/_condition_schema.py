"""The JSON Schema of a condition: the operators and the context's attribute paths.

An editor flags what the compiler refuses: an operator not in the evaluator's table
(`{$gtee: 2}`), a path the context never builds (`device.typ`), a value of the wrong
shape (`device.type: mobil`, `language: pt-BR`, `local.hour: 25`). Open namespaces
(`custom.*`, `page.query.*`, `profile.*`) take any name; an index into a list
(`languages.0`) any value. The schema wants each value in its own type (`local.hour: 19`,
not `"19"`); the compiler also accepts what GrowthBook's loose equality makes match.

>>> defs = condition_defs()
>>> defs["condition"]["properties"]["device.type"]["anyOf"][0]["enum"]
['mobile', 'tablet', 'desktop', 'bot']
"""

from __future__ import annotations

import re
from typing import Any

from edge.conditions import OPERATORS
from edge.context import ATTRIBUTES, OPEN_NAMESPACES, Attribute

__all__ = ["condition_defs"]

_CONDITION = {"$ref": "#/$defs/condition"}
_OPERATORS = {"$ref": "#/$defs/operators"}
# A literal compared as a whole: anything but an object whose keys start with "$".
_ANY_LITERAL = {
    "anyOf": [
        {"not": {"type": "object"}},
        {"type": "object", "propertyNames": {"not": {"pattern": "^[$]"}}},
    ]
}


def _literal(attr: Attribute) -> dict[str, Any]:
    """The schema of one value of `attr` (or of one item, for a list)."""
    if attr.kind == "whole":
        out: dict[str, Any] = {"type": "integer"}
        if attr.low is not None:
            out["minimum"] = attr.low
        if attr.high is not None:
            out["maximum"] = attr.high
        return out
    if attr.kind == "flag":
        return {"type": "boolean"}
    if attr.kind in ("text", "list"):
        out = {"type": "string"}
        if attr.values:
            out = {"enum": list(attr.values)}
        elif attr.pattern:
            out["pattern"] = attr.pattern
        return out
    return {}


def _value(attr: Attribute) -> dict[str, Any]:
    """A literal, or an object of operators with typed arguments."""
    if attr.kind in ("any", "map"):
        return {"description": attr.about, "anyOf": [_ANY_LITERAL, _OPERATORS]}
    one = _literal(attr)
    typed: dict[str, Any] = {"$in": {"type": "array", "items": one}}
    typed["$nin"] = typed["$in"]
    if attr.kind == "list":
        literal: dict[str, Any] = {"type": "array", "items": one}
    else:
        literal = one
        typed.update({"$eq": one, "$ne": one})
    if attr.kind == "whole":
        typed.update({op: {"type": "number"} for op in ("$gt", "$gte", "$lt", "$lte")})
    return {
        "description": attr.about,
        "anyOf": [literal, {"allOf": [_OPERATORS, {"properties": typed}]}],
    }


def condition_defs() -> dict[str, Any]:
    """`$defs` entries: `condition` (paths and logical operators) and `operators`."""
    conditions = {"type": "array", "items": _CONDITION}
    properties: dict[str, Any] = {
        "$and": conditions,
        "$or": conditions,
        "$nor": conditions,
        "$not": _CONDITION,
        "$segment": {"type": "string", "description": "Inline a named segment."},
    }
    properties.update({path: _value(attr) for path, attr in ATTRIBUTES.items()})
    anything = {"anyOf": [_ANY_LITERAL, _OPERATORS]}
    patterns = {f"^{re.escape(space)}[.].": anything for space in OPEN_NAMESPACES}
    lists = "|".join(re.escape(p) for p, a in ATTRIBUTES.items() if a.kind == "list")
    patterns[rf"^({lists})[.][0-9]+([.]|$)"] = anything
    return {
        "condition": {
            "type": "object",
            "description": (
                "A GrowthBook condition: the context's attribute paths (DESIGN §4) to"
                " values or operators, combined with $and, $or, $nor, $not, $segment."
            ),
            "properties": properties,
            "patternProperties": patterns,
            "additionalProperties": False,
        },
        "operators": {
            "type": "object",
            "description": "Operators on an attribute's value (GrowthBook's).",
            "minProperties": 1,
            "propertyNames": {"enum": sorted(OPERATORS)},
        },
    }
