"""The pieces of `runtime/<version>/`: Pyodide's core, the stdlib (as shipped and
precompiled inside Pyodide), the PyPI wheels, and esbuild. The lock file that names the
wheels is `lock.py`'s.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

__all__ = [
    "CACHE",
    "CACHETOOLS_VERSION",
    "CORE_FILES",
    "CORE_STDLIB",
    "MSGPACK_VERSION",
    "PYC_STDLIB",
    "PYEMSCRIPTEN_PLATFORM",
    "ROOT",
    "STDLIB_CORE",
    "BundleError",
    "compile_stdlib",
    "esbuild",
    "fetch_wheel",
    "pyodide_dir",
    "sha256_file",
    "trim_stdlib",
]

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
# Pinned with the dev extra in pyproject.toml; the browser gets the same versions.
MSGPACK_VERSION = "1.2.4"
CACHETOOLS_VERSION = "8.0.1"
PYEMSCRIPTEN_PLATFORM = "pyemscripten_2026_0_wasm32"
CORE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
PYC_STDLIB = "python_stdlib.pyc.zip"
CORE_STDLIB = "python_stdlib.core.pyc.zip"
# The stdlib's top-level modules and packages kept in CORE_STDLIB, whole. What the core
# imports at run time inside Pyodide (boot, loading the wheels, load_artifact, decide_json,
# error paths, the snapshot warm-up; recorded from sys.modules by
# snippet/tools/stdlib_imports.mjs), a safety margin of common modules, and everything
# those import at module level. Left out: tools a decision worker never runs (pdb, bdb,
# doctest, unittest, multiprocessing, the REPL, pydoc, xml, sqlite3, wsgiref, mail and
# network clients, profilers...); concurrent.futures.process (needs multiprocessing) is
# the one kept module that would not import. `perso bundle --full-stdlib` ships all.
STDLIB_CORE = frozenset(
    """
    __future__ _collections_abc _colorize _compat_pickle _markupbase _opcode_metadata
    _py_abc _py_warnings _pydatetime _pylong _pyodide _sitebuiltins _ssl _strptime
    _sysconfigdata__emscripten_wasm32-emscripten _threading_local _weakrefset abc
    annotationlib argparse ast asyncio base64 bisect bz2 calendar cmd code codecs codeop
    collections colorsys compression concurrent contextlib contextvars copy copyreg ctypes
    dataclasses datetime decimal difflib dis email encodings enum fnmatch fractions
    functools genericpath getpass gettext glob graphlib gzip hashlib heapq hmac html http
    importlib inspect io ipaddress json keyword linecache locale logging lzma mimetypes
    ntpath numbers opcode operator optparse os pathlib pickle pkgutil platform posixpath
    pprint pyodide queue quopri random re reprlib rlcompleter runpy sched secrets selectors
    shlex shutil signal site site-packages socket socketserver sre_compile sre_constants
    sre_parse ssl stat statistics string stringprep struct subprocess sysconfig tarfile
    tempfile textwrap threading token tokenize tomllib traceback types typing urllib
    uuid warnings weakref zipfile zipimport zoneinfo
    """.split()  # noqa: SIM905 - a word list reads better than 130 quoted strings
)


class BundleError(RuntimeError):
    """A bundle step failed; the message says which and what to do."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pyodide_dir() -> Path:
    found = ROOT / "node_modules" / "pyodide"
    if not (found / "pyodide.mjs").is_file():
        raise BundleError(
            f"Pyodide is not installed at {found}; run 'npm ci' in {ROOT} (package.json pins it)."
        )
    return found


def esbuild(entry: Path, out: Path, *, fmt: str, target: str, define: dict[str, str]) -> Path:
    exe = ROOT / "node_modules" / ".bin" / "esbuild"
    if not exe.exists():
        raise BundleError(f"esbuild is not installed at {exe}; run 'npm ci' in {ROOT}.")
    args = [str(exe), str(entry), "--bundle", "--minify", f"--format={fmt}", f"--target={target}"]
    args += [f"--define:{k}={json.dumps(v)}" for k, v in sorted(define.items())]
    args += [f"--outfile={out}", "--log-level=warning", "--legal-comments=none"]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(f"esbuild could not build {entry.name}: {done.stderr.strip()}")
    return out


def fetch_wheel(requirement: str, *, platform: str | None = None) -> Path:
    """A wheel from PyPI, downloaded once into .cache/wheels (pip's own client)."""
    name, _, version = requirement.partition("==")
    wheels = CACHE / "wheels"
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    matches = (
        [p for p in sorted(wheels.glob(pattern)) if platform is None or platform in p.name]
        if wheels.is_dir()
        else []
    )
    if matches:
        return matches[0]
    wheels.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    args += ["--only-binary=:all:", "--dest", str(wheels), requirement]
    if platform is not None:
        args += ["--platform", platform, "--python-version", "3.14", "--implementation", "cp"]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    matches = [p for p in sorted(wheels.glob(pattern)) if platform is None or platform in p.name]
    if done.returncode != 0 or not matches:
        raise BundleError(
            f"could not download {requirement} ({platform or 'any platform'}) from PyPI: "
            f"{done.stderr.strip() or 'no wheel found'}"
        )
    return matches[0]


def compile_stdlib(out: Path) -> Path:
    """python_stdlib.zip precompiled by Pyodide's own Python (in Node), cached by input hash."""
    src = pyodide_dir() / "python_stdlib.zip"
    script = ROOT / "snippet" / "tools" / "compile_stdlib.mjs"
    key = hashlib.sha256(
        (
            sha256_file(src) + sha256_file(script) + sha256_file(pyodide_dir() / "pyodide.asm.wasm")
        ).encode()
    ).hexdigest()[:16]
    cached = CACHE / "stdlib" / f"{key}.zip"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        done = subprocess.run(
            ["node", str(script), str(pyodide_dir()), str(tmp)],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if done.returncode != 0 or not tmp.exists():
            raise BundleError(f"compiling the stdlib inside Pyodide failed: {done.stderr.strip()}")
        with zipfile.ZipFile(tmp) as z:
            bad = z.testzip()
        if bad is not None:
            raise BundleError(f"the precompiled stdlib zip is corrupt at {bad}")
        tmp.replace(cached)
    target = out / PYC_STDLIB
    shutil.copyfile(cached, target)
    return target


def _top_level(name: str) -> str:
    return name.split("/", 1)[0].removesuffix(".pyc").removesuffix(".py")


def trim_stdlib(full: Path, out: Path) -> Path:
    """CORE_STDLIB: the entries of the precompiled stdlib zip under STDLIB_CORE, copied
    without recompressing (same bytes, same order)."""
    target = out / CORE_STDLIB
    with zipfile.ZipFile(full) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            if _top_level(info.filename) in STDLIB_CORE:
                with src.open(info) as member:
                    dst.writestr(info, member.read(), compress_type=info.compress_type)
    return target
