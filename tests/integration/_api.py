"""Helpers for the API tests: requests through the local stack's API Gateway adapter."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from typing import Any

from infra.local.stack import LocalBackend
from lambdas.logic import tokens
from lambdas.models.settings import get_settings

__all__ = [
    "ORIGIN",
    "call",
    "event",
    "iso",
    "new_secret",
    "new_visitor",
    "post_events",
    "proof_header",
    "token_for",
]

ORIGIN = "http://localhost:8000"


def iso(offset_ms: int = 0) -> str:
    ms = int(time.time() * 1000) + offset_ms
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def new_visitor() -> str:
    return str(uuid.uuid4())


def new_secret() -> str:
    """A device secret as the browser makes it: 32 random bytes, base64url, no padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def proof_header(visitor: str, secret: str, *, site: str = "demo-shop") -> dict[str, str]:
    return {"Authorization": f"Proof v1.{site}.{visitor}.{secret}"}


def event(kind: str = "page_view", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(uuid.uuid4()), "type": kind, "ts": iso()}
    if kind == "exposure":
        out |= {"experience": "evening-free-shipping", "variant": "free-shipping"}
    if kind == "conversion":
        out |= {"name": "purchase", "value": 129.9}
    return out | extra


def call(
    backend: LocalBackend,
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    client_addr: str = "127.0.0.1",
) -> tuple[int, dict[str, str], Any]:
    """One request; the JSON answer decoded (bodies that are not JSON come back as bytes)."""
    raw = body if isinstance(body, bytes | str) or body is None else json.dumps(body)
    status, out_headers, data = backend.api(
        method, path, headers or {}, raw, client_addr=client_addr
    )
    try:
        return status, out_headers, json.loads(data) if data else None
    except ValueError:
        return status, out_headers, data


def post_events(
    backend: LocalBackend,
    events: list[Any],
    *,
    visitor: str | None = None,
    consent: dict[str, bool] | None = None,
    token: str | None = None,
    proof: str | None = None,
    site: str = "demo-shop",
    origin: str | None = ORIGIN,
    client_addr: str = "127.0.0.1",
) -> tuple[int, dict[str, str], Any]:
    body: dict[str, Any] = {
        "site": site,
        "visitor": visitor or new_visitor(),
        "consent": consent if consent is not None else {"analytics": True, "personalization": True},
        "sent_at": iso(),
        "events": events,
    }
    if token:
        body["token"] = token
    if proof:
        body["proof"] = proof
    headers = {"Content-Type": "text/plain;charset=UTF-8"}
    if origin:
        headers["Origin"] = origin
    return call(backend, "POST", "/v1/events", body, headers=headers, client_addr=client_addr)


def token_for(visitor: str, *, site: str = "demo-shop") -> str:
    """A token signed with the running stack's key (what collect hands out)."""
    key = str(get_settings().token_key).encode()
    return tokens.sign(key, site=site, visitor=visitor, now=int(time.time()))
