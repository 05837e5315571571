"""The publish loop: `perso diff`, `deploy`, `history`, `rollback`, `pause` and `resume`.

Each takes `--target local|aws` (infra/cli/_target.py): `local` finds the running `perso
dev` by itself; `aws` uses `--bucket` (and `--distribution`) or reads them from the outputs
of `--stack`. Without `--target`, `--bucket`/`--stack` mean aws and nothing means local.

    $ perso deploy examples/demo-shop.yaml --target local
    ~ experience hero-test: weights [0.5, 0.5] -> [0.4, 0.6]
    Deploy these changes to demo-shop? [y/N]: y
    published demo-shop version 3f2a... (2140 bytes): rulesets/demo-shop/latest.json
    $ perso deploy examples/demo-shop.yaml --preview
    uploaded a preview of demo-shop: version 3f2a... (2140 bytes); the live version is unchanged
    see it in one browser tab: http://127.0.0.1:8080/?perso_preview=3f2a...
    $ perso history demo-shop
    $ perso rollback demo-shop --yes
    rolled back demo-shop to version 9b1c...; pinned until the next deploy

Deploy compiles the file, shows what changes against the live ruleset and asks (`--yes`
skips; without a terminal `--yes` is required), then keeps the learned params of the
current artifact that still fit, uploads the source for the scheduled publisher, then the
artifact, then the pointer; an unchanged ruleset writes nothing. `--preview` uploads only
the artifact (no pointer, history, source or pin) and prints the site's page with
`?perso_preview=<sha256>`, which shows it in that browser tab alone until
`?perso_preview=off` or the tab closes. Uploads show progress on stderr
(infra/cli/_progress.py). A rollback pins its
version so the scheduled publisher leaves it until the next deploy. `pause` turns one
experience off at once without editing the YAML; `resume` turns it back on.
Exit codes: 0 done, 1 declined at the prompt, 2 a problem (one sentence each).
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import re
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edge.compiler import compile_file, compile_text
from infra.cli._diff import experience_diff, ruleset_diff
from infra.cli._progress import uploading
from infra.cli._target import (
    BucketOpt,
    DistributionOpt,
    EndpointOpt,
    Options,
    RegionOpt,
    Target,
    TargetOpt,
    Where,
    YesOpt,
    aws_errors,
    aws_problem,
    option,
    resolve_target,
    running_dev,
    stack_outputs,
    with_options,
)
from infra.cli.errors import CommandError
from infra.local import DEMO_SITE
from lambdas.logic.publish import (
    PublishError,
    deploy_ruleset,
    live_ruleset,
    preview_ruleset,
    rollback_site,
    set_paused,
    without_paused,
)
from lambdas.models.cdn import pointer_key

if TYPE_CHECKING:
    from edge.model import Ruleset
    from lambdas.dal.cdn import S3Cdn

__all__ = ["Target", "register", "resolve_target", "stack_outputs"]

_SITE = re.compile(r"[a-z0-9-]{1,64}")
# The runtime's mark (snippet/src/preview.js): a sha256 shows that artifact, "off" ends it.
PREVIEW_PARAM = "perso_preview"


SiteArg = Annotated[str, typer.Argument(help="The site id.")]
FileArg = Annotated[Path, typer.Argument(help="The ruleset YAML file.")]

_TARGET = option("target", TargetOpt)
_YES = option("yes", YesOpt, False)
_BUCKET = option("bucket", BucketOpt)
_DISTRIBUTION = option("distribution", DistributionOpt)
_STACK = option(
    "stack",
    Annotated[
        str | None,
        typer.Option("--stack", help="--target aws: read bucket and distribution here."),
    ],
)
_TAIL = (
    _STACK,
    option("endpoint_url", EndpointOpt),
    option("region", RegionOpt),
    option(
        "as_json", Annotated[bool, typer.Option("--json", help="Print the result as JSON.")], False
    ),
)
_READ = with_options(_TARGET, _BUCKET, *_TAIL)  # diff, history
_WRITE = with_options(_TARGET, _YES, _BUCKET, _DISTRIBUTION, *_TAIL)  # asks first


@contextmanager
def _sentences() -> Iterator[None]:
    """Publishing and bucket problems, and AWS credential/region ones, as one sentence."""
    from lambdas.dal.cdn import CdnUnavailable

    with aws_errors():
        try:
            yield
        except (CdnUnavailable, PublishError) as exc:
            raise CommandError(aws_problem(exc) or str(exc)) from exc


def _by(command: str) -> str:
    """Who ran it, for the history: user@host (perso COMMAND)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} (perso {command})"


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _confirm(question: str, *, yes: bool) -> None:
    """Ask; `--yes` skips. No terminal and no `--yes` is a problem (exit 2); no is exit 1."""
    if yes:
        return
    if not _interactive():
        raise CommandError(
            "standard input is not a terminal, so nothing can be confirmed: add --yes."
        )
    if not typer.confirm(question, default=False):
        typer.echo("nothing written.")
        raise typer.Exit(1)


