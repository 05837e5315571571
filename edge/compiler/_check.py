"""The compiler's one checker: it collects every `Problem` of a file, and the generic checks.

One `Checker` is made per file and handed to each part of the compiler (plain
functions: the ruleset, the experiences, the content, the conditions); every check
reports a sentence with its line and returns a usable default, so a file's problems
come all at once.

>>> check = Checker("rules.yaml")
>>> check.fraction(2, line=4, where="holdout", default=0.0)
0.0
>>> print(check.problems[0])
rules.yaml:4: holdout must be a number from 0 to 1, not the number 2.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.compiler._time import close_zone, zone
from edge.compiler._yaml import LineDict

__all__ = ["Checker", "Problem", "is_int", "is_number", "kind_of", "known_slot"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a ruleset, where it is: `rules.yaml:12: sentence.`"""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def kind_of(value: Any) -> str:
    """How a value reads in a message: "the text 'x'", "a list", "nothing"."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def known_slot(
    check: Checker, slot: str, slots: Mapping[str, object], *, line: int, where: str
) -> None:
    """Report a slot that `slots` does not declare, with the closest name as a hint."""
    if slot in slots:
        return
    close = difflib.get_close_matches(slot, list(slots), n=1)
    known = ", ".join(slots) or "none are defined"
    hint = f"; did you mean {close[0]}?" if close else f" (slots: {known})."
    check.report(line, f"{where} uses unknown slot {slot!r}{hint}")


class Checker:
    """Collects problems; the checks return a usable default after reporting."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    def report(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.filename, max(line, 1), message))

    def mapping(self, value: Any, *, line: int, where: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.report(line, f"{where} must be a mapping, not {kind_of(value)}.")
        return None

    def keys(
        self,
        value: LineDict,
        allowed: tuple[str, ...],
        *,
        where: str,
        reported: tuple[str, ...] = (),
    ) -> None:
        """Report keys not in `allowed` (those in `reported` have their own message)."""
        for key in value:
            if key not in allowed and key not in reported:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}."
                self.report(value.line_of(key), f"unknown key {key!r} in {where}; {hint}")

    def fraction(self, value: Any, *, line: int, where: str, default: float) -> float:
        if value is None:
            return default
        if not is_number(value) or not 0 <= value <= 1:
            self.report(line, f"{where} must be a number from 0 to 1, not {kind_of(value)}.")
            return default
        return float(value)

    def count(self, value: Any, *, line: int, where: str) -> int | None:
        if value is None:
            return None
        if not is_int(value) or value < 1:
            self.report(
                line, f"{where} must be a whole number of at least 1, not {kind_of(value)}."
            )
            return None
        return int(value)

    def choice(self, value: Any, options: tuple[str, ...], *, line: int, where: str) -> str:
        if value not in options:
            self.report(line, f"{where} {value!r} is not one of: {', '.join(options)}.")
            return options[0]
        return str(value)

    def text(self, value: Any, *, line: int, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.report(line, f"{where} must be a non-empty text, not {kind_of(value)}.")
            return ""
        return value

    def timezone(self, value: Any, *, line: int) -> str:
        if not isinstance(value, str) or zone(value) is None:
            shown = repr(value) if isinstance(value, str) else kind_of(value)
            close = close_zone(value) if isinstance(value, str) else None
            hint = f"did you mean {close}?" if close else "use an IANA name like Europe/Berlin."
            self.report(line, f"unknown time zone {shown}; {hint}")
            return "UTC"
        return value
