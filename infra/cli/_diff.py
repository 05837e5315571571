"""What a deploy would change: the live ruleset against a newly compiled one, as lines.

Learned params (bandit weights the publisher wrote, recommendation lists) are not the
author's and are left out; declared weights are compared.

>>> from edge.model import Ruleset
>>> ruleset_diff(None, Ruleset(site="s"))
['+ site s (nothing is live yet)']
>>> ruleset_diff(Ruleset(site="s"), Ruleset(site="s"))
[]
"""

from __future__ import annotations

import json
from typing import Any

from edge.model import Experience, Ruleset

__all__ = ["experience_diff", "ruleset_diff"]

# Experience fields shown by name when they change (variants are compared one by one).
_FIELDS = ("slot", "priority", "audience", "schedule", "frequency", "consent", "allocation")
_FIELDS_MORE = ("goals", "coverage")


def ruleset_diff(live: Ruleset | None, new: Ruleset) -> list[str]:
    """One line per change: `+` added, `-` removed, `~` changed."""
    if live is None:
        return [f"+ site {new.site} (nothing is live yet)"]
    lines: list[str] = []
    lines += _keyed("slot", _dicts(live.slots), _dicts(new.slots))
    lines += _keyed("segment", dict(live.segments), dict(new.segments))
    lines += experience_diff(live, new)
    top = ("timezone", "holdout", "policy", "journey", "catalog", "guardrails", "objective")
    for name in top:
        before, after = _plain(getattr(live, name)), _plain(getattr(new, name))
        if before != after:
            lines.append(f"~ {name}: {_short(before)} -> {_short(after)}")
    return lines


def experience_diff(live: Ruleset, new: Ruleset) -> list[str]:
    """The experience lines of `ruleset_diff` alone."""
    old = {e.id: e for e in live.experiences}
    now = {e.id: e for e in new.experiences}
    lines = [f"+ experience {i} (slot {e.slot})" for i, e in now.items() if i not in old]
    lines += [f"- experience {i}" for i in old if i not in now]
    for key in (i for i in now if i in old):
        lines += _experience(old[key], now[key])
    return lines


def _experience(old: Experience, new: Experience) -> list[str]:
    a, b = old.to_dict(), new.to_dict()
    head = f"~ experience {new.id}"
    lines = []
    for name in (*_FIELDS, *_FIELDS_MORE):
        if _plain(a.get(name)) != _plain(b.get(name)):
            lines.append(f"{head}: {name} {_short(a.get(name))} -> {_short(b.get(name))}")
    old_v = {v.id: v for v in old.variants}
    new_v = {v.id: v for v in new.variants}
    weights_old = [round(v.weight, 4) for v in old.variants]
    weights_new = [round(v.weight, 4) for v in new.variants]
    if list(old_v) != list(new_v):
        lines.append(f"{head}: variants {list(old_v)} -> {list(new_v)}")
    elif weights_old != weights_new:
        lines.append(f"{head}: weights {weights_old} -> {weights_new}")
    for key in (k for k in new_v if k in old_v):
        if _plain(old_v[key].content) != _plain(new_v[key].content):
            before, after = _short(old_v[key].content), _short(new_v[key].content)
            lines.append(f"{head}: content of {key} {before} -> {after}")
    return lines


def _keyed(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [f"+ {kind} {k}" for k in new if k not in old]
    lines += [f"- {kind} {k}" for k in old if k not in new]
    lines += [
        f"~ {kind} {k}: {_short(old[k])} -> {_short(new[k])}"
        for k in new
        if k in old and _plain(old[k]) != _plain(new[k])
    ]
    return lines


def _dicts(slots: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in slots.items()}


def _plain(value: Any) -> Any:
    """Comparable plain data: model objects through their `to_dict`, tuples as lists."""
    if hasattr(value, "to_dict"):
        return _plain(value.to_dict())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(_plain(value), sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
