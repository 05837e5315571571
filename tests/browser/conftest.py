"""Fixtures for the browser tests: one CDN tree, one dev server and one Chromium per
session; a fresh browser context (cookies, storage, cache) per test.

Nothing is installed here: if Chromium is missing the session fails with the command
that installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from infra.local.devserver import DevServer, build_cdn, running
from tests.browser._support import CHROMIUM, CHROMIUM_ARGS, RecordingApi

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cdn_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bucket, built once: the runtime bundle and every examples/*.yaml ruleset."""
    out = tmp_path_factory.mktemp("cdn")
    lines = build_cdn(out, examples=ROOT / "examples")
    missing = [
        name
        for name in ("perso.js", "stub.js", "rulesets/demo-shop/latest.json")
        if not (out / name).is_file()
    ]
    if missing or not any((out / "runtime").glob("*/worker.js")):
        pytest.fail(
            "the CDN tree for the browser tests is incomplete "
            f"(missing: {', '.join(missing) or 'runtime/<version>/worker.js'}):\n"
            + "\n".join(lines)
        )
    return out


@pytest.fixture(scope="session")
def dev_server(cdn_dir: Path) -> Iterator[DevServer]:
    with running(cdn_dir=cdn_dir, demo_dir=ROOT / "demo") as server:
        yield server


@pytest.fixture
def api(dev_server: DevServer) -> Iterator[RecordingApi]:
    """A fresh recording event API on the dev server's /v1/ for this test."""
    recorder = RecordingApi()
    previous = dev_server.api
    dev_server.api = recorder
    try:
        yield recorder
    finally:
        dev_server.api = previous


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests drive Debian's "
            "Chromium. Install it with `apt-get install -y chromium` (scripts/test does this)."
        )
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Any]:
    """A factory of browser contexts (device, locale, time zone...), all closed after."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(**options)
        made.append(context)
        return context

    try:
        yield make
    finally:
        for context in made:
            context.close()


@pytest.fixture
def context(new_context: Any) -> BrowserContext:
    made: BrowserContext = new_context()
    return made
