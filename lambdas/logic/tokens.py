"""Visitor tokens: HMAC-SHA256 over the site and the visitor id.

A token proves that whoever holds it received it from the collector for that visitor id;
the privacy endpoints require it. Format: `v1.<site>.<issued_at>.<visitor>.<sig>` (the site
has no dots and the signature is base64url, so a visitor id may contain dots).

>>> key = b"k" * 32
>>> token = sign(key, site="demo-shop", visitor="v.1", now=1_700_000_000)
>>> verify(key, token, now=1_700_000_100)
Claims(site='demo-shop', visitor='v.1', issued_at=1700000000)
>>> verify(key, token[:-1] + "A", now=1_700_000_100) is None
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

__all__ = ["MAX_AGE_SECONDS", "Claims", "sign", "verify"]

MAX_AGE_SECONDS = 400 * 86400  # a little over the default retention


@dataclass(frozen=True, slots=True)
class Claims:
    site: str
    visitor: str
    issued_at: int


def _mac(key: bytes, site: str, issued_at: int, visitor: str) -> str:
    message = f"v1\x1f{site}\x1f{issued_at}\x1f{visitor}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(key: bytes, *, site: str, visitor: str, now: int) -> str:
    return f"v1.{site}.{now}.{visitor}.{_mac(key, site, now, visitor)}"


def verify(
    key: bytes, token: str, *, now: int, max_age: int = MAX_AGE_SECONDS
) -> Claims | None:
    """The claims of a valid, unexpired token, else None (never raises on bad input)."""
    parts = token.split(".", 3)
    if len(parts) != 4 or parts[0] != "v1" or not parts[2].isdigit() or "." not in parts[3]:
        return None
    site, issued = parts[1], int(parts[2])
    visitor, signature = parts[3].rsplit(".", 1)
    expected = _mac(key, site, issued, visitor)
    # compare_digest: the time taken must not reveal how much of the signature matched.
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return None
    if issued > now + 300 or now - issued > max_age:
        return None
    return Claims(site=site, visitor=visitor, issued_at=issued)
