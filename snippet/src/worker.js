// perso decision worker: boots Pyodide from runtime/<version>/, loads the edge wheel
// and its dependencies from the lock file, fetches and verifies the ruleset artifact,
// and answers decide requests through edge/bridge.py. Python never runs on the page's
// main thread.
//
// One script, two ways to run (src/worker-client.js picks): a dedicated module Worker
// (one page, `self.onmessage`) or a SharedWorker (`onconnect`: every page of the site
// in this browser profile, and with `extendedLifetime` it outlives a navigation, so
// Python boots once per visit). Each page is a client behind the same small port
// interface; answers go to the port that asked, news (UPDATE) to every client.

import * as P from "./protocol.js";
import { loadPreview } from "./preview.js";

const PACKAGES_FALLBACK = [];
const CACHE_PREFIX = "perso-";
// An empty zip (its end-of-central-directory record alone): with a memory snapshot the
// stdlib the core uses is already imported in the restored heap, and Pyodide fetches
// `stdLibURL` on every start, snapshot or not, so it gets this instead of 2.5-3.2 MB.
const EMPTY_ZIP = "data:application/zip;base64,UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==";
const SHARED = typeof SharedWorkerGlobalScope !== "undefined" && self instanceof SharedWorkerGlobalScope;
let cfg = null;
let py = null;
let bridge = null;
let version = null;
let current = null; // sha256 of the artifact in use
let engineError = null;
let ready = null; // the READY message once the engine is up (answered again to later pages)
let revalidating = null;
let starter = null; // the page whose INIT booted the engine
const clients = new Set(); // pages that sent INIT and have not left
const waiting = [];
let explainer = null;
const decideTimes = [];
const t0 = performance.now();
const timings = { instance: Math.random().toString(36).slice(2, 10), boots: 0, clients: 0 };

const broadcast = (m) => { for (const c of clients) c.post(m); };
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

async function sha256(bytes) { return hex(await crypto.subtle.digest("SHA-256", bytes)); }

// A page talking to this worker: its port, and what it said about consent.
function makeClient(post) {
  return { post, storage: false, recent: new Map() }; // recent: its last decide requests, for EXPLAIN
}

// Cache Storage is written (and read) only while every connected page allows it: two
// tabs share one worker, and a page without storage consent must never have perso
// touch the device on its behalf (consent is per origin, so they normally agree).
function storageAllowed() {
  if (!clients.size) return false;
  for (const c of clients) if (!c.storage) return false;
  return true;
}

// ---- Cache Storage, only with storage consent ---------------------------------
async function openCache() {
  if (cfg.preview || !storageAllowed() || typeof caches === "undefined") return null; // a preview keeps nothing
  try { return await caches.open(CACHE_PREFIX + cfg.site); } catch { return null; }
}
const lastGoodKey = () => `${cfg.cdn}/__perso/last-good/${cfg.site}`;

async function saveLastGood(bytes, sum, ptr) {
  const cache = await openCache();
  if (!cache) return;
  try {
    await cache.put(lastGoodKey(), new Response(bytes, { headers: { "x-perso-sha256": sum, "x-perso-version": String(ptr.version || sum) } }));
  } catch { /* quota: next time, the network */ }
}

async function loadLastGood() {
  const cache = await openCache();
  if (!cache) return null;
  try {
    const res = await cache.match(lastGoodKey());
    if (!res) return null;
    const sum = res.headers.get("x-perso-sha256");
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (!sum || (await sha256(bytes)) !== sum) return null;
    return { bytes, sha256: sum, version: res.headers.get("x-perso-version") || sum, source: "last-good" };
  } catch { return null; }
}

// fresh: revalidated with the CDN (a conditional request) instead of the HTTP cache's
// max-age=60, for a page that joined a running engine: see revalidate().
async function fetchPointer(fresh) {
  const url = `${cfg.cdn}/rulesets/${cfg.site}/latest.json`;
  const res = await fetch(url, { credentials: "omit", cache: fresh ? "no-cache" : "default" });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  const ptr = await res.json();
  if (!ptr || typeof ptr.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(ptr.sha256) || typeof ptr.url !== "string") {
    throw new Error(`${url} is not a ruleset pointer ({version, url, sha256})`);
  }
  // A relative url is relative to the CDN root (edge.artifact.pointer writes "rulesets/<site>/<sha>.msgpack").
  ptr.absolute = new URL(ptr.url, `${cfg.cdn}/`).href;
  // The artifact comes from the pointer's own CDN: a pointer that sends the worker to
  // another origin (a tampered or mistaken latest.json) is refused like a bad one.
  if (new URL(ptr.absolute).origin !== new URL(url, self.location.href).origin) {
    throw new Error(`${url} points the ruleset at another origin (${new URL(ptr.absolute).origin}); refused`);
  }
  return ptr;
}

