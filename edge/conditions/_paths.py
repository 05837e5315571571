"""Reading an attribute by its dotted path (`device.type`), as the reference SDK's getPath.

Only objects and arrays have properties (`list.length` and indices included); anything
else reads as null. The common shapes get a test of their own: an attribute at the top
of a dict costs one lookup, a two-part path two lookups, a string compared with a
string one call.

>>> path_test("device.type", lambda value, groups: value == "mobile")(
...     {"device": {"type": "mobile"}}, None)
True
"""

from __future__ import annotations

from typing import Any

from edge.conditions._operators import SavedGroups, Test

__all__ = ["path_equals", "path_test"]


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


def path_test(path: str, test: Test) -> Test:
    """`test` applied to the value at `path` of the object tested."""
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


def path_equals(path: str, expected: str, equals: Test) -> Test:
    """`{"device.type": "mobile"}`, the most common test, in one call when the value is
    a string; anything else takes `equals` (the literal's test, with its coercions)."""
    general = path_test(path, equals)
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
