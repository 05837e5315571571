"""The CDN bucket (S3) and its CloudFront distribution behind a small interface.

Paths (DESIGN §6): `rulesets/<site>/<sha256>.msgpack` (immutable, cached a year),
`rulesets/<site>/latest.json` (the pointer, 60 s with stale-while-revalidate),
`rulesets/<site>/history/<UTC timestamp>-<sha256>.json` (every pointer ever written, for
rollback), `sources/<site>/ruleset.yaml` (the last deployed source, for the publisher).
`ClientError` becomes `CdnUnavailable`.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

__all__ = [
    "ARTIFACT_CACHE",
    "POINTER_CACHE",
    "CdnUnavailable",
    "S3Cdn",
    "artifact_key",
    "make_cdn_clients",
    "pointer_key",
    "source_key",
]

ARTIFACT_CACHE = "public, max-age=31536000, immutable"
POINTER_CACHE = "max-age=60, stale-while-revalidate=86400, stale-if-error=604800"
_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard"})


class CdnUnavailable(Exception):
    """S3 or CloudFront refused or could not be reached; the sentence says which call."""


def artifact_key(site: str, sha256: str) -> str:
    return f"rulesets/{site}/{sha256}.msgpack"


def pointer_key(site: str) -> str:
    return f"rulesets/{site}/latest.json"


def source_key(site: str) -> str:
    return f"sources/{site}/ruleset.yaml"


@functools.lru_cache(maxsize=8)
def make_cdn_clients(
    s3_endpoint: str | None = None,
    cloudfront_endpoint: str | None = None,
    region: str | None = None,
) -> tuple[Any, Any]:
    """(s3, cloudfront) clients, created once per endpoint pair."""
    session = boto3.session.Session()
    region = region or session.region_name or "us-east-1"
    s3 = session.client("s3", endpoint_url=s3_endpoint, region_name=region, config=_CONFIG)
    cloudfront = session.client(
        "cloudfront", endpoint_url=cloudfront_endpoint, region_name=region, config=_CONFIG
    )
    return s3, cloudfront


class S3Cdn:
    """Reads and writes the CDN layout in one bucket; invalidates one distribution."""

    def __init__(
        self, s3: Any, bucket: str, *, cloudfront: Any = None, distribution_id: str | None = None
    ) -> None:
        self._s3 = s3
        self.bucket = bucket
        self._cloudfront = cloudfront
        self.distribution_id = distribution_id
        # Every write in order ("artifact", key) ...: lets tests check the publishing order.
        self.log: list[tuple[str, str]] = []

    # --- reads ------------------------------------------------------------------------

    def get_pointer(self, site: str) -> dict[str, Any] | None:
        data = self._get(pointer_key(site))
        if data is None:
            return None
        try:
            value = json.loads(data)
        except ValueError:
            return None  # a damaged pointer is treated as none: the next publish rewrites it
        return value if isinstance(value, dict) else None

    def get_artifact(self, site: str, sha256: str) -> bytes | None:
        return self._get(artifact_key(site, sha256))

    def get_source(self, site: str) -> str | None:
        data = self._get(source_key(site))
        return None if data is None else data.decode("utf-8", errors="replace")

    def history(self, site: str) -> list[dict[str, Any]]:
        """Every pointer written for `site`, oldest first (keys sort by their timestamp)."""
        out = []
        for key in sorted(self._list(f"rulesets/{site}/history/")):
            data = self._get(key)
            try:
                value = json.loads(data or b"")
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append({**value, "history_key": key})
        return out

    def sites(self) -> list[str]:
        """Sites with a deployed source or a pointer."""
        found = set()
        for prefix in ("sources/", "rulesets/"):
            for common in self._prefixes(prefix):
                found.add(common[len(prefix) :].strip("/"))
        return sorted(s for s in found if s)

    # --- writes -----------------------------------------------------------------------

    def put_artifact(self, site: str, sha256: str, data: bytes) -> str:
        key = artifact_key(site, sha256)
        self._put(key, data, "application/msgpack", ARTIFACT_CACHE, kind="artifact")
        return key

    def put_pointer(self, site: str, pointer: dict[str, Any], *, stamp: str) -> str:
        """Write the history entry, then `latest.json` (the last write of a publish)."""
        body = (json.dumps(pointer, sort_keys=True, indent=1) + "\n").encode()
        history = f"rulesets/{site}/history/{stamp}-{pointer['sha256']}.json"
        self._put(history, body, "application/json", "no-store", kind="history")
        self._put(pointer_key(site), body, "application/json", POINTER_CACHE, kind="pointer")
        return pointer_key(site)

    def put_source(self, site: str, text: str) -> str:
        key = source_key(site)
        self._put(key, text.encode(), "application/yaml", "no-store", kind="source")
        return key

    def invalidate(self, paths: list[str]) -> str | None:
        """Invalidate `paths` on the distribution (None when there is no distribution)."""
        if self._cloudfront is None or not self.distribution_id:
            return None
        try:
            answer = self._cloudfront.create_invalidation(
                DistributionId=self.distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": len(paths), "Items": paths},
                    "CallerReference": f"perso-{time.time_ns()}",
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise CdnUnavailable(
                f"CloudFront did not accept the invalidation of {paths} on "
                f"{self.distribution_id} ({_reason(exc)})."
            ) from exc
        self.log.append(("invalidation", ",".join(paths)))
        return str(answer["Invalidation"]["Id"])

    # --- helpers ----------------------------------------------------------------------

    def _get(self, key: str) -> bytes | None:
        try:
            answer = self._s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _reason(exc) in ("NoSuchKey", "404"):
                return None
            raise CdnUnavailable(
                f"s3://{self.bucket}/{key} cannot be read ({_reason(exc)})."
            ) from exc
        except BotoCoreError as exc:
            raise CdnUnavailable(f"s3://{self.bucket} cannot be reached ({exc}).") from exc
        return bytes(answer["Body"].read())

    def _put(self, key: str, data: bytes, content_type: str, cache: str, *, kind: str) -> None:
        try:
            self._s3.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, CacheControl=cache
            )
        except (ClientError, BotoCoreError) as exc:
            raise CdnUnavailable(
                f"s3://{self.bucket}/{key} cannot be written ({_reason(exc)})."
            ) from exc
        self.log.append((kind, key))

    def _list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self._pages(Prefix=prefix):
            keys.extend(str(obj["Key"]) for obj in page.get("Contents", []))
        return keys

    def _prefixes(self, prefix: str) -> list[str]:
        out: list[str] = []
        for page in self._pages(Prefix=prefix, Delimiter="/"):
            out.extend(str(p["Prefix"]) for p in page.get("CommonPrefixes", []))
        return out

    def _pages(self, **kwargs: Any) -> list[dict[str, Any]]:
        try:
            paginator = self._s3.get_paginator("list_objects_v2")
            return list(paginator.paginate(Bucket=self.bucket, **kwargs))
        except (ClientError, BotoCoreError) as exc:
            raise CdnUnavailable(f"s3://{self.bucket} cannot be listed ({_reason(exc)}).") from exc


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return str(exc)
