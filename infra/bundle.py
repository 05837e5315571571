"""`perso bundle` and `perso snippet`: the CDN tree a site loads (DESIGN §6, §7).

```
OUT/perso.js                  the runtime (short cache; names the runtime version below)
OUT/stub.js                   the loader stub, minified (what `perso snippet` inlines)
OUT/runtime/<version>/        immutable: worker.js, pyodide.mjs, pyodide.asm.mjs,
                              pyodide.asm.wasm, python_stdlib.zip, python_stdlib.core.pyc.zip
                              (python_stdlib.pyc.zip with --full-stdlib),
                              pyodide-lock.json, the edge / msgpack / cachetools wheels,
                              snapshot.bin (a Pyodide memory snapshot, unless --no-snapshot)
```

`<version>` is the perso version plus a hash of everything in the directory, so a
changed byte is a new directory and an old one never changes under a visitor.

>>> runtime_version({"a.txt": "00" * 32})
'0.1.0-7fd4ff5a2ba2'
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from infra._bundle_runtime import (
    CACHETOOLS_VERSION,
    CORE_FILES,
    CORE_STDLIB,
    MSGPACK_VERSION,
    PYC_STDLIB,
    PYEMSCRIPTEN_PLATFORM,
    ROOT,
    BundleError,
    LockedWheel,
    compile_stdlib,
    esbuild,
    fetch_wheel,
    pyodide_dir,
    sha256_file,
    trim_stdlib,
    write_lock,
)
from infra._bundle_snapshot import SNAPSHOT, make_snapshot

__all__ = ["PERSO_VERSION", "Bundle", "BundleError", "build_bundle", "register", "runtime_version"]

PERSO_VERSION = "0.1.0"
SNIPPET = ROOT / "snippet"


@dataclass(frozen=True, slots=True)
class Bundle:
    out: Path
    version: str
    files: dict[str, int] = field(default_factory=dict)  # path under out -> bytes

    @property
    def runtime_dir(self) -> Path:
        return self.out / "runtime" / self.version

    def __str__(self) -> str:
        total = sum(self.files.values())
        size = f"{total / 1e6:.1f} MB"
        return f"runtime {self.version}, {len(self.files)} files, {size} in {self.out}"


def runtime_version(digests: dict[str, str]) -> str:
    """The directory name from the files' sha256 digests (name -> hex)."""
    text = "\n".join(f"{name} {digest}" for name, digest in sorted(digests.items()))
    return f"{PERSO_VERSION}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _edge_wheel(out: Path) -> Path:
    try:
        from infra.wheel import build_edge_wheel
    except ImportError as exc:  # written by the Pyodide-runner engineer
        raise BundleError(f"infra.wheel.build_edge_wheel is not available ({exc})") from exc
    return build_edge_wheel(out, include_compiler=False)


def _stage_runtime(stage: Path, *, pyc: bool, snapshot: bool, full_stdlib: bool) -> None:
    core = pyodide_dir()
    for name in CORE_FILES:
        shutil.copyfile(core / name, stage / name)
    edge = _edge_wheel(stage)
    msgpack = fetch_wheel(f"msgpack=={MSGPACK_VERSION}", platform=PYEMSCRIPTEN_PLATFORM)
    cachetools = fetch_wheel(f"cachetools=={CACHETOOLS_VERSION}")
    for wheel in (msgpack, cachetools):
        shutil.copyfile(wheel, stage / wheel.name)
    wheels = [
        LockedWheel("perso-edge", edge, ("edge",), ("msgpack", "cachetools")),
        LockedWheel("msgpack", stage / msgpack.name, ("msgpack",)),
        LockedWheel("cachetools", stage / cachetools.name, ("cachetools",)),
    ]
    stdlib = "python_stdlib.zip"
    if pyc:
        full = compile_stdlib(stage)
        stdlib = PYC_STDLIB
        if not full_stdlib:
            trim_stdlib(full, stage)
            full.unlink()
            stdlib = CORE_STDLIB
    perso: dict[str, object] = {"stdlib": stdlib, "protocol": 1}
    write_lock(stage, wheels, perso=perso)
    if snapshot:
        # Made from the staged runtime (it boots it), then named in the lock file.
        make_snapshot(stage)
        write_lock(stage, wheels, perso={**perso, "snapshot": SNAPSHOT})
    src = SNIPPET / "src"
    esbuild(src / "worker.js", stage / "worker.js", fmt="esm", target="es2020", define={})


