// What the decision core imports from the stdlib at run time inside Pyodide (Node):
// boots a built runtime (its lock file and wheels), loads artifacts, decides with good
// and bad input, does what the snapshot warm-up does, then imports a safety margin of
// common modules, and writes the stdlib's top-level names found in sys.modules to
// <out.json>.top.json (the seed of STDLIB_CORE in infra/_bundle_runtime.py, which adds
// what those import at module level). Usage:
//   node stdlib_imports.mjs <runtime dir> <stdlib zip name> <out.json> <artifact.msgpack>...
// with each artifact's sha256 in <artifact>.sha (hex).
import { readFileSync, writeFileSync } from "node:fs";
const [runtime, stdlib, out, ...artifacts] = process.argv.slice(2);
const { loadPyodide } = await import(runtime + "/pyodide.mjs");
const lock = JSON.parse(readFileSync(runtime + "/pyodide-lock.json", "utf8"));
const py = await loadPyodide({ indexURL: runtime + "/", lockFileContents: lock,
  packageBaseUrl: runtime + "/", stdLibURL: runtime + "/" + stdlib,
  packages: Object.keys(lock.packages), stdout: (s) => console.error(s), stderr: (s) => console.error(s) });
const bridge = py.pyimport("edge.bridge");
py.runPython("import random, os; random.seed(os.urandom(32))");
const examples = new URL("../../examples/", import.meta.url);
const sigs = ["desktop-en", "mobile-pt"].map((n) => readFileSync(new URL(`signals-${n}.json`, examples), "utf8"));
const results = [];
for (const file of artifacts) {
  py.FS.writeFile("/tmp/x.msgpack", new Uint8Array(readFileSync(file)));
  const sha = readFileSync(file.replace(/\.msgpack$/, ".sha"), "utf8").trim();
  results.push(JSON.parse(bridge.load_artifact_file("/tmp/x.msgpack", sha)).ok);
  results.push(JSON.parse(bridge.load_artifact(py.toPy(new Uint8Array(readFileSync(file))), sha)).ok);
  for (const s of [...sigs, "{}", "not json", "[1]"]) {
    for (const prof of ["{}", '{"visits": 3, "cart_items": 2, "traits": {"tier": "gold"}}', "bad"]) {
      results.push(JSON.parse(bridge.decide_json(s, prof, "2026-11-25T12:00:00Z")).ok);
      results.push(JSON.parse(bridge.decide_json(s, prof, "garbage")).ok);
    }
  }
  results.push(JSON.parse(bridge.load_artifact_file("/tmp/x.msgpack", "00")).ok);
}
py.FS.writeFile("/tmp/x.msgpack", new Uint8Array([1, 2, 3]));
results.push(JSON.parse(bridge.load_artifact_file("/tmp/x.msgpack", "00")).ok);
// what the snapshot warm-up imports on top
py.runPython(`
import gc, importlib, json, os, pkgutil, sys, zipfile
import edge
for _m in pkgutil.iter_modules(edge.__path__):
    importlib.import_module("edge." + _m.name)
os.environ["MSGPACK_PUREPYTHON"] = "1"
import msgpack.fallback
gc.collect()
`);
const mods = py.runPython(`
import sys, json
def origin(m):
    s = getattr(m, "__spec__", None)
    return getattr(s, "origin", None) or getattr(m, "__file__", None)
json.dumps({n: origin(m) for n, m in sorted(sys.modules.items())})
`);
writeFileSync(out, mods);
console.log(JSON.stringify({ results: results.length, ok: results.filter(Boolean).length }));
try { py.runPython("raise ValueError('probe')"); } catch (e) { /* formatted by _pyodide */ }
py.runPython(`
import importlib
for n in ("json re datetime zoneinfo random hashlib base64 collections functools typing dataclasses "
          "enum warnings weakref traceback linecache tokenize inspect difflib html pathlib urllib.parse "
          "math operator copy string textwrap struct bisect heapq itertools numbers fractions decimal "
          "statistics contextlib abc io os stat posixpath genericpath types keyword reprlib locale "
          "codecs encodings unicodedata gc pkgutil zipfile importlib.metadata importlib.resources "
          "pyodide pyodide.ffi pyodide.code pyodide.console pyodide.webloop shlex fnmatch glob tempfile shutil "
          "pprint uuid secrets hmac calendar time sysconfig site").split():
    try:
        importlib.import_module(n)
    except Exception as e:
        print("SAFETY IMPORT FAILED", n, e)
`);
const mods2 = py.runPython(`
import sys, json
json.dumps(sorted({n.split(".")[0] for n, m in sys.modules.items()
    if str(getattr(getattr(m, "__spec__", None), "origin", None) or getattr(m, "__file__", "")).startswith("/lib/python314.zip/")}))
`);
writeFileSync(out + ".top.json", mods2);
