"""Restore the bundle's memory snapshot in headless Chromium, in module Workers, served
from a loopback HTTP server. Helpers for tests/unit/test_bundle.py."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from infra.bundle.snapshot import CHROMIUM, CHROMIUM_ARGS

__all__ = ["restore_twice", "run_real_worker", "serve"]

PROBE = (Path(__file__).with_name("_snapshot_probe.mjs")).read_bytes()
PAGE = """<!doctype html><meta charset="utf-8"><script type="module">
window.run = (src) => new Promise((res) => {
  const w = new Worker(src, {type: "module"});
  const seen = [];
  w.onmessage = (e) => { seen.push(e.data); if (window.until(seen)) { w.terminate(); res(seen); } };
  w.onerror = (e) => res([{ok: false, error: e.message}]);
  window.send(w);
});
</script>"""


@contextmanager
def serve(files: dict[str, Path], extra: dict[str, bytes]) -> Iterator[str]:
    """Serve `extra` (path -> bytes) and directories (URL prefix -> folder) on loopback."""
    types = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
             ".json": "application/json", ".html": "text/html"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            body = extra.get(path)
            if body is None:
                for prefix, folder in files.items():
                    if path.startswith(prefix):
                        target = (folder / path[len(prefix):]).resolve()
                        if target.is_relative_to(folder.resolve()) and target.is_file():
                            body = target.read_bytes()
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            ctype = types.get(Path(path).suffix, "application/octet-stream")
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _in_chromium(url: str, script: str, until: str, send: str) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url + "/page.html")
            # A trailing value: Playwright would call an expression that ends in a function.
            page.evaluate(f"window.until = {until}; window.send = {send}; 0")
            result: list[dict[str, Any]] = page.evaluate(f"window.run({json.dumps(script)})")
            return result
        finally:
            browser.close()


def restore_twice(runtime: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    extra = {"/page.html": PAGE.encode(), "/probe.mjs": PROBE}
    with serve({"/runtime/": runtime}, extra) as url:
        runs = [
            _in_chromium(url, "/probe.mjs", "(s) => s.length >= 1", "(w) => w.postMessage({})")[0]
            for _ in range(2)
        ]
    return runs[0], runs[1]


def run_real_worker(cdn: Path, runtime_version: str, site: str) -> list[dict[str, Any]]:
    """Start the bundle's worker.js as perso.js does and ask for one decision."""
    send = (
        "(w) => { w.postMessage({type: 'init', protocol: 1, runtime: location.origin + "
        f"'/runtime/{runtime_version}/', cdn: location.origin, site: {json.dumps(site)}, "
        "storage: false}); w.postMessage({type: 'decide', id: 1, signals: {languages: ['pt-BR'],"
        " consent: {analytics: false, personalization: false}}, profile: {}, now: "
        "'2026-11-25T21:00:00Z'}); }"
    )
    until = "(s) => s.some((m) => m.type === 'decision' || (m.type === 'error' && m.fatal))"
    with serve({"/": cdn}, {"/page.html": PAGE.encode()}) as url:
        return _in_chromium(url, f"/runtime/{runtime_version}/worker.js", until, send)
