"""Where a running `perso dev` is: announced while it runs, found by other commands."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.discovery import DevEndpoints, announce, find, state_dir

ENDPOINTS = DevEndpoints("http://127.0.0.1:8080", "http://127.0.0.1:5000", "t", "b")


@pytest.fixture(autouse=True)
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PERSO_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def test_announced_while_running_and_gone_after(folder: Path) -> None:
    assert find() is None
    with announce(ENDPOINTS) as path:
        found = find()
        assert found is not None and (found.table, found.pid) == ("t", os.getpid())
        # readable by the user only
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert find() is None and list(folder.iterdir()) == []


def test_a_dead_servers_file_is_ignored_and_removed(folder: Path) -> None:
    # Given the file of a process that exited without cleaning up
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(dead.stdout)
    folder.mkdir(parents=True)
    stale = folder / f"dev-{pid}.json"
    record = {"url": "u", "endpoint_url": "e", "table": "t", "bucket": "b", "pid": pid}
    stale.write_text(json.dumps(record))
    (folder / "dev-1.json").write_text("not json")
    # Then nothing is found, and both files are cleaned away
    assert find() is None
    assert list(folder.iterdir()) == []


def test_the_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PERSO_STATE_DIR")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert state_dir() == tmp_path / "perso"
