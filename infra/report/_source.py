"""Where a report's counters and artifact live: one table and one bucket (AWS or moto).

>>> TableTarget(table="perso-events", bucket="perso-cdn").shards
4
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lambdas.logic.report import DEFAULT_EXPECTED_VISITORS, report_site
from lambdas.models.report import IntervalKind, Report

__all__ = ["TableTarget", "read_report", "site_ids"]


@dataclass(frozen=True, slots=True)
class TableTarget:
    """The perso table and CDN bucket to read; `endpoint_url` for moto (`perso dev`)."""

    table: str
    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    shards: int = 4
    # moto takes any key; AWS reads the caller's own credentials (None)
    credentials: tuple[str, str] | None = None


def read_report(
    target: TableTarget,
    site: str,
    *,
    now: datetime,
    experience: str | None = None,
    since: date | None = None,
    intervals: IntervalKind = "sequential",
    expected_visitors: float = DEFAULT_EXPECTED_VISITORS,
) -> Report:
    """`lambdas.logic.report.report_site` over the target's table and bucket."""
    cdn, counters = _stores(target)
    return report_site(
        site,
        cdn=cdn,
        counters=counters,
        now=now,
        experience=experience,
        since=since,
        intervals=intervals,
        expected_visitors=expected_visitors,
    )


def site_ids(target: TableTarget) -> list[str]:
    """Sites with a published ruleset in the target's bucket."""
    cdn, _ = _stores(target)
    return [site for site in cdn.sites() if cdn.get_pointer(site) is not None]


def _stores(target: TableTarget) -> tuple[Any, Any]:
    # boto3 takes most of a second to import: only reading a report pays for it.
    import boto3
    from botocore.config import Config

    from lambdas.dal.cdn import S3Cdn
    from lambdas.dal.counters import DynamoCounters

    options: dict[str, Any] = {}
    if target.region:
        options["region_name"] = target.region
    if target.credentials is not None:
        options["aws_access_key_id"], options["aws_secret_access_key"] = target.credentials
        options.setdefault("region_name", "us-east-1")
    session = boto3.session.Session(**options)
    config = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard"})
    dynamodb = session.client("dynamodb", endpoint_url=target.endpoint_url, config=config)
    s3 = session.client("s3", endpoint_url=target.endpoint_url, config=config)
    return S3Cdn(s3, target.bucket), DynamoCounters(dynamodb, target.table, shards=target.shards)
