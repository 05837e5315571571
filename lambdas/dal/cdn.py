"""The CDN bucket (S3) and its CloudFront distribution behind a small interface.

Paths and cache headers are those of `lambdas.models.cdn` (DESIGN §6):
`rulesets/<site>/<sha256>.msgpack` (immutable, cached a year), `rulesets/<site>/latest.json`
(the pointer, 60 s with stale-while-revalidate), `rulesets/<site>/history/<UTC
timestamp>-<sha256>.json` (every pointer ever written, for rollback),
`sources/<site>/ruleset.yaml` (the last deployed source, for the publisher),
`sources/<site>/pin.json` (a rollback's pinned version) and `sources/<site>/paused.json`
(paused experience ids); `sources/` and history are private. Writes go in
`in_publish_order`. `ClientError` becomes `CdnUnavailable`.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any, NamedTuple, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.models.cdn import (
    ARTIFACT_CACHE,
    POINTER_CACHE,
    artifact_key,
    history_key,
    history_prefix,
    in_publish_order,
    paused_key,
    pin_key,
    pointer_key,
    source_key,
)

__all__ = ["CdnUnavailable", "S3Cdn", "WriteWatcher", "make_cdn_clients"]

_PRIVATE = "no-store"  # history and sources are never served (the CDN's guard answers 404)
_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard"})


class CdnUnavailable(Exception):
    """S3 or CloudFront refused or could not be reached; the sentence says which call."""


class WriteWatcher(Protocol):
    """Told of each write as it starts and ends (the `perso` command's upload progress)."""

    def begin(self, kind: str, key: str, size: int) -> None: ...
    def end(self, kind: str, key: str) -> None: ...


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
        self,
        s3: Any,
        bucket: str,
        *,
        cloudfront: Any = None,
        distribution_id: str | None = None,
        watcher: WriteWatcher | None = None,
    ) -> None:
        self._s3 = s3
        self.watcher = watcher
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

    def get_pin(self, site: str) -> dict[str, Any] | None:
        value = self._get_json(pin_key(site))
        return value if isinstance(value, dict) else None

    def get_paused(self, site: str) -> list[str]:
        value = self._get_json(paused_key(site))
        return [str(v) for v in value] if isinstance(value, list) else []

    def history(self, site: str) -> list[dict[str, Any]]:
        """Every pointer written for `site`, oldest first (keys sort by their timestamp)."""
        out = []
        for key in sorted(self._list(history_prefix(site))):
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

    def put_release(
        self,
        site: str,
        sha256: str,
        data: bytes,
        pointer: dict[str, Any],
        *,
        stamp: str,
        note: dict[str, Any] | None = None,
    ) -> str:
        """Write the artifact, its history entry and `latest.json`, in publish order.

        `note` (who, which command) goes in the private history entry only, never in the
        public pointer.
        """
        artifact = _Object(data, "application/msgpack", ARTIFACT_CACHE, "artifact")
        self._put_all(
            {artifact_key(site, sha256): artifact, **_pointer(site, pointer, stamp, note)}
        )
        return pointer_key(site)

    def put_artifact(self, site: str, sha256: str, data: bytes) -> str:
        """Write one artifact alone (a preview): no history entry, the pointer unmoved."""
        key = artifact_key(site, sha256)
        self._put(key, data, "application/msgpack", ARTIFACT_CACHE, kind="artifact")
        return key

    def put_pointer(
        self,
        site: str,
        pointer: dict[str, Any],
        *,
        stamp: str,
        note: dict[str, Any] | None = None,
    ) -> str:
        """Write the history entry, then `latest.json` (a rollback writes nothing else)."""
        self._put_all(_pointer(site, pointer, stamp, note))
        return pointer_key(site)

    def put_pin(self, site: str, pin: dict[str, Any] | None) -> None:
        """Pin a version (a rollback), or clear the pin (None: a deploy)."""
        if pin is None:
            self._delete(pin_key(site))
        else:
            self._put_json(pin_key(site), pin, kind="pin")

    def put_paused(self, site: str, experiences: list[str]) -> None:
        self._put_json(paused_key(site), sorted(set(experiences)), kind="paused")

    def put_source(self, site: str, text: str) -> str:
        key = source_key(site)
        self._put(key, text.encode(), "application/yaml", _PRIVATE, kind="source")
        return key

    def invalidate(self, paths: list[str]) -> str | None:
        """Invalidate `paths` on the distribution (None when there is no distribution)."""
        if self._cloudfront is None or not self.distribution_id:
            return None
        if self.watcher is not None:
            self.watcher.begin("invalidation", ",".join(paths), 0)
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
        if self.watcher is not None:
            self.watcher.end("invalidation", ",".join(paths))
        return str(answer["Invalidation"]["Id"])

    # --- helpers ----------------------------------------------------------------------

    def _put_all(self, objects: dict[str, _Object]) -> None:
        for key in in_publish_order(objects):
            body = objects[key]
            self._put(key, body.data, body.content_type, body.cache, kind=body.kind)

    def _get_json(self, key: str) -> Any:
        data = self._get(key)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None  # damaged: treated as absent, the next write replaces it

    def _put_json(self, key: str, value: Any, *, kind: str) -> None:
        body = (json.dumps(value, sort_keys=True) + "\n").encode()
        self._put(key, body, "application/json", _PRIVATE, kind=kind)

    def _delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise CdnUnavailable(
                f"s3://{self.bucket}/{key} cannot be deleted ({_reason(exc)})."
            ) from exc
        self.log.append(("delete", key))

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
        if self.watcher is not None:
            self.watcher.begin(kind, key, len(data))
        try:
            self._s3.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, CacheControl=cache
            )
        except (ClientError, BotoCoreError) as exc:
            raise CdnUnavailable(
                f"s3://{self.bucket}/{key} cannot be written ({_reason(exc)})."
            ) from exc
        self.log.append((kind, key))
        if self.watcher is not None:
            self.watcher.end(kind, key)

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


class _Object(NamedTuple):
    """One object to write: its bytes, headers and the kind `S3Cdn.log` records."""

    data: bytes
    content_type: str
    cache: str
    kind: str


def _pointer(
    site: str, pointer: dict[str, Any], stamp: str, note: dict[str, Any] | None = None
) -> dict[str, _Object]:
    body = (json.dumps(pointer, sort_keys=True, indent=1) + "\n").encode()
    entry = (json.dumps({**pointer, **(note or {})}, sort_keys=True, indent=1) + "\n").encode()
    return {
        history_key(site, stamp, pointer["sha256"]): _Object(
            entry, "application/json", _PRIVATE, "history"
        ),
        pointer_key(site): _Object(body, "application/json", POINTER_CACHE, "pointer"),
    }


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return str(exc)
