"""The `perso` command: real runs through Typer's runner, `main()`, and the installed script."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from edge.artifact import load
from edge.compiler import json_schema
from infra.cli import app, main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "demo-shop.yaml"
MOBILE_PT = ROOT / "examples" / "signals-mobile-pt.json"
DESKTOP_EN = ROOT / "examples" / "signals-desktop-en.json"
PERSO = ROOT / ".venv" / "bin" / "perso"

runner = CliRunner()

BAD = """\
site: Bad Site
slots: {hero: h1}
experiences:
  - id: x
    slot: nowhere
    variants: [{id: a, weight: 0.2}]
"""


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    return path


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


# --- validate ------------------------------------------------------------------------


def test_validate_ok() -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{EXAMPLE}: ok (12 experiences, 8 slots)"


def test_validate_reports_every_problem_one_line_each(
    bad_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["validate", str(EXAMPLE), str(bad_file)], capsys)
    assert code == 2
    assert out.strip() == f"{EXAMPLE}: ok (12 experiences, 8 slots)"
    lines = err.strip().splitlines()
    assert lines == [
        f"{bad_file}:1: site 'Bad Site' must use only a-z, 0-9 and - (it is the CDN path prefix).",
        f"{bad_file}:5: experience 'x' uses unknown slot 'nowhere' (slots: hero).",
        f"{bad_file}:6: experience 'x' variant weights sum to 0.2, not 1.",
    ]


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "the file does not exist" in result.stderr


# --- schema and build --------------------------------------------------------------


def test_schema_prints_the_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema()


def test_build_writes_the_artifact_and_the_pointer(tmp_path: Path) -> None:
    result = runner.invoke(app, ["build", str(EXAMPLE), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "rulesets" / "demo-shop"
    latest = json.loads((folder / "latest.json").read_text())
    data = (tmp_path / latest["url"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == latest["sha256"]
    assert latest["version"] == latest["sha256"][:16]
    assert latest["published_at"].endswith("Z")
    assert load(data, sha256=latest["sha256"]).site == "demo-shop"
    assert f"({len(data)} bytes)" in result.stdout
    assert str(folder / "latest.json") in result.stdout


def test_build_of_a_bad_ruleset_writes_nothing(bad_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(bad_file), "--out", str(out)])
    assert result.exit_code == 2
    assert not out.exists()


# --- simulate ----------------------------------------------------------------------


def simulate_json(*extra: str, signals: Path = MOBILE_PT) -> dict[str, object]:
    result = runner.invoke(
        app, ["simulate", str(EXAMPLE), "--signals", str(signals), "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def by_slot(data: dict[str, object]) -> dict[str, dict[str, object]]:
    decisions = data["decisions"]
    assert isinstance(decisions, list)
    return {d["slot"]: d for d in decisions}


def test_simulate_pt_mobile_evening_gets_the_personalized_banner() -> None:
    data = simulate_json()
    assert set(data) == {"context", "decisions", "exposures"}
    context = data["context"]
    assert isinstance(context, dict)
    assert context["language"] == "pt" and context["device"]["type"] == "mobile"
    assert context["local"]["hour"] == 20
    slots = by_slot(data)
    banner = slots["banner"]
    assert banner["experience"] == "evening-free-shipping"
    assert banner["variant"] in ("boa-noite", "frete-hoje")
    assert "Frete grátis" in banner["content"]["text"]  # type: ignore[index]
    assert slots["hero"]["content"] == {"text": "Bem-vindo à Perso Shop"}
    # A defaulted slot has no experience and no variant.
    assert slots["cta"] == {"slot": "cta", "experience": None, "variant": None, "content": None}
    assert {
        "experience": "evening-free-shipping",
        "variant": banner["variant"],
        "slot": "banner",
    } in data["exposures"]  # type: ignore[operator]


def test_simulate_desktop_en_fills_the_placeholder() -> None:
    slots = by_slot(simulate_json(signals=DESKTOP_EN))
    assert slots["hero"]["content"] == {"text": "Welcome back, Alex!"}
    assert slots["banner"]["experience"] is None


def test_simulate_now_overrides_the_signals_moment() -> None:
    slots = by_slot(simulate_json("--now", "2026-11-28T12:00:00Z"))
    assert slots["banner"]["experience"] == "black-friday"


def test_simulate_explain_table_shows_the_trace() -> None:
    result = runner.invoke(
        app, ["simulate", str(EXAMPLE), "--signals", str(MOBILE_PT), "--explain"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    banner = next(line for line in lines if line.startswith("banner "))
    assert "evening-free-shipping" in banner and "Frete grátis" in banner
    assert any("black-friday" in line and line.startswith("    - ") for line in lines)
    assert any(line.startswith("cta ") and "(default" in line for line in lines)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "the signals file is not valid JSON"),
        ("[1, 2]", "the signals must be a JSON object, not list"),
    ],
)
def test_simulate_bad_signals_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str
) -> None:
    signals = tmp_path / "signals.json"
    signals.write_text(content)
    code, out, err = run_main(["simulate", str(EXAMPLE), "--signals", str(signals)], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert needle in err


def test_simulate_missing_files_and_bad_now_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.json"
    code, _, err = run_main(["simulate", str(EXAMPLE), "--signals", str(missing)], capsys)
    assert (code, err.strip()) == (2, f"{missing}: the signals file does not exist.")
    args = ["simulate", str(EXAMPLE), "--signals", str(MOBILE_PT), "--profile", str(missing)]
    code, _, err = run_main(args, capsys)
    assert (code, err.strip()) == (2, f"{missing}: the profile file does not exist.")
    args = ["simulate", str(EXAMPLE), "--signals", str(MOBILE_PT), "--now", "tomorrow"]
    code, _, err = run_main(args, capsys)
    assert (code, err.strip()) == (2, "perso: --now 'tomorrow' is not an ISO 8601 date and time.")


# --- usage errors and command modules ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["validate"], "Missing argument"),
        (["simulate", str(EXAMPLE)], "Missing option '--signals'"),
        (["build", str(EXAMPLE), "--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(args, capsys)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["--help"], capsys)
    assert code == 0
    assert "validate" in out and "simulate" in out


def test_every_command_is_registered() -> None:
    names = [command.name for command in typer.main.get_group(app).commands.values()]
    assert names == [
        "validate",
        "schema",
        "build",
        "simulate",
        "bundle",
        "snippet",
        "dev",
        "diff",
        "deploy",
        "history",
        "rollback",
        "pause",
        "resume",
        "report",
        "site",
    ]


# --- the installed script, as a user runs it ----------------------------------------


def test_installed_perso_exit_codes_and_no_traceback(bad_file: Path) -> None:
    bad = subprocess.run(
        [str(PERSO), "validate", str(bad_file)], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 3
    assert bad.stdout == ""
    good = subprocess.run(
        [str(PERSO), "simulate", str(EXAMPLE), "--signals", str(MOBILE_PT), "--explain"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert good.returncode == 0, good.stderr
    assert "evening-free-shipping" in good.stdout
    usage = subprocess.run([str(PERSO), "simulate"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr and usage.stderr.startswith("perso: ")


def test_importing_edge_does_not_import_yaml() -> None:
    # The browser wheel has no PyYAML: only compiling may import it.
    code = "import edge.compiler, edge.artifact, sys; print('yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
