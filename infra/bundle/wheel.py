"""Build the `edge` wheel that Pyodide installs: pure, `py3-none-any`, byte-for-byte reproducible.

The browser wheel leaves the ruleset compiler out (YAML parsing is a build-time need,
DESIGN §2); the test wheel that the Pyodide test pass installs keeps everything.

    build_edge_wheel(Path("dist"))  # -> dist/perso_edge-0.1.0-py3-none-any.whl

Reproducible means: every entry has the same fixed timestamp and permissions, entries
are sorted (the `.dist-info` files last, RECORD the very last), and nothing about the
machine or the clock goes in. The same sources therefore give the same sha256, which
the CDN bundle relies on for immutable `runtime/<version>/` paths.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "COMPILER_PACKAGE",
    "EDGE_DIST",
    "EDGE_REQUIRES",
    "build_edge_wheel",
    "edge_files",
    "edge_version",
    "is_compiler_only",
    "write_wheel",
]

ROOT = Path(__file__).resolve().parents[2]
EDGE_DIR = ROOT / "edge"
EDGE_DIST = "perso_edge"
# The runtime dependencies of `edge` (DESIGN §2: stdlib + msgpack + cachetools only).
EDGE_REQUIRES = ("msgpack>=1.1", "cachetools>=5.3")
# What only the YAML compiler needs is left out of the wheel shipped to browsers: the
# `edge/compiler/` package, whole.
COMPILER_PACKAGE = "compiler"

# The earliest time a zip entry can carry; any fixed value works, this one is the convention.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o644 << 16
_VERSION_RE = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def edge_version(edge_dir: Path = EDGE_DIR) -> str:
    """The version in `edge/__init__.py`, read as text so building never imports `edge`."""
    text = (edge_dir / "__init__.py").read_text(encoding="utf-8")
    match = _VERSION_RE.search(text)
    if match is None:
        raise ValueError(f"{edge_dir / '__init__.py'} has no __version__ = '...' line")
    return match.group(1)


def edge_files(edge_dir: Path = EDGE_DIR, *, include_compiler: bool = False) -> dict[str, bytes]:
    """The `edge/...` archive names and contents that go into the wheel, sorted by name."""
    files: dict[str, bytes] = {}
    for path in sorted(edge_dir.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"}:
            continue
        relative = path.relative_to(edge_dir)
        if not include_compiler and is_compiler_only(relative):
            continue
        files[f"edge/{relative.as_posix()}"] = path.read_bytes()
    if "edge/__init__.py" not in files:
        raise ValueError(f"{edge_dir} is not the edge package: it has no __init__.py")
    return files


def build_edge_wheel(out_dir: Path, *, include_compiler: bool = False) -> Path:
    """Write `perso_edge-<version>-py3-none-any.whl` into `out_dir` and return its path.

    `include_compiler=False` (the browser wheel) leaves out the compiler; the test
    wheel (`True`) holds the whole package so the compiler tests run in Pyodide too.
    """
    return write_wheel(
        out_dir,
        name=EDGE_DIST,
        version=edge_version(),
        files=edge_files(include_compiler=include_compiler),
        requires=EDGE_REQUIRES,
        summary="perso's decision core: pure Python for CPython and Pyodide.",
    )


def write_wheel(
    out_dir: Path,
    *,
    name: str,
    version: str,
    files: Mapping[str, bytes],
    requires: Sequence[str] = (),
    summary: str = "",
    tag: str = "py3-none-any",
) -> Path:
    """Write a pure wheel holding `files` (archive name -> bytes), reproducibly.

    Also used to package pure-Python sources that PyPI only ships as an sdist
    (the Pyodide test pass builds PyYAML's pure half this way).
    """
    dist = re.sub(r"[-_.]+", "_", name)
    dist_info = f"{dist}-{version}.dist-info"
    for arcname in files:
        if arcname.startswith(("/", "../")) or arcname.startswith(f"{dist_info}/"):
            raise ValueError(f"wheel entry {arcname!r} is not a plain package path")
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        *([f"Summary: {summary}"] if summary else []),
        *(f"Requires-Dist: {requirement}" for requirement in requires),
    ]
    wheel = [
        "Wheel-Version: 1.0",
        "Generator: perso infra.bundle.wheel",
        "Root-Is-Purelib: true",
        f"Tag: {tag}",
    ]
    entries = sorted(files.items())
    entries.append((f"{dist_info}/METADATA", _lines(metadata)))
    entries.append((f"{dist_info}/WHEEL", _lines(wheel)))
    record = [f"{arcname},{_digest(data)},{len(data)}" for arcname, data in entries]
    record.append(f"{dist_info}/RECORD,,")
    entries.append((f"{dist_info}/RECORD", _lines(record)))

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{dist}-{version}-{tag}.whl"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # two builds may run at once
    with zipfile.ZipFile(tmp, "w") as archive:
        for arcname, data in entries:
            info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine builds it
            archive.writestr(info, data, compresslevel=9)
    # Replace in one step so a reader never sees half a wheel.
    tmp.replace(path)
    return path


def is_compiler_only(relative: Path) -> bool:
    """Whether `relative` (a path inside `edge/`) belongs to the build-time compiler,
    the `edge/compiler/` package: `compiler/_yaml.py` does, `decide/__init__.py` not."""
    return relative.parts[0] == COMPILER_PACKAGE


def _digest(data: bytes) -> str:
    raw = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={raw.decode('ascii')}"


def _lines(lines: Sequence[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")
