"""The edge test suite again, inside Pyodide (Python 3.14 on WebAssembly) under Node.

    python -m tests.pyodide.run [pytest args] [test files]

Builds the test wheel of `edge` (compiler included), makes sure the other wheels are in
`.cache/wheels/`, copies the test files into Pyodide's memory file system and runs pytest
there with the repository's pytest settings. Exits with pytest's exit code. With test
files among the arguments, runs those instead of `EDGE_TESTS`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

from infra.bundle.wheel import build_edge_wheel
from tests.pyodide._wheels import CACHE, ensure_wheels

__all__ = [
    "CPYTHON_ONLY_TESTS",
    "EDGE_TESTS",
    "NOT_IN_PYODIDE",
    "ROOT",
    "check_listed",
    "main",
    "pytest_code",
    "pytest_ini_args",
    "run_python",
    "unlisted",
]

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "pyodide" / "runner.mjs"
APP = "/app"  # the repository's stand-in inside Pyodide

# The tests that run inside Pyodide. A listed file that is missing fails the run.
EDGE_TESTS = (
    "tests/pyodide/inside.py",
    "tests/conformance/test_conditions.py",
    "tests/conformance/test_bucketing.py",
    "tests/unit/test_context.py",
    "tests/unit/test_decide.py",
    "tests/unit/test_compiler.py",
    "tests/unit/test_compiler_schedule.py",
    "tests/unit/test_compiler_safety.py",
    "tests/unit/test_compiler_vocabulary.py",
    "tests/unit/test_bridge.py",
    "tests/unit/test_artifact.py",
    "tests/unit/test_conditions_extra.py",
    "tests/unit/test_decide_fuzz.py",
    "tests/unit/test_decide_forced.py",
    "tests/unit/test_reads.py",
    "tests/unit/test_multivariate.py",
)
# Tests of edge modules that deliberately stay on CPython, each with its reason
# (none at present: the bridge's IN_PYODIDE test runs in both).
NOT_IN_PYODIDE = {
    "tests/unit/test_wheel.py": "builds wheels on the host and starts CPython subprocesses",
    "tests/unit/test_schema.py": "needs jsonschema, whose rpds-py has no wasm wheel on PyPI "
    "(edge.compiler.schema is build-time only and not in the browser wheel)",
}
# Single tests that only make sense on CPython, deselected in Pyodide, each with its reason
# (the bridge's IN_PYODIDE test runs in both).
CPYTHON_ONLY_TESTS: dict[str, str] = {
    "tests/unit/test_multivariate.py::test_perso_simulate_explains_it": "runs the perso "
    "command (infra.cli, typer), which is not part of the edge wheel",
}
# What counts as a test of an edge module (an unlisted match is reported).
EDGE_PATTERNS = (
    "tests/conformance/test_*.py",
    "tests/unit/test_conditions*.py",
    "tests/unit/test_operators*.py",
    "tests/unit/test_bucketing*.py",
    "tests/unit/test_context*.py",
    "tests/unit/test_decide*.py",
    "tests/unit/test_content*.py",
    "tests/unit/test_compiler*.py",
    "tests/unit/test_artifact*.py",
    "tests/unit/test_schema*.py",
    "tests/unit/test_model*.py",
    "tests/unit/test_bridge*.py",
    "tests/unit/test_reads*.py",
)
# Copied into Pyodide: what the listed tests import or read (never edge/ itself: the
# tests must use the installed wheel).
COPIED = ("tests/__init__.py", "tests/_factories.py", "tests/pyodide", "tests/unit",
          "tests/conformance", "examples", "pyproject.toml")  # fmt: skip
TIMEOUT_S = float(os.environ.get("PERSO_PYODIDE_TIMEOUT", "900"))


def check_listed(listed: Iterable[str], root: Path = ROOT) -> list[str]:
    """The listed test files, or SystemExit naming every one that does not exist."""
    files = list(listed)
    missing = [name for name in files if not (root / name).is_file()]
    if missing:
        raise SystemExit(
            "tests/pyodide/run.py lists test files that do not exist: "
            + ", ".join(missing)
            + ". Fix EDGE_TESTS (renamed or removed?)."
        )
    return files


def unlisted(root: Path = ROOT) -> list[str]:
    """Edge tests that are neither run in Pyodide nor excused in NOT_IN_PYODIDE."""
    found = {p.relative_to(root).as_posix() for g in EDGE_PATTERNS for p in root.glob(g)}
    return sorted(found - set(EDGE_TESTS) - set(NOT_IN_PYODIDE))


def pytest_ini_args(root: Path = ROOT) -> list[str]:
    """`-o` options carrying pyproject's pytest settings that need help inside Pyodide.

    pytest reads pyproject.toml there too (filterwarnings, xfail_strict, markers), but
    `addopts` names pytest-benchmark's flags and that plugin is not installed there.
    """
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    addopts = pyproject["tool"]["pytest"]["ini_options"].get("addopts", "")
    kept = [a for a in shlex.split(addopts) if not a.startswith("--benchmark")]
    return ["-p", "no:cacheprovider", "-o", f"addopts={shlex.join(kept)}"]


def run_python(
    code: str,
    *,
    wheels_dir: Path,
    timeout: float = TIMEOUT_S,
    capture: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `code` in Pyodide under Node with every wheel installed and the tests copied.

    `code`'s last expression (an int) is the exit code. The cwd inside is `/app`,
    which holds `tests/`, `examples/` and `pyproject.toml`, and is on sys.path.
    """
    wheels = [build_edge_wheel(wheels_dir, include_compiler=True), *ensure_wheels()]
    # The wheel browsers get goes in as a file: inside.py checks it works on its own.
    browser = build_edge_wheel(wheels_dir / "browser")
    plan = {
        "wheels": [str(w) for w in wheels],
        "files": [
            *([str(ROOT / f), f"{APP}/{f}"] for f in _copied_files()),
            [str(browser), f"/browser-wheel/{browser.name}"],
        ],
        "cwd": APP,
        "env": {"COLUMNS": "100", "PYTHONDONTWRITEBYTECODE": "1"},
        "python": code,
    }
    node = shutil.which("node")
    if node is None:
        raise SystemExit("the Pyodide test pass needs Node.js 20 or newer; `node` is not on PATH")
    with tempfile.TemporaryDirectory(prefix="perso-pyodide-") as tmp:
        plan_path = Path(tmp) / "plan.json"
        plan_path.write_text(json.dumps(plan), encoding="utf-8")
        return subprocess.run(
            [node, str(RUNNER), str(plan_path)],
            cwd=ROOT,
            timeout=timeout,
            capture_output=capture,
            text=True,
            check=False,
        )


