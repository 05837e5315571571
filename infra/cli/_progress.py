"""Progress of the writes a publishing command makes, on stderr.

On a terminal, rich draws one line per object (the artifact, the history entry, the
pointer, the invalidation) with a spinner, then its size and time once written; otherwise
(a pipe, a CI log, a test capturing output) each write is one plain line when it is done,
so logs stay readable and stdout keeps only the command's answer.

    $ perso deploy shop.yaml --yes 2>&1 >/dev/null | cat
    wrote artifact rulesets/shop/3f2a….msgpack (2140 bytes)
    wrote history rulesets/shop/history/20261125T…-3f2a….json (301 bytes)
    wrote pointer rulesets/shop/latest.json (174 bytes)
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

import typer

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from lambdas.dal.cdn import S3Cdn

__all__ = ["Uploads", "status", "uploading"]


def _terminal(stream: TextIO | None) -> bool:
    return stream is not None and stream.isatty()


class Uploads:
    """A `lambdas.dal.cdn.WriteWatcher`: rich on a terminal, plain lines otherwise."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[tuple[str, str], tuple[TaskID | None, int]] = {}

    def begin(self, kind: str, key: str, size: int) -> None:
        task = None
        if self._progress is not None:
            label = f"{kind:<8} {_short(key)}"
            task = self._progress.add_task(label, total=max(size, 1), start=True)
        self._tasks[(kind, key)] = (task, size)

    def end(self, kind: str, key: str) -> None:
        task, size = self._tasks.pop((kind, key), (None, 0))
        if self._progress is not None and task is not None:
            self._progress.update(task, completed=max(size, 1))
            return
        what = "invalidated" if kind == "invalidation" else f"wrote {kind}"
        typer.echo(f"{what} {key}" + (f" ({size} bytes)" if size else ""), err=True)


def _short(key: str) -> str:
    """The key's file name, a sha256 in it cut short, to leave room for the bar.

    >>> _short("rulesets/shop/" + "ab" * 32 + ".msgpack")
    'abababababab….msgpack'
    """
    name = key.rsplit("/", 1)[-1]
    stem, dot, suffix = name.partition(".")
    return f"{stem[:12]}…{dot}{suffix}" if len(stem) > 16 else name


@contextlib.contextmanager
def uploading(cdn: S3Cdn, *, stream: TextIO | None = None) -> Iterator[Uploads]:
    """Report `cdn`'s writes inside the block (stderr unless `stream`)."""
    stream = stream if stream is not None else sys.stderr
    with contextlib.ExitStack() as stack:
        progress = None
        if _terminal(stream):
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            progress = Progress(
                SpinnerColumn(finished_text="[green]✓"),
                TextColumn("{task.description}"),
                BarColumn(bar_width=20),
                DownloadColumn(),
                TimeElapsedColumn(),
                console=Console(file=stream),
            )
            stack.enter_context(progress)
        uploads = Uploads(progress)
        previous, cdn.watcher = cdn.watcher, uploads
        stack.callback(setattr, cdn, "watcher", previous)
        yield uploads


@contextlib.contextmanager
def status(message: str, *, stream: TextIO | None = None) -> Iterator[None]:
    """A spinner with `message` on a terminal; otherwise one plain line when it is done."""
    stream = stream if stream is not None else sys.stderr
    if _terminal(stream):
        from rich.console import Console

        with Console(file=stream).status(message):
            yield
        return
    yield
    typer.echo(f"{message}: done", err=True)