def _compile(file: Path) -> Ruleset:
    result = compile_file(file)
    if result.problems or result.ruleset is None:
        raise CommandError(*(str(p) for p in result.problems))
    return result.ruleset


def _check_site(site: str) -> None:
    if not _SITE.fullmatch(site):
        raise CommandError(f"site {site!r} is not a site id (lowercase letters, digits, '-').")


def _changes(cdn: S3Cdn, ruleset: Ruleset) -> tuple[list[str], list[str]]:
    """(diff lines against the live ruleset, paused experiences)."""
    site = ruleset.site
    paused = cdn.get_paused(site)
    lines = ruleset_diff(live_ruleset(site, cdn), without_paused(ruleset, cdn))
    source = cdn.get_source(site) if paused else None
    stored = None if source is None else compile_text(source).ruleset
    if stored is not None:
        # paused experiences are not live: compare them with the deployed source instead
        lines += [
            f"{line} (paused)"
            for line in experience_diff(_only(stored, paused), _only(ruleset, paused))
        ]
    return lines, paused


def _only(ruleset: Ruleset, names: list[str]) -> Ruleset:
    kept = tuple(e for e in ruleset.experiences if e.id in names)
    return dataclasses.replace(ruleset, experiences=kept)


def _show(lines: list[str], paused: list[str]) -> None:
    for line in lines:
        typer.echo(line)
    if paused:
        typer.echo(f"(paused, left out until `perso resume`: {', '.join(paused)})")


@_READ
def diff(
    file: FileArg,
    *,
    options: Options,
) -> None:
    """Show what deploying FILE would change against the live ruleset; writes nothing."""
    ruleset = _compile(file)
    cdn = options.cdn()
    with _sentences():
        lines, paused = _changes(cdn, ruleset)
    if options.as_json:
        typer.echo(json.dumps({"site": ruleset.site, "changes": lines, "paused": paused}))
    elif lines:
        _show(lines, paused)
    else:
        typer.echo(f"{ruleset.site}: no changes against the live ruleset")


@_WRITE
def deploy(
    file: FileArg,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview",
            help="Upload without going live and print a URL that shows it in one browser tab.",
        ),
    ] = False,
    *,
    options: Options,
) -> None:
    """Compile a ruleset, show the diff, confirm, publish: artifact first, pointer last."""
    ruleset = _compile(file)
    cdn = options.cdn()
    site = ruleset.site
    with _sentences():
        lines, paused = _changes(cdn, ruleset)
        pinned = cdn.get_pin(site) is not None
    if preview:
        _preview(ruleset, cdn, lines, paused, options=options)
        return
    if not lines and not pinned:
        message = f"{site} is unchanged; nothing written"
        typer.echo(json.dumps({"site": site, "changed": False}) if options.as_json else message)
        return
    if not options.as_json:
        _show(lines or ["(same rules; clears the rollback's pin)"], paused)
    _confirm(f"Deploy these changes to {site}?", yes=options.yes)
    source = file.read_text(encoding="utf-8")
    with _sentences(), uploading(cdn):
        outcome = deploy_ruleset(
            ruleset, cdn=cdn, now=datetime.now(UTC), source=source, by=_by("deploy")
        )
    if options.as_json:
        typer.echo(json.dumps({**outcome.to_dict(), "changes": lines}, sort_keys=True))
    elif outcome.changed:
        typer.echo(
            f"published {outcome.site} version {outcome.version} ({outcome.size} bytes): "
            f"{pointer_key(outcome.site)}"
        )
    else:
        typer.echo(f"{outcome.site} is unchanged (version {outcome.version}); nothing written")


def _preview(
    ruleset: Ruleset, cdn: S3Cdn, lines: list[str], paused: list[str], *, options: Options
) -> None:
    """`deploy --preview`: the diff, the artifact alone, and the URL that shows it."""
    site = ruleset.site
    if not options.as_json:
        _show(lines or [f"{site}: no changes against the live ruleset"], paused)
    with _sentences(), uploading(cdn):
        outcome = preview_ruleset(ruleset, cdn=cdn)
    page = _site_page(site, options)
    sha = outcome.sha256
    url = None if page is None else f"{page}?{PREVIEW_PARAM}={sha}"
    end = None if page is None else f"{page}?{PREVIEW_PARAM}=off"
    if options.as_json:
        extra = {"changes": lines, "preview_url": url, "end_url": end}
        typer.echo(json.dumps({**outcome.to_dict(), **extra}, sort_keys=True))
        return
    typer.echo(
        f"uploaded a preview of {site}: version {outcome.version} ({outcome.size} bytes); "
        "the live version is unchanged"
    )
    if url is None:
        typer.echo(f"see it in one browser tab: add ?{PREVIEW_PARAM}={sha} to a page of {site}")
        typer.echo(f"end it with ?{PREVIEW_PARAM}=off (or close the tab)")
    else:
        typer.echo(f"see it in one browser tab: {url}")
        typer.echo(f"end it with {end} (or close the tab)")