def build_bundle(
    *, out: Path, pyc: bool = True, snapshot: bool = True, full_stdlib: bool = False
) -> Bundle:
    """Build the CDN tree into `out` (kept: other versions and rulesets stay). With `pyc`
    the stdlib ships precompiled, trimmed to what the core imports unless `full_stdlib`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "runtime").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out / "runtime", prefix=".stage-") as tmp:
        stage = Path(tmp)
        _stage_runtime(stage, pyc=pyc, snapshot=snapshot, full_stdlib=full_stdlib)
        digests = {p.name: sha256_file(p) for p in sorted(stage.iterdir())}
        version = runtime_version(digests)
        final = out / "runtime" / version
        if final.exists():
            # Immutable: an existing directory of this version already has these bytes.
            have = {p.name: sha256_file(p) for p in final.iterdir()}
            if have != digests:
                raise BundleError(f"{final} exists with different files; it must never change")
        else:
            stage.rename(final)
            stage.mkdir()  # so TemporaryDirectory's cleanup finds what it made
    define = {"__PERSO_VERSION__": PERSO_VERSION, "__PERSO_RUNTIME__": version}
    src = SNIPPET / "src"
    esbuild(src / "index.js", out / "perso.js", fmt="iife", target="es2019", define=define)
    esbuild(SNIPPET / "stub.js", out / "stub.js", fmt="iife", target="es5", define={})
    files = {
        str(p.relative_to(out)): p.stat().st_size
        for p in [out / "perso.js", out / "stub.js", *sorted(final.iterdir())]
    }
    return Bundle(out=out, version=version, files=files)


def register(app: typer.Typer) -> None:
    """Add `perso bundle` and `perso snippet` to the perso command."""

    @app.command("bundle")
    def bundle_command(
        out: Annotated[Path, typer.Option("--out", help="Directory to fill (the CDN root).")],
        pyc: Annotated[
            bool, typer.Option("--pyc/--no-pyc", help="Ship the stdlib precompiled.")
        ] = True,
        snapshot: Annotated[
            bool,
            typer.Option(
                "--snapshot/--no-snapshot",
                help="Ship a Pyodide memory snapshot with edge imported (made in Chromium).",
            ),
        ] = True,
        full_stdlib: Annotated[
            bool,
            typer.Option(
                "--full-stdlib",
                help="Ship the whole precompiled stdlib, not the core the runtime imports.",
            ),
        ] = False,
    ) -> None:
        """Build the CDN tree: perso.js and the immutable runtime/<version>/."""
        try:
            result = build_bundle(out=out, pyc=pyc, snapshot=snapshot, full_stdlib=full_stdlib)
        except BundleError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(str(result))
        for name, size in sorted(result.files.items()):
            typer.echo(f"  {size:>10,}  {name}")

    @app.command("snippet")
    def snippet_command(
        site: Annotated[str, typer.Option("--site", help="The ruleset's site name.")],
        cdn: Annotated[str, typer.Option("--cdn", help="Base URL of the CDN tree.")],
        api: Annotated[str, typer.Option("--api", help="Base URL of the event API.")] = "",
        hide: Annotated[int, typer.Option("--hide", help="Max ms to hide slots.")] = 300,
    ) -> None:
        """Print the HTML to paste in <head>."""
        from infra.snippet_html import SnippetError, snippet_html

        try:
            typer.echo(snippet_html(site=site, cdn=cdn, api=api or None, hide=hide))
        except SnippetError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
