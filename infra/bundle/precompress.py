"""Runtime files CloudFront would send uncompressed, written pre-compressed by the bundle.

CloudFront compresses only some content types, and only objects from 1,000 to
10,000,000 bytes; `snapshot.bin` (a Pyodide memory snapshot, ~31 MB of
`application/octet-stream`) is outside both, so it would travel as it is. The bundle
therefore writes `<name>.br` next to such a file (brotli, quality 9 with a 16 MiB
window: the same bytes on every build), and the object is uploaded under its own key
with the `.br` body and `Content-Encoding: br` (`upload_objects`), as S3 then serves it
to every client. Brotli, not gzip: 4.6 MB instead of 5.8 MB for the snapshot, a second
less on a 9 Mbit/s first view. Every browser that runs the module worker decodes it over
HTTPS (a CDN is HTTPS); one that did not would fail that one fetch, and the worker then
boots without the snapshot. Quality 11 would save 0.6 MB more but takes a minute per
snapshot on two cores, paid again at every change of edge while developing.
`perso dev` serves the sibling the same way (`infra.local._static.precompressed`).

>>> should_precompress("snapshot.bin", 31_000_000)
True
>>> should_precompress("pyodide.asm.wasm", 9_000_000)  # CloudFront compresses it
False
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import brotli

__all__ = [
    "CODING",
    "SUFFIX",
    "Upload",
    "precompress_dir",
    "should_precompress",
    "upload_objects",
]

SUFFIX = ".br"
CODING = "br"  # the Content-Encoding of a SUFFIX file
_QUALITY, _WINDOW = 9, 24
# What CloudFront leaves alone here: octet streams and tar archives at any size, and any
# type over its 10,000,000-byte ceiling. Wheels and zips are compressed already.
_ALWAYS = frozenset({".bin", ".tar"})
_CLOUDFRONT_MAX = 10_000_000
_ALREADY_COMPRESSED = frozenset({".whl", ".zip", ".gz", ".br", ".png", ".jpg", ".jpeg"})
_MIN_SIZE = 1_000
_MIN_GAIN = 0.9  # keep the .br only when it is at most 90 % of the original


class Upload(NamedTuple):
    """One object of the runtime: its key's file name, the file to send, its coding."""

    name: str
    body: Path
    content_encoding: str | None


def should_precompress(name: str, size: int) -> bool:
    suffix = Path(name).suffix.lower()
    if suffix in _ALREADY_COMPRESSED or size < _MIN_SIZE:
        return False
    return suffix in _ALWAYS or size > _CLOUDFRONT_MAX


def precompress_dir(folder: Path, *, cache: Path | None = None) -> dict[str, tuple[int, int]]:
    """Write `<name>.br` for each file of `folder` that needs it; {name: (before, after)}.
    With `cache`, compressed bodies are kept there by the sha256 of what they compress
    (brotli takes seconds on a snapshot; the snapshot itself is cached the same way)."""
    sizes: dict[str, tuple[int, int]] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        size = path.stat().st_size
        if not should_precompress(path.name, size):
            continue
        data = _compressed(path.read_bytes(), cache)
        if len(data) > size * _MIN_GAIN:
            continue
        path.with_name(path.name + SUFFIX).write_bytes(data)
        sizes[path.name] = (size, len(data))
    return sizes


def _compressed(raw: bytes, cache: Path | None) -> bytes:
    name = f"{hashlib.sha256(raw).hexdigest()}-q{_QUALITY}w{_WINDOW}{SUFFIX}"
    kept = cache / name if cache is not None else None
    if kept is not None and kept.is_file():
        return kept.read_bytes()
    data = bytes(brotli.compress(raw, quality=_QUALITY, lgwin=_WINDOW))
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        tmp = kept.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(kept)  # whole or absent, for a concurrent build
    return data


def upload_objects(folder: Path) -> Iterator[Upload]:
    """What to upload for `folder`: a pre-compressed file under its own name, with the
    `.br` body and `Content-Encoding: br`; every other file as it is."""
    names = {p.name for p in folder.iterdir() if p.is_file()}
    for name in sorted(names):
        if name.endswith(SUFFIX) and name.removesuffix(SUFFIX) in names:
            continue
        sibling = name + SUFFIX
        if sibling in names:
            yield Upload(name, folder / sibling, CODING)
        else:
            yield Upload(name, folder / name, None)