def _site_page(site: str, options: Options) -> str | None:
    """The site's home page: its first allowed origin, else the local demo; None if unknown."""
    from lambdas.dal import admin
    from lambdas.models.errors import StoreError

    local = options.target is Where.local or (
        options.target is None and not (options.bucket or options.stack)
    )
    try:
        item = admin.read_site(options.store(), site) or {}
    except (CommandError, StoreError):
        # `--bucket` alone names no table: the URL is then left to the reader
        item = {}
    origins = [str(o) for o in item.get("origins") or []]
    if origins:
        return origins[0].rstrip("/") + "/"
    return f"{running_dev().url}/" if local and site == DEMO_SITE else None


@_READ
def history(
    site: SiteArg,
    *,
    options: Options,
) -> None:
    """List the published versions, newest first: when, by which command, the sha256."""
    _check_site(site)
    cdn = options.cdn()
    with _sentences():
        entries = cdn.history(site)
        live = (cdn.get_pointer(site) or {}).get("sha256")
        pin = cdn.get_pin(site)
    if not entries:
        raise CommandError(f"site {site!r} has no published history.")
    rows = _history_rows(entries, live)
    if options.as_json:
        typer.echo(json.dumps({"site": site, "versions": rows, "pinned": pin}, sort_keys=True))
        return
    for row in rows:
        mark = "*" if row["live"] else " "
        typer.echo(
            f"{mark} {row['published_at']}  {row['version']}  {row['command']:<8} "
            f"{row['deployed_by']}  sha256 {row['sha256']}"
        )
    if pin is not None:
        typer.echo(f"pinned to {pin.get('version')} by a rollback until the next deploy")


def _history_rows(entries: list[dict[str, Any]], live: object) -> list[dict[str, Any]]:
    rows = []
    found_live = False
    for entry in entries[::-1]:  # newest first; the newest write of the live sha is live
        is_live = not found_live and entry.get("sha256") == live
        found_live = found_live or is_live
        rows.append(
            {
                "published_at": entry.get("published_at", "?"),
                "version": entry.get("version", "?"),
                "sha256": entry.get("sha256", "?"),
                "command": entry.get("command", "?"),
                "deployed_by": entry.get("deployed_by", "?"),
                "live": is_live,
            }
        )
    return rows


@_WRITE
def rollback(
    site: SiteArg,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Version or sha256 (default: the one live before the last deploy, pause, "
            "resume or rollback).",
        ),
    ] = None,
    *,
    options: Options,
) -> None:
    """Point latest.json back at an earlier version and pin it until the next deploy."""
    _check_site(site)
    cdn = options.cdn()
    _confirm(f"Roll {site} back to {to or 'the previous version'}?", yes=options.yes)
    with _sentences(), uploading(cdn):
        outcome = rollback_site(site, cdn=cdn, now=datetime.now(UTC), to=to, by=_by("rollback"))
    if options.as_json:
        typer.echo(json.dumps(outcome.to_dict(), sort_keys=True))
    elif outcome.changed:
        typer.echo(f"rolled back {site} to version {outcome.version}; pinned until the next deploy")
    else:
        typer.echo(f"{site} is already at version {outcome.version}; pinned until the next deploy")


def _pause(site: str, experience: str, *, paused: bool, options: Options) -> None:
    """`pause` (paused) or `resume`: check, resolve, confirm, write."""
    _check_site(site)
    cdn = options.cdn()
    state = "off on {} now" if paused else "back on on {}"
    _confirm(f"Turn {experience} {state.format(site)}?", yes=options.yes)
    command = "pause" if paused else "resume"
    with _sentences(), uploading(cdn):
        outcome = set_paused(
            site, experience, paused=paused, cdn=cdn, now=datetime.now(UTC), by=_by(command)
        )
    if options.as_json:
        typer.echo(json.dumps(outcome.to_dict(), sort_keys=True))
        return
    state = "paused" if paused else "resumed"
    typer.echo(f"{state} {experience} on {site}: version {outcome.version} is live")


@_WRITE
def pause(
    site: SiteArg,
    experience: Annotated[str, typer.Argument(help="The experience id to turn off.")],
    *,
    options: Options,
) -> None:
    """Turn one experience off at once (visitors see the defaults), without editing the YAML."""
    _pause(site, experience, paused=True, options=options)


@_WRITE
def resume(
    site: SiteArg,
    experience: Annotated[str, typer.Argument(help="The paused experience id.")],
    *,
    options: Options,
) -> None:
    """Turn a paused experience back on."""
    _pause(site, experience, paused=False, options=options)


def register(app: typer.Typer) -> None:
    for command in (diff, deploy, history, rollback, pause, resume):
        app.command(command.__name__)(command)
