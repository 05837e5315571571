"""Per-process dependencies of the API handlers (settings, store, token key)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.metrics import Metrics, MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from lambdas.dal.secrets import token_key
from lambdas.dal.store import Store, get_store
from lambdas.models.settings import Settings, get_settings

__all__ = ["count", "key", "publish", "resolve", "settings", "store"]


def settings() -> Settings:
    """The environment of an API function, which also needs the visitor-token key."""
    return get_settings().require_token_key()


def store() -> Store:
    return get_store(settings())


def key() -> bytes:
    return token_key(settings())


def count(metrics: Metrics, values: dict[str, int]) -> None:
    for name, value in values.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def publish(metrics: Metrics) -> None:
    """Flush the request's metrics (EMF on stdout), or drop them when disabled locally.

    Not `@metrics.log_metrics`: with POWERTOOLS_METRICS_DISABLED it never clears, so the
    set grows until Powertools flushes it at 100 values mid-request and then warns that
    the request has no metrics.
    """
    if is_metrics_disabled():
        metrics.clear_metrics()
    else:
        metrics.flush_metrics()


def resolve(
    app: APIGatewayHttpResolver, metrics: Metrics, event: dict[str, Any], context: Any
) -> dict[str, Any]:
    """What every API entry point does between its Powertools decorators: count the
    request, route it, and flush the request's metrics whatever happened."""
    metrics.add_metric(name="requests", unit=MetricUnit.Count, value=1)
    try:
        return app.resolve(event, context)
    finally:
        publish(metrics)
