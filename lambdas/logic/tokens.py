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
import re
from dataclasses import dataclass

__all__ = ["MAX_AGE_SECONDS", "Claims", "sign", "verify"]

MAX_AGE_SECONDS = 400 * 86400  # a little over the default retention
# One spelling per token: ASCII digits only (`str.isdigit` and `\d` take "１" and "²"), no
# leading zero, at most 12 digits; the signature is the canonical base64url of 32 bytes
# (43 characters; the last one carries 4 bits and 2 zero bits, so only 16 letters fit).
_ISSUED = re.compile(r"[1-9][0-9]{0,11}")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")


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
    """The claims of a valid, unexpired token, else None (never raises on bad input).

    Parsed strictly, so that a signature verifies for exactly one spelling of a token.
    """
    parts = token.split(".", 3)
    if len(parts) != 4 or parts[0] != "v1" or "." not in parts[3]:
        return None
    visitor, signature = parts[3].rsplit(".", 1)
    if not _ISSUED.fullmatch(parts[2]) or not _SIGNATURE.fullmatch(signature):
        return None
    site, issued = parts[1], int(parts[2])
    expected = _mac(key, site, issued, visitor)
    # compare_digest: the time taken must not reveal how much of the signature matched.
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return None
    if issued > now + 300 or now - issued > max_age:
        return None
    return Claims(site=site, visitor=visitor, issued_at=issued)
