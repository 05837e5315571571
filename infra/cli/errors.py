"""How a `perso` command reports a problem: `CommandError`, one line each, exit code 2.

Commands raise `CommandError("sentence", ...)` (or any `click.ClickException`, which is
shown the same way); `infra.cli.main` prints it and exits 2, never with a traceback.
"""

from __future__ import annotations

import typer
from typer._click import exceptions as click_exceptions

__all__ = ["ABORTS", "CLICK_ERRORS", "EXIT_PROBLEM", "USAGE_ERRORS", "CommandError"]

EXIT_PROBLEM = 2

# Typer 0.29 vendors Click; errors may come from it or from a plain `click` a module uses.
try:
    import click as _plain_click

    USAGE_ERRORS: tuple[type[Exception], ...] = (
        click_exceptions.UsageError,
        _plain_click.UsageError,
    )
    CLICK_ERRORS: tuple[type[Exception], ...] = (
        click_exceptions.ClickException,
        _plain_click.ClickException,
    )
    ABORTS: tuple[type[BaseException], ...] = (
        typer.Abort,
        _plain_click.Abort,
    )
except ModuleNotFoundError:  # pragma: no cover - click is optional
    USAGE_ERRORS = (click_exceptions.UsageError,)
    CLICK_ERRORS = (click_exceptions.ClickException,)
    ABORTS = (typer.Abort,)


class CommandError(click_exceptions.ClickException):
    """One or more problems with what the user asked for; shown one per line, exit 2."""

    exit_code = EXIT_PROBLEM

    def __init__(self, *problems: str) -> None:
        self.problems = [p for p in problems if p] or ["the command failed"]
        super().__init__("\n".join(self.problems))

    def format_message(self) -> str:
        return "\n".join(self.problems)