// The artifact is immutable and content-addressed: a Cache Storage hit needs no revalidation.
async function fetchArtifact(ptr) {
  const cache = await openCache();
  let res = cache ? await cache.match(ptr.absolute).catch(() => null) : null;
  let fromCache = !!res;
  if (!res) {
    res = await fetch(ptr.absolute, { credentials: "omit" });
    if (!res.ok) throw new Error(`${ptr.absolute} answered HTTP ${res.status}`);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const sum = await sha256(bytes);
  if (sum !== ptr.sha256) {
    if (cache && fromCache) await cache.delete(ptr.absolute).catch(() => {});
    throw new Error(`the artifact's sha256 ${sum.slice(0, 12)}… does not match the pointer's ${ptr.sha256.slice(0, 12)}…`);
  }
  if (cache && !fromCache) await cache.put(ptr.absolute, new Response(bytes)).catch(() => {});
  return { bytes, sha256: sum, version: String(ptr.version || sum), source: fromCache ? "cache" : "network" };
}

// The pointer, then the artifact it names unless that is `known` (same sha256) already.
async function fetchLatest(known, fresh) {
  const ptr = await fetchPointer(fresh);
  if (known && known.sha256 === ptr.sha256) return known;
  const art = await fetchArtifact(ptr);
  await saveLastGood(art.bytes, art.sha256, ptr);
  return art;
}

// Stale-while-revalidate with Cache Storage: the last good artifact answers at once,
// the pointer is checked meanwhile and a newer artifact replaces it when it arrives.
async function getArtifact() {
  if (cfg.preview) return loadPreview(cfg.cdn, cfg.site, cfg.preview, sha256); // src/preview.js
  const stale = await loadLastGood();
  const fresh = fetchLatest(stale);
  if (stale) {
    fresh.then((art) => { if (art !== stale && art.sha256 !== stale.sha256) swapArtifact(art); })
      .catch((e) => broadcast({ type: P.ERROR, stage: "revalidating the ruleset", message: String(e.message || e), fatal: false }));
    return stale;
  }
  return fresh;
}

// A page joined an engine that is already up: the pointer is checked again with the CDN
// (a few hundred bytes, after the page's load), so a worker that lives across
// navigations picks up a newly published ruleset for the very next view (the runtime
// prepares it on UPDATE; the view on screen keeps what it showed).
function revalidate() {
  if (revalidating || !current || cfg.preview) return; // a preview is never swapped for the live one
  revalidating = fetchLatest({ sha256: current }, true)
    .then((art) => { if (art.sha256 !== current) swapArtifact(art); })
    .catch((e) => broadcast({ type: P.ERROR, stage: "revalidating the ruleset", message: String(e.message || e), fatal: false }))
    .finally(() => { revalidating = null; });
}

// ---- Pyodide --------------------------------------------------------------------
async function bootPyodide() {
  const base = cfg.runtime;
  const [mod, lock] = await Promise.all([
    import(`${base}pyodide.mjs`),
    fetch(`${base}pyodide-lock.json`, { credentials: "omit" }).then((r) => {
      if (!r.ok) throw new Error(`${base}pyodide-lock.json answered HTTP ${r.status}`);
      return r.json();
    }),
  ]);
  timings.import_ms = performance.now() - t0;
  const packages = Object.keys(lock.packages || {}).filter((n) => !n.endsWith("-tests"));
  const stdlib = (lock.perso && lock.perso.stdlib) || "python_stdlib.zip";
  let snapshot;
  if (lock.perso && lock.perso.snapshot) {
    snapshot = fetch(`${base}${lock.perso.snapshot}`, { credentials: "omit" })
      .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`snapshot HTTP ${r.status}`))));
  }
  const quiet = { stdout: () => {}, stderr: (s) => console.debug(`[perso worker] ${s}`) };
  const options = {
    indexURL: base, lockFileContents: lock, packageBaseUrl: base, stdLibURL: base + stdlib,
    packages: snapshot ? [] : packages.length ? packages : PACKAGES_FALLBACK,
    ...quiet,
  };
  if (snapshot) {
    // Restoring needs the very options the snapshot was made with: custom stdout/stderr
    // callbacks shift the wasm function table ("table index is out of bounds").
    options._loadSnapshot = snapshot;
    delete options.stdout;
    delete options.stderr;
    delete options.packages;
    // loadPyodide fetches stdLibURL even when it restores a snapshot (its file-system
    // set-up runs first), yet the restored heap already holds every stdlib module the
    // core imports (snapshot_warmup.py imports them, lazy ones included): no download.
    options.stdLibURL = EMPTY_ZIP;
  }
  let pyodide;
  if (snapshot) {
    try {
      pyodide = await mod.loadPyodide(options);
      // The snapshot froze the interpreter with the packages imported; its random state
      // must not repeat across visitors.
      pyodide.runPython("import random, os; random.seed(os.urandom(32))");
      // Prove the restored instance can cross the boundary both ways before trusting it.
      JSON.parse(pyodide.pyimport("edge.bridge").decide_json("{}", "{}", "2026-01-01T00:00:00Z"));
    } catch (e) {
      // A snapshot that does not restore costs a normal boot, not the page.
      broadcast({ type: P.ERROR, stage: "restoring the memory snapshot", message: `${e.message || e}; booting without it`, fatal: false });
      pyodide = null;
      snapshot = undefined;
      delete options._loadSnapshot;
      Object.assign(options, quiet, { packages, stdLibURL: base + stdlib });
    }
  }
  if (!pyodide) pyodide = await mod.loadPyodide(options);
  timings.snapshot = !!snapshot;
  timings.pyodide_ms = performance.now() - t0;
  return pyodide;
}

