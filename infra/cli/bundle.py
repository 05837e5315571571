"""`perso bundle` and `perso snippet`: the CDN tree and the embed code, built by
`infra.bundle`; this module turns options into its calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infra.bundle import BundleError, SnippetError, build_bundle, snippet_html

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add `perso bundle` and `perso snippet` to the perso command."""

    @app.command("bundle")
    def bundle_command(
        out: Annotated[Path, typer.Option("--out", help="Directory to fill (the CDN root).")],
        pyc: Annotated[
            bool, typer.Option("--pyc/--no-pyc", help="Ship the stdlib precompiled.")
        ] = True,
        snapshot: Annotated[
            bool,
            typer.Option(
                "--snapshot/--no-snapshot",
                help="Ship a Pyodide memory snapshot with edge imported (made in Chromium).",
            ),
        ] = True,
        full_stdlib: Annotated[
            bool,
            typer.Option(
                "--full-stdlib",
                help="Ship the whole precompiled stdlib, not the core the runtime imports.",
            ),
        ] = False,
    ) -> None:
        """Build the CDN tree: perso.js and the immutable runtime/<version>/."""
        try:
            result = build_bundle(out=out, pyc=pyc, snapshot=snapshot, full_stdlib=full_stdlib)
        except BundleError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(str(result))
        for name, size in sorted(result.files.items()):
            typer.echo(f"  {size:>10,}  {name}")

    @app.command("snippet")
    def snippet_command(
        site: Annotated[str, typer.Option("--site", help="The ruleset's site name.")],
        cdn: Annotated[str, typer.Option("--cdn", help="Base URL of the CDN tree.")],
        api: Annotated[str, typer.Option("--api", help="Base URL of the event API.")] = "",
        hide: Annotated[int, typer.Option("--hide", help="Max ms to hide slots.")] = 300,
    ) -> None:
        """Print the HTML to paste in <head>."""
        try:
            typer.echo(snippet_html(site=site, cdn=cdn, api=api or None, hide=hide))
        except SnippetError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
