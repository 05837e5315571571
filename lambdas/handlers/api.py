"""What the API handlers share: body reading, CORS, and THE mapping of errors to statuses.

This is the one module where exceptions become HTTP statuses:

| exception | status |
|---|---|
| `BadRequest` | 400 |
| `Unauthorized` | 401 |
| `Forbidden` | 403 |
| `NotFound` | 404 |
| `PayloadTooLarge` | 413 |
| `StoreRejected` (the store refused input as invalid) | 400 |
| `StoreUnavailable` (busy or unreachable: transient only) | 503 + `Retry-After` |
| `CdnUnavailable` (the CDN bucket cannot be read) | 503 + `Retry-After` |
| `StoreError` and anything else (a bug, a misconfiguration) | 500, logged |

`StoreRejected` is a 400, not a 503: the events are validated against the store's limits
before they are written, so reaching it means input slipped past that validation, and a
503 would make the browser retry a request that can never succeed. (Collect does better
still: it finds the refused event and rejects it alone, see `lambdas.logic._events`.)
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from pydantic import BaseModel, ValidationError

from lambdas.dal.cdn import CdnUnavailable
from lambdas.logic._events import sentence
from lambdas.models.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    StoreRejected,
    StoreUnavailable,
    Unauthorized,
)
from lambdas.models.events import MAX_BODY_BYTES, MAX_EVENTS

__all__ = [
    "STATUS",
    "json_response",
    "make_resolver",
    "now_ms",
    "parse_body",
    "preflight",
    "request_origin",
]

STATUS: dict[type[ApiError], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    PayloadTooLarge: 413,
}
_CORS_METHODS = "GET, POST, DELETE, OPTIONS"
_CORS_HEADERS = "content-type, authorization, x-api-key"

logger = Logger(service="perso")


def now_ms() -> int:
    return int(time.time() * 1000)


def request_origin(app: APIGatewayHttpResolver) -> str | None:
    origin = app.current_event.headers.get("origin")
    return origin or None


def _cors(app: APIGatewayHttpResolver) -> dict[str, str]:
    # The handler appends `cors_origin` only once the Origin was checked against the site.
    origin = app.context.get("cors_origin")
    if not origin:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "Retry-After",
        "Vary": "Origin",
    }


def json_response(
    app: APIGatewayHttpResolver,
    status: int,
    body: BaseModel | dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
        headers={"Cache-Control": "no-store", **_cors(app), **(headers or {})},
    )


def _raw_body(app: APIGatewayHttpResolver) -> bytes:
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("the body is marked base64 but is not valid base64") from exc
    return body.encode("utf-8", "surrogatepass")


def parse_body[M: BaseModel](app: APIGatewayHttpResolver, model: type[M]) -> M:
    """The JSON body (any content type: browsers send text/plain) validated as `model`."""
    raw = _raw_body(app)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    if not raw.strip():
        raise BadRequest("the body is empty; send a JSON object")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8 (byte {exc.start} is invalid)") from exc
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except ValueError as exc:  # after its subclasses above: Python's digit limit for ints
        raise BadRequest(
            f"the body has a number longer than {sys.get_int_max_str_digits()} digits"
        ) from exc
    except RecursionError as exc:
        raise BadRequest("the body is nested too deeply to read") from exc
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, not {type(data).__name__}")
    events = data.get("events")
    if isinstance(events, list) and len(events) > MAX_EVENTS:
        raise PayloadTooLarge(f"{len(events)} events in one request; the limit is {MAX_EVENTS}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(sentence(exc, prefix="body")) from exc


_ErrorHandler = Callable[[Any], Response[str]]


def _handles(
    app: APIGatewayHttpResolver, exc_class: type[Exception]
) -> Callable[[_ErrorHandler], _ErrorHandler]:
    """`app.exception_handler(exc_class)`, typed: Powertools leaves its return unannotated."""
    register: Callable[[_ErrorHandler], _ErrorHandler] = app.exception_handler(exc_class)
    return register


def make_resolver() -> APIGatewayHttpResolver:
    """A resolver with the error mapping, CORS preflight and a JSON 404 installed."""
    app = APIGatewayHttpResolver()

    @_handles(app, ApiError)
    def _api_error(exc: ApiError) -> Response[str]:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        return json_response(app, status, {"message": str(exc)})

    @_handles(app, StoreRejected)
    def _rejected(exc: StoreRejected) -> Response[str]:
        logger.warning("store refused input as invalid", extra={"reason": str(exc)})
        return json_response(app, 400, {"message": f"the request cannot be stored: {exc}"})

    @_handles(app, StoreUnavailable)
    def _unavailable(exc: StoreUnavailable) -> Response[str]:
        logger.warning("store unavailable", extra={"reason": str(exc)})
        return json_response(
            app, 503, {"message": str(exc)}, headers={"Retry-After": str(exc.retry_after)}
        )

    @_handles(app, CdnUnavailable)
    def _cdn_unavailable(exc: CdnUnavailable) -> Response[str]:
        logger.warning("cdn unavailable", extra={"reason": str(exc)})
        return json_response(app, 503, {"message": str(exc)}, headers={"Retry-After": "2"})

    @_handles(app, Exception)
    def _bug(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return json_response(app, 500, {"message": "internal error; it has been logged"})

    @app.not_found
    def _not_found(exc: Exception) -> Response[str]:
        event = app.current_event
        return json_response(
            app, 404, {"message": f"no route for {event.http_method} {event.path}"}
        )

    return app


def preflight(app: APIGatewayHttpResolver) -> Response[str]:
    """CORS preflight. The body (the site) is not sent with it, so the Origin is echoed;
    the real request is checked against the site's origins."""
    origin = request_origin(app)
    headers = {"Access-Control-Max-Age": "86400", "Vary": "Origin"}
    if origin:
        headers |= {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": _CORS_METHODS,
            "Access-Control-Allow-Headers": _CORS_HEADERS,
        }
    return Response(status_code=204, body="", headers=headers)
