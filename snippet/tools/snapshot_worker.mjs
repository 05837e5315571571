// Runs in a module Worker in headless Chromium at bundle time: boots the staged runtime
// with _makeSnapshot, warms it up (snapshot_warmup.py) and PUTs the snapshot back to
// the build's local server. A snapshot made in Node does not restore in a browser
// ("table index is out of bounds"), so it is made where it will be used.
self.onmessage = async (e) => {
  const base = e.data.base;
  try {
    const lock = await (await fetch(base + "pyodide-lock.json")).json();
    const { loadPyodide } = await import(base + "pyodide.mjs");
    const py = await loadPyodide({
      indexURL: base, lockFileContents: lock, packageBaseUrl: base,
      stdLibURL: base + ((lock.perso && lock.perso.stdlib) || "python_stdlib.zip"),
      _makeSnapshot: true,
    });
    const wheels = Object.values(lock.packages).map((p) => p.file_name);
    for (const name of wheels) {
      py.FS.writeFile(`/tmp/${name}`, new Uint8Array(await (await fetch(base + name)).arrayBuffer()));
    }
    const warmup = await (await fetch(base + "__snapshot_warmup.py")).text();
    py.runPython(`WHEELS = ${JSON.stringify(wheels)}\n` + warmup);
    py.runPython("del WHEELS");
    const snap = py.makeMemorySnapshot();
    const res = await fetch(base + "__snapshot.bin", { method: "PUT", body: snap });
    self.postMessage({ ok: res.ok, bytes: snap.length });
  } catch (err) {
    self.postMessage({ ok: false, error: String((err && err.stack) || err) });
  }
};
