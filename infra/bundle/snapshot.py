"""A Pyodide memory snapshot for the runtime directory, made in headless Chromium.

A snapshot made in Node does not restore in a browser (the wasm function table
differs: "table index is out of bounds"), so it is made in Debian's Chromium, in a
module Worker like the one that will restore it. The staged runtime is served from
127.0.0.1 for the occasion; the worker PUTs the snapshot back.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

from infra.bundle.runtime import CACHE, ROOT, BundleError, sha256_file

__all__ = ["CHROMIUM", "SNAPSHOT", "SnapshotUnavailable", "make_snapshot"]

SNAPSHOT = "snapshot.bin"
CHROMIUM = Path("/usr/bin/chromium")
TOOLS = ROOT / "snippet" / "tools"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE = b"""<!doctype html><meta charset="utf-8"><script type="module">
const w = new Worker("/__snapshot_worker.mjs", {type: "module"});
window.__done = new Promise((res) => { w.onmessage = (e) => res(e.data); });
w.postMessage({base: location.origin + "/"});
</script>"""


class SnapshotUnavailable(BundleError):
    """No Chromium to make the snapshot in: `perso dev` builds without one instead."""


def _handler(stage: Path, received: dict[str, bytes]) -> type[http.server.BaseHTTPRequestHandler]:
    extra = {
        "/__snapshot.html": (PAGE, "text/html"),
        "/__snapshot_worker.mjs": ((TOOLS / "snapshot_worker.mjs").read_bytes(), "text/javascript"),
        "/__snapshot_warmup.py": ((TOOLS / "snapshot_warmup.py").read_bytes(), "text/plain"),
    }
    types = {
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def do_GET(self) -> None:
            if self.path in extra:
                body, ctype = extra[self.path]
            else:
                target = (stage / self.path.lstrip("/")).resolve()
                if not target.is_relative_to(stage.resolve()) or not target.is_file():
                    self.send_error(404)
                    return
                body = target.read_bytes()
                ctype = types.get(target.suffix, "application/octet-stream")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received["snapshot"] = self.rfile.read(length)
            self.send_response(204)
            self.end_headers()

    return Handler


def _make_in_chromium(stage: Path) -> bytes:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise SnapshotUnavailable(
            f"the memory snapshot is made in headless Chromium and {CHROMIUM} is missing: "
            "install it (apt-get install -y chromium) or build without one (--no-snapshot)"
        )
    received: dict[str, bytes] = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(stage, received))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/__snapshot.html")
                result = page.evaluate("window.__done")
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    if not result.get("ok") or "snapshot" not in received:
        raise BundleError(f"making the memory snapshot in Chromium failed: {result.get('error')}")
    return received["snapshot"]


def make_snapshot(stage: Path) -> Path:
    """`stage/snapshot.bin`, cached by the hash of everything it is made from (a snapshot
    is not byte-reproducible; the cache keeps the version directory content-addressed)."""
    inputs = sorted(p for p in stage.iterdir() if p.name != SNAPSHOT)
    tools = [TOOLS / "snapshot_worker.mjs", TOOLS / "snapshot_warmup.py"]
    key = hashlib.sha256(
        "".join(f"{p.name}:{sha256_file(p)}\n" for p in [*inputs, *tools]).encode()
    ).hexdigest()[:16]
    cached = CACHE / "snapshot" / f"{key}.bin"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        # In a thread of its own: Playwright's sync API refuses to start inside a running
        # event loop, as it is when a caller already drives a browser (the test session).
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            tmp.write_bytes(pool.submit(_make_in_chromium, stage).result())
        tmp.replace(cached)
    target = stage / SNAPSHOT
    shutil.copyfile(cached, target)
    return target
