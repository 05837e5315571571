"""Where a running `perso dev` is, for the other commands (`perso report --target local`).

`perso dev` announces its endpoints while it runs: `with announce(DevEndpoints(...)):`
writes one JSON file per process in the user's runtime folder (readable by the user only)
and removes it on exit. `find()` returns the newest announcement whose process is still
alive, and deletes the files of servers that died without cleaning up.

    >>> with announce(endpoints):      # doctest: +SKIP
    ...     find().table
    'perso-events'

The folder is `$PERSO_STATE_DIR` if set (tests), else `$XDG_RUNTIME_DIR/perso`, else
`<temp>/perso-<uid>`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LOCAL_CREDENTIALS", "DevEndpoints", "announce", "find", "state_dir"]

# moto's server takes any key; the local stack's processes use these.
LOCAL_CREDENTIALS = ("testing", "testing")
_PREFIX = "dev-"


@dataclass(frozen=True, slots=True)
class DevEndpoints:
    """What another process needs to reach a running `perso dev`."""

    url: str  # the dev server: demo, /cdn/, /v1/, /reports/
    endpoint_url: str  # moto's server: DynamoDB and S3 of the local backend
    table: str
    bucket: str
    region: str = "us-east-1"
    shards: int = 4
    pid: int = 0


def state_dir() -> Path:
    explicit = os.environ.get("PERSO_STATE_DIR")
    if explicit:
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "perso"
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"perso-{uid}"


@contextlib.contextmanager
def announce(endpoints: DevEndpoints) -> Iterator[Path]:
    """Publish `endpoints` (with this process's id) until the block ends."""
    folder = state_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    mine = dataclasses.replace(endpoints, pid=os.getpid())
    path = folder / f"{_PREFIX}{mine.pid}.json"
    temporary = path.with_suffix(".tmp")
    # 0600 from the start: the file names the local endpoints, nobody else's business
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(dataclasses.asdict(mine), out)
    temporary.replace(path)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def find() -> DevEndpoints | None:
    """The newest live `perso dev`, or None."""
    folder = state_dir()
    if not folder.is_dir():
        return None
    found: list[tuple[float, DevEndpoints]] = []
    for path in folder.glob(f"{_PREFIX}*.json"):
        endpoints = _read(path)
        if endpoints is None or not _alive(endpoints.pid):
            path.unlink(missing_ok=True)  # a server that died without cleaning up
            continue
        with contextlib.suppress(OSError):
            found.append((path.stat().st_mtime, endpoints))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def _read(path: Path) -> DevEndpoints | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = {f.name for f in dataclasses.fields(DevEndpoints)}
        return DevEndpoints(**{k: v for k, v in data.items() if k in names})
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # the id now belongs to another user's process: ours is gone
    return True
