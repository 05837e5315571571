"""`perso dev`: the demo shop, the CDN folder and the event API on one local port.

The server and the local backend are infra.local's; this module turns options into a
call of `infra.local.devserver.serve`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from infra.cli.errors import CommandError
from infra.local.devserver import DEFAULT_PORT, ROOT, build_cdn, serve

__all__ = ["dev", "register"]


def dev(
    port: Annotated[
        int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free one).")
    ] = DEFAULT_PORT,
    cdn: Annotated[
        Path | None,
        typer.Option("--cdn", help="Serve this CDN folder as it is instead of building one."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log every request.")] = False,
    snapshot: Annotated[
        bool,
        typer.Option(
            "--snapshot/--no-snapshot",
            help="Build the runtime with a Pyodide memory snapshot, as `perso bundle` does.",
        ),
    ] = True,
    no_api: Annotated[
        bool, typer.Option("--no-api", help="Do not start the local backend; /v1/ answers 503.")
    ] = False,
    publish_every: Annotated[
        float,
        typer.Option(
            "--publish-every",
            help="Seconds between scheduled publishes of what was learned (AWS: 15 minutes).",
        ),
    ] = 60.0,
) -> None:
    """Serve the demo shop, the CDN folder and the event API on one port."""
    if not 0 <= port < 65536:
        raise CommandError(f"--port {port} is not a port number (0 to 65535; 0 picks one).")
    if not 1 <= publish_every <= 86400:
        raise CommandError(
            f"--publish-every {publish_every:g} must be between 1 and 86400 seconds."
        )
    workdir: Path | None = None
    if cdn is None:
        workdir = Path(tempfile.mkdtemp(prefix="perso-dev-cdn-"))
        cdn_dir = workdir
        try:
            for line in build_cdn(cdn_dir, snapshot=snapshot):
                typer.echo(f"perso dev: {line}")
        except KeyboardInterrupt:
            shutil.rmtree(workdir, ignore_errors=True)
            typer.echo("perso dev: stopped.")
            return
    elif not cdn.is_dir():
        raise CommandError(f"--cdn {cdn}: no such folder.")
    else:
        cdn_dir = cdn
    try:
        serve(
            port=port,
            cdn_dir=cdn_dir,
            demo_dir=ROOT / "demo",
            start_local_api=not no_api,
            quiet=not verbose,
            echo=typer.echo,
            publish_every=publish_every,
        )
    except OSError as exc:
        raise CommandError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}).") from exc
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def register(app: typer.Typer) -> None:
    app.command()(dev)
