"""tests/pyodide/run.py's own checks on CPython: the file list fails loudly, settings carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pyodide._wheels import CACHE
from tests.pyodide.run import (
    EDGE_TESTS,
    NOT_IN_PYODIDE,
    ROOT,
    check_listed,
    pytest_code,
    pytest_ini_args,
    run_python,
    unlisted,
)

__all__: list[str] = []


def test_every_listed_file_exists() -> None:
    assert check_listed(EDGE_TESTS) == list(EDGE_TESTS)
    assert not set(EDGE_TESTS) & set(NOT_IN_PYODIDE)


def test_a_missing_listed_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_here.py").write_text("", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"tests/test_gone\.py"):
        check_listed(["tests/test_here.py", "tests/test_gone.py"], tmp_path)


def test_an_unlisted_edge_test_is_reported(tmp_path: Path) -> None:
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_decide_new.py").write_text("", encoding="utf-8")
    (tmp_path / "tests" / "unit" / "test_bandit.py").write_text("", encoding="utf-8")
    assert unlisted(tmp_path) == ["tests/unit/test_decide_new.py"]


def test_pyproject_settings_carry_over_without_the_benchmark_flags(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "-ra --strict-markers --benchmark-disable"\n',
        encoding="utf-8",
    )
    assert pytest_ini_args(tmp_path) == [
        "-p", "no:cacheprovider", "-o", "addopts=-ra --strict-markers",
    ]  # fmt: skip
    assert "--strict-markers" in pytest_ini_args(ROOT)[-1]


def test_a_failing_test_inside_pyodide_fails_the_pass() -> None:
    # Given a test that fails, written inside Pyodide's file system
    code = (
        "import os\n"
        "os.makedirs('/tmp/probe', exist_ok=True)\n"
        "with open('/tmp/probe/test_probe.py', 'w') as f:\n"
        "    f.write('import sys\\ndef test_probe():\\n    assert sys.platform == \"linux\"\\n')\n"
        + pytest_code(["-p", "no:cacheprovider", "/tmp/probe/test_probe.py"])
    )
    # When the runner runs pytest on it in Pyodide
    done = run_python(code, wheels_dir=CACHE / "edge", capture=True, timeout=300)
    # Then pytest's exit code (1: tests failed) comes back, with pytest's own summary
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "'emscripten' == 'linux'" in done.stdout
