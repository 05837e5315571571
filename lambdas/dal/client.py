"""The boto3 DynamoDB client, created once per process.

Timeouts are short and botocore does not retry: `lambdas.dal.store` owns the retry policy
(bounded, exponential backoff with full jitter, tens of milliseconds; botocore's standard
mode would wait up to seconds), and a Lambda must answer well within its timeout.
"""

from __future__ import annotations

import functools

import boto3
from botocore.config import Config

__all__ = ["make_client", "reset_clients"]

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "total_max_attempts": 1},
    max_pool_connections=16,
)


@functools.lru_cache(maxsize=8)
def make_client(endpoint_url: str | None = None, region: str | None = None) -> object:
    """A DynamoDB client (cached per endpoint; `object` keeps boto3 types out of callers)."""
    session = boto3.session.Session()
    return session.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region or session.region_name or "us-east-1",
        config=_CONFIG,
    )


def reset_clients() -> None:
    make_client.cache_clear()
