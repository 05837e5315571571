"""Byte budgets of DESIGN §10, after a real bundle build: stub <= 2 KB gzipped,
runtime JS (perso.js) <= 15 KB brotli. Sizes are printed so a change shows its cost."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest

from infra.bundle import Bundle, build_bundle
from infra.snippet_html import minified_stub

STUB_GZIP_BUDGET = 2 * 1024
RUNTIME_BROTLI_BUDGET = 15 * 1024
WORKER_BROTLI_BUDGET = 15 * 1024


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return build_bundle(out=tmp_path_factory.mktemp("cdn"))


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def test_stub_fits_2kb_gzipped(bundle: Bundle) -> None:
    built = (bundle.out / "stub.js").read_bytes()
    inline = minified_stub().encode()
    print(f"\nstub: {len(built)} B raw, {_gz(built)} B gzip (budget {STUB_GZIP_BUDGET})")
    assert _gz(built) <= STUB_GZIP_BUDGET
    assert _gz(inline) <= STUB_GZIP_BUDGET


def test_runtime_fits_15kb_brotli(bundle: Bundle) -> None:
    data = (bundle.out / "perso.js").read_bytes()
    size = len(brotli.compress(data, quality=11))
    print(f"\nperso.js: {len(data)} B raw, {size} B brotli (budget {RUNTIME_BROTLI_BUDGET})")
    assert size <= RUNTIME_BROTLI_BUDGET


def test_worker_script_is_small(bundle: Bundle) -> None:
    # Not a DESIGN budget, but the worker script is on the critical path of engine start.
    data = (bundle.runtime_dir / "worker.js").read_bytes()
    size = len(brotli.compress(data, quality=11))
    print(f"\nworker.js: {len(data)} B raw, {size} B brotli")
    assert size <= WORKER_BROTLI_BUDGET


def test_stub_source_is_es5(bundle: Bundle) -> None:
    # ES5 means no arrow functions, let/const, template literals or classes in the stub.
    snippet = Path(__file__).resolve().parents[2] / "snippet"
    for path in (snippet / "stub.js", snippet / "src" / "instant.js"):
        lines = path.read_text().splitlines()
        code = "\n".join(
            line for line in lines if not line.strip().startswith(("*", "/*", "//"))
        )
        for token in ("=>", "let ", "const ", "`", "class ", "..."):
            assert token not in code, f"{path.name} uses {token!r}, which is not ES5"
