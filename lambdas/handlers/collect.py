"""The collect Lambda: `POST /v1/events` (and `GET /v1/openapi.json`)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.handlers import _common
from lambdas.handlers.api import (
    json_response,
    make_resolver,
    now_ms,
    parse_body,
    preflight,
    request_origin,
)
from lambdas.logic.collect import admit, collect, metrics_of
from lambdas.models.events import CollectRequest
from lambdas.models.openapi import build_openapi

__all__ = ["app", "handler"]

_common.settings()  # fail the cold start, not the first request, on a bad environment
app = make_resolver()
logger = Logger(service="collect")
tracer = Tracer(service="collect")
metrics = Metrics(namespace="perso", service="collect")


@app.post("/v1/events")
def post_events() -> Response[str]:
    request = parse_body(app, CollectRequest)
    store = _common.store()
    origin = request_origin(app)
    config = admit(store, request.site, origin)
    if origin:
        # Powertools leaves append_context unannotated (a missing annotation, not a bug here).
        app.append_context(cors_origin=origin)  # type: ignore[no-untyped-call]
    result = collect(request, store=store, config=config, key=_common.key(), now_ms=now_ms())
    _common.count(metrics, metrics_of(result))
    return json_response(app, 200, result)


@app.route("/v1/events", method="OPTIONS")
def options_events() -> Response[str]:
    return preflight(app)


@app.get("/v1/openapi.json")
def openapi() -> Response[str]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(build_openapi()),
        headers={"Cache-Control": "max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _common.resolve(app, metrics, event, context)
