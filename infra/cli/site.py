"""`perso site add|show|set SITE`: a site's allowed origins, ingest API key and retention.

The config is the table's `S#<site>` / `CONFIG` item (lambdas/dal/TABLE.md), written
through `lambdas.dal.admin`; the API key is stored only as its sha256, so `add` and
`--api-key-rotate` print the new key once. `--target local|aws` as for deploy
(infra/cli/_target.py), with `--table` or `--stack` on AWS.

    $ perso site add shop --origin https://shop.example --origin https://www.shop.example
    added shop: origins https://shop.example, https://www.shop.example; retention 395 days
    API key (shown once, keep it): 3q2...
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from infra.cli._progress import status
from infra.cli._target import (
    EndpointOpt,
    Options,
    RegionOpt,
    Where,
    aws_errors,
    aws_problem,
    option,
    with_options,
)
from infra.cli.errors import CommandError

if TYPE_CHECKING:
    pass

__all__ = ["register"]

DEFAULT_RETENTION_DAYS = 395  # lambdas/dal/TABLE.md
_SITE = re.compile(r"[a-z0-9-]{1,64}")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")

app = typer.Typer(help="Configure a site: allowed origins, ingest API key, retention.")

SiteArg = Annotated[str, typer.Argument(help="The site id.")]
OriginOpt = Annotated[
    list[str] | None,
    typer.Option("--origin", help="An allowed origin, scheme://host[:port] (repeat for more)."),
]
RotateOpt = Annotated[
    bool, typer.Option("--api-key-rotate", help="Make a new ingest API key; prints it once.")
]
RetentionOpt = Annotated[
    int | None, typer.Option("--retention", help="Days events and profiles are kept.")
]
_SHARED = with_options(
    option(
        "target",
        Annotated[
            Where | None,
            typer.Option("--target", help="local: the running `perso dev`; aws: a deployed stack."),
        ],
    ),
    option(
        "table", Annotated[str | None, typer.Option("--table", help="--target aws: the table.")]
    ),
    option(
        "stack",
        Annotated[
            str | None,
            typer.Option("--stack", help="--target aws: read the table from this stack."),
        ],
    ),
    option("endpoint_url", EndpointOpt),
    option("region", RegionOpt),
    option(
        "as_json", Annotated[bool, typer.Option("--json", help="Print the config as JSON.")], False
    ),
)


@contextmanager
def _sentences() -> Iterator[None]:
    from lambdas.models.errors import StoreError

    with aws_errors():
        try:
            yield
        except StoreError as exc:
            raise CommandError(aws_problem(exc) or f"the site table: {exc}") from exc


def _checked(site: str, origins: list[str] | None, retention: int | None) -> list[str] | None:
    if not _SITE.fullmatch(site):
        raise CommandError(f"site {site!r} is not a site id (lowercase letters, digits, '-').")
    for origin in origins or []:
        if not _ORIGIN.fullmatch(origin):
            raise CommandError(
                f"origin {origin!r} is not scheme://host[:port] (for example "
                "https://shop.example, with no path or trailing slash)."
            )
    if retention is not None and not 1 <= retention <= 3650:
        raise CommandError(f"--retention {retention} must be between 1 and 3650 days.")
    return list(dict.fromkeys(origins)) if origins else None


def _print(item: dict[str, Any], *, as_json: bool, key: str | None, verb: str) -> None:
    origin_list = [str(o) for o in item.get("origins") or []]
    view: dict[str, Any] = {
        "site": item.get("site"),
        "origins": origin_list,
        "retention_days": int(item.get("retention_days") or DEFAULT_RETENTION_DAYS),
        "api_key": "set" if item.get("api_key_sha256") else "none",
    }
    if key:
        view["new_api_key"] = key
    if as_json:
        typer.echo(json.dumps(view, sort_keys=True))
        return
    origins = ", ".join(origin_list) or "none"
    typer.echo(
        f"{verb}{view['site']}: origins {origins}; retention {view['retention_days']} days; "
        f"API key {view['api_key']}"
    )
    if key:
        typer.echo(f"API key (shown once, keep it): {key}")


@app.command("add")
@_SHARED
def add(
    site: SiteArg,
    origin: OriginOpt = None,
    retention: RetentionOpt = None,
    *,
    options: Options,
) -> None:
    """Add a site with its allowed origins; prints its new ingest API key once."""
    from lambdas.dal import admin

    origins = _checked(site, origin, retention)
    if not origins:
        raise CommandError("a new site needs at least one --origin scheme://host[:port].")
    store = options.store()
    key = secrets.token_urlsafe(24)
    with _sentences():
        if admin.read_site(store, site) is not None:
            raise CommandError(f"site {site!r} already exists; change it with `perso site set`.")
        with status(f"writing the config of {site} to the table"):
            admin.configure_site(
                store, site, origins=origins, api_key=key, retention_days=retention
            )
        item = admin.read_site(store, site) or {}
    _print(item, as_json=options.as_json, key=key, verb="added ")


@app.command("show")
@_SHARED
def show(
    site: SiteArg,
    *,
    options: Options,
) -> None:
    """Show a site's allowed origins, retention and whether it has an API key."""
    from lambdas.dal import admin

    _checked(site, None, None)
    store = options.store()
    with _sentences():
        item = admin.read_site(store, site)
    if item is None:
        raise CommandError(f"site {site!r} is not configured; add it with `perso site add`.")
    _print(item, as_json=options.as_json, key=None, verb="")


@app.command("set")
@_SHARED
def set_(
    site: SiteArg,
    origin: OriginOpt = None,
    api_key_rotate: RotateOpt = False,
    retention: RetentionOpt = None,
    *,
    options: Options,
) -> None:
    """Change a site: --origin (replaces the list), --api-key-rotate, --retention."""
    from lambdas.dal import admin

    origins = _checked(site, origin, retention)
    if origins is None and not api_key_rotate and retention is None:
        raise CommandError("nothing to change: give --origin, --api-key-rotate or --retention.")
    store = options.store()
    key = secrets.token_urlsafe(24) if api_key_rotate else None
    with _sentences(), status(f"writing the config of {site} to the table"):
        item = admin.update_site(
            store, site, origins=origins, api_key=key, retention_days=retention
        )
    if item is None:
        raise CommandError(f"site {site!r} is not configured; add it with `perso site add`.")
    _print(item, as_json=options.as_json, key=key, verb="changed ")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="site")
