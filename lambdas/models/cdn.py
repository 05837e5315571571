"""The CDN bucket's layout (DESIGN §6): its keys, their cache headers, the publish order.

One definition for every writer and server of the layout: the publisher and `perso
deploy` (lambdas/dal/cdn.py on S3), `perso build` and the dev server (a local folder,
infra/local), and the CloudFront behaviours of the stack (infra/cdk/cdn.py).

>>> in_publish_order([pointer_key("s"), artifact_key("s", "ab")])
['rulesets/s/ab.msgpack', 'rulesets/s/latest.json']
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ARTIFACT_CACHE",
    "POINTER_CACHE",
    "POINTER_NAME",
    "artifact_key",
    "history_key",
    "history_prefix",
    "in_publish_order",
    "is_pointer",
    "paused_key",
    "pin_key",
    "pointer_key",
    "source_key",
]

# Content-addressed artifacts and versioned runtime files never change once written.
ARTIFACT_CACHE = "public, max-age=31536000, immutable"
# The pointer: a minute at the edge and in browsers, then served stale while revalidating.
POINTER_CACHE = "max-age=60, stale-while-revalidate=86400, stale-if-error=604800"
POINTER_NAME = "latest.json"


def artifact_key(site: str, sha256: str) -> str:
    return f"rulesets/{site}/{sha256}.msgpack"


def pointer_key(site: str) -> str:
    return f"rulesets/{site}/{POINTER_NAME}"


def history_prefix(site: str) -> str:
    return f"rulesets/{site}/history/"


def history_key(site: str, stamp: str, sha256: str) -> str:
    """Every pointer ever written, for rollback; keys sort by their UTC `stamp`."""
    return f"{history_prefix(site)}{stamp}-{sha256}.json"


def source_key(site: str) -> str:
    """The last deployed ruleset source, which the scheduled publisher starts from."""
    return f"sources/{site}/ruleset.yaml"


def pin_key(site: str) -> str:
    """The version a rollback pinned; the scheduled publisher leaves it alone until a deploy."""
    return f"sources/{site}/pin.json"


def paused_key(site: str) -> str:
    """The experiences `perso pause` turned off; every publish leaves them out."""
    return f"sources/{site}/paused.json"


def is_pointer(key: str) -> bool:
    return key.rsplit("/", 1)[-1] == POINTER_NAME


def in_publish_order(keys: Iterable[str]) -> list[str]:
    """The keys in the order a publish writes them: the artifact first, the pointer last.

    A reader that follows the pointer then never finds its artifact missing. Every other
    key keeps its place (the sort is stable), so callers list them in the order they want.
    """
    return sorted(keys, key=is_pointer)
