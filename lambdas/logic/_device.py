"""Device proof: who may write events into a visitor's partition, and export or erase it.

On consent the browser makes a secret (32 random bytes, base64url without padding: 43
characters) and keeps it with the visitor id. It sends it as `proof` in every
`POST /v1/events` body, and as `Authorization: Proof v1.<site>.<visitor>.<secret>` to
export or erase. The server never stores the secret, only its SHA-256 (hex, of the 43
ASCII characters) in the visitor's `AUTH` item (lambdas/dal/TABLE.md), which is registered
by the visitor's first batch. So a device whose first answer (and token) was lost, say a
beacon sent while the page closed, can still prove it is that visitor, and nobody who
merely knows a visitor id can write into its profile.

>>> parse_proof("v1.demo-shop.a.b.c." + "A" * 43)
('demo-shop', 'a.b.c', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
>>> parse_proof("v1.demo-shop.a." + "A" * 42) is None
True
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re

from lambdas.dal.store import Item, Store
from lambdas.logic import tokens
from lambdas.logic._profile import AUTH_SK, visitor_pk
from lambdas.models.errors import Forbidden, WriteConflict
from lambdas.models.events import ID_PATTERN, PROOF_PATTERN, SITE_PATTERN

__all__ = [
    "AUTH_SK",
    "Trust",
    "parse_proof",
    "proof_matches",
    "proof_sha256",
    "register_first",
    "trust_batch",
]

_SITE, _VISITOR, _SECRET = (re.compile(p) for p in (SITE_PATTERN, ID_PATTERN, PROOF_PATTERN))
# Compared when nothing is registered, so that case takes as long as a wrong proof.
_NOTHING = hashlib.sha256(b"perso: no device proof registered").hexdigest()
_REFUSED = "events for visitor {visitor!r} need its token or device proof"


def proof_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def proof_matches(auth: Item | None, secret: str | None) -> bool:
    """Whether `secret` is the one registered in `auth` (constant time; False if none is)."""
    registered = str((auth or {}).get("proof_sha256") or "")
    given = proof_sha256(secret) if secret and _SECRET.fullmatch(secret) else ""
    same = hmac.compare_digest(given or _NOTHING, registered or _NOTHING)
    return same and bool(given) and bool(registered)


def parse_proof(credentials: str) -> tuple[str, str, str] | None:
    """`v1.<site>.<visitor>.<secret>` as (site, visitor, secret), or None if malformed.

    The site has no dots and the secret is base64url, so the visitor id (which may hold
    dots) is what lies between the second dot and the last one.
    """
    parts = credentials.split(".", 2)
    if len(parts) != 3 or parts[0] != "v1" or "." not in parts[2]:
        return None
    site, (visitor, secret) = parts[1], parts[2].rsplit(".", 1)
    if not (_SITE.fullmatch(site) and _VISITOR.fullmatch(visitor) and _SECRET.fullmatch(secret)):
        return None
    return site, visitor, secret


class Trust(enum.Enum):
    """What a consented batch proved about its visitor (`trust_batch`)."""

    PROVEN = "proven"  # a valid token, the registered proof, or a first sight with a proof
    FIRST = "first"  # a first sight without a proof: `register_first` once the events are in
    LEGACY = "legacy"  # known before device proofs, no AUTH item: accepted, no token


def trust_batch(
    store: Store,
    *,
    site: str,
    visitor: str,
    token: str | None,
    proof: str | None,
    auth: Item | None,
    known: bool,
    key: bytes,
    now: int,
) -> Trust:
    """Whether a consented batch speaks for `visitor`, decided before anything is written.

    `Forbidden` when the visitor has an `AUTH` item and the batch carries neither a valid
    token nor the registered proof: the batch is refused whole. A first sight with a proof
    registers it here, with a conditional put, so of two racing first batches only one
    secret is registered; the other batch is trusted only if it carries the same secret.
    `auth` is the visitor's `AUTH` item and `known` whether it has a profile or an alias,
    both read with the visitor's view (one round trip).
    """
    pk = visitor_pk(site, visitor)
    claims = tokens.verify(key, token, now=now) if token else None
    if claims is not None and (claims.site, claims.visitor) == (site, visitor):
        _protect(store, pk, auth, proof, now)
        return Trust.PROVEN
    if auth is not None:
        if proof_matches(auth, proof):
            return Trust.PROVEN
        raise Forbidden(_REFUSED.format(visitor=visitor))
    if known or store.query(pk, limit=1):
        # Data from before device proofs: a proof sent now cannot be told from a guess.
        return Trust.LEGACY
    if proof is None:
        return Trust.FIRST
    try:
        store.put_if_unchanged(_auth_item(pk, proof, now), previous=None)
    except WriteConflict:
        if proof_matches(store.get_item(pk, AUTH_SK), proof):
            return Trust.PROVEN  # the same device's other batch registered first
        raise Forbidden(_REFUSED.format(visitor=visitor)) from None
    return Trust.PROVEN


def register_first(store: Store, *, site: str, visitor: str, now: int) -> bool:
    """After a first batch without a proof was written: record that a token is handed out
    (`AUTH` without a proof), so tokenless batches are refused from now on. True when this
    call registered it (answer with the token); False if a racing batch did.

    After the write, not before: a first batch that fails (503) leaves no `AUTH` item, so
    its retry, which has no token to show, is not locked out.
    """
    try:
        store.put_if_unchanged(_auth_item(visitor_pk(site, visitor), None, now), previous=None)
    except WriteConflict:
        return False
    return True


def _protect(store: Store, pk: str, auth: Item | None, proof: str | None, now: int) -> None:
    # A batch trusted by its token makes sure the visitor is protected from now on: an
    # `AUTH` item for a visitor from before device proofs, and the proof if none is set.
    try:
        if auth is None:
            store.put_if_unchanged(_auth_item(pk, proof, now), previous=None)
        elif proof and not auth.get("proof_sha256"):
            # A conditional PutItem (collect's role has no UpdateItem): only if still unset.
            store.put_if_unchanged(
                {**auth, "proof_sha256": proof_sha256(proof)},
                previous=auth, fields=("proof_sha256",),
            )
    except WriteConflict:
        pass  # a concurrent batch registered first; the token is valid all the same


def _auth_item(pk: str, proof: str | None, now: int) -> Item:
    # Written only for a batch that is answered with a token, hence `token_issued`.
    item: Item = {"pk": pk, "sk": AUTH_SK, "token_issued": True, "at": now}
    if proof:
        item["proof_sha256"] = proof_sha256(proof)
    return item
