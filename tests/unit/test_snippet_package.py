"""The npm package of the browser side, `@perso/browser` (snippet/package.json): what
`npm pack` puts in it, that every entry and import resolves inside it, that its
TypeScript declarations type-check a typed usage file and list exactly the runtime's
methods, and what it weighs (printed: `-s`).

The package's ES module is the runtime's own source (snippet/src), not a copy; the
browser tests load it from the packed tarball (tests/browser/test_package.py,
test_react.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import brotli
import pytest

from infra.bundle import PERSO_VERSION

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = ROOT / "snippet"
TSC = ROOT / "node_modules" / ".bin" / "tsc"
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
# What an app adds to its bundle by importing the package: the same budget as perso.js.
ENTRY_BROTLI_BUDGET = 15 * 1024
# The tarball itself (sources with their comments, the declarations, the readme).
TARBALL_BUDGET = 64 * 1024
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.[^"']+)["']""")


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`npm pack` for real: the tarball, its listing, and the package extracted."""
    out = tmp_path_factory.mktemp("pack")
    done = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(out)],
        cwd=SNIPPET,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    info: dict[str, Any] = json.loads(done.stdout)[0]
    tarball = out / info["filename"]
    with tarfile.open(tarball) as tar:
        tar.extractall(out / "x", filter="data")
    info["tarball"] = tarball
    info["root"] = out / "x" / "package"
    return info


def _tsc(project_or_files: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TSC), "--noEmit", "--pretty", "false", *project_or_files],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_metadata_names_the_package_and_its_entries(packed: dict[str, Any]) -> None:
    meta = json.loads((packed["root"] / "package.json").read_text())
    assert meta["name"] == "@perso/browser"
    assert meta["type"] == "module"
    # One version for the package, its VERSION export and the CDN bundle.
    assert meta["version"] == PERSO_VERSION
    module_js = (packed["root"] / "src" / "module.js").read_text()
    assert f'export const VERSION = "{PERSO_VERSION}"' in module_js
    assert set(meta["exports"]) == {".", "./react", "./package.json"}
    assert meta["peerDependencies"] == {"react": ">=18"}
    assert meta["peerDependenciesMeta"]["react"]["optional"] is True
    assert "dependencies" not in meta


def test_every_entry_and_relative_import_is_in_the_tarball(packed: dict[str, Any]) -> None:
    root: Path = packed["root"]
    listed = {f["path"] for f in packed["files"]}
    meta = json.loads((root / "package.json").read_text())
    targets = [
        t for e in meta["exports"].values() for t in ([e] if isinstance(e, str) else e.values())
    ]
    for target in targets:
        assert target.removeprefix("./") in listed, f"exports names {target}, which is not packed"
    for path in sorted(p for p in listed if p.endswith(".js")):
        for spec in IMPORT.findall((root / path).read_text()):
            wanted = (Path(path).parent / spec).as_posix()
            assert Path(wanted).as_posix() in listed, f"{path} imports {spec}, which is not packed"
    # The worker, the stub and the build tools live on the CDN or in the repository only.
    assert not listed & {"src/worker.js", "stub.js", "src/perso.js", "PROTOCOL.md"}
    assert not any(p.startswith("tools/") for p in listed)


def test_package_weighs_within_budget(packed: dict[str, Any], tmp_path: Path) -> None:
    # What an app's bundler adds: the ES entry bundled and minified, the debugger split
    # off into its own chunk (loaded only by perso.debug(true) or ?perso_debug=1).
    out = tmp_path / "app"
    subprocess.run(
        [
            str(ESBUILD),
            str(packed["root"] / "src" / "module.js"),
            "--bundle",
            "--minify",
            "--format=esm",
            "--splitting",
            f"--outdir={out}",
            "--log-level=warning",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    main = (out / "module.js").read_bytes()
    chunks = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "module.js"}
    main_br = len(brotli.compress(main, quality=11))
    rows = "\n".join(f"  {f['size']:>8,} B  {f['path']}" for f in packed["files"])
    chunk_rows = "\n".join(
        f"  {len(d):>8,} B raw, {len(brotli.compress(d, quality=11)):>6,} B brotli  {n}"
        for n, d in sorted(chunks.items())
    )
    print(
        f"\n@perso/browser {packed['version']}: tarball {packed['size']:,} B, "
        f"unpacked {packed['unpackedSize']:,} B in {len(packed['files'])} files\n{rows}\n"
        f"app bundle (esbuild --bundle --minify --splitting): entry {len(main):,} B raw, "
        f"{main_br:,} B brotli (budget {ENTRY_BROTLI_BUDGET:,}); on-demand chunks:\n{chunk_rows}"
    )
    assert main_br <= ENTRY_BROTLI_BUDGET
    assert packed["size"] <= TARBALL_BUDGET
    assert b"perso debugger" not in main, "the debugger is in the entry chunk"
    assert any(b"perso debugger" in d for d in chunks.values())


def test_declarations_type_check_a_typed_usage() -> None:
    done = _tsc(["-p", str(SNIPPET / "types" / "tsconfig.json")])
    assert done.returncode == 0, done.stdout + done.stderr


def test_declarations_reject_wrong_usage(tmp_path: Path) -> None:
    # The check above can fail: the same compiler settings on calls the types forbid.
    bad = SNIPPET / "types" / "_wrong_usage.ts"
    bad.write_text(
        'import { perso } from "@perso/browser";\n'
        'perso.init({ site: "x", cdn: "/cdn", apply: "all" });\n'
        "const n: number = perso.get(1);\n"
        'perso.on("decisions", () => {});\n'
        'const pending: string = perso.state("hero").pending;\n'
    )
    try:
        done = _tsc(
            [
                "--strict",
                "--module",
                "esnext",
                "--moduleResolution",
                "bundler",
                "--target",
                "es2020",
                "--lib",
                "es2020,dom",
                "--types",
                "",
                str(bad),
            ]
        )
    finally:
        bad.unlink()
    errors = re.findall(r"\((\d+),\d+\): error", done.stdout)
    assert done.returncode != 0
    assert sorted({int(line) for line in errors}) == [2, 3, 4, 5], done.stdout


def _runtime_methods(module: str, expr: str) -> list[str]:
    script = (
        f"const m = await import({json.dumps(module)});\n"
        "const win = { document: {}, location: { href: 'https://shop.example/' }, console };\n"
        f"const api = {expr};\n"
        "console.log(JSON.stringify(Object.keys(api).filter((k) => !k.startsWith('__'))));\n"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names: list[str] = json.loads(done.stdout)
    return names


def test_declarations_list_exactly_the_runtime_methods(tmp_path: Path) -> None:
    # The runtime's own object (src/index.js boot) and the inert one a server render
    # gets (src/module.js without a document) have the same methods...
    booted = _runtime_methods(
        str(SNIPPET / "src" / "index.js"),
        "m.boot(win, { version: 't', runtime: () => 'r', loadDebugger: () => null })",
    )
    inert = _runtime_methods(str(SNIPPET / "src" / "module.js"), "m.perso")
    assert sorted(booted) == sorted(inert)
    # ... and the `Perso` interface declares exactly those: a missing one is an error
    # ("property ... is missing"), an extra one too ("may only specify known properties").
    check = SNIPPET / "types" / "_methods.ts"
    entries = ", ".join(f"{json.dumps(n)}: true" for n in booted)
    check.write_text(
        'import type { Perso } from "@perso/browser";\n'
        f"export const methods: Record<keyof Perso, true> = {{ {entries} }};\n"
    )
    try:
        done = _tsc(
            [
                "--strict",
                "--module",
                "esnext",
                "--moduleResolution",
                "bundler",
                "--target",
                "es2020",
                "--lib",
                "es2020,dom",
                "--types",
                "",
                str(check),
            ]
        )
    finally:
        check.unlink()
    assert done.returncode == 0, f"runtime methods {booted}:\n{done.stdout}"
