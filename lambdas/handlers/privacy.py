"""The privacy Lambda: `GET` (export) and `DELETE` (erase) `/v1/visitors/me`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.handlers import _common
from lambdas.handlers.api import json_response, make_resolver, now_ms, preflight, request_origin
from lambdas.logic.privacy import (
    Subject,
    allowed_origin,
    authorize,
    erase_visitor,
    export_visitor,
)

__all__ = ["app", "handler"]

_common.settings()  # fail the cold start, not the first request, on a bad environment
app = make_resolver()
logger = Logger(service="privacy")
tracer = Tracer(service="privacy")
metrics = Metrics(namespace="perso", service="privacy")


def _subject() -> Subject:
    """The visitor the Authorization header proves (token or device proof); CORS first, so
    the site's own pages can read a 401 too."""
    authorization = app.current_event.headers.get("authorization")
    store = _common.store()
    origin = allowed_origin(store, authorization, request_origin(app))
    if origin:
        # Powertools leaves append_context unannotated (a missing annotation, not a bug here).
        app.append_context(cors_origin=origin)  # type: ignore[no-untyped-call]
    return authorize(authorization, store=store, key=_common.key(), now=now_ms() // 1000)


@app.get("/v1/visitors/me")
def export_me() -> Response[str]:
    subject = _subject()
    data = export_visitor(_common.store(), subject)
    _common.count(metrics, {"exports": 1})
    return json_response(app, 200, data)


@app.delete("/v1/visitors/me")
def erase_me() -> Response[str]:
    subject = _subject()
    removed = erase_visitor(_common.store(), subject)
    _common.count(metrics, {"erasures": 1})
    return json_response(app, 200, {"removed": removed})


@app.route("/v1/visitors/me", method="OPTIONS")
def options_me() -> Response[str]:
    return preflight(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _common.resolve(app, metrics, event, context)
