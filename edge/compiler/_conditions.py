"""Conditions at compile time: check operators and regexes, inline `$segment`.

A condition is GrowthBook's condition language plus `{$segment: NAME}`, which may stand
wherever a condition is expected (audiences, journey `when`, segments themselves, inside
`$and`/`$or`/`$nor`/`$not`/`$elemMatch`). Inlining is recursive, and a segment that
reaches itself again is a cycle, named in full ("a -> b -> a").

>>> inliner = SegmentInliner({"eu": {"geo.country": {"$in": ["DE", "FR"]}}}, Checker("r.yaml"))
>>> inliner.inline({"$segment": "eu"}, line=1)
{'geo.country': {'$in': ['DE', 'FR']}}

Operator names are checked against the table that evaluates them
(`edge.conditions.OPERATORS`), regexes with the evaluator's own reading and its
backtracking check, attribute paths and values against what the context builds
(`_vocabulary`): an unknown path, or a value the attribute never takes, is a problem.
Inside `$elemMatch` the paths are the items' own, so they are not checked.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from edge.compiler._check import Checker, kind_of
from edge.compiler._vocabulary import (
    Attribute,
    attribute,
    never,
    never_compared,
    shown,
    unknown_path,
)
from edge.compiler._yaml import line_at, plain
from edge.conditions import OPERATORS, backtracking_risk, translate
from edge.limits import MAX_CONDITION_DEPTH

__all__ = ["CONDITION_OPERATORS", "VALUE_OPERATORS", "SegmentInliner"]

# Operators that combine conditions (they stand where an attribute path would).
CONDITION_OPERATORS = frozenset({"$and", "$or", "$nor", "$not", "$segment"})
# Operators on an attribute's value: the evaluator's table.
VALUE_OPERATORS = frozenset(OPERATORS)
_REGEX_OPERATORS = frozenset({"$regex", "$regexi", "$notRegex", "$notRegexi"})
_LIST_OPERATORS = frozenset({"$in", "$nin", "$ini", "$nini", "$all", "$alli"})
_TYPES = frozenset({"string", "number", "boolean", "array", "object", "null", "undefined"})
_BOUNDS = frozenset({"$gt", "$gte", "$lt", "$lte"})


def _hint(word: str, options: frozenset[str] | dict[str, Any]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f"; did you mean {close[0]}?" if close else "."


def _sentence(text: str) -> str:
    return text if text.endswith(("?", ".")) else f"{text}."


class SegmentInliner:
    """Checks conditions and replaces `$segment` references by the segments they name."""

    def __init__(self, segments: dict[str, Any], check: Checker) -> None:
        self._segments = segments
        self._check = check
        self._done: dict[str, dict[str, Any]] = {}
        self._cycles: set[frozenset[str]] = set()
        self._stack: list[str] = []
        # Levels each inlined segment takes, and the deepest level reached so far (the
        # level count of a segment being inlined is read from it).
        self._heights: dict[str, int] = {}
        self._deepest = 0
        self._in_items = 0  # > 0 inside $elemMatch, where paths are the items' own

    def segment(self, name: str, *, line: int, depth: int = 1) -> dict[str, Any]:
        """The segment `name`, fully inlined (an empty condition if it is broken).

        `depth` is the level where it is used: a segment counts where it is inlined.
        """
        if name in self._done:
            return self._done[name]
        if name in self._stack:
            cycle = [*self._stack[self._stack.index(name) :], name]
            if frozenset(cycle) not in self._cycles:
                self._cycles.add(frozenset(cycle))
                self._check.report(line, f"segment cycle: {' -> '.join(cycle)}.")
            return {}
        self._stack.append(name)
        deepest, self._deepest = self._deepest, depth
        try:
            source = self._segments[name]
            result = self.inline(source, line=line, where=f"segment {name!r}", depth=depth)
        finally:
            self._stack.pop()
            self._heights[name] = self._deepest - depth + 1
            self._deepest = max(deepest, self._deepest)
        self._done[name] = result
        return result

    def inline(
        self, condition: Any, *, line: int, where: str = "condition", depth: int = 1
    ) -> dict[str, Any]:
        """A checked copy of `condition` with every `$segment` replaced.

        `depth` is the level of `condition` (1 at the top): past `MAX_CONDITION_DEPTH`
        the rest is refused, so neither this nor `decide` recurses without bound.
        """
        if condition is None:
            return {}
        if not self._shallow(depth, line=line, where=where):
            return {}
        if not isinstance(condition, dict):
            self._check.report(
                line, f"{where} must be a mapping of conditions, not {kind_of(condition)}."
            )
            return {}
        line = getattr(condition, "line", line) or line
        parts: list[dict[str, Any]] = []
        rest: dict[str, Any] = {}
        for key, value in condition.items():
            key_line = line_at(condition, key, line)
            if key == "$segment":
                parts.append(self._reference(value, line=key_line, where=where, depth=depth))
            elif key in ("$and", "$or", "$nor"):
                rest[key] = self._condition_list(
                    key, value, line=key_line, where=where, depth=depth + 1
                )
            elif key == "$not":
                rest[key] = self.inline(
                    value, line=key_line, where=f"{where}, $not", depth=depth + 1
                )
            elif key.startswith("$"):
                hint = _hint(key, CONDITION_OPERATORS)
                if key in VALUE_OPERATORS:
                    hint = f" ({key} goes under an attribute: {{path: {{{key}: ...}}}})."
                self._check.report(key_line, f"unknown condition operator {key!r} in {where}{hint}")
            else:
                attr = self._attribute(key, line=key_line, where=where)
                rest[key] = self._value(
                    key, value, line=key_line, where=where, depth=depth, attr=attr
                )
        if not parts:
            return rest
        # `{$segment: a, device.type: mobile}` means both must hold.
        if rest:
            parts.append(rest)
        return parts[0] if len(parts) == 1 else {"$and": parts}

    def _reference(self, name: Any, *, line: int, where: str, depth: int) -> dict[str, Any]:
        if not isinstance(name, str):
            self._check.report(
                line, f"$segment in {where} must name a segment, not {kind_of(name)}."
            )
            return {}
        if name not in self._segments:
            known = ", ".join(sorted(self._segments)) or "none are defined"
            hint = _hint(name, self._segments)
            hint = f" (segments: {known})." if hint == "." else hint
            self._check.report(line, f"unknown segment {name!r} in {where}{hint}")
            return {}
        # Counted one level down: beside other keys it lands in an `$and`.
        known_height = self._heights.get(name)
        if known_height is not None and not self._shallow(
            depth + known_height, line=line, where=f"{where}, with segment {name!r} inlined"
        ):
            return {}
        return self.segment(name, line=line, depth=depth + 1)

    def _shallow(self, depth: int, *, line: int, where: str) -> bool:
        if depth <= MAX_CONDITION_DEPTH:
            self._deepest = max(self._deepest, depth)
            return True
        self._check.report(
            line, f"{where} nests conditions more than {MAX_CONDITION_DEPTH} levels deep."
        )
        return False

    def _condition_list(
        self, op: str, value: Any, *, line: int, where: str, depth: int
    ) -> list[Any]:
        if not isinstance(value, list):
            self._check.report(line, f"{op} in {where} must be a list of conditions.")
            return []
        return [
            self.inline(
                item, line=line_at(value, i, line), where=f"{where}, {op}[{i}]", depth=depth
            )
            for i, item in enumerate(value)
        ]

    def _attribute(self, path: str, *, line: int, where: str) -> Attribute | None:
        """What the context builds at `path` (None, reported, when it builds nothing)."""
        if self._in_items:
            return None
        found = attribute(path)
        if found is None:
            self._check.report(line, _sentence(unknown_path(path, where=where)))
        return found

    def _never(self, attr: Attribute | None, op: str, value: Any, *, line: int, where: str) -> None:
        """Report a value `attr` never takes: the test never holds ($ne, $nin: always)."""
        if attr is None:
            return
        if op in _BOUNDS:
            why = never_compared(attr, op, value)
        else:
            why = never(attr, value, strict=op != "")
        if why is None:
            return
        test = f"{attr.path} {op} {shown(value)}" if op else f"{attr.path} {shown(value)}"
        outcome = {"$ne": "always holds", "$nin": "excludes nobody"}.get(op, "can never match")
        self._check.report(line, _sentence(f"{test} in {where} {outcome}: {why}"))

    def _value(
        self,
        path: str,
        value: Any,
        *,
        line: int,
        where: str,
        depth: int,
        attr: Attribute | None = None,
    ) -> Any:
        """An attribute's test: a literal, or an object of value operators."""
        if not isinstance(value, dict) or not value:
            if not isinstance(value, dict | list):
                self._never(attr, "", value, line=line, where=where)
            return plain(value)
        keys = list(value)
        if not any(k.startswith("$") for k in keys):
            return plain(value)  # a literal object, compared as a whole
        out: dict[str, Any] = {}
        for op, arg in value.items():
            op_line = line_at(value, op, line)
            here = f"{where}, {path}"
            if op == "$segment":
                self._check.report(op_line, f"$segment in {here} must stand where a condition is.")
            elif op not in VALUE_OPERATORS:
                self._check.report(
                    op_line, f"unknown operator {op!r} in {here}{_hint(op, VALUE_OPERATORS)}"
                )
            elif op in _REGEX_OPERATORS:
                out[op] = self._regex(op, arg, line=op_line, where=here)
            elif op in _LIST_OPERATORS and not isinstance(arg, list):
                self._check.report(op_line, f"{op} in {here} needs a list, not {kind_of(arg)}.")
            elif op in ("$in", "$nin"):
                for i, item in enumerate(arg):
                    self._never(attr, op, item, line=line_at(arg, i, op_line), where=where)
                out[op] = plain(arg)
            elif op == "$exists" and not isinstance(arg, bool):
                self._check.report(op_line, f"$exists in {here} needs true or false.")
            elif op == "$type" and arg not in _TYPES:
                self._check.report(
                    op_line, f"$type {arg!r} in {here} is not one of {', '.join(sorted(_TYPES))}."
                )
            elif op == "$elemMatch":
                out[op] = self._elem_match(arg, line=op_line, where=here, depth=depth + 1)
            elif op in ("$not", "$size"):
                if self._shallow(depth + 1, line=op_line, where=here):
                    # $size tests the length, not the value.
                    out[op] = self._value(
                        path,
                        arg,
                        line=op_line,
                        where=where,
                        depth=depth + 1,
                        attr=attr if op == "$not" else None,
                    )
            else:
                if op in _BOUNDS or op in ("$eq", "$ne"):
                    self._never(attr, op, arg, line=op_line, where=where)
                out[op] = plain(arg)
        return out

    def _elem_match(self, arg: Any, *, line: int, where: str, depth: int) -> Any:
        operators_only = isinstance(arg, dict) and arg and all(k.startswith("$") for k in arg)
        if operators_only and not set(arg) & CONDITION_OPERATORS - {"$not"}:
            if not self._shallow(depth, line=line, where=where):
                return {}
            return self._value("$elemMatch", arg, line=line, where=where, depth=depth)
        self._in_items += 1
        try:
            return self.inline(arg, line=line, where=f"{where}, $elemMatch", depth=depth)
        finally:
            self._in_items -= 1

    def _regex(self, op: str, pattern: Any, *, line: int, where: str) -> Any:
        if not isinstance(pattern, str):
            self._check.report(
                line, f"{op} in {where} needs a pattern string, not {kind_of(pattern)}."
            )
            return pattern
        ignore_case = op.endswith("i")
        try:
            # The operators' own reading (JavaScript's named groups included).
            re.compile(translate(pattern), re.IGNORECASE if ignore_case else 0)
        except (re.error, RecursionError, OverflowError, ValueError) as exc:
            self._check.report(line, f"invalid regex {pattern!r} in {where}: {exc}.")
            return pattern
        risk = backtracking_risk(pattern, ignore_case=ignore_case)
        if risk is not None:
            self._check.report(
                line, f"regex {pattern!r} in {where} can take minutes on some values: {risk}."
            )
        return pattern
