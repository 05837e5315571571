// Restores the bundle's memory snapshot in a module Worker (see _snapshot_probe.py).
const base = location.origin + "/runtime/";
self.onmessage = async () => {
  try {
    const lock = await (await fetch(base + "pyodide-lock.json")).json();
    const { loadPyodide } = await import(base + "pyodide.mjs");
    const py = await loadPyodide({indexURL: base, lockFileContents: lock, packageBaseUrl: base,
      stdLibURL: base + lock.perso.stdlib, _loadSnapshot: fetch(base + lock.perso.snapshot).then(r => r.arrayBuffer())});
    const frozen = py.runPython("import random; random.random()");
    py.runPython("import os; random.seed(os.urandom(32))");
    const decision = JSON.parse(py.pyimport("edge.bridge").decide_json("{}", "{}", "2026-01-01T00:00:00Z"));
    const so = JSON.parse(py.runPython(
      "import sys, json; json.dumps(sorted(n for n, m in sys.modules.items() if str(getattr(m, '__file__', '')).endswith('.so')))"));
    self.postMessage({ok: true, frozen, random: py.runPython("random.random()"), decision, so});
  } catch (e) { self.postMessage({ok: false, error: String(e && e.stack || e)}); }
};
