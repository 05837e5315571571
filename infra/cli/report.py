"""`perso report`: experiment results from the counters, as a table, an HTML page or JSON.

    $ perso report --site demo-shop                          # the running `perso dev`
    $ perso report --site demo-shop --format html --out report.html
    $ perso report --site demo-shop --target aws --stack PersoStack --format json

`--target local` (default) finds the running `perso dev` by itself (infra.local.discovery);
`--target aws` reads the table and bucket from the stack's outputs (as `perso deploy
--stack` does) or from `--table` / `--bucket`. The statistics are lambdas.logic.report's,
the rendering infra.report's. Bad input (an unknown site or experience, a future or
malformed date, no running `perso dev`) is one sentence and exit code 2; a site with no
data yet gets an empty report that says so.
"""

from __future__ import annotations

import re
import shutil
import sys
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infra.cdk.constants import COUNTER_SHARDS, OUTPUT_BUCKET, OUTPUT_TABLE, STACK_NAME
from infra.cli._target import Where, running_dev, stack_outputs
from infra.cli.errors import CommandError
from infra.local.discovery import LOCAL_CREDENTIALS
from infra.report import TableTarget

if TYPE_CHECKING:
    from lambdas.models.report import Report

__all__ = ["register", "report"]

_SITE = re.compile(r"[a-z0-9-]{1,64}")


class Format(StrEnum):
    table = "table"
    html = "html"
    json = "json"


class Intervals(StrEnum):
    sequential = "sequential"
    fixed_horizon = "fixed-horizon"


def report(
    site: Annotated[str, typer.Option("--site", help="The site id.")],
    experience: Annotated[
        str | None, typer.Option("--experience", help="Only this experience (and the holdout).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only counters from this UTC day (YYYY-MM-DD).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, html or json.")] = Format.table,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
    target: Annotated[
        Where, typer.Option("--target", help="local: the running `perso dev`; aws: a stack.")
    ] = Where.local,
    stack: Annotated[
        str, typer.Option("--stack", help="--target aws: the stack whose outputs name the table.")
    ] = STACK_NAME,
    table: Annotated[
        str | None, typer.Option("--table", help="--target aws: the table (skips the stack).")
    ] = None,
    bucket: Annotated[
        str | None, typer.Option("--bucket", help="--target aws: the CDN bucket (with --table).")
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="--target aws: another AWS endpoint.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region.")] = None,
    intervals: Annotated[
        Intervals,
        typer.Option(
            "--intervals",
            help="sequential (valid however often you look) or fixed-horizon (read once).",
        ),
    ] = Intervals.sequential,
    expected_visitors: Annotated[
        int,
        typer.Option("--expected-visitors", help="Sequential tuning: visitors per comparison."),
    ] = 5_000,
) -> None:
    """Experiment results per experience, variant and goal, read from the counters."""
    from botocore.exceptions import BotoCoreError

    from infra.report import read_report
    from lambdas.dal.cdn import CdnUnavailable
    from lambdas.logic.report import ReportError
    from lambdas.models.errors import StoreUnavailable

    if not _SITE.fullmatch(site):
        raise CommandError(f"site {site!r} is not a site id (lowercase letters, digits, '-').")
    if expected_visitors < 1:
        raise CommandError(f"--expected-visitors {expected_visitors} must be at least 1.")
    start = _day(since)
    where = _target(
        target, stack=stack, table=table, bucket=bucket, endpoint_url=endpoint_url, region=region
    )
    try:
        result = read_report(
            where,
            site,
            now=datetime.now(UTC),
            experience=experience,
            since=start,
            intervals="sequential" if intervals is Intervals.sequential else "fixed_horizon",
            expected_visitors=expected_visitors,
        )
    except ReportError as exc:
        raise CommandError(str(exc)) from exc
    except (CdnUnavailable, StoreUnavailable, BotoCoreError) as exc:
        raise CommandError(f"cannot read the {target.value} counters: {exc}") from exc
    _write(result, fmt, out)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--since {text!r} is not a date like 2026-11-01.") from exc


def _target(
    target: Where,
    *,
    stack: str,
    table: str | None,
    bucket: str | None,
    endpoint_url: str | None,
    region: str | None,
) -> TableTarget:
    if target is Where.local:
        running = running_dev()
        return TableTarget(
            table=running.table,
            bucket=running.bucket,
            endpoint_url=running.endpoint_url,
            region=running.region,
            shards=running.shards,
            credentials=LOCAL_CREDENTIALS,
        )
    if table and bucket:
        return TableTarget(table, bucket, endpoint_url, region, COUNTER_SHARDS)
    outputs = stack_outputs(stack, endpoint_url=endpoint_url, region=region)
    missing = [name for name in (OUTPUT_TABLE, OUTPUT_BUCKET) if name not in outputs]
    if missing:
        raise CommandError(
            f"stack {stack!r} has no output {', '.join(missing)}; is it the perso stack?"
        )
    return TableTarget(
        table or outputs[OUTPUT_TABLE],
        bucket or outputs[OUTPUT_BUCKET],
        endpoint_url,
        region,
        COUNTER_SHARDS,
    )


def _write(result: Report, fmt: Format, out: Path | None) -> None:
    if fmt is Format.table:
        from rich.console import Console

        from infra.report import render_table

        if out is None:
            width = shutil.get_terminal_size((140, 40)).columns if sys.stdout.isatty() else 140
            render_table(result, Console(width=max(width, 100)))
            return
        try:
            with out.open("w", encoding="utf-8") as handle:
                render_table(result, Console(file=handle, width=140, no_color=True))
        except OSError as exc:
            raise CommandError(f"cannot write {out} ({exc.strerror}).") from exc
    else:
        from infra.report import render_html, render_json

        text = render_html(result) if fmt is Format.html else render_json(result)
        if out is None:
            typer.echo(text, nl=False)
            return
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {out} ({exc.strerror}).") from exc
    typer.echo(f"perso report: wrote {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
