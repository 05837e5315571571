"""The boto3 DynamoDB client, created once per process.

Timeouts are short and botocore's own retries few: the write path has its own bounded
retry with jitter (`lambdas.dal.store`), and a Lambda must answer well within its timeout.
"""

from __future__ import annotations

import functools

import boto3
from botocore.config import Config

__all__ = ["make_client", "reset_clients"]

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 2},
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
