"""`GET` / `DELETE /v1/visitors/me`: export and erase what is stored about a visitor."""

from __future__ import annotations

from typing import Any

from lambdas.dal.store import Key, Store
from lambdas.logic import tokens
from lambdas.logic._events import decode_event
from lambdas.logic._profile import customer_pk, visitor_pk
from lambdas.models.errors import Unauthorized

__all__ = ["claims_from_header", "erase_visitor", "export_visitor"]

_INTERNAL = ("pk", "sk")


def claims_from_header(authorization: str | None, *, key: bytes, now: int) -> tokens.Claims:
    """The token's claims from `Authorization: Bearer <token>`, or `Unauthorized`."""
    if not authorization:
        raise Unauthorized("send the visitor token as 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <visitor token>'")
    claims = tokens.verify(key, token.strip(), now=now)
    if claims is None:
        raise Unauthorized("the visitor token is not valid (wrong signature, or expired)")
    return claims


def export_visitor(store: Store, claims: tokens.Claims) -> dict[str, Any]:
    """Everything stored under the visitor: events (decoded), profile, aliases."""
    items = store.query(visitor_pk(claims.site, claims.visitor))
    events = [decode_event(item) for item in items if str(item["sk"]).startswith("E#")]
    profile = next((item for item in items if item["sk"] == "P"), None)
    alias = next((item for item in items if item["sk"] == "ALIAS"), None)
    out: dict[str, Any] = {
        "site": claims.site,
        "visitor": claims.visitor,
        "events": events,
        "profile": _public(profile),
        "aliases": [],
        "customer_profile": None,
    }
    if alias:
        customer = str(alias["customer"])
        out["aliases"].append({"customer": customer, "at": alias.get("at")})
        # The merged profile is what personalizes this visitor now, so it is theirs to see.
        out["customer_profile"] = _public(
            store.get_item(customer_pk(claims.site, customer), "P")
        )
    return out


def erase_visitor(store: Store, claims: tokens.Claims) -> dict[str, int]:
    """Delete the visitor's events, profile and aliases (both directions); idempotent."""
    vpk = visitor_pk(claims.site, claims.visitor)
    items = store.query(vpk)
    keys: list[Key] = [(vpk, str(item["sk"])) for item in items]
    counts = {"events": 0, "profile": 0, "aliases": 0}
    for item in items:
        sk = str(item["sk"])
        if sk.startswith("E#"):
            counts["events"] += 1
        elif sk == "P":
            counts["profile"] += 1
        elif sk == "ALIAS":
            counts["aliases"] += 1
            keys.append((customer_pk(claims.site, str(item["customer"])), f"A#{claims.visitor}"))
    store.delete_keys(keys)
    return counts


def _public(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: v for k, v in item.items() if k not in _INTERNAL}
