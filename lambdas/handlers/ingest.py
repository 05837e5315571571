"""The ingest Lambda: `POST /v1/ingest` (API key; events from CRM, stores, call centres)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.handlers import _common
from lambdas.handlers.api import json_response, make_resolver, now_ms, parse_body
from lambdas.logic.ingest import check_api_key, ingest
from lambdas.models.events import IngestRequest

__all__ = ["app", "handler"]

_common.settings()  # fail the cold start, not the first request, on a bad environment
app = make_resolver()
logger = Logger(service="ingest")
tracer = Tracer(service="ingest")
metrics = Metrics(namespace="perso", service="ingest")


@app.post("/v1/ingest")
def post_ingest() -> Response[str]:
    request = parse_body(app, IngestRequest)
    store = _common.store()
    check_api_key(store, request.site, app.current_event.headers.get("x-api-key"))
    result = ingest(request, store=store, now_ms=now_ms())
    _common.count(metrics, {"ingested": result.accepted, "rejected": len(result.rejected)})
    return json_response(app, 200, result)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _common.resolve(app, metrics, event, context)
