"""Conditions against what the context builds: unknown paths, values that never match.

The vocabulary is the context's own (`edge.context.ATTRIBUTES`); this module only
reads a condition against it, the way the evaluator compares (GrowthBook's rules):
a literal compares loosely (`"19"` is `19` for a number, as `value + ""` is), while
`$eq`/`$ne`/`$in`/`$nin` compare strictly (`19` is not `"19"`).

>>> unknown_path("device.typ", where="audience")
"unknown attribute 'device.typ' in audience; did you mean device.type?"
>>> never(ATTRIBUTES["language"], "pt-BR", strict=False).split("; ")[1]
'did you mean locale: pt-BR or language: pt?'
>>> never(ATTRIBUTES["local.hour"], "19", strict=False) is None
True
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from edge.compiler._time import close_zone, zone
from edge.context import ATTRIBUTES, Attribute, attribute, language_tag

__all__ = [
    "ATTRIBUTES",
    "Attribute",
    "attribute",
    "never",
    "never_compared",
    "shown",
    "unknown_path",
]

_INTEGER = re.compile(r"^-?(0|[1-9]\d*)$")


def shown(value: Any) -> str:
    """A value as a message shows it: 'text', 3, true."""
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else str(value)


def unknown_path(path: str, *, where: str) -> str:
    """The sentence for a path the context never builds."""
    head = path.rpartition(".")[0]
    while head and head not in ATTRIBUTES:
        head = head.rpartition(".")[0]
    known = [p for p in ATTRIBUTES if ATTRIBUTES[p].kind != "map"]
    close = difflib.get_close_matches(path, known, n=1, cutoff=0.75)
    if close:
        return f"unknown attribute {path!r} in {where}; did you mean {close[0]}?"
    if head and ATTRIBUTES[head].kind == "map":
        names = ", ".join(p for p in ATTRIBUTES if p.rpartition(".")[0] == head)
        more = f"; any other parameter is page.query.utm_{path[4:]}" if head == "utm" else ""
        return f"unknown attribute {path!r} in {where} ({head} holds {names}{more})."
    return (
        f"unknown attribute {path!r} in {where} (a site's own attributes go under custom.*,"
        " set with perso.set; `perso schema` lists the others)."
    )


def never(attr: Attribute, value: Any, *, strict: bool) -> str | None:
    """Why `attr` can never equal `value` ("local.hour is a whole number from 0 to 23"),
    or None when it can (or when the coercion rules make it hard to say)."""
    if value is None or attr.kind in ("any", "map"):
        return None
    if attr.kind == "list":
        # Only items are compared ($in/$nin intersect); a literal compares the whole list.
        return _never_text(attr, value, holds=True) if strict else None
    if isinstance(value, bool) and not strict:
        return None  # compares truthiness: any non-empty value is true
    if attr.kind == "flag":
        fine = isinstance(value, bool) or (
            not strict and (value in ("true", "false") or (_is_number(value) and value in (0, 1)))
        )
        return None if fine else f"{attr.path} is true or false"
    if attr.kind == "whole":
        return _never_whole(attr, value, strict=strict)
    if not isinstance(value, str):
        if strict or not _is_number(value):
            return f"{attr.path} is a text, and $eq/$in compare without converting"
        value = _js_number_text(value)  # `value * 1 === n` holds only for that text
    return _never_text(attr, value, holds=False)


def never_compared(attr: Attribute, op: str, bound: Any) -> str | None:
    """Why `{path: {op: bound}}` never holds for a bounded whole number, or None."""
    if attr.kind != "whole" or not _is_number(bound):
        return None
    low, high = attr.low, attr.high
    impossible = {
        "$gt": high is not None and bound >= high,
        "$gte": high is not None and bound > high,
        "$lt": low is not None and bound <= low,
        "$lte": low is not None and bound < low,
    }.get(op, False)
    return _whole_shape(attr) if impossible else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _js_number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _whole_shape(attr: Attribute) -> str:
    if attr.high is None:
        return f"{attr.path} is a whole number of at least {attr.low}"
    return f"{attr.path} is a whole number from {attr.low} to {attr.high}"


def _never_whole(attr: Attribute, value: Any, *, strict: bool) -> str | None:
    if isinstance(value, str) and not strict:
        if not _INTEGER.match(value):
            return _whole_shape(attr)
        value = int(value)  # `value + ""` gives back this text only for this number
    if not _is_number(value) or not float(value).is_integer():
        shape = _whole_shape(attr)
        return f"{shape}, and $eq/$in compare without converting" if strict else shape
    low = attr.low if attr.low is not None else value
    high = attr.high if attr.high is not None else value
    return None if low <= value <= high else _whole_shape(attr)


def _never_text(attr: Attribute, value: Any, *, holds: bool) -> str | None:
    verb = "holds" if holds else "is"
    if not isinstance(value, str):
        return f"{attr.path} {verb} texts, and $in compares without converting"
    if attr.values:
        if value in attr.values:
            return None
        return _with_hint(
            f"{attr.path} {verb} one of {', '.join(attr.values)}", _close(value, attr.values)
        )
    if attr.form == "zone":
        if zone(value) is not None:
            return None
        return _with_hint(f"{attr.path} {verb} {attr.shape}", close_zone(value))
    fits = not attr.pattern or re.search(attr.pattern, value) is not None
    if attr.form == "tag":
        fits = fits and language_tag(value) == value
    if fits:
        return None
    return _with_hint(f"{attr.path} {verb} {attr.shape}", _suggest(attr, value))


def _close(value: str, options: tuple[str, ...]) -> str | None:
    by_case = {o.lower(): o for o in options}
    if value.lower() in by_case:
        return by_case[value.lower()]
    close = difflib.get_close_matches(value.lower(), options, n=1)
    return close[0] if close else None


def _suggest(attr: Attribute, value: str) -> str | None:
    """A value of the right shape that was probably meant."""
    text = value.strip()
    if attr.path == "language" and re.match(r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})+$", text):
        tag = language_tag(text)
        return f"locale: {tag} or language: {tag.split('-', 1)[0]}"
    if attr.form == "tag" or attr.path == "language":
        candidate = language_tag(text)
    elif attr.path == "geo.country":
        candidate = text.upper()
    elif attr.path == "page.path" and "://" not in text:
        candidate = "/" + text
    else:
        return None
    return candidate if candidate != value and never(attr, candidate, strict=True) is None else None


def _with_hint(reason: str, hint: str | None) -> str:
    return f"{reason}; did you mean {hint}?" if hint else reason
