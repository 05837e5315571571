"""What `perso dev` serves besides files: the CDN folder it builds at start (the bundle
and every example ruleset, as `perso bundle` and `perso build` write them) and the event
API of `lambdas.local`. Public names are re-exported by `infra.devserver`.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

__all__ = ["ApiHandler", "ApiResponse", "build_cdn", "local_api"]

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

    result = bundle_module.build_bundle(out=out, pyc=pyc, snapshot=snapshot)
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
def local_api(*, origin_ports: Iterable[int] = ()) -> Iterator[ApiHandler | None]:
    """The event API of `lambdas.local`: its backend started, and stopped on exit.

    `origin_ports` are the ports of pages allowed to send events (the dev server's).
    Yields None when `lambdas.local` does not exist; a backend that fails to start
    raises, so the caller can say why.
    """
    if importlib.util.find_spec("lambdas.local") is None:
        yield None
        return
    module = importlib.import_module("lambdas.local")
    backend = module.start_local_backend(port=0, origin_ports=list(origin_ports))
    try:
        api: ApiHandler = backend.api
        yield api
    finally:
        backend.stop()
