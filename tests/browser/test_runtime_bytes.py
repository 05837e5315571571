"""What a first view downloads from runtime/<version>/: only the files of the variant
the bundle ships. The dev server reports every response it writes (`on_sent`), so
requests from the worker, shared or dedicated, are seen too (Playwright's request
events miss a SharedWorker's).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from infra.local.devserver import DevServer
from tests.browser._support import RecordingApi, dedicated_worker, wait_for_decision


@pytest.fixture
def sent(dev_server: DevServer) -> Iterator[list[str]]:
    """The paths of /cdn/runtime/ the dev server answered during the test."""
    paths: list[str] = []

    def seen(path: str, size: int) -> None:
        if path.startswith("/cdn/runtime/"):
            paths.append(path.split("?")[0].rsplit("/", 1)[-1])

    dev_server.on_sent = seen
    try:
        yield paths
    finally:
        dev_server.on_sent = None


@pytest.mark.parametrize("shared", [True, False], ids=["shared worker", "dedicated worker"])
def test_first_view_fetches_the_snapshot_and_no_stdlib(
    context: BrowserContext,
    dev_server: DevServer,
    api: RecordingApi,
    cdn_dir: Path,
    sent: list[str],
    shared: bool,
) -> None:
    # Given the bundle `perso dev` serves by default: the memory snapshot and its stdlib
    assert any((cdn_dir / "runtime").glob("*/snapshot.bin.br"))
    if not shared:
        dedicated_worker(context)
    page = context.new_page()

    # When a first view decides
    page.goto(dev_server.url + "/")
    record = wait_for_decision(page)
    assert record["errors"] == [], record["errors"]

    # Then the worker restored the snapshot, and fetched neither stdlib zip (the restored
    # heap holds what the core imports) nor a wheel (their modules are in it too)
    assert record["worker"]["snapshot"] is True
    assert "snapshot.bin" in sent and "pyodide.asm.wasm" in sent
    assert [p for p in sent if p.endswith((".zip", ".whl"))] == []
