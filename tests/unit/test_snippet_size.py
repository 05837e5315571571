"""Byte budgets of DESIGN §10, after a real bundle build: stub <= 2 KB gzipped,
runtime JS (perso.js) <= 15 KB brotli. Sizes are printed so a change shows its cost, and
`test_sizes_for_the_readme` prints the figures the README quotes (the inline snippet,
perso.js, the debugger, the default bundle): run with `-s`."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import brotli
import pytest

from infra.bundle import PERSO_VERSION, Bundle, build_bundle, snippet_html
from infra.bundle.snippet import minified_stub
from infra.local._static import content_type, is_compressible

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
        code = "\n".join(line for line in lines if not line.strip().startswith(("*", "/*", "//")))
        for token in ("=>", "let ", "const ", "`", "class ", "..."):
            assert token not in code, f"{path.name} uses {token!r}, which is not ES5"


def test_debugger_is_a_separate_file_loaded_on_demand(bundle: Bundle) -> None:
    # perso.js only knows where perso-debug.js is; the overlay's code is not in it.
    runtime = (bundle.out / "perso.js").read_bytes()
    debugger = (bundle.out / "perso-debug.js").read_bytes()
    assert b"perso-debug.js" in runtime
    assert b"perso debugger" in debugger and b"perso debugger" not in runtime
    assert b"attachShadow" in debugger and b"attachShadow" not in runtime


def test_runtime_json_names_the_runtime_directory(bundle: Bundle) -> None:
    pointer = json.loads((bundle.out / "runtime.json").read_text())
    assert pointer == {"runtime": bundle.version, "perso": PERSO_VERSION}
    assert (bundle.runtime_dir / "worker.js").is_file()


def _served(path: Path) -> int:
    # As CloudFront serves it: brotli for the types and sizes it compresses (the dev
    # server's rule, infra/local/_static.py, with its cheaper level for big files).
    data = path.read_bytes()
    if not is_compressible(content_type(path), len(data)):
        return len(data)
    return len(brotli.compress(data, quality=5 if len(data) > 1_000_000 else 11))


def test_sizes_for_the_readme(bundle: Bundle) -> None:
    # The figures the README's "Sizes" table quotes, from this build.
    html = snippet_html(
        site="demo-shop", cdn="https://cdn.example.com", api="https://api.example.com"
    )
    stub = minified_stub().encode()
    runtime = (bundle.out / "perso.js").read_bytes()
    debugger = (bundle.out / "perso-debug.js").read_bytes()
    files = [bundle.out / name for name in sorted(bundle.files)]
    on_disk = sum(p.stat().st_size for p in files)
    served = {p: _served(p) for p in files}
    rows = "\n".join(
        f"    {p.stat().st_size:>12,} B  {served[p]:>12,} B  {p.relative_to(bundle.out)}"
        for p in files
    )
    print(
        "\nperso sizes (README, Sizes):\n"
        f"  inline snippet (`perso snippet --site demo-shop --cdn https://cdn.example.com "
        f"--api https://api.example.com`): {len(html.encode()):,} B, "
        f"{_gz(html.encode()):,} B gzip\n"
        f"    of which the stub: {len(stub):,} B, {_gz(stub):,} B gzip "
        f"(budget {STUB_GZIP_BUDGET:,})\n"
        f"  perso.js: {len(runtime):,} B, {len(brotli.compress(runtime, quality=11)):,} B brotli "
        f"(budget {RUNTIME_BROTLI_BUDGET:,})\n"
        f"  perso-debug.js (loaded only when the debugger is on): {len(debugger):,} B, "
        f"{len(brotli.compress(debugger, quality=11)):,} B brotli\n"
        f"  default bundle (`perso bundle`, memory snapshot): {len(files)} files, "
        f"{on_disk:,} B on disk, {sum(served.values()):,} B as served\n"
        f"    {'on disk':>14}  {'as served':>14}\n{rows}"
    )
    assert len(html.encode()) > len(stub)
    assert any(p.name == "snapshot.bin" for p in bundle.runtime_dir.iterdir())
