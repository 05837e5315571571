"""What `perso dev` serves besides files: the CDN folder it builds at start (the bundle
and every example ruleset, as `perso bundle` and `perso build` write them) and the event
API of `lambdas.local`. Public names are re-exported by `infra.devserver`.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["ApiHandler", "ApiResponse", "BucketMirror", "build_cdn", "local_api"]

ROOT = Path(__file__).resolve().parent.parent

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
    snapshot: bool = False,
) -> list[str]:
    """Fill `out` like the bucket: the runtime bundle, then every example ruleset.

    `pyc` and `snapshot` pick the bundle's variant (precompiled stdlib, memory
    snapshot). Returns one line per step for the console. A bundle module that is not
    written yet is skipped with a line that says so, so the dev server still starts.
    """
    lines: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    if bundle:
        lines.append(_build_bundle(out, pyc=pyc, snapshot=snapshot))
    for yaml_file in sorted((examples or ROOT / "examples").glob("*.yaml")):
        lines.append(_build_ruleset(yaml_file, out))
    return lines


def _build_bundle(out: Path, *, pyc: bool, snapshot: bool) -> str:
    if importlib.util.find_spec("infra.bundle") is None:
        return "bundle: infra/bundle.py is not there yet; no runtime served"
    from infra import bundle as bundle_module
    from infra._bundle_snapshot import SnapshotUnavailable

    try:
        result = bundle_module.build_bundle(out=out, pyc=pyc, snapshot=snapshot)
    except SnapshotUnavailable as exc:
        # A newcomer without Chromium still gets the demo: the same runtime, no snapshot.
        try:
            result = bundle_module.build_bundle(out=out, pyc=pyc, snapshot=False)
        except (bundle_module.BundleError, OSError) as again:
            return f"bundle: not built ({again}); pages keep their defaults"
        return f"bundle: {result} (no memory snapshot: {exc}; serving the .pyc runtime instead)"
    except (bundle_module.BundleError, OSError) as exc:
        # The demo still serves its defaults; the console says why perso is absent.
        return f"bundle: not built ({exc}); pages keep their defaults"
    return f"bundle: {result}"


def _build_ruleset(yaml_file: Path, out: Path) -> str:
    from edge.artifact import encode, pointer
    from edge.compiler import compile_file

    result = compile_file(yaml_file)
    if result.problems or result.ruleset is None:
        problems = "; ".join(str(p) for p in result.problems)
        return f"{yaml_file.name}: not built ({problems})"
    ruleset = result.ruleset
    artifact = encode(ruleset)
    folder = out / "rulesets" / ruleset.site
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{artifact.sha256}.msgpack").write_bytes(artifact.data)
    latest = pointer(artifact, site=ruleset.site, published_at=_now_iso())
    # The pointer last, as the publisher does.
    (folder / "latest.json").write_text(json.dumps(latest, indent=2) + "\n", encoding="utf-8")
    size = len(artifact.data)
    return f"{yaml_file.name}: rulesets/{ruleset.site}/{artifact.sha256[:12]}… ({size} bytes)"


def _now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- the API hook -----------------------------------------------------------------------


@contextlib.contextmanager
def local_api(
    *,
    origin_ports: Iterable[int] = (),
    cdn_dir: Path | None = None,
    examples: Path | None = None,
) -> Iterator[ApiHandler | None]:
    """The event API of `lambdas.local`: its backend started, and stopped on exit.

    `origin_ports` are the ports of pages allowed to send events (the dev server's).
    With `cdn_dir`, the backend's CDN bucket is seeded from that folder and the example
    sources (so its publisher has something to republish), and whatever the publisher
    writes to the bucket is mirrored back into the folder the dev server serves.
    Yields None when `lambdas.local` does not exist; a backend that fails to start
    raises, so the caller can say why.
    """
    if importlib.util.find_spec("lambdas.local") is None:
        yield None
        return
    module = importlib.import_module("lambdas.local")
    backend = module.start_local_backend(port=0, origin_ports=list(origin_ports))
    mirror: BucketMirror | None = None
    try:
        if cdn_dir is not None:
            mirror = BucketMirror(backend.client("s3"), backend.bucket, cdn_dir)
            mirror.seed(examples or ROOT / "examples")
            mirror.start()
        api: ApiHandler = backend.api
        yield api
    finally:
        if mirror is not None:
            mirror.stop()
        backend.stop()


class BucketMirror:
    """The local stand-in for "CloudFront serves the bucket": the dev server serves a
    folder, so what lands under `rulesets/` in the bucket is copied into the folder
    (pointers last, so a reader never sees a pointer before its artifact)."""

    def __init__(self, s3: Any, bucket: str, folder: Path, *, interval: float = 2.0) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._folder = folder
        self._interval = interval
        self._seen: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def seed(self, examples: Path) -> None:
        """Upload the folder's rulesets and every example's source YAML."""
        from edge.compiler import compile_file

        for path in sorted((self._folder / "rulesets").rglob("*"), key=_pointer_last):
            if path.is_file():
                key = path.relative_to(self._folder).as_posix()
                self._s3.put_object(Bucket=self._bucket, Key=key, Body=path.read_bytes())
        for yaml_file in sorted(examples.glob("*.yaml")):
            ruleset = compile_file(yaml_file).ruleset
            if ruleset is not None:
                key = f"sources/{ruleset.site}/ruleset.yaml"
                self._s3.put_object(Bucket=self._bucket, Key=key, Body=yaml_file.read_bytes())
        self.sync_once()  # what was just uploaded counts as seen

    def sync_once(self) -> list[str]:
        """Copy new or changed objects under `rulesets/` into the folder; their keys."""
        listed: list[dict[str, Any]] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix="rulesets/"
        ):
            listed.extend(page.get("Contents", []))
        copied: list[str] = []
        for item in sorted(listed, key=lambda o: _pointer_last(Path(o["Key"]))):
            key, etag = item["Key"], item.get("ETag", "")
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


def _pointer_last(path: Path) -> tuple[bool, str]:
    return (path.name == "latest.json", path.as_posix())
