"""The CDN bundle build: what `perso bundle` writes and `perso snippet` prints (DESIGN §6, §7).

Owns `build` (the tree: perso.js, stub.js, the immutable `runtime/<version>/`), `runtime`
(Pyodide's core files, the stdlib precompiled inside Pyodide, PyPI's wheels, esbuild),
`lock` (pyodide-lock.json, through pyodide-build's `pyodide lockfile add-wheels`),
`snapshot` (the memory snapshot, made in Chromium), `precompress` (what CloudFront would
send uncompressed, written as `<name>.br`), `wheel` (the reproducible `edge`
wheel, without the compiler for browsers) and `snippet` (the embed code).

Imports nothing of the project but itself (the wheel reads `edge/`'s files, never imports
them) and runs Node, esbuild, Pyodide, pyodide-build and Chromium as tools. `infra.cli`
and `infra.local` use the names below only; tests and snippet/tools may reach inside.
"""

from __future__ import annotations

from infra.bundle.build import PERSO_VERSION, Bundle, build_bundle, runtime_version
from infra.bundle.precompress import CODING as PRECOMPRESSED_CODING
from infra.bundle.precompress import SUFFIX as PRECOMPRESSED_SUFFIX
from infra.bundle.runtime import BundleError
from infra.bundle.snapshot import SnapshotUnavailable
from infra.bundle.snippet import SnippetError, snippet_html

__all__ = [
    "PERSO_VERSION",
    "PRECOMPRESSED_CODING",
    "PRECOMPRESSED_SUFFIX",
    "Bundle",
    "BundleError",
    "SnapshotUnavailable",
    "SnippetError",
    "build_bundle",
    "runtime_version",
    "snippet_html",
]
