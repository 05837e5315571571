"""Table creation and site configuration (local stack, tests, `perso` tooling)."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from lambdas.dal.store import Store

__all__ = ["TABLE_SPEC", "configure_site", "create_table", "read_site", "update_site"]

TABLE_SPEC: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
}


def create_table(client: Any, name: str, *, ttl: bool = True) -> str | None:
    """Create the table (idempotent), wait until active, enable TTL. Returns the stream ARN."""
    with contextlib.suppress(client.exceptions.ResourceInUseException):
        client.create_table(TableName=name, **TABLE_SPEC)
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    if ttl:
        try:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"},
            )
        except client.exceptions.ClientError as exc:  # already enabled on a second call
            if "already enabled" not in str(exc).lower():
                raise
    table = client.describe_table(TableName=name)["Table"]
    arn = table.get("LatestStreamArn")
    return str(arn) if arn else None


def configure_site(
    store: Store,
    site: str,
    *,
    origins: list[str],
    api_key: str | None = None,
    retention_days: int | None = None,
) -> None:
    """Write `S#<site>/CONFIG`; the API key is stored only as its sha256."""
    item: dict[str, Any] = {"pk": f"S#{site}", "sk": "CONFIG", "site": site}
    _write_site(store, item, origins=origins, api_key=api_key, retention_days=retention_days)


def read_site(store: Store, site: str) -> dict[str, Any] | None:
    """`S#<site>/CONFIG` as stored (uncached), or None."""
    return store.get_item(f"S#{site}", "CONFIG")


def update_site(
    store: Store,
    site: str,
    *,
    origins: list[str] | None = None,
    api_key: str | None = None,
    retention_days: int | None = None,
) -> dict[str, Any] | None:
    """Change what is given of an existing site's config; None when the site has none."""
    item = read_site(store, site)
    if item is None:
        return None
    return _write_site(
        store, dict(item), origins=origins, api_key=api_key, retention_days=retention_days
    )


def _write_site(
    store: Store,
    item: dict[str, Any],
    *,
    origins: list[str] | None,
    api_key: str | None,
    retention_days: int | None,
) -> dict[str, Any]:
    # The one place a site's config is written: the key only as its sha256, and the
    # API's cached view of the sites dropped so the change applies at once.
    if origins is not None:
        item["origins"] = origins
    if api_key:
        item["api_key_sha256"] = hashlib.sha256(api_key.encode()).hexdigest()
    if retention_days:
        item["retention_days"] = retention_days
    store.put_item(item)
    store.forget_sites()
    return item
