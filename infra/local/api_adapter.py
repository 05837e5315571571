"""HTTP request -> API Gateway HTTP API (payload 2.0) event -> handler -> HTTP response.

The dev server and the tests drive the real Lambda handlers through this, with the event
shape API Gateway produces, so nothing local takes a shortcut the cloud would not.

>>> event = to_event("POST", "/v1/events?x=1", {"Content-Type": "text/plain"}, b"{}")
>>> (event["rawPath"], event["rawQueryString"], event["headers"]["content-type"])
('/v1/events', 'x=1', 'text/plain')
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.local.context import LocalContext

__all__ = ["ROUTES", "invoke", "to_event"]

# path -> the function whose `handler` serves it (one Lambda each in AWS)
ROUTES: dict[str, str] = {
    "/v1/events": "collect",
    "/v1/openapi.json": "collect",
    "/v1/visitors/me": "privacy",
    "/v1/ingest": "ingest",
    "/v1/decide": "decide",
}
_FALLBACK = "collect"  # its resolver answers unknown paths with a JSON 404
# A Lambda instance serves one request at a time, and the resolvers keep the current event
# in module state; a threaded dev server must not interleave two requests in one handler.
_LOCKS: dict[str, threading.Lock] = {name: threading.Lock() for name in set(ROUTES.values())}

Handler = Callable[[dict[str, Any], Any], Any]


@functools.cache
def _handlers() -> dict[str, Handler]:
    # Imported at the first request, not with this module: that is the functions' cold
    # start, where each validates the environment the local stack has set by then.
    from lambdas.handlers import collect, decide, ingest, privacy

    return {
        "collect": collect.handler,
        "decide": decide.handler,
        "ingest": ingest.handler,
        "privacy": privacy.handler,
    }


def to_event(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes | str | None,
    *,
    client_addr: str = "127.0.0.1",
) -> dict[str, Any]:
    """The API Gateway v2 event for one request (headers lowercased, repeated ones joined)."""
    parts = urlsplit(path)
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    raw = body.encode() if isinstance(body, str) else (body or b"")
    try:
        text, encoded = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(raw).decode(), True
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = dt.datetime.now(dt.UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": lowered.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method.upper(),
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": client_addr,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if raw:
        event["body"] = text
    return event


def invoke(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes | str | None,
    *,
    client_addr: str = "127.0.0.1",
) -> tuple[int, dict[str, str], bytes]:
    """Run the handler that owns `path`; answer (status, headers, body bytes)."""
    event = to_event(method, path, headers, body, client_addr=client_addr)
    name = ROUTES.get(event["rawPath"], _FALLBACK)
    with _LOCKS[name]:
        result = _handlers()[name](event, LocalContext(name))
    return _from_result(result)


def _from_result(result: Any) -> tuple[int, dict[str, str], bytes]:
    if not isinstance(result, dict) or "statusCode" not in result:
        # Payload 2.0 lets a function return a bare JSON value: a 200 with that body.
        return 200, {"content-type": "application/json"}, json.dumps(result).encode()
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name).lower()] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return int(result["statusCode"]), headers, data
