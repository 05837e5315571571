"""EventBridge schedule -> learn from counters -> republish each site's ruleset.

One scheduled invocation publishes every site (`PERSO_SITES`, or every site with a source
or a pointer in the bucket). A site that fails is logged and reported; the others still
publish. The answer lists what happened per site (also what the local timer records).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from lambdas.dal.cdn import CdnUnavailable, S3Cdn, make_cdn_clients
from lambdas.dal.client import make_client
from lambdas.dal.counters import DynamoCounters
from lambdas.logic.publish import PublishError, publish_site
from lambdas.models.errors import StoreUnavailable
from lambdas.models.settings import ENV_BUCKET, get_settings

__all__ = ["handler", "reset"]

logger = Logger(service="perso-publish")


@functools.lru_cache(maxsize=1)
def _backends() -> tuple[S3Cdn, DynamoCounters, tuple[str, ...]]:
    settings = get_settings()
    if not settings.bucket:
        raise RuntimeError(f"set {ENV_BUCKET}: the publisher needs the CDN bucket")
    s3, cloudfront = make_cdn_clients(settings.s3_endpoint, settings.cloudfront_endpoint)
    cdn = S3Cdn(
        s3, settings.bucket, cloudfront=cloudfront, distribution_id=settings.distribution_id
    )
    counters = DynamoCounters(
        make_client(settings.dynamodb_endpoint), settings.table_name, shards=settings.counter_shards
    )
    return cdn, counters, settings.sites


def reset() -> None:
    _backends.cache_clear()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    cdn, counters, sites = _backends()
    now = _event_time(event)
    results: list[dict[str, Any]] = []
    for site in sites or tuple(cdn.sites()):
        try:
            result = publish_site(site, cdn=cdn, counters=counters, now=now)
        except (PublishError, CdnUnavailable, StoreUnavailable) as exc:
            logger.exception("publish failed", extra={"site": site})
            results.append({"site": site, "changed": False, "reason": f"failed: {exc}"})
            continue
        logger.info("published", extra=result.to_dict())
        results.append(result.to_dict())
    return {"published": results}


def _event_time(event: dict[str, Any]) -> datetime:
    # The schedule's own time, so a retried invocation writes the same history key.
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return datetime.now(UTC)
