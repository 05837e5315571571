"""The publish loop: `perso diff`, `deploy`, `history`, `rollback`, `pause` and `resume`.

Each takes `--target local|aws` (infra/cli/_target.py): `local` finds the running `perso
dev` by itself; `aws` uses `--bucket` (and `--distribution`) or reads them from the outputs
of `--stack`. Without `--target`, `--bucket`/`--stack` mean aws and nothing means local.

    $ perso deploy examples/demo-shop.yaml --target local
    ~ experience hero-test: weights [0.5, 0.5] -> [0.4, 0.6]
    Deploy these changes to demo-shop? [y/N]: y
    published demo-shop version 3f2a... (2140 bytes): rulesets/demo-shop/latest.json
    $ perso history demo-shop
    $ perso rollback demo-shop --yes
    rolled back demo-shop to version 9b1c...; pinned until the next deploy

Deploy compiles the file, shows what changes against the live ruleset and asks (`--yes`
skips; without a terminal `--yes` is required), then keeps the learned params of the
current artifact that still fit, uploads the source for the scheduled publisher, then the
artifact, then the pointer; an unchanged ruleset writes nothing. A rollback pins its
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
from infra.cli._target import (
    Target,
    Where,
    aws_errors,
    aws_problem,
    make_cdn,
    resolve_target,
    stack_outputs,
)
from infra.cli.errors import CommandError
from lambdas.logic.publish import (
    PublishError,
    deploy_ruleset,
    live_ruleset,
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


WhereOpt = Annotated[
    Where | None,
    typer.Option(
        "--target",
        help="local: the running `perso dev`; aws: a deployed stack "
        "(default: aws with --bucket/--stack, else local).",
    ),
]
BucketOpt = Annotated[str | None, typer.Option("--bucket", help="--target aws: the CDN bucket.")]
DistributionOpt = Annotated[
    str | None, typer.Option("--distribution", help="CloudFront distribution id to invalidate.")
]
StackOpt = Annotated[
    str | None, typer.Option("--stack", help="--target aws: read bucket and distribution here.")
]
EndpointOpt = Annotated[
    str | None, typer.Option("--endpoint-url", help="--target aws: another AWS endpoint.")
]
RegionOpt = Annotated[str | None, typer.Option("--region", help="AWS region.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
SiteArg = Annotated[str, typer.Argument(help="The site id.")]


def _where(
    target: Where | None,
    bucket: str | None,
    distribution: str | None,
    stack: str | None,
    endpoint_url: str | None,
    region: str | None,
) -> S3Cdn:
    with aws_errors():
        return make_cdn(
            resolve_target(
                target=target,
                bucket=bucket,
                distribution=distribution,
                stack=stack,
                endpoint_url=endpoint_url,
                region=region,
            )
        )


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


def diff(
    file: Annotated[Path, typer.Argument(help="The ruleset YAML file.")],
    target: WhereOpt = None,
    bucket: BucketOpt = None,
    stack: StackOpt = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what deploying FILE would change against the live ruleset; writes nothing."""
    ruleset = _compile(file)
    cdn = _where(target, bucket, None, stack, endpoint_url, region)
    with _sentences():
        lines, paused = _changes(cdn, ruleset)
    if as_json:
        typer.echo(json.dumps({"site": ruleset.site, "changes": lines, "paused": paused}))
    elif lines:
        _show(lines, paused)
    else:
        typer.echo(f"{ruleset.site}: no changes against the live ruleset")


