"""What `perso dev` serves besides files: the CDN folder it builds at start (the bundle
and every example ruleset, as `perso bundle` and `perso build` write them) and the event
API of the local backend (infra/local/stack.py). Public names are re-exported by
`infra.local.devserver`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from edge.compiler import compile_file
from infra.bundle import BundleError, SnapshotUnavailable, build_bundle
from infra.local.bucket import BucketMirror, now_iso, write_release

if TYPE_CHECKING:
    from infra.local.stack import LocalBackend

__all__ = ["ApiHandler", "ApiResponse", "build_cdn", "local_api", "local_backend"]

ROOT = Path(__file__).resolve().parents[2]

ApiResponse = tuple[int, Mapping[str, str], bytes]
# (method, path with query, headers with lower-case names, body) -> (status, headers, body)
ApiHandler = Callable[[str, str, Mapping[str, str], bytes], ApiResponse]


# --- building the CDN folder ------------------------------------------------------------


def build_cdn(
    out: Path,
    *,
    examples: Path | None = None,
    bundle: bool = True,
    pyc: bool = True,
    snapshot: bool = True,
) -> list[str]:
    """Fill `out` like the bucket: the runtime bundle, then every example ruleset.

    `pyc` and `snapshot` pick the bundle's variant (precompiled stdlib, memory
    snapshot); the defaults are `perso bundle`'s, so what is served locally is what a
    site ships. Returns one line per step for the console.
    """
    lines: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    if bundle:
        lines.append(_build_bundle(out, pyc=pyc, snapshot=snapshot))
    for yaml_file in sorted((examples or ROOT / "examples").glob("*.yaml")):
        lines.append(_build_ruleset(yaml_file, out))
    return lines


def _build_bundle(out: Path, *, pyc: bool, snapshot: bool) -> str:
    try:
        result = build_bundle(out=out, pyc=pyc, snapshot=snapshot)
    except SnapshotUnavailable as exc:
        # A newcomer without Chromium still gets the demo: the same runtime, no snapshot.
        try:
            result = build_bundle(out=out, pyc=pyc, snapshot=False)
        except (BundleError, OSError) as again:
            return f"bundle: not built ({again}); pages keep their defaults"
        return f"bundle: {result} (no memory snapshot: {exc}; serving the .pyc runtime instead)"
    except (BundleError, OSError) as exc:
        # The demo still serves its defaults; the console says why perso is absent.
        return f"bundle: not built ({exc}); pages keep their defaults"
    return f"bundle: {result}"


def _build_ruleset(yaml_file: Path, out: Path) -> str:
    result = compile_file(yaml_file)
    if result.problems or result.ruleset is None:
        problems = "; ".join(str(p) for p in result.problems)
        return f"{yaml_file.name}: not built ({problems})"
    site = result.ruleset.site
    artifact = write_release(out, result.ruleset, published_at=now_iso()).artifact
    size = len(artifact.data)
    return f"{yaml_file.name}: rulesets/{site}/{artifact.sha256[:12]}… ({size} bytes)"


# --- the API hook -----------------------------------------------------------------------


@contextlib.contextmanager
def local_api(
    *,
    origin_ports: Iterable[int] = (),
    cdn_dir: Path | None = None,
    examples: Path | None = None,
) -> Iterator[ApiHandler]:
    """The event API of the local backend: started, and stopped on exit (see
    `local_backend`)."""
    with local_backend(origin_ports=origin_ports, cdn_dir=cdn_dir, examples=examples) as backend:
        api: ApiHandler = backend.api
        yield api


@contextlib.contextmanager
def local_backend(
    *,
    origin_ports: Iterable[int] = (),
    cdn_dir: Path | None = None,
    examples: Path | None = None,
    publish_every: float = 60.0,
) -> Iterator[LocalBackend]:
    """The local backend (its `.api`, table and bucket): started, and stopped on exit.

    `origin_ports` are the ports of pages allowed to send events (the dev server's).
    With `cdn_dir`, the backend's CDN bucket is seeded from that folder and the example
    sources (so its publisher has something to republish), and whatever the publisher
    writes to the bucket is mirrored back into the folder the dev server serves.
    `publish_every`: seconds between scheduled publishes (EventBridge's rate).
    A backend that fails to start raises, so the caller can say why.
    """
    # Imported here, not with the module: moto is slow to import, and `perso dev
    # --no-api`, the tests that bring their own API and `perso --help` never need it.
    from infra.local.stack import start_local_backend

    backend = start_local_backend(
        port=0, origin_ports=list(origin_ports), publish_interval=publish_every
    )
    mirror: BucketMirror | None = None
    try:
        if cdn_dir is not None:
            mirror = BucketMirror(backend.client("s3"), backend.bucket, cdn_dir)
            mirror.seed(examples or ROOT / "examples")
            mirror.start()
        yield backend
    finally:
        if mirror is not None:
            mirror.stop()
        backend.stop()
