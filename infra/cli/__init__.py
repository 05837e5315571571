"""The `perso` command: validate, build, simulate, bundle, serve and deploy rulesets.

Owns the Typer app and its commands, one module per family (`ruleset`, `bundle` (with
`snippet`), `dev`, `deploy` (diff, deploy, history, rollback, pause, resume), `report`,
`site`), and `errors`, which they all raise
through. May import `edge`, `lambdas`, `infra.local`, `infra.bundle` and `infra.cdk`
(its constants); nothing imports this package but the `perso` script and tests.

Errors: every problem is one line on stderr and the exit code is 2, never a traceback.
Commands report problems by raising `CommandError("sentence", ...)` (or any
`click.ClickException`, which is shown the same way).

    $ perso validate examples/demo-shop.yaml
    examples/demo-shop.yaml: ok (6 experiences, 6 slots)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from infra.cli import bundle, deploy, dev, report, ruleset, site
from infra.cli.errors import ABORTS, CLICK_ERRORS, EXIT_PROBLEM, USAGE_ERRORS, CommandError

__all__ = ["CommandError", "app", "main"]

app = typer.Typer(
    name="perso",
    help="perso: write, check, build and simulate personalization rulesets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for _commands in (ruleset, bundle, dev, deploy, report, site):
    _commands.register(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `perso`; returns (and exits with) 0 on success, 2 on any problem."""
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    code: int
    try:
        result = command.main(args=args, prog_name="perso", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except CommandError as exc:
        for line in exc.problems:
            typer.echo(f"perso: {line}" if not _has_location(line) else line, err=True)
        code = EXIT_PROBLEM
    except USAGE_ERRORS as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        typer.echo(f"perso: {_message(exc)}{hint}", err=True)
        code = EXIT_PROBLEM
    except CLICK_ERRORS as exc:
        for line in _message(exc).splitlines() or ["the command failed"]:
            typer.echo(f"perso: {line}", err=True)
        code = EXIT_PROBLEM
    except ABORTS:
        typer.echo("perso: aborted.", err=True)
        code = EXIT_PROBLEM
    except Exception as exc:  # the promise is one line, never a traceback
        typer.echo(f"perso: internal error: {type(exc).__name__}: {exc}", err=True)
        code = EXIT_PROBLEM
    if argv is None:
        sys.exit(code)
    return code


def _message(exc: Exception) -> str:
    # Both Clicks' exceptions have format_message(); the tuples above are typed loosely.
    format_message = getattr(exc, "format_message", None)
    return str(format_message()) if callable(format_message) else str(exc)


def _has_location(line: str) -> bool:
    # "file:line: sentence" lines already say where; don't prefix them.
    head = line.split(": ", 1)[0]
    return ":" in head or head.endswith((".yaml", ".yml", ".json"))