def deploy(
    file: Annotated[Path, typer.Argument(help="The ruleset YAML file.")],
    target: WhereOpt = None,
    yes: YesOpt = False,
    bucket: BucketOpt = None,
    distribution: DistributionOpt = None,
    stack: StackOpt = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compile a ruleset, show the diff, confirm, publish: artifact first, pointer last."""
    ruleset = _compile(file)
    cdn = _where(target, bucket, distribution, stack, endpoint_url, region)
    site = ruleset.site
    with _sentences():
        lines, paused = _changes(cdn, ruleset)
        pinned = cdn.get_pin(site) is not None
    if not lines and not pinned:
        message = f"{site} is unchanged; nothing written"
        typer.echo(json.dumps({"site": site, "changed": False}) if as_json else message)
        return
    if not as_json:
        _show(lines or ["(same rules; clears the rollback's pin)"], paused)
    _confirm(f"Deploy these changes to {site}?", yes=yes)
    source = file.read_text(encoding="utf-8")
    with _sentences():
        outcome = deploy_ruleset(
            ruleset, cdn=cdn, now=datetime.now(UTC), source=source, by=_by("deploy")
        )
    if as_json:
        typer.echo(json.dumps({**outcome.to_dict(), "changes": lines}, sort_keys=True))
    elif outcome.changed:
        typer.echo(
            f"published {outcome.site} version {outcome.version} ({outcome.size} bytes): "
            f"{pointer_key(outcome.site)}"
        )
    else:
        typer.echo(f"{outcome.site} is unchanged (version {outcome.version}); nothing written")


def history(
    site: SiteArg,
    target: WhereOpt = None,
    bucket: BucketOpt = None,
    stack: StackOpt = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the published versions, newest first: when, by which command, the sha256."""
    _check_site(site)
    cdn = _where(target, bucket, None, stack, endpoint_url, region)
    with _sentences():
        entries = cdn.history(site)
        live = (cdn.get_pointer(site) or {}).get("sha256")
        pin = cdn.get_pin(site)
    if not entries:
        raise CommandError(f"site {site!r} has no published history.")
    rows = _history_rows(entries, live)
    if as_json:
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


def rollback(
    site: SiteArg,
    to: Annotated[
        str | None, typer.Option("--to", help="Version or sha256 (default: the previous one).")
    ] = None,
    target: WhereOpt = None,
    yes: YesOpt = False,
    bucket: BucketOpt = None,
    distribution: DistributionOpt = None,
    stack: StackOpt = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Point latest.json back at an earlier version and pin it until the next deploy."""
    _check_site(site)
    cdn = _where(target, bucket, distribution, stack, endpoint_url, region)
    _confirm(f"Roll {site} back to {to or 'the previous version'}?", yes=yes)
    with _sentences():
        outcome = rollback_site(site, cdn=cdn, now=datetime.now(UTC), to=to, by=_by("rollback"))
    if as_json:
        typer.echo(json.dumps(outcome.to_dict(), sort_keys=True))
    elif outcome.changed:
        typer.echo(f"rolled back {site} to version {outcome.version}; pinned until the next deploy")
    else:
        typer.echo(f"{site} is already at version {outcome.version}; pinned until the next deploy")


def _pause(site: str, experience: str, *, paused: bool, cdn: S3Cdn, as_json: bool) -> None:
    command = "pause" if paused else "resume"
    with _sentences():
        outcome = set_paused(
            site, experience, paused=paused, cdn=cdn, now=datetime.now(UTC), by=_by(command)
        )
    if as_json:
        typer.echo(json.dumps(outcome.to_dict(), sort_keys=True))
        return
    state = "paused" if paused else "resumed"
    typer.echo(f"{state} {experience} on {site}: version {outcome.version} is live")


def pause(
    site: SiteArg,
    experience: Annotated[str, typer.Argument(help="The experience id to turn off.")],
    target: WhereOpt = None,
    yes: YesOpt = False,
    bucket: BucketOpt = None,
    distribution: DistributionOpt = None,
    stack: StackOpt = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Turn one experience off at once (visitors see the defaults), without editing the YAML."""
    _check_site(site)
    cdn = _where(target, bucket, distribution, stack, endpoint_url, region)
    _confirm(f"Turn {experience} off on {site} now?", yes=yes)
    _pause(site, experience, paused=True, cdn=cdn, as_json=as_json)


def resume(
    site: SiteArg,
    experience: Annotated[str, typer.Argument(help="The paused experience id.")],
    target: WhereOpt = None,
    yes: YesOpt = False,
    bucket: BucketOpt = None,
    distribution: DistributionOpt = None,
    stack: StackOpt = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Turn a paused experience back on."""
    _check_site(site)
    cdn = _where(target, bucket, distribution, stack, endpoint_url, region)
    _confirm(f"Turn {experience} back on on {site}?", yes=yes)
    _pause(site, experience, paused=False, cdn=cdn, as_json=as_json)


def register(app: typer.Typer) -> None:
    for command in (diff, deploy, history, rollback, pause, resume):
        app.command(command.__name__)(command)