function loadIntoPython(art) {
  // Through the virtual disk rather than a Uint8Array proxy: see edge.bridge.load_artifact_file.
  const path = "/tmp/perso-artifact.msgpack";
  py.FS.writeFile(path, art.bytes);
  const info = JSON.parse(bridge.load_artifact_file(path, art.sha256));
  if (!info.ok) throw new Error(info.error || "the artifact did not load");
  version = art.version;
  current = art.sha256;
  return info;
}

let newer = null; // a fresh artifact that came while the engine was still booting
function swapArtifact(art) {
  if (!ready) { newer = art; return; } // no Python yet: swapped right after READY
  try {
    const info = loadIntoPython(art);
    const update = { type: P.UPDATE, version, slots: info.slots, goals: info.goals || [], reads: info.reads, source: art.source };
    broadcast(update);
    ready = { ...ready, ...update, type: P.READY }; // what a page that joins later is told
  } catch (e) {
    broadcast({ type: P.ERROR, stage: "loading a newer ruleset", message: String(e.message || e), fatal: false });
  }
}

// READY for one page: the boot's timings, and whether this page found the engine
// started by another one (`reused`) and how long it waited for it (`wait_ms`).
function readyFor(client) {
  const reused = client !== starter;
  return { ...ready, timings: { ...timings, reused, wait_ms: performance.now() - client.joined } };
}


async function start() {
  timings.boots += 1;
  try {
    const artifact = getArtifact().then((a) => { timings.artifact_ms = performance.now() - t0; return a; });
    artifact.catch(() => {}); // handled below, after Pyodide is up
    py = await bootPyodide();
    bridge = py.pyimport("edge.bridge");
    timings.bridge_ms = performance.now() - t0;
    let art;
    try {
      art = await artifact;
    } catch (e) {
      const lastGood = await loadLastGood();
      if (!lastGood) throw e;
      broadcast({ type: P.ERROR, stage: "fetching the ruleset", message: `${e.message || e}; using the last good one`, fatal: false });
      art = lastGood;
    }
    const info = loadIntoPython(art);
    timings.ready_ms = performance.now() - t0;
    ready = { type: P.READY, version, site: info.site, slots: info.slots, goals: info.goals || [], reads: info.reads, source: art.source };
    for (const c of clients) c.post(readyFor(c));
    if (newer) swapArtifact(newer);
  } catch (e) {
    engineError = String((e && e.message) || e);
    broadcast({ type: P.ERROR, stage: "starting the decision engine", message: engineError, fatal: true });
  }
  for (const [c, m] of waiting.splice(0)) decide(c, m);
  // A shared engine that failed to start must not answer the next page with this
  // failure (the network may be back by then): closed, the next page starts a new one.
  if (engineError && SHARED) self.close();
}

function percentile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// The debugger's question "why did decision N come out so?" is answered with edge's
// explain mode on that request's very inputs (kept here, so the page stores nothing
// for it). edge.bridge has no explain entry point yet, so this glue mirrors
// bridge.decide_json (same context, same consent rule) with explain=True and keeps the
// trace it drops; tests/unit/test_snippet_explain.py runs it under CPython.
const EXPLAIN_PY = `
def _perso_explain(signals_json, profile_json, now_iso):
    import json
    from datetime import UTC
    from edge import bridge
    from edge.context import build_context, parse_time
    from edge.decide import decide
    ruleset = bridge.current()
    now = parse_time(now_iso)
    if ruleset is None or now is None:
        return json.dumps({"ok": False, "error": "no ruleset is loaded" if ruleset is None else "bad time"})
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    signals = json.loads(signals_json or "{}")
    profile = json.loads(profile_json or "{}")
    context = build_context(signals, profile=profile, now=now)
    consented = context.get("consent", {}).get("personalization") is True
    result = decide(ruleset, context, profile if consented else {}, now, explain=True)
    slots = [
        {"slot": d.slot, "experience": d.experience, "variant": d.variant,
         "reason": d.reason, "trace": list(d.trace)}
        for d in result.decisions
    ]
    return json.dumps({"ok": True, "trace": list(result.trace), "decisions": slots}, default=str)
`;

