"""Runtime files CloudFront would send uncompressed, written pre-compressed by the bundle.

CloudFront compresses only some content types, and only objects from 1,000 to
10,000,000 bytes; `snapshot.bin` (a Pyodide memory snapshot, ~31 MB of
`application/octet-stream`) is outside both, so it would travel as it is. The bundle
therefore writes `<name>.gz` next to such a file (gzip, mtime 0: the same bytes on
every build), and the object is uploaded under its own key with the `.gz` body and
`Content-Encoding: gzip` (`upload_objects`), as S3 then serves it to every client.
`perso dev` serves the sibling the same way (`infra.local._static.precompressed`).

>>> should_precompress("snapshot.bin", 31_000_000)
True
>>> should_precompress("pyodide.asm.wasm", 9_000_000)  # CloudFront compresses it
False
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "GZIP_SUFFIX",
    "Upload",
    "precompress_dir",
    "should_precompress",
    "upload_objects",
]

GZIP_SUFFIX = ".gz"
# What CloudFront leaves alone here: octet streams and tar archives at any size, and any
# type over its 10,000,000-byte ceiling. Wheels and zips are compressed already.
_ALWAYS = frozenset({".bin", ".tar"})
_CLOUDFRONT_MAX = 10_000_000
_ALREADY_COMPRESSED = frozenset({".whl", ".zip", ".gz", ".br", ".png", ".jpg", ".jpeg"})
_MIN_SIZE = 1_000
_MIN_GAIN = 0.9  # keep the .gz only when it is at most 90 % of the original


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


def precompress_dir(folder: Path) -> dict[str, tuple[int, int]]:
    """Write `<name>.gz` for each file of `folder` that needs it; {name: (before, after)}."""
    sizes: dict[str, tuple[int, int]] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        size = path.stat().st_size
        if not should_precompress(path.name, size):
            continue
        data = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        if len(data) > size * _MIN_GAIN:
            continue
        path.with_name(path.name + GZIP_SUFFIX).write_bytes(data)
        sizes[path.name] = (size, len(data))
    return sizes


def upload_objects(folder: Path) -> Iterator[Upload]:
    """What to upload for `folder`: a pre-compressed file under its own name, with the
    `.gz` body and `Content-Encoding: gzip`; every other file as it is."""
    names = {p.name for p in folder.iterdir() if p.is_file()}
    for name in sorted(names):
        if name.endswith(GZIP_SUFFIX) and name.removesuffix(GZIP_SUFFIX) in names:
            continue
        sibling = name + GZIP_SUFFIX
        if sibling in names:
            yield Upload(name, folder / sibling, "gzip")
        else:
            yield Upload(name, folder / name, None)
