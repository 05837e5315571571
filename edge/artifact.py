"""The ruleset artifact: deterministic msgpack, content-addressed by sha256 (DESIGN §6).

`encode` packs `Ruleset.to_dict()` (`schema: 1`) with every map's keys sorted, so the
same ruleset always gives the same bytes and the same sha256. `load` checks the hash
(when given), the schema version and the shape, and raises `ArtifactError` with one
sentence; the browser then keeps its last good artifact.

`Artifact.version` is the first 16 hex digits of the sha256 (64 bits): short enough to
show and to key caches with, and a collision between two artifacts of one site is not
a practical concern. The pointer (`latest.json`) carries both the version and the full
sha256, and the browser checks the full one.

>>> from edge.model import Ruleset
>>> art = encode(Ruleset(site="demo"))
>>> load(art.data, sha256=art.sha256).site, art.version == art.sha256[:16]
('demo', True)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgpack

from edge.model import SCHEMA_VERSION, Ruleset

__all__ = ["Artifact", "ArtifactError", "encode", "load", "pointer"]

_REQUIRED = ("schema", "site")


class ArtifactError(ValueError):
    """The artifact cannot be used; the message says why in one sentence."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """Packed bytes, their sha256 (hex) and the short version shown to people."""

    data: bytes
    sha256: str
    version: str

    @property
    def size(self) -> int:
        return len(self.data)


def _canonical(value: Any) -> Any:
    # Sorted keys at every level: dict order must not change the bytes or the hash.
    if isinstance(value, dict):
        return {str(k): _canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def encode(ruleset: Ruleset) -> Artifact:
    """Pack a ruleset; equal rulesets give equal bytes."""
    data = msgpack.packb(_canonical(ruleset.to_dict()), use_bin_type=True)
    digest = hashlib.sha256(data).hexdigest()
    return Artifact(data=data, sha256=digest, version=digest[:16])


def load(data: bytes, *, sha256: str | None = None) -> Ruleset:
    """Unpack and check an artifact; `sha256` (hex) is compared first when given."""
    if sha256 is not None:
        got = hashlib.sha256(data).hexdigest()
        if got != sha256.lower():
            raise ArtifactError(f"artifact hash mismatch: expected sha256 {sha256}, got {got}.")
    try:
        payload = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise ArtifactError(f"the artifact is not readable msgpack ({exc}).") from exc
    if not isinstance(payload, dict):
        raise ArtifactError(f"the artifact must be a msgpack map, not a {type(payload).__name__}.")
    for name in _REQUIRED:
        if name not in payload:
            raise ArtifactError(f"the artifact is missing the field {name!r}.")
    schema = payload["schema"]
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise ArtifactError(f"the artifact's schema {schema!r} is not a version number.")
    if schema > SCHEMA_VERSION:
        raise ArtifactError(
            f"artifact schema {schema} is newer than this runtime understands ({SCHEMA_VERSION})."
        )
    try:
        return Ruleset.from_dict(payload)
    except KeyError as exc:
        raise ArtifactError(f"the artifact is missing the field {exc.args[0]!r}.") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise ArtifactError(f"the artifact has a field of the wrong shape ({exc}).") from exc


def pointer(
    artifact: Artifact,
    *,
    site: str,
    base_url: str = "",
    published_at: str | datetime,
) -> dict[str, str]:
    """The `latest.json` pointer; `url` is relative unless `base_url` is given.

    >>> art = Artifact(b"", "ab" * 32, "ab" * 8)
    >>> pointer(art, site="demo", published_at="2026-11-25T00:00:00Z")["url"]
    'rulesets/demo/abababababababababababababababababababababababababababababababab.msgpack'
    """
    path = f"rulesets/{site}/{artifact.sha256}.msgpack"
    if isinstance(published_at, datetime):
        moment = published_at if published_at.tzinfo else published_at.replace(tzinfo=UTC)
        published_at = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "version": artifact.version,
        "url": f"{base_url.rstrip('/')}/{path}" if base_url else path,
        "sha256": artifact.sha256,
        "published_at": published_at,
    }
