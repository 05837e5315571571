// Deciding ahead: after `load`, in idle time, the worker decides the next views (this
// page again, the next session's first view, the page's links, and each one's next time
// window: src/cache.js planNext) and they are stored for the stub to apply before first
// paint. On a view decided ahead the worker is started only when something is missing
// or expiring, or the ruleset pointer names another version than the cache's.
//
//   const ahead = makeAhead(win, {cdn, site}, {engine, cache, dbg, allowed, busy, state, signalsOf, entryOf});
//   ahead.soon()          // the profile or the ruleset moved: prepare again (debounced)
//   ahead.ready(ok)       // the engine is up (true) or failed (false)
//   ahead.idle            // nothing scheduled or running
//
// allowed(): preparing is allowed now (personalization consent, no forced or preview
// view); busy(): the current view's own decision is on its way (its exposures and
// assignments move the profile: it goes first); state(): {profile, consent, segments,
// custom}; signalsOf(signals): a decide request's signals; entryOf(result, now): the
// cache entry for a result, or null.

import { FULL_READS, NEXT_WINDOW_MS, planNext, shifted } from "./cache.js";

// At most this many decisions per view (two dozen contexts, a page's links followed
// and typed, and each one's next hour), this many at a time, yielding between; a burst
// of profile changes is prepared once, this long after the last.
export const MAX_PREPARE = 48;
export const PREPARE_BATCH = 6;
export const PREPARE_DEBOUNCE_MS = 300;

export function makeAhead(win, where, deps) {
  const { engine, cache, dbg, allowed, busy, state, signalsOf, entryOf } = deps;
  const doc = win.document;
  let timer = null;
  let scheduled = false;
  let running = false;
  let again = false;
  const waiters = [];

  function soon() {
    if (!allowed()) return;
    clearTimeout(timer);
    scheduled = true;
    timer = setTimeout(() => afterLoad(() => idle(prepare)), PREPARE_DEBOUNCE_MS);
  }
  function afterLoad(fn) {
    if (doc.readyState === "complete") fn(); else win.addEventListener("load", fn, { once: true });
  }
  function idle(fn) {
    if (typeof win.requestIdleCallback === "function") win.requestIdleCallback(() => fn(), { timeout: 2000 });
    else setTimeout(fn, 50);
  }
  const idleTurn = () => new Promise((resolve) => idle(resolve));

  function plan(reads) { return planNext({ win, reads, ...state(), now: Date.now() }); }

  // The ruleset version the CDN's pointer names, or null. Revalidated (no-cache: a
  // conditional request of a few hundred bytes, after load, in idle time) rather than
  // read from the HTTP cache's 60 s, so a republish prepares the very next view; the
  // CDN's edge still answers from its own cache for up to max-age.
  async function pointerVersion() {
    try {
      const res = await fetch(`${where.cdn}/rulesets/${where.site}/latest.json`, { credentials: "omit", cache: "no-cache" });
      const ptr = res.ok ? await res.json() : null;
      return ptr && typeof ptr.sha256 === "string" ? String(ptr.version || ptr.sha256) : null;
    } catch { return null; }
  }

  function engineReady() {
    if (engine.version) return Promise.resolve(true);
    if (engine.failed) return Promise.resolve(false);
    return new Promise((resolve) => waiters.push(resolve));
  }

  function decide(ctx) {
    return new Promise((resolve) => {
      engine.decide({ signals: signalsOf(ctx.signals), profile: ctx.profile, now: new Date(ctx.now).toISOString() }, resolve);
    });
  }

  async function prepare() {
    scheduled = false;
    if (!allowed()) return;
    if (running) { again = true; return; }
    if (busy()) { soon(); return; }
    running = true;
    dbg.preparing = true;
    try {
      if (!engine.alive) {
        const c = cache.read();
        const missing = !c || plan(c.r).some((x) => !cache.holds(c.v, x.key, x.now));
        if (!missing && (await pointerVersion()) === c.v) return;
        if (!allowed() || !engine.start()) return;
      }
      if (!(await engineReady()) || !allowed()) return;
      const version = engine.version;
      const reads = engine.reads || FULL_READS;
      const queue = plan(reads).filter((x) => !cache.holds(version, x.key, x.now));
      let asked = 0;
      while (queue.length && asked < MAX_PREPARE && allowed()) {
        const batch = queue.splice(0, Math.min(PREPARE_BATCH, MAX_PREPARE - asked));
        asked += batch.length;
        const answers = await Promise.all(batch.map(decide));
        const items = [];
        batch.forEach((ctx, i) => {
          const m = answers[i];
          // Written under the version it was decided with; a newer one prepares again.
          if (!m || m.version !== version || !m.result) return;
          const entry = entryOf(m.result, ctx.now);
          if (!entry) return;
          items.push({ key: ctx.key, entry });
          const end = entry.w[1];
          if (!ctx.next && end < ctx.now + NEXT_WINDOW_MS) queue.push(shifted(ctx, end));
        });
        dbg.prepared += batch.length;
        if (items.length && allowed()) cache.put(version, reads, items, Date.now());
        await idleTurn();
      }
    } finally {
      running = false;
      dbg.preparing = false;
      dbg.prepares++;
      if (again) { again = false; soon(); }
    }
  }

  return {
    soon,
    ready(ok) { for (const w of waiters.splice(0)) w(ok); },
    get idle() { return !scheduled && !running; },
  };
}
