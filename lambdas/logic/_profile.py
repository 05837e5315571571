"""Profiles and identity: the view collect/privacy answer with, and the identify merge.

Profile attributes are in TABLE.md ("Profile"). Merging is deterministic: counters add,
segments unite, and on a conflicting assignment the customer's (the target's) stays, so
an offer already shown or taken in one channel keeps its variant everywhere.

>>> merge_profiles({"counts": {"a": 1}, "assign": {"x": "v1"}},
...                {"counts": {"a": 2}, "assign": {"x": "v2", "y": "w"}})["assign"]
{'x': 'v1', 'y': 'w'}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lambdas.dal.store import Item, Store
from lambdas.models.errors import StoreUnavailable, WriteConflict

__all__ = [
    "AUTH_SK",
    "ProfileView",
    "customer_pk",
    "merge_identity",
    "merge_profiles",
    "read_view",
    "visitor_pk",
]

AUTH_SK = "AUTH"  # the visitor's device proof item (`lambdas.logic._device`)
_SUMMED = ("counts", "expo", "conv")
_TRIES = 5
_MERGED_FROM = 50  # visitor ids remembered on a customer profile (idempotence of identify)


def visitor_pk(site: str, visitor: str) -> str:
    return f"V#{site}#{visitor}"


def customer_pk(site: str, customer: str) -> str:
    return f"C#{site}#{customer}"


@dataclass(slots=True)
class ProfileView:
    known: bool = False  # the visitor has a profile or an alias
    auth: Item | None = None  # its AUTH item (device proof, token issued), if any
    customer: str | None = None
    segments: list[str] = field(default_factory=list)
    assignments: dict[str, str] = field(default_factory=dict)
    conversions: dict[str, int] = field(default_factory=dict)


def merge_profiles(target: Item, source: Item) -> Item:
    """`source` folded into `target` (a new dict; neither argument changes)."""
    out: Item = {k: v for k, v in target.items() if k not in ("pk", "sk", "merged_into")}
    # Counters the aggregator keeps beside the shared maps (TABLE.md) add up as well.
    for name in ("value", "visits"):
        if name in source or name in target:
            out[name] = (target.get(name) or 0) + (source.get(name) or 0)
    for name in _SUMMED:
        merged = dict(target.get(name) or {})
        for key, count in (source.get(name) or {}).items():
            merged[key] = merged.get(key, 0) + count
        if merged:
            out[name] = merged
    assign = dict(source.get("assign") or {})
    assign.update(target.get("assign") or {})
    if assign:
        out["assign"] = assign
    segments = sorted(set(target.get("segments") or []) | set(source.get("segments") or []))
    if segments:
        out["segments"] = segments
    traits = dict(source.get("traits") or {})
    traits.update(target.get("traits") or {})
    if traits:
        out["traits"] = traits
    return out


def read_view(store: Store, site: str, visitor: str) -> ProfileView:
    """What the server knows of a visitor, following its alias to the customer profile."""
    vpk = visitor_pk(site, visitor)
    got = store.get_items([(vpk, "P"), (vpk, "ALIAS"), (vpk, AUTH_SK)])
    profile, alias = got.get((vpk, "P")), got.get((vpk, "ALIAS"))
    view = ProfileView(known=bool(profile or alias), auth=got.get((vpk, AUTH_SK)))
    merged: Item = profile or {}
    if alias:
        view.customer = str(alias["customer"])
        customer_profile = store.get_item(customer_pk(site, view.customer), "P") or {}
        # Once merged, the visitor profile's counts live in the customer's; adding them
        # again would double them.
        if profile and profile.get("merged_into"):
            merged = customer_profile
        else:
            merged = merge_profiles(customer_profile, profile or {})
    view.segments = sorted(str(s) for s in merged.get("segments") or [])
    view.assignments = {str(k): str(v) for k, v in (merged.get("assign") or {}).items()}
    view.conversions = {str(k): int(v) for k, v in (merged.get("conv") or {}).items()}
    return view


def merge_identity(
    store: Store,
    *,
    site: str,
    customer: str,
    visitor: str,
    channel: str,
    traits: dict[str, Any],
    now: int,
) -> bool:
    """Alias `visitor` to `customer` and fold its profile in; idempotent. True if merged now.

    Safe against the aggregator's concurrent updates: the visitor profile is first frozen
    (`merged_into` set, conditioned on its counts being the ones read; the aggregator sends
    later updates to the customer from then on), then the customer profile is rewritten
    conditioned on its counts, re-read and retried on a race. `merged_from` on the customer
    records the visitors already folded in, so a retried identify never adds twice.
    """
    vpk, cpk = visitor_pk(site, visitor), customer_pk(site, customer)
    vprof: Item | None = None
    for _ in range(_TRIES):
        vprof = store.get_item(vpk, "P")
        if vprof is None or vprof.get("merged_into") == cpk:
            break
        try:
            store.set_if_unchanged(vpk, "P", {"merged_into": cpk, "updated": now}, previous=vprof)
            break
        except WriteConflict:
            continue
    else:
        raise StoreUnavailable("the visitor profile kept changing during identify; retry later")
    merged_now = False
    for _ in range(_TRIES):
        cprof = store.get_item(cpk, "P")
        target = dict(cprof or {})
        done = [str(v) for v in target.get("merged_from") or []]
        if vprof is not None and visitor not in done:
            target = merge_profiles(target, vprof)
            target["merged_from"] = [*done, visitor][-_MERGED_FROM:]
            merged_now = True
        if traits:
            target["traits"] = {**(target.get("traits") or {}), **traits}
        if target == (cprof or {}):
            break
        try:
            store.put_if_unchanged({**target, "pk": cpk, "sk": "P", "updated": now}, previous=cprof)
            break
        except WriteConflict:
            merged_now = False
            continue
    else:
        raise StoreUnavailable("the customer profile kept changing during identify; retry later")
    store.put_items(
        [
            {"pk": cpk, "sk": f"A#{visitor}", "visitor": visitor, "at": now, "channel": channel},
            {"pk": vpk, "sk": "ALIAS", "customer": customer, "at": now},
        ]
    )
    return merged_now
