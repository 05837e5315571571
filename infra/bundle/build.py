"""The CDN tree a site loads (DESIGN §6, §7), as `perso bundle` writes it.

```
OUT/perso.js                  the runtime (short cache; names the runtime version below)
OUT/perso-debug.js            the in-page debugger, loaded only on demand (?perso_debug=1)
OUT/runtime.json              {"runtime": <version>, ...}: how the npm package finds runtime/
OUT/stub.js                   the loader stub, minified (what `perso snippet` inlines)
OUT/runtime/<version>/        immutable: worker.js, pyodide.mjs, pyodide.asm.mjs,
                              pyodide.asm.wasm, python_stdlib.zip, python_stdlib.core.pyc.zip
                              (python_stdlib.pyc.zip with --full-stdlib),
                              pyodide-lock.json, the edge / msgpack / cachetools wheels,
                              snapshot.bin (a Pyodide memory snapshot, unless --no-snapshot)
                              and snapshot.bin.br: uploaded as snapshot.bin with
                              Content-Encoding: br (`infra.bundle.precompress`)
```

`<version>` is the perso version plus a hash of everything in the directory, so a
changed byte is a new directory and an old one never changes under a visitor.

>>> runtime_version({"a.txt": "00" * 32})
'0.1.0-7fd4ff5a2ba2'
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from infra.bundle.lock import HandLocked, lock_packages, write_lock
from infra.bundle.precompress import precompress_dir
from infra.bundle.runtime import (
    CACHE,
    CACHETOOLS_VERSION,
    CORE_FILES,
    CORE_STDLIB,
    MSGPACK_VERSION,
    PYC_STDLIB,
    PYEMSCRIPTEN_PLATFORM,
    ROOT,
    BundleError,
    compile_stdlib,
    esbuild,
    fetch_wheel,
    pyodide_dir,
    sha256_file,
    trim_stdlib,
)
from infra.bundle.snapshot import SNAPSHOT, make_snapshot
from infra.bundle.wheel import build_edge_wheel

__all__ = ["PERSO_VERSION", "Bundle", "build_bundle", "runtime_version"]

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


def _stage_runtime(stage: Path, *, pyc: bool, snapshot: bool, full_stdlib: bool) -> None:
    core = pyodide_dir()
    for name in CORE_FILES:
        shutil.copyfile(core / name, stage / name)
    edge = build_edge_wheel(stage, include_compiler=False)
    msgpack = fetch_wheel(f"msgpack=={MSGPACK_VERSION}", platform=PYEMSCRIPTEN_PLATFORM)
    cachetools = fetch_wheel(f"cachetools=={CACHETOOLS_VERSION}")
    for wheel in (msgpack, cachetools):
        shutil.copyfile(wheel, stage / wheel.name)
    # msgpack's wasm wheel by hand (the tool refuses its tag), the pure ones by the tool.
    lock = lock_packages(
        stage,
        pure=[edge, stage / cachetools.name],
        by_hand=[HandLocked("msgpack", stage / msgpack.name, ("msgpack",))],
    )
    stdlib = "python_stdlib.zip"
    if pyc:
        full = compile_stdlib(stage)
        stdlib = PYC_STDLIB
        if not full_stdlib:
            trim_stdlib(full, stage)
            full.unlink()
            stdlib = CORE_STDLIB
    perso: dict[str, object] = {"stdlib": stdlib, "protocol": 1}
    write_lock(stage, lock, perso=perso)
    if snapshot:
        # Made from the staged runtime (it boots it), then named in the lock file.
        make_snapshot(stage)
        write_lock(stage, lock, perso={**perso, "snapshot": SNAPSHOT})
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
        # snapshot.bin: CloudFront would send its 31 MB as they are
        precompress_dir(stage, cache=CACHE / "precompressed")
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
    esbuild(src / "perso.js", out / "perso.js", fmt="iife", target="es2019", define=define)
    esbuild(src / "perso-debug.js", out / "perso-debug.js", fmt="iife", target="es2019", define={})
    esbuild(SNIPPET / "stub.js", out / "stub.js", fmt="iife", target="es5", define={})
    pointer = {"runtime": version, "perso": PERSO_VERSION}
    (out / "runtime.json").write_text(json.dumps(pointer) + "\n", encoding="utf-8")
    top = [out / n for n in ("perso.js", "perso-debug.js", "runtime.json", "stub.js")]
    files = {str(p.relative_to(out)): p.stat().st_size for p in [*top, *sorted(final.iterdir())]}
    return Bundle(out=out, version=version, files=files)
