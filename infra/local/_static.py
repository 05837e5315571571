"""Static files as CloudFront serves them: cache policy, MIME types, ETags, compression.

The cache headers are those of `lambdas.models.cdn`, as the stack's behaviours send them.

The dev server answers `/cdn/...` from a folder laid out like the S3 bucket. What a
browser sees must match production closely enough that byte and cache figures
measured locally are real: the same `Cache-Control` per path kind, the same
content types, strong ETags with `If-None-Match` 304s, and gzip/brotli chosen from
`Accept-Encoding` for the same types and sizes CloudFront compresses.

CloudFront compresses on the first request and keeps the result at the edge; here
the compressed bodies are cached in memory and on disk (keyed by content hash), so
only the first run ever pays for brotli on the 9 MB Pyodide wasm.

>>> cache_control("runtime/0.1.0/pyodide.asm.wasm")
'public, max-age=31536000, immutable'
>>> cache_control("rulesets/demo-shop/latest.json")
'max-age=60, stale-while-revalidate=86400, stale-if-error=604800'
>>> choose_encoding("gzip, deflate, br", compressible=True)
'br'
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import brotli

from infra.bundle import PRECOMPRESSED_CODING, PRECOMPRESSED_SUFFIX
from lambdas.models.cdn import ARTIFACT_CACHE, POINTER_CACHE

__all__ = [
    "PRECOMPRESSED_CODING",
    "CompressionCache",
    "FileEntry",
    "cache_control",
    "choose_encoding",
    "content_type",
    "etag_matches",
    "is_compressible",
    "precompressed",
]

# Versioned paths never change once written: the runtime by its version folder, an
# artifact by its content hash. Everything else in the bucket is a pointer.
_VERSIONED = (
    re.compile(r"^runtime/[^/]+/.+"),
    re.compile(r"^rulesets/[^/]+/[0-9a-f]{64}\.msgpack$"),
)

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".msgpack": "application/octet-stream",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".tar": "application/x-tar",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".bin": "application/octet-stream",
}

# CloudFront's list of compressible types (the ones this project serves) and its size
# window: objects under 1,000 or over 10,000,000 bytes are sent as they are.
_COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/plain",
        "text/markdown",
        "application/javascript",
        "application/json",
        "application/wasm",
        "image/svg+xml",
    }
)
_MIN_COMPRESS, _MAX_COMPRESS = 1_000, 10_000_000
# CloudFront does not publish its levels; the highest levels for small files, cheaper
# ones for the multi-megabyte runtime files, keeps first start bearable on 2 cores.
_LARGE = 1_000_000


def cache_control(bucket_path: str) -> str:
    """The CloudFront `Cache-Control` for a path inside the bucket (no leading slash)."""
    if any(p.match(bucket_path) for p in _VERSIONED):
        return ARTIFACT_CACHE
    return POINTER_CACHE


def content_type(path: Path) -> str:
    """The `Content-Type` for a file name; unknown suffixes are octet streams."""
    return _TYPES.get(path.suffix.lower(), "application/octet-stream")


def precompressed(path: Path) -> Path | None:
    """The `<name>.br` the bundle wrote for `path` (`infra.bundle.precompress`), if any.

    In the bucket that object is `path`'s key with the brotli body and `Content-Encoding:
    br` (`PRECOMPRESSED_CODING`); S3 and CloudFront send it so to every client, whatever
    `Accept-Encoding` says.
    """
    sibling = path.with_name(path.name + PRECOMPRESSED_SUFFIX)
    return sibling if sibling.is_file() else None


def is_compressible(mime: str, size: int) -> bool:
    base = mime.split(";", 1)[0].strip()
    return base in _COMPRESSIBLE and _MIN_COMPRESS <= size <= _MAX_COMPRESS


def choose_encoding(
    accept_encoding: str, *, compressible: bool, offered: tuple[str, ...] = ("br", "gzip")
) -> str | None:
    """The first `offered` coding the client accepts, else None (identity); q=0 refuses."""
    if not compressible:
        return None
    accepted: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if name:
            accepted[name.strip().lower()] = quality
    for coding in offered:
        if accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return None


def etag_matches(if_none_match: str, etags: set[str]) -> bool:
    """Weak comparison, as RFC 9110 asks for `If-None-Match`."""
    if if_none_match.strip() == "*":
        return True
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return bool(wanted & {t.removeprefix("W/") for t in etags})


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file's identity body, its hash and the ETags of its representations."""

    body: bytes
    digest: str
    mime: str

    def etag(self, encoding: str | None) -> str:
        # Each representation has its own validator, as CloudFront gives them.
        return f'"{self.digest[:32]}{"-" + encoding if encoding else ""}"'

    @property
    def etags(self) -> set[str]:
        return {self.etag(None), self.etag("gzip"), self.etag("br")}


class CompressionCache:
    """Files read once per change (mtime, size) and their compressed bodies, kept."""

    def __init__(self, *, disk_dir: Path | None = None) -> None:
        self._disk_dir = disk_dir
        self._files: dict[Path, tuple[int, int, FileEntry]] = {}
        self._bodies: dict[tuple[str, str], bytes] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def entry(self, path: Path) -> FileEntry:
        stat = path.stat()
        with self._guard:
            cached = self._files.get(path)
        if cached and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
            return cached[2]
        body = path.read_bytes()
        entry = FileEntry(body, hashlib.sha256(body).hexdigest(), content_type(path))
        with self._guard:
            self._files[path] = (stat.st_mtime_ns, stat.st_size, entry)
        return entry

    def body(self, entry: FileEntry, encoding: str | None) -> bytes:
        """The representation's bytes; compressed once per content and coding."""
        if encoding is None:
            return entry.body
        key = (entry.digest, encoding)
        with self._guard:
            if key in self._bodies:
                return self._bodies[key]
            lock = self._locks.setdefault(key, threading.Lock())
        # One thread compresses a given body; the others wait for its result.
        with lock:
            with self._guard:
                if key in self._bodies:
                    return self._bodies[key]
            data = self._load_disk(key) or self._compress(entry.body, encoding)
            self._save_disk(key, data)
            with self._guard:
                self._bodies[key] = data
            return data

    @staticmethod
    def _compress(data: bytes, encoding: str) -> bytes:
        large = len(data) > _LARGE
        if encoding == "br":
            return bytes(brotli.compress(data, quality=5 if large else 11))
        return gzip.compress(data, compresslevel=6 if large else 9, mtime=0)

    def _disk_path(self, key: tuple[str, str]) -> Path | None:
        if self._disk_dir is None:
            return None
        return self._disk_dir / f"{key[0]}.{key[1]}"

    def _load_disk(self, key: tuple[str, str]) -> bytes | None:
        path = self._disk_path(key)
        if path is None or not path.is_file():
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def _save_disk(self, key: tuple[str, str], data: bytes) -> None:
        path = self._disk_path(key)
        if path is None or path.is_file():
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a concurrent reader never sees half a body.
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError:
            pass  # the disk cache is only an optimisation
