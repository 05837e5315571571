"""The decide Lambda: `POST /v1/decide` (DESIGN §8), the first view decided on the server.

It stores nothing and logs no signal: the logger never sees the body (no
`log_event`), and errors name the field, not the value sent.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.dal.cdn import S3Cdn, make_cdn_clients
from lambdas.dal.store import get_store
from lambdas.handlers import _common
from lambdas.handlers.api import (
    json_response,
    make_resolver,
    parse_body,
    preflight,
    request_origin,
)
from lambdas.logic.collect import admit
from lambdas.logic.decide import LiveRulesets, decide_view
from lambdas.models.decide import DecideRequest
from lambdas.models.settings import ENV_BUCKET, get_settings

__all__ = ["app", "handler", "rulesets"]

get_settings()  # fail the cold start, not the first request, on a bad environment
app = make_resolver()
logger = Logger(service="decide")
tracer = Tracer(service="decide")
metrics = Metrics(namespace="perso", service="decide")


def rulesets() -> LiveRulesets:
    """The live rulesets of this container: loaded once per site, refreshed per pointer."""
    settings = get_settings()
    if not settings.bucket:
        raise RuntimeError(f"set {ENV_BUCKET}: decide reads the live rulesets from the CDN bucket")
    return _rulesets(settings.bucket, settings.s3_endpoint)


# Keyed by bucket and endpoint, so a second local stack in one process gets its own.
@functools.lru_cache(maxsize=4)
def _rulesets(bucket: str, s3_endpoint: str | None) -> LiveRulesets:
    s3, _ = make_cdn_clients(s3_endpoint, s3_endpoint)
    return LiveRulesets(S3Cdn(s3, bucket))


@app.post("/v1/decide")
def post_decide() -> Response[str]:
    request = parse_body(app, DecideRequest)
    origin = request_origin(app)
    admit(get_store(get_settings()), request.site, origin)
    if origin:
        # Powertools leaves append_context unannotated (a missing annotation, not a bug here).
        app.append_context(cors_origin=origin)  # type: ignore[no-untyped-call]
    version, ruleset = rulesets().get(request.site)
    answer = decide_view(request, ruleset=ruleset, version=version, now=datetime.now(UTC))
    return json_response(app, 200, answer)


@app.route("/v1/decide", method="OPTIONS")
def options_decide() -> Response[str]:
    return preflight(app)


# log_event=False: never the body, even if POWERTOOLS_LOGGER_LOG_EVENT is set.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False
)
# No response in the trace either: the decisions say something about the signals.
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _common.resolve(app, metrics, event, context)
