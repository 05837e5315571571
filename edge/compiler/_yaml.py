"""A YAML loader that remembers line numbers, for the compiler's messages.

PyYAML is imported inside `load`, never at module import, so nothing that ships to the
browser pulls it in. Mappings load as `LineDict` and sequences as `LineList`: plain
`dict`/`list` subclasses that also know the line of themselves, of each key and of each
item. Keys are always strings (the raw scalar text), so YAML 1.1's `on:`/`yes:` stay
keys. Timestamps stay strings (the compiler resolves them in the ruleset's time zone).

>>> data, problems = load("site: demo\\nslots:\\n  hero: {selector: '#h'}\\n")
>>> data.key_lines["slots"], data["slots"].key_lines["hero"], problems
(2, 3, [])
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["LineDict", "LineList", "line_at", "load", "plain"]


class LineDict(dict[str, Any]):
    """A mapping with `line` (where it starts) and `key_lines` (key -> line, 1-based)."""

    line: int
    key_lines: dict[str, int]

    def __init__(self, *, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence with `line` (where it starts) and `item_lines` (index -> line, 1-based)."""

    line: int
    item_lines: list[int]

    def __init__(self, *, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.item_lines = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def line_at(value: Any, key: str | int, default: int) -> int:
    """The line of a key of a loaded mapping or an item of a loaded sequence, else
    `default` (a plain dict or list, a key of the wrong kind, a key not there)."""
    if isinstance(value, LineDict) and isinstance(key, str):
        return value.key_lines.get(key, default)
    if isinstance(value, LineList) and isinstance(key, int):
        return value.line_of(key)
    return default


def plain(value: Any) -> Any:
    """A copy made of plain dicts and lists (what goes into the artifact)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def load(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """Parse one YAML document; returns (data, [(line, sentence), ...]).

    A syntax error gives `None` and one problem, a plain sentence at the line where
    the author can fix it (`_SYNTAX`). Repeated keys are problems too (PyYAML would
    silently keep the last one).

    >>> load("site: demo\\nslots:\\n\\thero: h1\\n")[1]
    [(3, 'the YAML cannot be read: a tab character; YAML indents with spaces only.')]
    """
    import yaml  # build-time only: the browser wheel never imports this module

    problems: list[tuple[int, str]] = []
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, problems
            return _build(node, loader, problems), problems
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax(exc))
        return None, problems
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        what = (
            f"a control character (#x{exc.character:04x})"
            if isinstance(exc.character, int)
            else "a character"
        )
        problems.append((line, f"the YAML cannot be read: {what} that YAML does not allow."))
        return None, problems
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable YAML"
        problems.append((1, f"the YAML cannot be read: {first.rstrip('.')}."))
        return None, problems
    except RecursionError:
        # PyYAML composes nested nodes recursively: nesting hundreds of levels deep
        # (no ruleset needs more than a few dozen) exhausts the stack.
        problems.append((1, "the YAML nests too deeply to be read (hundreds of levels)."))
        return None, problems


# PyYAML's problem (a regex over `problem`) -> where to point ("problem" or "context",
# the line where what went wrong began) and the sentence; {ctx} is the context's line.
_SYNTAX: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), where, sentence)
    for pattern, where, sentence in (
        (r"found character '\\t'", "problem", "a tab character; YAML indents with spaces only"),
        (
            r"found character '(?P<c>.+)' that cannot start",
            "problem",
            "{c!r} cannot start a value; put the value in quotes",
        ),
        (
            r"mapping values are not allowed",
            "problem",
            "a ':' out of place; indent this line like its neighbours, or quote a value"
            " that holds ': '",
        ),
        (
            r"expected <block end>, but found '(?P<c>[}\]])'",
            "problem",
            "a {c!r} that nothing opened",
        ),
        (
            r"expected <block end>",
            "problem",
            "this line's indentation does not fit the block that starts on line {ctx}"
            " (the keys of one mapping, and the items of one list, start in one column)",
        ),
        (
            r"found unexpected end of stream",
            "context",
            "a quoted text starts here and its closing quote is missing",
        ),
        (
            r"expected ',' or '\}'",
            "context",
            "the '{{' opened here is not closed with '}}' (or an item in it lacks its comma)",
        ),
        (
            r"expected ',' or '\]'",
            "context",
            "the '[' opened here is not closed with ']' (or an item in it lacks its comma)",
        ),
        (
            r"found '<stream end>'",
            "problem",
            "the file ends before a value is complete (a '[' or '{{' is not closed)",
        ),
        (
            r"could not find expected ':'",
            "context",
            "a key without its ':' (write key: value), or a line that belongs to the one"
            " above but is not indented like it",
        ),
        (
            r"found undefined alias '(?P<name>.+)'",
            "problem",
            "'*{name}' refers to an anchor '&{name}' defined nowhere above",
        ),
        (
            r"found unknown escape character '(?P<c>.+)'",
            "problem",
            "'\\{c}' is not an escape inside double quotes; use single quotes, or write"
            " '\\\\' for a backslash",
        ),
        (
            r"another document",
            "problem",
            "a second YAML document starts here ('---'); a ruleset is one document",
        ),
        (
            r"second occurrence",
            "problem",
            "an anchor defined a second time (first on line {ctx})",
        ),
        (
            r"incompatible YAML document",
            "problem",
            "the %YAML line asks for a version other than 1.x; remove it",
        ),
    )
)


def _syntax(exc: Any) -> tuple[int, str]:
    """PyYAML's error as (line, one plain sentence)."""
    problem = str(exc.problem or exc.context or "unreadable YAML")
    at = {
        "problem": exc.problem_mark or exc.context_mark,
        "context": exc.context_mark or exc.problem_mark,
    }
    ctx = exc.context_mark.line + 1 if exc.context_mark is not None else 1
    for pattern, where, sentence in _SYNTAX:
        found = pattern.search(problem)
        if found:
            mark = at[where]
            what = sentence.format(ctx=ctx, **found.groupdict())
            return (mark.line + 1 if mark is not None else 1), f"the YAML cannot be read: {what}."
    mark = at["problem"]
    first = problem.strip().splitlines()[0].rstrip(".")
    return (mark.line + 1 if mark is not None else 1), f"the YAML cannot be read: {first}."


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _build(node: Any, loader: Any, problems: list[tuple[int, str]]) -> Any:
    import yaml

    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        mapping = LineDict(line=line)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append((key_node.start_mark.line + 1, "a key must be a plain name."))
                continue
            key = str(key_node.value)
            key_line = key_node.start_mark.line + 1
            if key in mapping:
                first = mapping.key_lines[key]
                problems.append((key_line, f"key {key!r} appears twice (first on line {first})."))
            mapping[key] = _build(value_node, loader, problems)
            mapping.key_lines[key] = key_line
        return mapping
    if isinstance(node, yaml.SequenceNode):
        sequence = LineList(line=line)
        for item in node.value:
            sequence.append(_build(item, loader, problems))
            sequence.item_lines.append(item.start_mark.line + 1)
        return sequence
    if node.tag == _TIMESTAMP:
        return str(node.value)
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        if "could not determine a constructor" in str(exc.problem):
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            problems.append((line, f"the tag {tag} is not allowed: a ruleset holds plain values."))
        else:
            reason = str(exc.problem).strip().splitlines()[0].rstrip(".")
            problems.append((line, f"the value cannot be read: {reason}."))
        return None
