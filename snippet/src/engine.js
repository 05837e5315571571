// The decision engine as the page sees it: the worker, started on demand (and only
// then: a view decided ahead never starts it before `load`), the watchdog that stops a
// worker which does not answer, and decide requests answered by callback.
//
//   const engine = makeEngine(win, env, {cdn, site, storage: () => bool},
//                             {onReady, onUpdate, onFail, onNote, onExplanation, onStart});
//   engine.decide({signals, profile, now}, (message | null) => ...)  // null: no answer will come
//
// The worker's messages are written down in snippet/PROTOCOL.md.

import * as P from "./protocol.js";
import { openWorker } from "./worker-client.js";

// How long the worker may take to answer a decide request before it is stopped
// (terminated: a ruleset that makes Python spin, a regex say, must not burn the
// visitor's CPU and battery) and the page keeps its defaults. Until the engine is
// ready the boot bound holds: a cold first view downloads and compiles about 7-11 MB
// (brotli) and boots in 1-7 s on a busy 2-core machine, so 60 s leaves a slow mobile
// network room while still ending a worker that hangs. Once it is ready a decision
// takes milliseconds (p95 under 5 ms even under load), so 5 s is a thousand times that.
export const BOOT_BOUND_MS = 60000;
export const DECIDE_BOUND_MS = 5000;

export function makeEngine(win, env, where, on) {
  let client = null;
  let watchdog = null;
  let seq = 0;
  const waiting = new Map(); // request id -> its callback
  const engine = {
    failed: false, started: false, version: null, slots: null, reads: null, runtime: null,
    get alive() { return !!client; },
    start,
    decide,
    post(m) { if (client) client.post(m); },
  };

  function start() {
    if (client || engine.failed) return !!client;
    const base = (v) => { engine.runtime = v; return `${where.cdn}/runtime/${v}/`; };
    engine.started = true;
    if (on.onStart) on.onStart();
    try {
      const v = env.runtime(where.cdn);
      const opened = openWorker(win, typeof v === "string" ? base(v) : Promise.resolve(v).then(base), {
        init: (runtime) => ({
          type: P.INIT, protocol: P.PROTOCOL_VERSION, runtime, cdn: where.cdn, site: where.site, storage: where.storage(),
          preview: where.preview || null, // src/preview.js
        }),
        onMessage,
        onError(stage, why) {
          const w = client;
          client = null;
          if (w) w.stop();
          failWith(stage, why);
        },
      });
      if (!engine.failed) client = opened; // a worker that could not even start failed already
    } catch (e) {
      failWith("starting the decision worker", e && e.message);
    }
    return !!client;
  }

  function failWith(stage, why) {
    // One failure, one sentence: a worker that failed to start also fails the requests
    // it had queued, each with the same cause.
    const first = !engine.failed;
    engine.failed = true;
    disarm();
    const cbs = [...waiting.values()];
    waiting.clear();
    if (first) on.onFail(stage, why);
    for (const cb of cbs) cb(null);
  }

  // Ask for one decision; cb(message) with the worker's DECISION, or cb(null) when none
  // will come (an error for this request, or the engine failed). The request id.
  function decide(req, cb) {
    if (!start()) { queueMicrotask(() => cb(null)); return 0; } // after the caller has its id
    const id = ++seq;
    waiting.set(id, cb);
    client.post({ type: P.DECIDE, id, signals: req.signals, profile: req.profile, now: req.now });
    if (!watchdog) arm(); // an earlier request's deadline stands
    return id;
  }

  // A request is waiting for the worker: it has this long to answer (see BOOT_BOUND_MS).
  function arm() {
    clearTimeout(watchdog);
    const ms = engine.version ? DECIDE_BOUND_MS : BOOT_BOUND_MS;
    watchdog = setTimeout(() => {
      watchdog = null;
      if (!client) return;
      client.stop();
      client = null;
      failWith("the decision worker", `no answer within ${ms / 1000} s; it was stopped`);
    }, ms);
  }
  function disarm() { clearTimeout(watchdog); watchdog = null; }

  // An answer ends its request's wait; the others, if any, get a fresh bound (the
  // worker is alive).
  function answered(id) {
    const cb = waiting.get(id);
    waiting.delete(id);
    if (waiting.size) arm(); else disarm();
    return cb;
  }

  function onMessage(m) {
    if (!client) return; // stopped meanwhile
    if (m.type === P.READY || m.type === P.UPDATE) {
      engine.version = m.version;
      engine.slots = m.slots || engine.slots || {};
      engine.reads = m.reads || null;
      if (m.type === P.READY && watchdog) arm(); // the decide bound from now on
      (m.type === P.READY ? on.onReady : on.onUpdate)(m);
    } else if (m.type === P.DECISION) {
      const cb = answered(m.id);
      if (cb) cb(m);
    } else if (m.type === P.EXPLANATION) {
      on.onExplanation(m);
    } else if (m.type === P.ERROR) {
      const stage = m.stage || "the decision worker";
      if (m.fatal) { failWith(stage, m.message || "unknown error"); return; }
      // Not fatal: the engine goes on (a failed revalidation, a snapshot that did not
      // restore, one request it could not decide).
      if (typeof m.id === "number") { const cb = answered(m.id); if (cb) cb(null); }
      on.onNote(stage, m.message);
    }
  }

  return engine;
}
