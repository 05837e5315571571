"""The CDN bucket as a local folder: written by `perso build` and the dev server's start,
and kept in step with the local backend's bucket (moto's S3) by `BucketMirror`.

Keys, and the order they are written in, are those of `lambdas.models.cdn`: the artifact
first, the pointer last, so a reader never sees a pointer before its artifact.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge.artifact import Artifact, encode, pointer
from edge.compiler import compile_file
from edge.model import Ruleset
from lambdas.models.cdn import (
    artifact_key,
    history_key,
    in_publish_order,
    is_pointer,
    pointer_key,
    source_key,
)

__all__ = ["BucketMirror", "Release", "now_iso", "write_release"]


@dataclass(frozen=True, slots=True)
class Release:
    """What `write_release` wrote: the artifact and the two files' paths."""

    artifact: Artifact
    artifact_path: Path
    pointer_path: Path


def now_iso() -> str:
    """The current UTC time as the pointers carry it: `2026-11-25T18:00:00Z`."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_release(out: Path, ruleset: Ruleset, *, published_at: str) -> Release:
    """Write the ruleset's artifact and `latest.json` under `out`, in publish order."""
    artifact = encode(ruleset)
    latest = pointer(artifact, site=ruleset.site, published_at=published_at)
    files = {
        artifact_key(ruleset.site, artifact.sha256): artifact.data,
        pointer_key(ruleset.site): (json.dumps(latest, indent=2) + "\n").encode(),
    }
    for key in in_publish_order(files):
        path = out / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[key])
    return Release(
        artifact,
        out / artifact_key(ruleset.site, artifact.sha256),
        out / pointer_key(ruleset.site),
    )


class BucketMirror:
    """The local stand-in for "CloudFront serves the bucket": the dev server serves a
    folder, so what lands under `rulesets/` in the bucket is copied into the folder, in
    publish order."""

    def __init__(self, s3: Any, bucket: str, folder: Path, *, interval: float = 2.0) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._folder = folder
        self._interval = interval
        self._seen: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def seed(self, examples: Path) -> None:
        """Upload the folder's rulesets and every example's source YAML.

        Each pointer gets its history entry too, as a publish writes it, so the first
        `perso deploy` can be rolled back to the version the stack started with.
        """
        files = {
            path.relative_to(self._folder).as_posix(): path
            for path in sorted((self._folder / "rulesets").rglob("*"))
            if path.is_file()
        }
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        for key in in_publish_order(files):
            body = files[key].read_bytes()
            if is_pointer(key):
                self._seed_history(key.split("/")[1], body, stamp)
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body)
        for yaml_file in sorted(examples.glob("*.yaml")):
            ruleset = compile_file(yaml_file).ruleset
            if ruleset is not None:
                key = source_key(ruleset.site)
                self._s3.put_object(Bucket=self._bucket, Key=key, Body=yaml_file.read_bytes())
        self.sync_once()  # what was just uploaded counts as seen

    def _seed_history(self, site: str, pointer_body: bytes, stamp: str) -> None:
        with contextlib.suppress(ValueError, KeyError, TypeError):  # not a pointer: no entry
            latest = json.loads(pointer_body)
            entry = {**latest, "command": "dev", "deployed_by": "perso dev (examples/)"}
            body = (json.dumps(entry, sort_keys=True, indent=1) + "\n").encode()
            key = history_key(site, stamp, str(latest["sha256"]))
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body)

    def sync_once(self) -> list[str]:
        """Copy new or changed objects under `rulesets/` into the folder; their keys."""
        etags: dict[str, str] = {}
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix="rulesets/"
        ):
            etags.update((item["Key"], item.get("ETag", "")) for item in page.get("Contents", []))
        copied: list[str] = []
        for key in in_publish_order(sorted(etags)):
            etag = etags[key]
            if self._seen.get(key) == etag or "/history/" in key:
                continue
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            target = self._folder / key
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(body)
            tmp.replace(target)  # whole files only: the server never reads half of one
            self._seen[key] = etag
            copied.append(key)
        return copied

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="perso-bucket-mirror", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with contextlib.suppress(Exception):  # moto stopping, a transient error: retry
                self.sync_once()
