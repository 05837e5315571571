"""`perso validate`, `schema`, `build` and `simulate`: rulesets on this machine.

$ perso validate examples/demo-shop.yaml
examples/demo-shop.yaml: ok (6 experiences, 6 slots)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from edge.compiler import compile_file, json_schema
from edge.model import Ruleset
from infra.cli._simulate import simulate as run_simulation
from infra.cli.errors import CommandError
from infra.local.bucket import now_iso, write_release

__all__ = ["build", "register", "schema", "simulate", "validate"]


def validate(
    files: Annotated[list[Path], typer.Argument(help="Ruleset YAML files to check.")],
) -> None:
    """Check rulesets; print `ok` per good file, or every problem as `file:line: sentence`."""
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


def schema() -> None:
    """Print the JSON Schema of the ruleset YAML format (for editors)."""
    typer.echo(json.dumps(json_schema(), indent=2, sort_keys=False))


def build(
    file: Annotated[Path, typer.Argument(help="The ruleset YAML file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (the CDN layout).")] = Path(
        "build"
    ),
) -> None:
    """Compile a ruleset and write rulesets/<site>/<sha256>.msgpack and latest.json."""
    ruleset = _compile_or_fail(file)
    try:
        # As on the CDN, the pointer is written last: a reader never sees it before the artifact.
        release = write_release(out, ruleset, published_at=now_iso())
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CommandError(f"{out}: cannot write the build output ({reason}).") from exc
    artifact = release.artifact
    typer.echo(f"artifact {release.artifact_path} ({len(artifact.data)} bytes)")
    typer.echo(f"pointer  {release.pointer_path} (version {artifact.version})")


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
    ruleset = _compile_or_fail(file)
    signals_data = _read_json_object(signals, what="signals")
    profile_data = None if profile is None else _read_json_object(profile, what="profile")
    moment = _parse_now(now)
    try:
        output = run_simulation(
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


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(schema)
    app.command()(build)
    app.command()(simulate)


# --- helpers -----------------------------------------------------------------------


def _compile_or_fail(path: Path) -> Ruleset:
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
