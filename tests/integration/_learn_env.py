"""Helpers for the aggregate/publish tests: moto's server, the table, the bucket, events.

Everything runs against a real `ThreadedMotoServer` on loopback (DynamoDB, DynamoDB
Streams, S3, CloudFront); each test gets its own table and bucket names.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import msgpack
import pytest
from moto.server import ThreadedMotoServer

from lambdas.dal import admin

__all__ = ["Learn", "moto_server", "put_event", "start_learn"]

_names = itertools.count()


@contextmanager
def moto_server() -> Iterator[str]:
    """A private moto server (the tests use conftest's session `moto_endpoint` instead)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass
class Learn:
    endpoint: str
    table: str
    bucket: str
    distribution: str
    dynamodb: Any
    streams: Any
    s3: Any
    cloudfront: Any


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def start_learn(endpoint: str, monkeypatch: pytest.MonkeyPatch, *, shards: int = 2) -> Learn:
    """A fresh table (with its stream), bucket and distribution; env set for the handlers."""
    n = next(_names)
    table, bucket = f"perso-learn-{n}", f"perso-cdn-{n}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PERSO_TABLE": table,
        "PERSO_DYNAMODB_ENDPOINT": endpoint,
        "PERSO_S3_ENDPOINT": endpoint,
        "PERSO_CLOUDFRONT_ENDPOINT": endpoint,
        "PERSO_BUCKET": bucket,
        "PERSO_COUNTER_SHARDS": str(shards),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    ddb = _client("dynamodb", endpoint)
    admin.create_table(ddb, table)
    s3 = _client("s3", endpoint)
    s3.create_bucket(Bucket=bucket)
    cloudfront = _client("cloudfront", endpoint)
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": f"perso-{n}",
            "Comment": "perso test",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "cdn",
                        "DomainName": f"{bucket}.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "cdn",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )["Distribution"]["Id"]
    monkeypatch.setenv("PERSO_DISTRIBUTION_ID", distribution)
    _reset()
    return Learn(
        endpoint,
        table,
        bucket,
        distribution,
        ddb,
        _client("dynamodbstreams", endpoint),
        s3,
        cloudfront,
    )


def _reset() -> None:
    from lambdas.dal.cdn import make_cdn_clients
    from lambdas.dal.client import reset_clients
    from lambdas.handlers import aggregate, publish
    from lambdas.models.settings import reset_settings

    reset_settings()
    reset_clients()
    make_cdn_clients.cache_clear()
    aggregate.reset()
    publish.reset()


def put_event(
    learn: Learn,
    *,
    visitor: str,
    event_id: str,
    kind: str,
    ts_ms: int = 1_795_000_000_000,
    site: str = "shop",
    props: dict[str, Any] | None = None,
    personalization: bool = True,
    **attrs: Any,
) -> None:
    """Write one event item exactly as the collect Lambda does (lambdas/dal/TABLE.md)."""
    item: dict[str, Any] = {
        "pk": {"S": f"V#{site}#{visitor}"},
        "sk": {"S": f"E#{event_id}"},
        "t": {"S": kind},
        "site": {"S": site},
        "vid": {"S": visitor},
        "ts": {"N": str(ts_ms)},
        "ch": {"S": "web"},
        "pc": {"BOOL": personalization},
        "d": {"B": msgpack.packb({"props": props or {}, "id": event_id})},
        "ttl": {"N": str(ts_ms // 1000 + 395 * 86400)},
    }
    for name, value in attrs.items():
        item[name] = {"N": str(value)} if isinstance(value, int | float) else {"S": str(value)}
    learn.dynamodb.put_item(TableName=learn.table, Item=item)