function explain(client, m) {
  const req = client.recent.get(m.decide);
  let result;
  try {
    if (!req || !py) throw new Error(req ? "no engine" : `decision ${m.decide} is no longer held`);
    if (!explainer) { py.runPython(EXPLAIN_PY); explainer = py.globals.get("_perso_explain"); }
    result = JSON.parse(explainer(JSON.stringify(req.signals || {}), JSON.stringify(req.profile || {}), String(req.now)));
    result.id = m.decide;
  } catch (e) {
    result = { ok: false, error: String((e && e.message) || e) };
  }
  client.post({ type: P.EXPLANATION, ref: m.ref, result });
}

function decide(client, m) {
  const recent = client.recent;
  recent.set(m.id, m);
  for (const id of recent.keys()) if (recent.size > 4) recent.delete(id);
  if (engineError || !bridge) {
    client.post({ type: P.ERROR, id: m.id, stage: "deciding", message: engineError || "no engine", fatal: true });
    return;
  }
  const t = performance.now();
  let result;
  try {
    result = JSON.parse(bridge.decide_json(JSON.stringify(m.signals || {}), JSON.stringify(m.profile || {}), String(m.now)));
  } catch (e) {
    client.post({ type: P.ERROR, id: m.id, stage: "deciding", message: String(e.message || e), fatal: false });
    return;
  }
  const ms = performance.now() - t;
  decideTimes.push(ms);
  if (decideTimes.length > 1000) decideTimes.shift();
  const sorted = decideTimes.slice().sort((a, b) => a - b);
  client.post({
    type: P.DECISION, id: m.id, version, result, decide_ms: ms,
    stats: { n: sorted.length, p50_ms: percentile(sorted, 0.5), p95_ms: percentile(sorted, 0.95) },
  });
}

async function wipeCaches() {
  if (typeof caches === "undefined" || !cfg) return;
  try { await caches.delete(CACHE_PREFIX + cfg.site); } catch { /* nothing stored */ }
}

// Which engine a page asks for; a shared worker serves only pages that ask for its own.
const engineKey = (m) => JSON.stringify([m.protocol, m.site, m.cdn, m.runtime, m.preview || null]);

function join(client, m) {
  client.storage = !!m.storage;
  if (client.joined !== undefined) {
    // The same page back from the back/forward cache: it counts again, and hears of a
    // newer ruleset (UPDATE), but it has its READY already.
    clients.add(client);
    revalidate();
    return;
  }
  if (cfg && engineKey(m) !== engineKey(cfg)) {
    // Another site, CDN or runtime under this worker's name: the page starts its own.
    client.post({
      type: P.ERROR, stage: "joining the shared decision worker", fatal: true, retry: "dedicated",
      message: `this worker runs ${cfg.site} from ${cfg.cdn} (${cfg.runtime}); the page asks for ${m.site} from ${m.cdn} (${m.runtime})`,
    });
    return;
  }
  client.joined = performance.now();
  clients.add(client);
  timings.clients += 1;
  if (!cfg) {
    cfg = m;
    starter = client;
    start();
  } else if (engineError) {
    client.post({ type: P.ERROR, stage: "starting the decision engine", message: engineError, fatal: true });
  } else if (ready) {
    client.post(readyFor(client));
    revalidate();
  } // else booting: READY goes to every joined page when the engine is up
}

function onMessage(client, m) {
  if (m.type === P.INIT) {
    join(client, m);
  } else if (m.type === P.DECIDE) {
    if (bridge && version) decide(client, m);
    else if (engineError) decide(client, m);
    else waiting.push([client, m]);
  } else if (m.type === P.STORAGE) {
    client.storage = !!m.allowed;
    if (!client.storage) wipeCaches();
  } else if (m.type === P.WIPE) {
    wipeCaches();
  } else if (m.type === P.EXPLAIN) {
    explain(client, m);
  } else if (m.type === P.LEAVE) {
    clients.delete(client); // its consent no longer counts; the engine stays for the next page
  }
}

if (SHARED) {
  self.onconnect = (e) => {
    const port = e.ports[0];
    const client = makeClient((m) => port.postMessage(m));
    port.onmessage = (ev) => onMessage(client, ev.data || {});
  };
} else {
  const client = makeClient((m) => self.postMessage(m));
  self.onmessage = (e) => onMessage(client, e.data || {});
}
