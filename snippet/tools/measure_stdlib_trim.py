# ruff: noqa: E402, E501 - a measuring script, run from the repository root (sys.path first)
"""Trimmed (core) vs full .pyc stdlib, side by side in one run: zip bytes, and engine
ready in headless Chromium (cold and warm views, without and with a snapshot), 5
alternating rounds (RUNS=n to change).

    .venv/bin/python snippet/tools/measure_stdlib_trim.py [dir]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import brotli
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from infra.bundle import build_bundle
from infra.local.devserver import running
from infra.local.devstack import build_cdn
from tests.bench.test_browser_bench import _precompress, _view
from tests.browser._support import CHROMIUM, CHROMIUM_ARGS, DESKTOP

RUNS = int(os.environ.get("RUNS", "5"))
base = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/perso-stdlib-trim")
variants = {}
for snap in (False, True):
    for full in (True, False):
        name = f"{'full' if full else 'core'} .pyc{' + snapshot' if snap else ''}"
        folder = base / name.replace(" ", "_").replace("+", "").replace(".", "")
        t = time.time()
        b = build_bundle(out=folder, snapshot=snap, full_stdlib=full)
        build_cdn(folder, examples=ROOT / "examples", bundle=False)
        z = next(p for p in b.runtime_dir.glob("python_stdlib*.pyc.zip"))
        print(
            f"built {name} in {time.time() - t:.0f}s: {z.name} {z.stat().st_size:,} B, br {len(brotli.compress(z.read_bytes())):,} B",
            flush=True,
        )
        variants[name] = folder
res = {n: {"cold": [], "warm": []} for n in variants}
with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        servers = {}
        import contextlib

        with contextlib.ExitStack() as stack:
            for n, f in variants.items():
                servers[n] = stack.enter_context(running(cdn_dir=f))
                _precompress(servers[n], f)
            for _ in range(RUNS):  # alternate the variants each round
                for n, server in servers.items():
                    ctx = browser.new_context(**DESKTOP, locale="en-US")
                    try:
                        page = ctx.new_page()
                        a = _view(page, server)
                        b2 = _view(page, server)
                        res[n]["cold"].append(a["engine_ready_ms"] - 0)
                        res[n]["warm"].append(b2["engine_ready_ms"])
                        assert a["worker"]["snapshot"] == ("snapshot" in n), a["worker"]
                    finally:
                        ctx.close()
    finally:
        browser.close()
print(
    f"load average {os.getloadavg()}; {RUNS} rounds, alternating; engine_ready_ms since navigation"
)
print(f"{'variant':<22}{'cold median':>12}{'min-max':>14}{'warm median':>13}{'min-max':>14}")
for n, r in res.items():
    c, w = r["cold"], r["warm"]
    print(
        f"{n:<22}{statistics.median(c):>12.0f}{f'{min(c):.0f}-{max(c):.0f}':>14}{statistics.median(w):>13.0f}{f'{min(w):.0f}-{max(w):.0f}':>14}"
    )
for s in ("", " + snapshot"):
    f, c = res[f"full .pyc{s}"], res[f"core .pyc{s}"]
    print(
        f"ratio full/core{s}: cold {statistics.median(f['cold']) / statistics.median(c['cold']):.2f}x warm {statistics.median(f['warm']) / statistics.median(c['warm']):.2f}x"
    )