def pytest_code(args: Sequence[str]) -> str:
    """Python that runs pytest with `args` inside Pyodide and ends with its exit code."""
    return (
        "import os, sys\n"
        "sys.dont_write_bytecode = True\n"
        # `python -m pytest` puts the cwd first on sys.path; tests import `tests._factories`.
        "sys.path.insert(0, os.getcwd())\n"
        # WebAssembly on a shared 2-core machine is slower than the CPython these tests
        # were tuned on: no deadlines or too-slow health checks (a test's own settings
        # still win), and no example database written into the sandbox.
        # Done from pytest_configure: importing hypothesis before pytest would keep
        # pytest from rewriting its asserts, a warning (so an error) here.
        "class PyodideProfile:\n"
        "    def pytest_configure(self, config):\n"
        "        from hypothesis import HealthCheck, settings\n"
        "        settings.register_profile('pyodide', deadline=None, database=None,\n"
        "            suppress_health_check=[HealthCheck.too_slow])\n"
        "        settings.load_profile('pyodide')\n"
        "import pytest\n"
        f"int(pytest.main({list(args)!r}, plugins=[PyodideProfile()]))\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    chosen = [a for a in args if (ROOT / a.split("::")[0]).is_file()]
    options = [a for a in args if a not in chosen]
    files = chosen or check_listed(EDGE_TESTS)
    for name in [] if chosen else unlisted():
        print(f"pyodide: NOT RUN in Pyodide, add it to EDGE_TESTS or NOT_IN_PYODIDE: {name}")
    for name, reason in [] if chosen else sorted(NOT_IN_PYODIDE.items()):
        print(f"pyodide: CPython only, {name}: {reason}")
    deselect: list[str] = []
    for node, reason in sorted(CPYTHON_ONLY_TESTS.items()):
        print(f"pyodide: deselected, {node}: {reason}")
        deselect += ["--deselect", node]
    print(f"pyodide: running {len(files)} test files in Pyodide: {' '.join(files)}", flush=True)
    started = time.perf_counter()
    try:
        done = run_python(
            pytest_code([*pytest_ini_args(), *deselect, *options, *files]),
            wheels_dir=CACHE / "edge",
        )
    except subprocess.TimeoutExpired:
        print(f"pyodide: the test run took longer than {TIMEOUT_S:.0f} s and was stopped "
              "(PERSO_PYODIDE_TIMEOUT sets the limit)", file=sys.stderr)  # fmt: skip
        return 1
    print(f"pyodide: exit {done.returncode} after {time.perf_counter() - started:.1f} s")
    return done.returncode


def _copied_files() -> list[str]:
    files: list[str] = []
    for name in COPIED:
        path = ROOT / name
        if path.is_file():
            files.append(name)
            continue
        for item in sorted(path.rglob("*")):
            if item.is_file() and "__pycache__" not in item.parts and item.suffix != ".pyc":
                files.append(item.relative_to(ROOT).as_posix())
    return files


if __name__ == "__main__":
    raise SystemExit(main())
