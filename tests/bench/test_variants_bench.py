"""Which runtime variant gives the earliest decision on a 9 Mbit/s, 60 ms link: the
memory snapshot (`perso bundle`'s default) or the `.pyc` stdlib without one.

Every cell is one real view in headless Chromium through the dev server (CloudFront's
headers and codings, the pre-compressed snapshot): the bytes the server sent for it
(status lines, headers, encoded bodies; nothing for what came from the browser's cache)
and the time from navigation to the first decision the page applied. The link is a
relay in front of the dev server that delays each direction by half the round trip and
shares 9 Mbit/s downstream between every connection: Chromium's own emulation
(`Network.emulateNetworkConditions`) is per target and does not reach a SharedWorker's
requests, so it would leave the worker's downloads unthrottled.

Views, per variant:
- private window (a fresh non-persistent context): the first view, then a later view
  (a link followed in the same tab: the shared worker answers it) and the same later
  view with SharedWorker removed (what a browser without it pays: a dedicated worker
  boots again from the HTTP cache);
- persistent profile (a user-data directory): the first visit, then a later visit
  after the browser was closed and opened again (warm HTTP cache, no worker alive),
  and a later view in that visit.

One run per cell (cold views take seconds each on this link); nothing is asserted
about time. Reproduce alone:

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/bench/test_variants_bench.py \\
        --benchmark-enable -s
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import BrowserContext, Playwright, sync_playwright

from infra.local.devserver import DevServer, build_cdn, running
from tests.bench._link import ShapedLink
from tests.browser._support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    NO_SHARED_WORKER,
    wait_for_decision,
)

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = {"snapshot": {"snapshot": True}, ".pyc stdlib": {"snapshot": False}}
FIRST, LATER = "/", "/product.html?id=cap-01"


@dataclass
class Sent:
    """Bytes the dev server wrote per request path, as `DevServer.on_sent` reports them."""

    items: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, path: str, size: int) -> None:
        self.items.append((path, size))

    def take(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for path, size in self.items:
            name = path.split("?")[0].rsplit("/", 1)[-1]
            kind = (
                "snapshot"
                if name.startswith("snapshot.bin")
                else "wasm"
                if name.endswith(".wasm")
                else "stdlib"
                if name.endswith(".zip")
                else "wheels"
                if name.endswith(".whl")
                else "other"
            )
            kinds[kind] = kinds.get(kind, 0) + size
        kinds["total"] = sum(kinds.values())
        self.items.clear()
        return kinds


@dataclass(frozen=True)
class Cell:
    variant: str
    where: str
    view: str
    decided_ms: float
    bytes: dict[str, int]
    reused: bool
    boot_ms: float | None  # the worker's start to its READY, when this view booted it


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for name, options in VARIANTS.items():
        folder = tmp_path_factory.mktemp(name.replace(" ", "-").replace(".", ""))
        lines = build_cdn(folder, examples=ROOT / "examples", **options)
        has_snapshot = any((folder / "runtime").glob("*/snapshot.bin"))
        assert has_snapshot == options["snapshot"], lines
        out[name] = folder
    return out


@pytest.fixture(scope="module")
def driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: `apt-get install -y chromium`.")
    with sync_playwright() as playwright:
        yield playwright


def _compress_once(server: DevServer, folder: Path) -> None:
    # CloudFront compresses on the first request and keeps the result; so does the dev
    # server. Asked once per coding beforehand, so no measured view waits for it.
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.endswith(".br"):
            rel = path.relative_to(folder).as_posix()
            for coding in ("br", "gzip"):
                requests.get(
                    f"{server.url}/cdn/{rel}", headers={"Accept-Encoding": coding}, timeout=300
                ).close()


def _view(page: Any, url: str, sent: Sent) -> tuple[float, dict[str, int], bool, float | None]:
    sent.take()
    page.goto(url)
    record = wait_for_decision(page, timeout=180_000)
    assert record["errors"] == [], record["errors"]
    page.wait_for_timeout(500)  # late requests (revalidation) belong to this view too
    # A view decided ahead from the device's cache starts the worker only after `load`.
    page.wait_for_function("() => !!window.__persoDebug.worker")
    worker = page.evaluate("() => window.__persoDebug.worker")
    reused = bool(worker.get("reused"))
    return record["first_decision_ms"], sent.take(), reused, None if reused else worker["ready_ms"]


def _private(
    driver: Playwright, base: str, sent: Sent, variant: str
) -> Iterator[tuple[str, str, float, dict[str, int], bool, float | None]]:
    browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        context = browser.new_context(**DESKTOP, locale="en-US")
        page = context.new_page()
        yield ("private", "first view", *_view(page, base + FIRST, sent))
        yield ("private", "later view", *_view(page, base + LATER, sent))
        context.add_init_script(NO_SHARED_WORKER)
        yield ("private", "later view, no SharedWorker", *_view(page, base + FIRST, sent))
        context.close()
    finally:
        browser.close()


def _persistent(
    driver: Playwright, base: str, sent: Sent, profile: Path
) -> Iterator[tuple[str, str, float, dict[str, int], bool, float | None]]:
    def launch() -> BrowserContext:
        return driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            locale="en-US",
            **DESKTOP,
        )

    context = launch()
    try:
        yield ("persistent", "first visit", *_view(context.new_page(), base + FIRST, sent))
    finally:
        context.close()
    context = launch()  # the browser opened again: HTTP cache warm, no worker alive
    try:
        page = context.new_page()
        yield ("persistent", "later visit", *_view(page, base + FIRST, sent))
        yield ("persistent", "later view", *_view(page, base + LATER, sent))
    finally:
        context.close()


def test_variants_on_a_9_mbit_link(
    driver: Playwright,
    trees: dict[str, Path],
    tmp_path: Path,
    report: Callable[[str, str], None],
) -> None:
    started = time.monotonic()
    cells: list[Cell] = []
    for variant, folder in trees.items():
        with running(cdn_dir=folder) as server:
            _compress_once(server, folder)
            sent = Sent()
            server.on_sent = sent
            link = ShapedLink(server.port, rtt_s=0.060, down_bits_per_s=9e6, up_bits_per_s=9e6)
            try:
                # The page, its CDN and its API all go through the link (the embed code
                # names the origin the browser asked for).
                base = f"http://127.0.0.1:{link.port}"
                profile = tmp_path / variant.replace(" ", "-")
                for where, view, ms, kinds, reused, boot in (
                    *_private(driver, base, sent, variant),
                    *_persistent(driver, base, sent, profile),
                ):
                    cells.append(Cell(variant, where, view, ms, kinds, reused, boot))
            finally:
                link.close()
                server.on_sent = None
    elapsed = time.monotonic() - started
    report("variants on a 9 Mbit/s, 60 ms link", _table(cells, elapsed))
    assert len(cells) == 6 * len(VARIANTS)
    # The shared worker answered every later view in a visit, and only those
    for cell in cells:
        assert cell.reused == (cell.view == "later view"), cell


def _table(cells: list[Cell], elapsed: float) -> str:
    kinds = ("wasm", "snapshot", "stdlib", "wheels", "other", "total")
    header = f"{'where':<11}{'view':<29}{'variant':<13}{'decided ms':>11}{'boot ms':>9}" + "".join(
        f"{k:>11}" for k in kinds
    )
    rows = [header]
    for cell in sorted(cells, key=lambda c: (c.where != "private", c.view, c.variant)):
        rows.append(
            f"{cell.where:<11}{cell.view:<29}{cell.variant:<13}{cell.decided_ms:>11,.0f}"
            + (f"{cell.boot_ms:>9,.0f}" if cell.boot_ms is not None else f"{'shared':>9}")
            + "".join(f"{cell.bytes.get(k, 0):>11,}" for k in kinds)
        )
    by = {(c.where, c.view, c.variant): c for c in cells}
    rows.append("snapshot vs .pyc, time to the first decision (lower is better for the snapshot):")
    for where, view in sorted({(c.where, c.view) for c in cells}):
        snap, pyc = by[(where, view, "snapshot")], by[(where, view, ".pyc stdlib")]
        ratio = snap.decided_ms / pyc.decided_ms if pyc.decided_ms else float("nan")
        mb = (snap.bytes["total"] - pyc.bytes["total"]) / 1e6
        rows.append(f"  {where:<11}{view:<29} {ratio:5.2f}x time, {mb:+6.2f} MB")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    rows.append(f"(one run per cell; {elapsed:.0f} s in all; load average {load})")
    return "\n".join(rows)
