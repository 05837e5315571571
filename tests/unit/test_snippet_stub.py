"""The loader stub's behaviour (as `perso snippet` inlines it), run for real in Node's
`vm` with a minimal window: queueing, loading the runtime once, being safe to include
twice, and a first view (nothing cached) applying nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from infra.bundle.snippet import minified_stub

HARNESS = r"""
const vm = require("node:vm");
const fs = require("node:fs");
const src = fs.readFileSync(process.argv[process.argv.length - 1], "utf8");
const errors = [];
const appended = [];
const head = { appendChild(el) { appended.push(el.src); } };
const document = { head, createElement: () => ({}), getElementsByTagName: () => [head] };
const ctx = vm.createContext({ document, console: { error: (m) => errors.push(m) } });
ctx.window = ctx;  // as in a browser, window is the global object
const window = ctx;
vm.runInContext(src, ctx);
vm.runInContext(src, ctx);  // included twice
vm.runInContext(`
  perso.consent({analytics: true});
  perso.init({site: "demo-shop", cdn: "https://cdn.example/p/"});
  perso.init({site: "demo-shop", cdn: "https://cdn.example/p/"});
  perso.track("add_to_cart", {id: "x"});
`, ctx);
const queue = Array.from(window.perso, (c) => Array.from(c));
console.log(JSON.stringify({ errors, appended, queue }));
"""


def _run(tmp_path: Path) -> dict:
    built = tmp_path / "stub.min.js"
    built.write_text(minified_stub())
    done = subprocess.run(
        ["node", "-e", HARNESS, str(built)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_stub_queues_calls_in_order_and_loads_the_runtime_once(tmp_path: Path) -> None:
    report = _run(tmp_path)
    assert report["appended"] == ["https://cdn.example/p/perso.js"]
    assert [c[0] for c in report["queue"]] == ["consent", "init", "init", "track"]
    assert report["queue"][3] == ["track", "add_to_cart", {"id": "x"}]


def test_stub_included_twice_logs_one_error(tmp_path: Path) -> None:
    report = _run(tmp_path)
    assert report["errors"] == ["perso: snippet included twice"]
