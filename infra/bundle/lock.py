"""`pyodide-lock.json` of `runtime/<version>/`: the wheels the worker loads, and which
stdlib (and snapshot) it boots with.

pyodide-build's `pyodide lockfile add-wheels` (the `pyodide-lock` plugin it installs)
writes the entries of the pure wheels, edge's and cachetools': name, version, sha256,
imports, and `depends` resolved against the lock. Two things it refuses are written here
by hand (docs/notes/pyodide.md quotes its messages):

- msgpack's entry: the tool accepts only the platform tag `<info.platform>_<info.arch>`
  (`emscripten_5_0_3_wasm32`), while PyPI's wheel, like Pyodide 314's own msgpack, is
  tagged `pyemscripten_2026_0_wasm32` (PEP 783). The entry goes into the tool's input,
  so edge's dependency on msgpack resolves there;
- the `perso` block the worker reads: the tool's reader refuses keys it does not know,
  so the block is added to its output.

    lock = lock_packages(stage, pure=[edge_whl, cachetools_whl], by_hand=[msgpack])
    write_lock(stage, lock, perso={"stdlib": "python_stdlib.core.pyc.zip", "protocol": 1})
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.bundle.runtime import BundleError, pyodide_dir, sha256_file

__all__ = ["LOCK", "HandLocked", "lock_packages", "write_lock"]

LOCK = "pyodide-lock.json"


@dataclass(frozen=True, slots=True)
class HandLocked:
    """A wheel `add-wheels` refuses, with what the tool would have read from it."""

    name: str  # the lock key (normalized project name)
    path: Path
    imports: tuple[str, ...]
    depends: tuple[str, ...] = ()


def _entry(wheel: HandLocked) -> dict[str, Any]:
    """One `packages` entry, with the fields and values the tool writes for a wheel."""
    return {
        "name": wheel.name,
        "version": wheel.path.name.split("-")[1],
        "file_name": wheel.path.name,
        "install_dir": "site",
        "sha256": sha256_file(wheel.path),
        "package_type": "package",
        "imports": list(wheel.imports),
        "depends": list(wheel.depends),
        "unvendored_tests": False,
        "tool": {},
    }


def lock_packages(
    stage: Path, *, pure: Sequence[Path], by_hand: Sequence[HandLocked]
) -> dict[str, Any]:
    """The lock (`info`, `packages`, `tool`) for wheels that all lie in `stage`: Pyodide's
    own `info` block, the `by_hand` entries, then `pyodide lockfile add-wheels` on `pure`.
    File names are relative to `stage`, where the worker finds them."""
    info = json.loads((pyodide_dir() / LOCK).read_text())["info"]
    base = {"info": info, "packages": {w.name: _entry(w) for w in by_hand}}
    with tempfile.TemporaryDirectory(prefix="perso-lock-") as tmp:
        given, made = Path(tmp) / "given.json", Path(tmp) / "made.json"
        given.write_text(json.dumps(base))
        # `python -m pyodide_cli` is the `pyodide` script of this very environment.
        args = [sys.executable, "-m", "pyodide_cli", "lockfile", "add-wheels"]
        args += ["--input", str(given), "--output", str(made), "--base-path", str(stage)]
        args += [str(path) for path in pure]
        done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0 or not made.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise BundleError(
                f"'pyodide lockfile add-wheels' failed: {last} (pyodide-build comes with "
                "the dev extra: pip install -e '.[dev]')"
            )
        lock: dict[str, Any] = json.loads(made.read_text())
    for name, entry in lock["packages"].items():
        if not (stage / entry["file_name"]).is_file():
            where = entry["file_name"]
            raise BundleError(f"the lock's {name} entry names {where!r}, which is not in {stage}")
    return lock


def write_lock(stage: Path, lock: dict[str, Any], *, perso: dict[str, Any]) -> Path:
    """`stage/pyodide-lock.json`: `lock` and the `perso` block that tells the worker which
    stdlib (and snapshot) to use."""
    path = stage / LOCK
    path.write_text(json.dumps({**lock, "perso": perso}, indent=1, sort_keys=True) + "\n")
    return path
