// Runs pytest inside Pyodide under Node, offline. Driven by tests/pyodide/run.py.
//
//   node tests/pyodide/runner.mjs PLAN.json
//
// PLAN.json: {
//   "wheels": [host paths of .whl files, installed into site-packages],
//   "files":  [[host path, path inside Pyodide], ...]  (copied, so nothing writes back),
//   "cwd":    directory inside Pyodide to run from (holds pyproject.toml),
//   "env":    {NAME: value} for the Python process,
//   "python": Python source run after installing (a pytest run, or a benchmark),
// }
// The Python code's result (an int) becomes this process's exit code.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const indexURL = resolve(here, "../../node_modules/pyodide") + "/";

async function main() {
  const planPath = process.argv[2];
  if (!planPath) {
    console.error("usage: node tests/pyodide/runner.mjs PLAN.json (written by tests/pyodide/run.py)");
    return 2;
  }
  const plan = JSON.parse(readFileSync(planPath, "utf8"));
  const { loadPyodide } = await import(indexURL + "pyodide.mjs");
  const started = performance.now();
  const pyodide = await loadPyodide({
    indexURL,
    env: { HOME: "/home/pyodide", ...plan.env },
  });
  // Raw writes rather than Pyodide's line batching: pytest's progress dots stay on one line.
  pyodide.setStdout({ write: (bytes) => (process.stdout.write(bytes), bytes.length) });
  pyodide.setStderr({ write: (bytes) => (process.stderr.write(bytes), bytes.length) });
  const booted = performance.now();

  const site = pyodide.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
  for (const wheel of plan.wheels) {
    // unpackArchive works offline; loadPackage and micropip would want an index.
    pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel", { extractDir: site });
  }
  const FS = pyodide.FS;
  for (const [source, target] of plan.files) {
    FS.mkdirTree(dirname(target));
    FS.writeFile(target, readFileSync(source));
  }
  FS.mkdirTree(plan.cwd);
  FS.chdir(plan.cwd);
  const installed = performance.now();
  console.error(
    `pyodide ${pyodide.version}: booted in ${((booted - started) / 1000).toFixed(1)} s, ` +
      `${plan.wheels.length} wheels and ${plan.files.length} files in ` +
      `${((installed - booted) / 1000).toFixed(1)} s`,
  );
  const code = pyodide.runPython(plan.python);
  return typeof code === "number" ? code : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`pyodide runner failed: ${error && error.stack ? error.stack : error}`);
    process.exit(3);
  },
);
