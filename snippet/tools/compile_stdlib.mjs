// Precompile Pyodide's stdlib zip to .pyc with Pyodide's own Python (3.14), inside
// Pyodide under Node: the host Python is another version and its bytecode would not
// load. Usage: node compile_stdlib.mjs <pyodide dir> <out.zip>
// Writes unchecked hash-based .pyc files (no source in the zip, so nothing to check
// against); non-Python files are copied as they are.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error("usage: node compile_stdlib.mjs <pyodide dir> <out.zip>");
  process.exit(2);
}
const { loadPyodide } = await import(resolve(dir, "pyodide.mjs"));
const py = await loadPyodide({ indexURL: resolve(dir) + "/" });
const count = py.runPython(`
import sys, zipfile, importlib.util
from importlib._bootstrap_external import _code_to_hash_pyc
archive = next(p for p in sys.path if p.endswith(".zip"))
n = 0
with zipfile.ZipFile(archive) as src, zipfile.ZipFile("/tmp/stdlib-pyc.zip", "w", zipfile.ZIP_DEFLATED) as dst:
    for info in sorted(src.infolist(), key=lambda i: i.filename):
        data = src.read(info)
        name = info.filename
        if name.endswith(".py"):
            code = compile(data, archive + "/" + name, "exec", dont_inherit=True)
            data = bytes(_code_to_hash_pyc(code, importlib.util.source_hash(data), False))
            name += "c"
            n += 1
        entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        entry.compress_type = zipfile.ZIP_DEFLATED
        entry.external_attr = info.external_attr
        dst.writestr(entry, data)
n
`);
writeFileSync(out, py.FS.readFile("/tmp/stdlib-pyc.zip"));
console.log(JSON.stringify({ compiled: count, out }));
