"""The `perso` command: validate, build, simulate rulesets; other parts add their commands.

Commands from other modules are added without editing this file: each of
`COMMAND_MODULES` defines `register(app: typer.Typer) -> None`. A module that does not
exist yet is skipped, but only when the missing module is that very module, so a real
import error inside it still surfaces.

Errors: every problem is one line on stderr and the exit code is 2, never a traceback.
Commands report problems by raising `CommandError("sentence", ...)` (or any
`click.ClickException`, which is shown the same way).

    $ perso validate examples/demo-shop.yaml
    examples/demo-shop.yaml: ok (6 experiences, 6 slots)
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click import exceptions as click_exceptions

__all__ = ["COMMAND_MODULES", "CommandError", "app", "main", "register_commands"]

# Modules that add commands to `app` through their `register(app)` function.
COMMAND_MODULES = ("infra.bundle", "infra.devserver", "infra.deploy")

EXIT_PROBLEM = 2


# Typer 0.29 vendors Click; errors may come from it or from a plain `click` a module uses.
try:
    import click as _plain_click

    _USAGE_ERRORS: tuple[type[Exception], ...] = (
        click_exceptions.UsageError,
        _plain_click.UsageError,
    )
    _CLICK_ERRORS: tuple[type[Exception], ...] = (
        click_exceptions.ClickException,
        _plain_click.ClickException,
    )
    _ABORTS: tuple[type[BaseException], ...] = (
        typer.Abort,
        _plain_click.Abort,
    )
except ModuleNotFoundError:  # pragma: no cover - click is optional
    _USAGE_ERRORS = (click_exceptions.UsageError,)
    _CLICK_ERRORS = (click_exceptions.ClickException,)
    _ABORTS = (typer.Abort,)


class CommandError(click_exceptions.ClickException):
    """One or more problems with what the user asked for; shown one per line, exit 2."""

    exit_code = EXIT_PROBLEM

    def __init__(self, *problems: str) -> None:
        self.problems = [p for p in problems if p] or ["the command failed"]
        super().__init__("\n".join(self.problems))

    def format_message(self) -> str:
        return "\n".join(self.problems)


app = typer.Typer(
    name="perso",
    help="perso: write, check, build and simulate personalization rulesets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# --- ruleset commands --------------------------------------------------------------


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Ruleset YAML files to check.")],
) -> None:
    """Check rulesets; print `ok` per good file, or every problem as `file:line: sentence`."""
    from edge.compiler import compile_file

    problems: list[str] = []
    for path in files:
        result = compile_file(path)
        if result.problems:
            problems.extend(str(p) for p in result.problems)
        elif result.ruleset is not None:
            rs = result.ruleset
            typer.echo(f"{path}: ok ({len(rs.experiences)} experiences, {len(rs.slots)} slots)")
    if problems:
        raise CommandError(*problems)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the ruleset YAML format (for editors)."""
    from edge.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, sort_keys=False))


@app.command()
def build(
    file: Annotated[Path, typer.Argument(help="The ruleset YAML file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (the CDN layout).")] = Path(
        "build"
    ),
) -> None:
    """Compile a ruleset and write rulesets/<site>/<sha256>.msgpack and latest.json."""
    from edge.artifact import encode, pointer

    ruleset = _compile_or_fail(file)
    artifact = encode(ruleset)
    folder = out / "rulesets" / ruleset.site
    artifact_path = folder / f"{artifact.sha256}.msgpack"
    pointer_path = folder / "latest.json"
    published_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    latest = pointer(artifact, site=ruleset.site, published_at=published_at)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        artifact_path.write_bytes(artifact.data)
        # The pointer goes last, as on the CDN: a reader never sees it before the artifact.
        pointer_path.write_text(json.dumps(latest, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CommandError(f"{out}: cannot write the build output ({reason}).") from exc
    typer.echo(f"artifact {artifact_path} ({len(artifact.data)} bytes)")
    typer.echo(f"pointer  {pointer_path} (version {artifact.version})")


@app.command()
def simulate(
    file: Annotated[Path, typer.Argument(help="The ruleset YAML file.")],
    signals: Annotated[
        Path, typer.Option("--signals", help="Browser signals as JSON (see docs/internals.md).")
    ],
    profile: Annotated[
        Path | None, typer.Option("--profile", help="On-device profile as JSON.")
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="The moment to decide at, ISO 8601 (default: the signals' local_time "
            "in their timezone, else now).",
        ),
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show why each slot decided.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Decide every slot for one visitor, as the browser would, and show the result."""
    from infra._simulate import simulate as run

    ruleset = _compile_or_fail(file)
    signals_data = _read_json_object(signals, what="signals")
    profile_data = None if profile is None else _read_json_object(profile, what="profile")
    moment = _parse_now(now)
    try:
        output = run(
            ruleset,
            signals_data,
            profile=profile_data,
            now=moment,
            explain=explain,
            as_json=as_json,
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    typer.echo(output)


# --- helpers -----------------------------------------------------------------------


def _compile_or_fail(path: Path) -> Any:
    from edge.compiler import compile_file

    result = compile_file(path)
    if result.problems or result.ruleset is None:
        raise CommandError(*(str(p) for p in result.problems))
    return result.ruleset


def _read_json_object(path: Path, *, what: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CommandError(f"{path}: the {what} file does not exist.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read the {what} file ({exc}).") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{path}:{exc.lineno}: the {what} file is not valid JSON ({exc.msg})."
        ) from exc
    if not isinstance(data, dict):
        raise CommandError(f"{path}: the {what} must be a JSON object, not {type(data).__name__}.")
    return data


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None  # simulate then uses the moment the signals were taken
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CommandError(f"--now {value!r} is not an ISO 8601 date and time.") from exc
    # A time without an offset is taken as UTC, so runs are reproducible anywhere.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def register_commands(target: typer.Typer, names: Sequence[str] = COMMAND_MODULES) -> list[str]:
    """Call `register(target)` of each module in `names`; returns those registered.

    A module that does not exist is skipped, but only when the missing module is that
    very module: an import error inside it (a missing dependency) still surfaces.
    """
    registered: list[str] = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that part is not written yet
            raise
        module.register(target)
        registered.append(name)
    return registered


register_commands(app)


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
    except _USAGE_ERRORS as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        typer.echo(f"perso: {exc.format_message()}{hint}", err=True)
        code = EXIT_PROBLEM
    except _CLICK_ERRORS as exc:
        for line in exc.format_message().splitlines() or ["the command failed"]:
            typer.echo(f"perso: {line}", err=True)
        code = EXIT_PROBLEM
    except _ABORTS:
        typer.echo("perso: aborted.", err=True)
        code = EXIT_PROBLEM
    except Exception as exc:  # the promise is one line, never a traceback
        typer.echo(f"perso: internal error: {type(exc).__name__}: {exc}", err=True)
        code = EXIT_PROBLEM
    if argv is None:
        sys.exit(code)
    return code


def _has_location(line: str) -> bool:
    # "file:line: sentence" lines already say where; don't prefix them.
    head = line.split(": ", 1)[0]
    return ":" in head or head.endswith((".yaml", ".yml", ".json"))


if __name__ == "__main__":
    main()
