"""`GET` / `DELETE /v1/visitors/me`: export and erase what is stored about a visitor.

Either credential names the visitor: `Authorization: Bearer <visitor token>` (signed by
collect) or `Authorization: Proof v1.<site>.<visitor>.<device secret>` (checked against
the SHA-256 registered in the visitor's `AUTH` item, see `lambdas.logic._device`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lambdas.dal.store import Key, Store
from lambdas.logic import tokens
from lambdas.logic._device import parse_proof, proof_matches
from lambdas.logic._events import decode_event
from lambdas.logic._profile import AUTH_SK, customer_pk, visitor_pk
from lambdas.models.errors import Unauthorized
from lambdas.models.events import SITE_PATTERN

__all__ = ["Subject", "allowed_origin", "authorize", "erase_visitor", "export_visitor"]

_INTERNAL = ("pk", "sk")
_SITE = re.compile(SITE_PATTERN)
_FORMS = "'Bearer <visitor token>' or 'Proof v1.<site>.<visitor>.<device secret>'"


@dataclass(frozen=True, slots=True)
class Subject:
    """The visitor a request has proven to be."""

    site: str
    visitor: str


def authorize(authorization: str | None, *, store: Store, key: bytes, now: int) -> Subject:
    """The visitor named by a valid token or device proof, else `Unauthorized`.

    Every failure is a 401 with a sentence; a proof for a visitor with nothing registered
    (never registered, or erased) is refused like a wrong one, so the answer does not tell
    which visitor ids have data.
    """
    if not authorization:
        raise Unauthorized(
            "send the visitor token as 'Authorization: Bearer <visitor token>' or the "
            "device proof as 'Authorization: Proof v1.<site>.<visitor>.<device secret>'"
        )
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        claims = tokens.verify(key, credentials, now=now)
        if claims is None:
            raise Unauthorized("the visitor token is not valid (wrong signature, or expired)")
        return Subject(claims.site, claims.visitor)
    if scheme.lower() == "proof" and credentials:
        parsed = parse_proof(credentials)
        if parsed is None:
            raise Unauthorized(
                "the device proof must be 'v1.<site>.<visitor>.<secret>' with a secret "
                "of 43 base64url characters"
            )
        site, visitor, secret = parsed
        if not proof_matches(store.get_item(visitor_pk(site, visitor), AUTH_SK), secret):
            raise Unauthorized(
                f"the device proof is not the one registered for visitor {visitor!r} "
                f"of site {site!r} (or none is registered)"
            )
        return Subject(site, visitor)
    raise Unauthorized(f"the Authorization header must be {_FORMS}")


def allowed_origin(store: Store, authorization: str | None, origin: str | None) -> str | None:
    """`origin` if it is listed for the site the credentials name (unverified: CORS only).

    Read before the credentials are checked, so that a browser can read a 401 as well.
    """
    if not origin or not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    parts = credentials.strip().split(".", 2)
    site = parts[1] if len(parts) == 3 and parts[0] == "v1" else ""
    if scheme.lower() not in ("bearer", "proof") or not _SITE.fullmatch(site):
        return None
    config = store.site_config(site) or {}
    return origin if origin in (config.get("origins") or []) else None


def export_visitor(store: Store, subject: Subject) -> dict[str, Any]:
    """Everything stored under the visitor: events (decoded, by time), profile, aliases,
    and its device record (`AUTH`: the proof's hash, never the secret)."""
    items = store.query(visitor_pk(subject.site, subject.visitor))
    # By time: the key holds the event id only (TABLE.md), so the query's order is not.
    stored = sorted(
        (item for item in items if str(item["sk"]).startswith("E#")),
        key=lambda item: (int(item.get("ts") or 0), str(item["sk"])),
    )
    events = [decode_event(item) for item in stored]
    by_sk = {str(item["sk"]): item for item in items}
    profile, alias = by_sk.get("P"), by_sk.get("ALIAS")
    out: dict[str, Any] = {
        "site": subject.site,
        "visitor": subject.visitor,
        "events": events,
        "profile": _public(profile),
        "aliases": [],
        "customer_profile": None,
        "device": _public(by_sk.get(AUTH_SK)),
    }
    if alias:
        customer = str(alias["customer"])
        out["aliases"].append({"customer": customer, "at": alias.get("at")})
        # The merged profile is what personalizes this visitor now, so it is theirs to see.
        out["customer_profile"] = _public(
            store.get_item(customer_pk(subject.site, customer), "P")
        )
    return out


def erase_visitor(store: Store, subject: Subject) -> dict[str, int]:
    """Delete the visitor's partition (events, profile, markers, its `AUTH` item) and its
    aliases (both directions); idempotent."""
    vpk = visitor_pk(subject.site, subject.visitor)
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
            keys.append((customer_pk(subject.site, str(item["customer"])), f"A#{subject.visitor}"))
    store.delete_keys(keys)
    return counts


def _public(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: v for k, v in item.items() if k not in _INTERNAL}
