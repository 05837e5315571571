# Run inside Pyodide before a memory snapshot is taken (by make_snapshot.mjs in Node or
# snapshot_worker.mjs in Chromium). `WHEELS` (file names in /tmp) is set by the caller.
# Unpacks the wheels with Python (loadPackage would leave JS objects behind, and a
# snapshot may hold none), imports every edge module (after a restore the wheels' files
# are not on the virtual disk, so a lazy import would fail), makes one decision so
# lazy stdlib imports happen too, then forgets the warm-up ruleset.
import contextlib
import gc
import importlib
import json
import os
import pathlib
import pkgutil
import sys
import zipfile

# A snapshot holds the wasm heap but not the function-table entries of dynamically
# loaded libraries, so a C extension loaded before it fails after a restore ("table
# index is out of bounds"). msgpack's pure-Python unpacker does the same job, once per
# artifact.
os.environ["MSGPACK_PUREPYTHON"] = "1"

_sp = next(p for p in sys.path if p.endswith("site-packages"))
for _name in WHEELS:  # noqa: F821 - defined by the caller
    with zipfile.ZipFile("/tmp/" + _name) as _w:
        _w.extractall(_sp)
importlib.invalidate_caches()

import edge  # noqa: E402
from edge import artifact, bridge  # noqa: E402
from edge.model import Experience, Ruleset, Slot, Variant  # noqa: E402

for _m in pkgutil.iter_modules(edge.__path__):
    importlib.import_module("edge." + _m.name)

# The worker restores this snapshot without the stdlib zip (it is not downloaded), so a
# stdlib module imported inside a function (zoneinfo in edge.context) must be imported
# now: every absolute import anywhere in edge's sources, at any depth.
import ast  # noqa: E402

_lazy = set()
for _file in pathlib.Path(edge.__file__).parent.rglob("*.py"):
    for _node in ast.walk(ast.parse(_file.read_text(encoding="utf-8"))):
        if isinstance(_node, ast.Import):
            _lazy.update(a.name for a in _node.names)
        elif isinstance(_node, ast.ImportFrom) and not _node.level and _node.module:
            _lazy.add(_node.module)
for _name in sorted(_lazy):
    if _name.split(".")[0] != "edge":
        # An optional import (TYPE_CHECKING, a fallback) that fails now fails later too.
        with contextlib.suppress(ImportError):
            importlib.import_module(_name)

_rs = Ruleset(site="warmup", slots={"s": Slot("s", "#s")}, experiences=(
    Experience(id="e", slot="s", variants=(
        Variant("a", 0.5, {"text": "A"}), Variant("b", 0.5, {"html": "<b>B</b>"}))),))
_art = artifact.encode(_rs)
assert json.loads(bridge.load_artifact(_art.data, _art.sha256))["ok"]
_sig = {"languages": ["en"], "local_time": "2026-01-01T10:00:00", "timezone": "UTC",
        "url": "https://x.example/?utm_source=a", "referrer": "https://www.google.com/",
        "user_agent": "Mozilla/5.0", "consent": {"analytics": True, "personalization": True},
        "visitor_id": "warm"}
assert json.loads(bridge.decide_json(json.dumps(_sig), "{}", "2026-01-01T10:00:00Z"))["ok"]
bridge.reset()
_so = sorted(n for n, m in sys.modules.items() if str(getattr(m, "__file__", "")).endswith(".so"))
assert not _so, f"dynamic libraries cannot be in a memory snapshot: {_so}"
del _rs, _art, _sig, _name, _w, _m, _sp, _so, _lazy, _file, _node
gc.collect()
