"""Per-process dependencies of the API handlers (settings, store, token key)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import Metrics, MetricUnit

from lambdas.dal.secrets import token_key
from lambdas.dal.store import Store, get_store
from lambdas.models.settings import get_settings

__all__ = ["count", "key", "store"]


def store() -> Store:
    return get_store(get_settings())


def key() -> bytes:
    return token_key(get_settings())


def count(metrics: Metrics, values: dict[str, int]) -> None:
    for name, value in values.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
