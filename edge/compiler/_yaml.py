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

    A syntax error gives `None` and one problem at the error's line. Repeated keys are
    problems too (PyYAML would silently keep the last one).
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
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = exc.problem or exc.context or "unreadable YAML"
        problems.append((line, f"the YAML cannot be read: {what}."))
        return None, problems
    except yaml.YAMLError as exc:
        problems.append((1, f"the YAML cannot be read: {exc}."))
        return None, problems
    except RecursionError:
        # PyYAML composes nested nodes recursively: nesting hundreds of levels deep
        # (no ruleset needs more than a few dozen) exhausts the stack.
        problems.append((1, "the YAML nests too deeply to be read (hundreds of levels)."))
        return None, problems


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
        problems.append((line, f"the value cannot be read: {exc.problem}."))
        return None
