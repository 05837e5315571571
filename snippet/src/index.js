// perso runtime: drains the stub's queue, replaces its API, applies cached decisions
// on repeat views (the instant path), starts the decision worker, applies what it
// decides (or, with init({apply: "none"}), only reports it, for a framework to render),
// keeps the on-device profile and sends events, all behind consent.
// Any failure leaves the page's defaults in place and logs its cause once.
//
// Two entries install it: src/perso.js (perso.js on the CDN, loaded by the stub) and
// src/module.js (the npm package's ES module). They differ only in `env`:
//   env.version            the perso version
//   env.runtime(cdn)       the runtime directory's version under ${cdn}/runtime/, or a promise of it
//   env.loadDebugger(cdn)  a promise of the debugger's openDebugger (src/debug.js), loaded on demand

import * as P from "./protocol.js";
import { makeConsent } from "./consent.js";
import { makeAhead } from "./ahead.js";
import { FULL_READS, keyPaths, makeCache, windowOf } from "./cache.js";
import { makeDecisions, slotDecision } from "./decisions.js";
import { cachedOps, makeDom, makeHider, revertElement } from "./dom.js";
import { makeEmitter } from "./emitter.js";
import { endpoint, makeEvents } from "./events.js";
import { exposuresOf, makeViewExposures } from "./exposures.js";
import { newProfile, newSecret, onExposure, onPageView, onTrack, uuid } from "./profile.js";
import { DECIDE_BOUND_MS, makeEngine } from "./engine.js";
import { contextKey, readSignals } from "./instant.js";
import { previewOf } from "./preview.js";
import { PENDING_ERASE, makeStore } from "./store.js";

const REDIRECT_MARK = "perso_rd";
const DEBUG_MARK = /[?&]perso_debug=1(&|$)/;
// QA: ?perso_force=experience:variant[,...] forces variants (edge/decide/_force.py);
// those slots come back with reason "forced" and no exposure, and are never cached.
const FORCE_MARK = /[?&]perso_force=([^&#]*)/;
const APPLY = ["dom", "none"];
const PUBLIC_EVENTS = ["decision", "ready", "state"];
const PROFILE_TRACKS = new Set(["add_to_cart", "remove_from_cart", "purchase", "view_item"]);

export function boot(win, env) {
  const VERSION = env.version;
  const doc = win.document;
  const stub = win.perso;
  const logged = new Set();
  const log = (msg, key = msg) => {
    if (logged.has(key)) return;
    logged.add(key);
    if (win.console) console.error(`perso: ${msg}`);
  };
  if (stub && stub.__loaded) { log("the runtime is loaded twice; the second copy is ignored"); return stub; }

  const dbg = (win.__persoDebug = {
    version: VERSION, runtime: null, runtime_start_ms: performance.now(),
    instant_ms: null, instant_applied: false, engine_ready_ms: null, first_decision_ms: null,
    worker: null, decide: null, errors: [], decisions: 0,
    // This view: decided ahead (from the device cache or the edge, Python not asked);
    // whether this page started the worker, and when; whether the worker booted
    // Pyodide for it (its READY's timings); how many decisions were prepared ahead.
    ahead: false, worker_started: false, worker_started_ms: null, pyodide_booted: false, prepared: 0,
    preparing: false, prepares: 0, // a preparation runs; how many ran to their end on this page
    source: null, // where this view's decisions came from: "cache", "edge", "worker"
  });
  // The view has nothing left to do: decided, and no preparation running or to come
  // (a benchmark waits for this before reading the figures).
  Object.defineProperty(dbg, "settled", {
    enumerable: true,
    get: () => !!(S && S.view && (S.view.decided || S.engine.failed) && !S.deciding && S.ahead.idle),
  });
  // "inspect" is the debugger's own channel: not reachable through perso.on().
  const events = makeEmitter(["decision", "ready", "state", "inspect"], (e) => log(`a perso callback threw: ${e && e.message}`, "callback"));
  const decisions = makeDecisions();
  const states = new Map(); // slot -> its last state(slot) answer, kept while unchanged
  let opts = null; // init options, once valid
  let S = null; // live state once started
  const deferred = []; // track/identify/page calls that wait for start
  const custom = {};
  let pendingConsent = null;
  let readyResult = null;
  let debugWanted = false;
  let debugUi = null; // the open debugger ({close}), or a promise while it loads

  function safeCall(fn, arg) {
    try { fn(arg); } catch (e) { log(`a perso callback threw: ${e && e.message}`, "callback"); }
  }

  // ---- the public API -------------------------------------------------------
  const api = {
    __loaded: true,
    version: VERSION,
    push(call) { if (Array.isArray(call) && typeof api[call[0]] === "function" && call[0] !== "push") api[call[0]](...call.slice(1)); },
    init(o) {
      if (opts) { log("init was called more than once; the first call stays in effect"); return api; }
      if (!o || typeof o.site !== "string" || !/^[a-z0-9-]+$/.test(o.site)) {
        log("init needs {site: 'name'} with lowercase letters, digits and dashes; page defaults stay");
        return api;
      }
      if (typeof o.cdn !== "string" || !o.cdn) { log("init needs {cdn: 'https://...'}; page defaults stay"); return api; }
      if (o.apply !== undefined && !APPLY.includes(o.apply)) {
        log(`init's apply must be "dom" (the default) or "none", not ${JSON.stringify(o.apply)}; page defaults stay`);
        return api;
      }
      const hide = Number(o.hide);
      opts = {
        site: o.site,
        cdn: new URL(o.cdn.replace(/\/+$/, "") + "/", win.location.href).href.replace(/\/$/, ""),
        api: typeof o.api === "string" && o.api ? new URL(o.api, win.location.href).href.replace(/\/+$/, "") : "",
        hide: Number.isFinite(hide) && hide >= 0 ? hide : 300,
        hideSelectors: Array.isArray(o.hideSelectors) ? o.hideSelectors : [],
        apply: o.apply || "dom",
        decide: o.decide === "device" ? "device" : "edge", // (the stub read it already)
      };
      if (!draining) start();
      return api;
    },
    consent(c) {
      if (!S) { pendingConsent = c || {}; return api; }
      S.consent.explicit(c || {});
      rememberConsent();
      return api;
    },
    track(name, props) {
      if (!S) { deferred.push(["track", name, props]); return api; }
      if (typeof name !== "string" || !name) { log("track needs an event name"); return api; }
      props = props && typeof props === "object" ? props : {};
      const now = new Date().toISOString();
      if (S.profile && PROFILE_TRACKS.has(name)) { onTrack(S.profile, name, props, now); saveProfile(); }
      const value = Number(props.value);
      // The aggregator reads the viewed item as props.item (page_view) and the purchased
      // ones as props.items (conversion), ids only.
      const sent = { ...props };
      if (Array.isArray(props.items)) {
        sent.items = props.items.map((i) => (i && typeof i === "object" ? i.id : i)).filter((i) => i != null).map(String);
      }
      if (name === "view_item" && props.id != null) {
        sent.item = String(props.id);
        // The view's page_view is usually still queued (sent 1 s after the last push).
        if (S.view && S.view.pv && S.view.pv.props && S.view.pv.props.item == null) S.events.amend(S.view.pv, { item: sent.item });
      }
      if (isConversion(name, value, props)) {
        S.events.push("conversion", { name, value: Number.isFinite(value) && props.value != null ? value : undefined, props: sent });
      } else {
        S.events.push("track", { name, props: sent });
      }
      if (PROFILE_TRACKS.has(name) && name !== "view_item") requestDecision();
      else if (PROFILE_TRACKS.has(name)) prepareSoon(); // the next views' profile moved
      return api;
    },
    identify(userId, traits) {
      if (!S) { deferred.push(["identify", userId, traits]); return api; }
      if (S.profile && traits && typeof traits === "object") { S.profile.traits = { ...S.profile.traits, ...traits }; saveProfile(); }
      S.events.push("identify", { user_id: userId == null ? undefined : String(userId), props: traits || {} });
      requestDecision();
      return api;
    },
    set(attrs) {
      if (attrs && typeof attrs === "object") Object.assign(custom, attrs);
      if (S) requestDecision();
      return api;
    },
    page(props) {
      if (!S) return api; // the first view is counted by init
      startView(true, props);
      return api;
    },
    on(name, cb) {
      if (typeof cb !== "function" || !PUBLIC_EVENTS.includes(name)) { log(`on() knows "decision", "ready" and "state", not ${JSON.stringify(name)}`); return api; }
      if (name === "ready") return api.ready(cb);
      events.on(name, cb);
      if (S && S.last && name === "decision") safeCall(cb, S.last);
      return api;
    },
    off(name, cb) {
      if (PUBLIC_EVENTS.includes(name)) events.off(name, cb);
      return api;
    },
    ready(cb) {
      if (typeof cb !== "function") return api;
      if (readyResult) safeCall(cb, readyResult); else events.on("ready", cb);
      return api;
    },
    // The slot's current decision ({slot, selector, experience, variant, content, reason}),
    // or null before the first one. Unchanged decisions keep their object.
    get(slot) { return decisions.get(slot); },
    // What to render for the slot in this view: {decision, pending, view} (frozen, the
    // same object while unchanged). pending: this view is not decided yet and its `hide`
    // budget runs: hide the slot or show a placeholder. Else decision is this view's
    // (null: no decision for it, or none came within the budget: the default).
    state(slot) {
      const v = S && S.view;
      const pending = !!v && (v.pending || stale(v));
      const decision = v && v.decided && !pending ? decisions.get(slot) : null;
      const view = v ? v.id : null;
      const had = states.get(slot);
      if (had && had.decision === decision && had.pending === pending && had.view === view) return had;
      const now = Object.freeze({ decision, pending, view });
      states.set(slot, now);
      return now;
    },
    // apply: "none": the app displayed this slot's current decision; its exposure is
    // recorded (once per view). With apply: "dom" exposures are recorded on apply.
    shown(slot) {
      if (!S || !S.view || typeof slot !== "string") return api;
      S.view.exposures.shown(slot);
      saveProfile();
      return api;
    },
    // The debugger in the page (perso-debug.js, loaded now and only now); false closes it.
    debug(on) {
      debugWanted = on !== false;
      if (S) showDebugger();
      return api;
    },
    reset() {
      if (!S) return api;
      wipe();
      S.dom.revertAll();
      ensureIdentity();
      requestDecision(true); // the visitor's own act: even a view decided ahead
      return api;
    },
  };

  // ---- state ----------------------------------------------------------------
  function start() {
    const gate = { allows: (p) => S.consent.allows(p) };
    const store = makeStore(opts.site, gate);
    S = {
      store, consent: null, profile: null, visitorId: null, secret: null, token: null, segments: [],
      dom: makeDom(doc), hider: null, events: null, engine: null, cache: makeCache(store),
      view: null, pending: 0, answered: 0, deciding: false, last: null, redirected: false,
      decideQueued: false, explaining: new Map(), xseq: 0, goals: null,
      ahead: null,
    };
    // A QA preview (src/preview.js): its own engine on that artifact; nothing counted or cached.
    S.preview = dbg.preview = previewOf(win, opts.site, log);
    S.engine = makeEngine(win, env, { cdn: opts.cdn, site: opts.site, storage: () => S.consent.allows("any"), preview: S.preview }, {
      onReady, onUpdate, onFail: fail,
      onNote(stage, message) {
        dbg.errors.push(`${stage}: ${message}`);
        if (win.console) console.warn(`perso: ${stage}: ${message}`);
      },
      onExplanation(m) { const done = S.explaining.get(m.ref); if (done) done(m.result || null); },
      onStart() { dbg.worker_started = true; dbg.worker_started_ms = performance.now(); },
    });
    S.ahead = makeAhead(win, { cdn: opts.cdn, site: opts.site }, {
      engine: S.engine, cache: S.cache, dbg, allowed: canPrepare, busy: () => S.deciding,
      state: () => ({ profile: S.profile, consent: S.consent.state, segments: S.segments, custom }),
      signalsOf: decideSignals, entryOf,
    });
    S.consent = makeConsent(win.navigator, store.get("c"), onConsentChange);
    const goals = S.consent.allows("personalization") ? store.get("g") : null;
    S.goals = Array.isArray(goals) ? new Set(goals.filter((g) => typeof g === "string")) : null;
    loadIdentity();
    S.events = makeEvents({
      site: opts.site, api: opts.api, store, consent: S.consent, log: (m) => log(m, "events"),
      visitor: () => ({ id: S.visitorId, token: S.token, proof: S.secret }),
      onVisitor(v) {
        if (typeof v.token === "string") S.token = v.token;
        if (Array.isArray(v.segments)) S.segments = v.segments.map(String);
        store.set("t", { token: S.token, segments: S.segments }, "any");
      },
    });
    for (const rec of pendingErasures()) sendErase(rec); // a revoke that did not reach the API last time
    if (pendingConsent) { const c = pendingConsent; pendingConsent = null; api.consent(c); }
    // A CMP loaded after perso registers __tcfapi later: look once more at load.
    if (!S.consent.listenTcf(win)) win.addEventListener("load", () => S.consent.listenTcf(win), { once: true });
    win.addEventListener("pagehide", () => { persistAll(); S.events.flush(true); });
    win.addEventListener("online", () => S.events.flush(false));
    if (opts.apply === "dom") doc.addEventListener("click", onClick, true);
    startView(false);
    for (const call of deferred.splice(0)) api[call[0]](...call.slice(1));
    if (DEBUG_MARK.test(win.location.search)) debugWanted = true;
    if (debugWanted) showDebugger();
  }

  function loadIdentity() {
    const { store, consent } = S;
    if (consent.allows("any")) {
      S.visitorId = (typeof store.get("id") === "string" && store.get("id")) || null;
      const k = store.get("k");
      S.secret = typeof k === "string" && /^[\w-]{43}$/.test(k) ? k : null;
      const t = store.get("t");
      if (t) { S.token = t.token || null; S.segments = Array.isArray(t.segments) ? t.segments : []; }
    }
    if (consent.allows("personalization")) {
      const p = store.get("p");
      if (p && typeof p === "object" && p.visitor_id) S.profile = p;
    }
    ensureIdentity();
  }

  function ensureIdentity() {
    const { store, consent } = S;
    if (!consent.allows("any")) { S.visitorId = null; S.secret = null; S.profile = null; return; }
    if (!S.visitorId) S.visitorId = (S.profile && S.profile.visitor_id) || uuid();
    if (!S.secret) S.secret = newSecret();
    store.set("id", S.visitorId, "any");
    store.set("k", S.secret, "any");
    if (consent.allows("personalization") && !S.profile) {
      S.profile = newProfile(S.visitorId, new Date().toISOString());
      if (S.view) onPageView(S.profile, new Date().toISOString());
    }
    if (!consent.allows("personalization")) S.profile = null;
    saveProfile();
  }

  // A conversion is a goal the ruleset declares (its names come with the worker's
  // ready/update, and are remembered on the device for the next first view). Until they
  // are known, or when the ruleset declares none: "purchase" or a finite value.
  function isConversion(name, value, props) {
    if (S.goals && S.goals.size) return S.goals.has(name);
    return name === "purchase" || (Number.isFinite(value) && props.value != null);
  }
  function rememberGoals(list) {
    if (!Array.isArray(list)) return;
    S.goals = new Set(list.filter((g) => typeof g === "string"));
    S.store.set("g", [...S.goals], "personalization");
  }

  function saveProfile() { if (S.profile) S.store.set("p", S.profile, "personalization"); }
  function persistAll() { saveProfile(); }

  function wipe() {
    S.store.wipe();
    S.events.clear();
    S.profile = null; S.visitorId = null; S.secret = null; S.token = null; S.segments = [];
    S.engine.post({ type: P.WIPE });
  }

  // ---- erasing what the server holds (on revoke) -------------------------------
  // The device is wiped at once; what the server holds is erased by
  // DELETE /v1/visitors/me. Until the API confirms it (2xx, or 404: nothing held), the
  // one thing kept is what that request needs, {site, visitor, token or secret}, and
  // the request is sent again on every page load.
  function pendingErasures() {
    const list = S.store.get(PENDING_ERASE);
    const usable = (r) => r && typeof r.visitor === "string" && typeof (r.token || r.secret) === "string";
    return Array.isArray(list) ? list.filter(usable) : [];
  }
  function savePending(list) {
    if (list.length) S.store.set(PENDING_ERASE, list.slice(-10), "erase"); else S.store.del(PENDING_ERASE);
  }
  async function sendErase(rec) {
    const url = endpoint(opts.api, "visitors/me");
    if (!url) return;
    const auth = rec.token ? `Bearer ${rec.token}` : `Proof v1.${rec.site}.${rec.visitor}.${rec.secret}`;
    let status = 0;
    try {
      const res = await fetch(url, { method: "DELETE", keepalive: true, credentials: "omit", headers: { Authorization: auth } });
      status = res.status;
    } catch (e) {
      log(`could not reach the API to erase this visitor's data (${e && e.message}); retried next page`, "erase");
      return;
    }
    if (status >= 500 || status === 408 || status === 429) {
      log(`the API could not erase this visitor's data yet (HTTP ${status}); retried next page`, "erase");
      return;
    }
    // 2xx/404: done. Any other 4xx would never be accepted: dropped, and said so.
    if (!(status < 300 || status === 404)) log(`the API refused to erase this visitor's data (HTTP ${status})`, "erase");
    savePending(pendingErasures().filter((r) => r.visitor !== rec.visitor));
  }
  function eraseOnServer() {
    if (!S.visitorId || !opts.api || !(S.token || S.secret)) return;
    const rec = { site: opts.site, visitor: S.visitorId };
    if (S.token) rec.token = S.token; else rec.secret = S.secret;
    savePending(pendingErasures().filter((r) => r.visitor !== rec.visitor).concat([rec]));
    sendErase(rec);
  }

  function rememberConsent() {
    const c = S.consent.state;
    if (c.source === "explicit" || c.source === "tcf") {
      S.store.set("c", { analytics: c.analytics, personalization: c.personalization, source: c.source }, "any");
    }
  }

  function onConsentChange(now, before) {
    const revoked = (before.analytics && !now.analytics) || (before.personalization && !now.personalization);
    // A revoke erases what the server holds and forgets everything on the device; then what
    // is still granted starts afresh (a new visitor id).
    if (revoked) { eraseOnServer(); wipe(); }
    ensureIdentity();
    rememberConsent();
    S.engine.post({ type: P.STORAGE, allowed: now.analytics || now.personalization });
    if (S.events) S.events.push("consent", { props: { analytics: now.analytics, personalization: now.personalization, source: now.source } });
    // Consent is the visitor's own act: it re-decides even a view decided ahead.
    if (S.view) requestDecision(true);
  }

  // ---- a page view ----------------------------------------------------------
  // A view is decided ahead when the device cache (through the stub, or looked up here)
  // or the stub's edge answer holds its decisions: then Python is not asked about it,
  // and nothing on it changes when the worker answers later. Otherwise the worker
  // decides it, within the `hide` budget, as on a first view.
  function startView(spa, props) {
    const now = new Date();
    const signals = readSignals(win, now);
    signals.utc_offset_minutes = -now.getTimezoneOffset();
    clearTimeout(S.view && S.view.timer);
    const view = (S.view = {
      id: uuid(), signals, source: null, started: performance.now(), ahead: false, worker_ms: null,
      exposures: makeViewExposures(recordExposure), route: routeOf(win.location),
      decided: false, pending: opts.hide > 0 && !S.engine.failed, stale: null, timer: null,
      counted: false, aheadList: null, edge: false, deferred: false,
    });
    dbg.ahead = false;
    dbg.source = null;
    dbg.prepared = 0;
    const dom = opts.apply === "dom";
    // The stub ran in <head>, before first paint: take over what it applied (with its
    // snapshots, so anything reverted later reverts cleanly), or wait for its edge answer.
    let instant = false;
    const inst = !spa && stub && stub.__inst;
    if (inst) {
      stub.__inst = null;
      if (typeof inst.wait === "function") { // the stub asked the edge (instant.js firstView)
        view.edge = true;
        awaitEdge(view, inst);
      } else {
        instant = adoptRun(inst, "cache");
        dbg.instant_ms = inst.ms;
      }
    } else if (!(stub && stub.__stub && !spa)) {
      // No stub looked (the npm package, or a route change): the same lookup, here.
      instant = applyCached(signals, now.getTime());
    }
    dbg.instant_applied = instant;
    // Undecided: state() says pending for at most `hide` ms, then the defaults.
    if (view.pending) view.timer = setTimeout(() => endWait(view, "pending"), opts.hide);
    stateChanged();
    if (!instant && !spa && dom) {
      if (S.hider) S.hider.showAll();
      S.hider = makeHider(doc, opts.hide, () => {
        // Expected while the engine boots on a first view: a note, not an error.
        if (win.console) console.info(`perso: no decision within ${opts.hide} ms; hidden slots are shown with their defaults`);
      });
      const sel = { "*": "[data-perso-hide]" };
      opts.hideSelectors.forEach((s, i) => { sel[`opt${i}`] = s; });
      const known = S.store.get("s");
      if (known && typeof known === "object") for (const [slot, s] of Object.entries(known)) sel[slot] = s;
      S.hider.hide(sel);
    }
    if (S.profile) { onPageView(S.profile, now.toISOString(), props); saveProfile(); }
    view.counted = true;
    // Exposures of a view decided ahead count after its page view (a new session's cap).
    if (view.ahead) view.exposures.offer(exposuresOf(view.aheadList), dom);
    const pv = { url: signals.url, referrer: signals.referrer, ...(props || {}) };
    if (props && props.item_id != null) pv.item = String(props.item_id);
    S.view.pv = S.events.push("page_view", { props: pv });
    if (!view.ahead && !view.edge) requestDecision();
    prepareSoon();
  }

  // The stub's run (a cache hit, or an edge answer) becomes this view's decision.
  function adoptRun(inst, source) {
    inst.stop();
    const dom = opts.apply === "dom";
    // A preview's first page: the stub could not know yet (src/preview.js), so what it applied goes.
    // The edge decides without consent too (no identifier, only what needs none), as the
    // worker would; the device cache holds only what personalization consent allowed.
    const usable = !S.preview && (source === "edge" || S.consent.allows("personalization")) && Array.isArray(inst.decisions);
    // apply: "none" caches no DOM operations, so the stub applied nothing; anything it
    // did apply (a cache written by an apply: "dom" page) is the app's DOM: reverted.
    const applied = inst.applied || [];
    if (!usable || !dom) for (const a of applied) revertElement(a.el, a.snap);
    if (!usable) return false;
    useExtras(inst.x);
    applyDecisions(inst.decisions, inst.version, source, null, dom ? applied : null);
    return true;
  }

  // The stub asked the edge for this first view (POST /v1/decide): its answer, within
  // what is left of the hide budget, decides the view; else the worker does.
  function awaitEdge(view, inst) {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (S.view !== view) { inst.stop(); return; }
      view.edge = false;
      if (!adoptRun(inst, "edge")) requestDecision();
    };
    const timer = setTimeout(finish, Math.max(0, opts.hide - (performance.now() - view.started)));
    try { inst.wait(finish); } catch { finish(); }
  }

  // The cache entry's extras: the breakdowns its decision read and its assignments.
  function useExtras(x) {
    if (!x || typeof x !== "object") return;
    S.view.dims = { device: x.device ?? null, journey: x.journey ?? null };
    if (S.profile && x.a && typeof x.a === "object") S.profile.assignments = { ...S.profile.assignments, ...x.a };
  }

  function stateChanged() { const v = S.view; events.emit("state", { view: v.id, pending: v.pending || stale(v) }); }
  function endWait(v, what) {
    if (v[what]) { v[what] = false; if (v === S.view) stateChanged(); }
  }
  // The route changed since this view began (the router rendered the new one before
  // perso.page() came, in an effect after it): wait for that page(), or `hide` ms. The
  // route is the path (and a hash route, #/... or #!/...): a query or an anchor alone is not.
  function routeOf(l) { return l.pathname + (/^#!?\//.test(l.hash) ? l.hash : ""); }
  function stale(v) {
    if (v.stale === null && opts.hide > 0 && !S.engine.failed && routeOf(win.location) !== v.route) {
      v.stale = true;
      setTimeout(() => endWait(v, "stale"), opts.hide);
    }
    return !!v.stale;
  }

  // The decisions this device cached for this context (personalization consent only),
  // applied at once; redirects are never cached. True on a hit.
  function applyCached(signals, now) {
    if (S.preview || !S.consent.allows("personalization")) return false;
    const t0 = performance.now();
    const cache = S.cache.read();
    if (!cache) return false;
    const key = contextKey(signals, S.consent.state, S.segments, S.profile, custom, now, cache.k);
    const hit = S.cache.lookup(key, now);
    if (!hit || !Array.isArray(hit.d)) return false;
    useExtras(hit.x);
    applyDecisions(hit.d, cache.v, "cache", null);
    dbg.instant_ms = performance.now() - t0;
    return true;
  }

  function recordExposure(e) {
    if (S.preview) return; // a preview is never counted
    if (S.profile) onExposure(S.profile, e.experience, new Date().toISOString());
    // The report's breakdowns (lambdas/models/counters.py Dims.from_props): the device
    // type and journey stage the decision read, and new or returning (profile visits).
    const props = { view: S.view.id, ...breakdown() };
    if (e.scope === false) props.scope = false;
    S.events.push("exposure", { experience: e.experience, variant: e.variant, slot: e.slot, props });
    prepareSoon(); // the profile's exposures (caps) moved: so did the next views' keys
  }

  // apply: "dom": a click inside a slot an experience decided (any variant, control
  // included) sends one `click` per slot per view, for the report's slot clicks.
  function onClick(ev) {
    const v = S.view, last = S.last;
    const target = ev && ev.target;
    if (!v || !last || last.view !== v.id || !target || typeof target.closest !== "function") return;
    if (!v.clicked) v.clicked = new Set();
    for (const d of last.decisions) {
      if (d.experience == null || d.reason === "holdout" || d.reason === "forced" || !d.selector || v.clicked.has(d.slot)) continue;
      let inside = false;
      try { inside = !!target.closest(d.selector); } catch { inside = false; }
      if (!inside) continue;
      v.clicked.add(d.slot);
      S.events.push("click", { experience: d.experience, variant: d.variant, name: d.slot, props: { view: v.id } });
    }
  }

  function breakdown() {
    const x = S.view.dims || {};
    const out = {};
    if (typeof x.device === "string" && x.device) out.device = x.device;
    if (typeof x.journey === "string" && x.journey) out.journey = x.journey;
    if (S.profile) out.returning = (S.profile.visits | 0) >= 2;
    return out;
  }

  // ---- the worker (src/engine.js) ---------------------------------------------
  function fail(stage, why) {
    const msg = `${stage} failed (${why}); page defaults stay`;
    dbg.errors.push(msg);
    log(msg, `fail:${stage}`);
    if (S.hider) S.hider.showAll();
    if (S.view) endWait(S.view, "pending");
    if (!readyResult) fireReady({ ok: false, source: S.view && S.view.source, error: msg });
    if (S.ahead) S.ahead.ready(false);
  }

  // The signals a decide request carries: the view's (or a planned view's) own, and
  // what the page knows now.
  function decideSignals(base) {
    const c = S.consent.state;
    return {
      ...base,
      consent: { analytics: c.analytics, personalization: c.personalization },
      segments: S.segments, custom: { ...custom }, visitor_id: S.visitorId,
    };
  }

  // This view, decided by the worker. A view decided ahead is asked again only for the
  // visitor's own act (consent: `force`); set(), track() and identify() on it change
  // what is prepared for the next views, never what this one shows.
  function requestDecision(force) {
    prepareSoon();
    if (S.view && (S.view.ahead || S.view.edge) && !force) return;
    if (S.decideQueued) return;
    S.decideQueued = true;
    // One decision per burst of set()/track()/consent() calls in the same task.
    queueMicrotask(() => {
      S.decideQueued = false;
      const signals = decideSignals(S.view.signals);
      const force = FORCE_MARK.exec(win.location.search);
      if (force) { try { signals.forced = decodeURIComponent(force[1]); } catch { signals.forced = force[1]; } }
      S.deciding = true;
      const id = S.engine.decide({ signals, profile: S.profile || {}, now: new Date().toISOString() }, (m) => {
        if (id !== S.pending) return; // a newer request is on its way
        S.deciding = false;
        if (!m) return; // failed, and said so
        S.answered = m.id;
        dbg.decide = m.stats || null;
        if (dbg.first_decision_ms == null) dbg.first_decision_ms = performance.now();
        onResult(m.result || {}, m.version);
      });
      if (id) S.pending = id; else S.deciding = false;
    });
  }

  function onReady(m) {
    dbg.engine_ready_ms = performance.now();
    dbg.worker = m.timings || null;
    dbg.runtime = S.engine.runtime;
    // A shared worker that was already up says so (timings.reused): no boot for this view.
    dbg.pyodide_booted = !(m.timings && m.timings.reused);
    rememberSlots(true);
    rememberGoals(m.goals);
    S.ahead.ready(true);
  }

  // A newer ruleset: it takes effect from the next view (prepared with it now); the
  // current view keeps what it shows.
  function onUpdate(m) {
    rememberSlots(false);
    rememberGoals(m.goals);
    prepareSoon();
  }

  // The slots to hide until decided, kept for the next first view (and, on READY, hidden
  // now if this view still waits).
  function rememberSlots(now) {
    const hide = {};
    for (const [slot, s] of Object.entries(S.engine.slots || {})) if (s && s.hide_until_decided) hide[slot] = s.selector;
    if (now && S.hider) S.hider.hide(hide);
    S.store.set("s", hide, "personalization");
  }

  function selectorOf(slot) {
    const s = S.engine.slots && S.engine.slots[slot];
    return s && s.selector;
  }

  // A decided result as a cache entry for the context decided at `now`, or null when it
  // must not be replayed: a QA-forced slot, or a redirect (a stale one would move the
  // visitor; a view with one is decided by the worker). apply: "none" caches no DOM
  // operations: the stub must leave the app's elements alone.
  function entryOf(result, now) {
    const list = Array.isArray(result.decisions) ? result.decisions : [];
    if (result.ok === false || list.some((d) => d.reason === "forced" || (d.content && d.content.redirect))) return null;
    const d = list.map((x) => slotDecision(x, selectorOf(x.slot)));
    return {
      w: windowOf(result.valid, now), t: Date.now(), d,
      o: opts.apply === "dom" ? cachedOps(doc, d) : [],
      x: { device: result.device ?? null, journey: result.journey ?? null, a: result.assignments || {} },
    };
  }

  function onResult(result, version) {
    const list = Array.isArray(result.decisions) ? result.decisions : [];
    const compact = list.map((d) => slotDecision(d, selectorOf(d.slot)));
    if (S.profile && result.assignments && typeof result.assignments === "object") {
      S.profile.assignments = { ...S.profile.assignments, ...result.assignments };
    }
    S.view.worker_ms = performance.now() - S.view.started;
    const dims = { device: result.device ?? null, journey: result.journey ?? null };
    S.view.dims = dims;
    // Exposures first: a redirect experience leaves the page inside applyDecisions.
    S.view.exposures.offer(Array.isArray(result.exposures) ? result.exposures : [], opts.apply === "dom");
    saveProfile();
    applyDecisions(compact, version, "worker", result);
    // Kept for this page's next view until what is prepared ahead replaces it: stored
    // under the key that view will compute (its "before" profile is this view's "after").
    const entry = !S.preview && S.consent.allows("personalization") && version ? entryOf(result, Date.now()) : null;
    if (entry) {
      const k = keyPaths(S.engine.reads || FULL_READS);
      const key = contextKey(S.view.signals, S.consent.state, S.segments, S.profile, custom, Date.now(), k);
      S.cache.put(version, S.engine.reads || FULL_READS, [{ key, entry }], Date.now());
    }
    if (!readyResult) fireReady({ ok: true, source: "worker", version, decisions: compact });
  }

  function applyDecisions(list, version, source, result, adopted) {
    const v = S.view;
    v.source = source;
    dbg.source = source;
    if (source !== "worker") {
      // Decided ahead: the view's exposures are the cached decisions' (recorded at once
      // with apply: "dom", after the view's page view; with "none" when shown).
      v.ahead = true;
      v.aheadList = list;
      dbg.ahead = true;
      v.exposures.offer(exposuresOf(list), opts.apply === "dom" && v.counted);
      if (dbg.first_decision_ms == null) dbg.first_decision_ms = performance.now();
    }
    if (opts.apply === "dom") {
      for (const d of list) {
        const r = d.content && d.content.redirect;
        // Never from the device cache (a stale redirect would move the visitor); the
        // edge's answer is as fresh as the worker's.
        if (r && source !== "cache" && maybeRedirect(r)) return;
      }
      const entries = list.map((d) => {
        const c = d.content && typeof d.content === "object" ? { ...d.content } : null;
        if (c) { delete c.data; delete c.redirect; }
        return { slot: d.slot, selector: d.selector, content: c && Object.keys(c).length ? c : null };
      });
      if (adopted) S.dom.adopt(entries, adopted); else S.dom.apply(entries);
      if (S.hider) for (const d of list) S.hider.show(d.slot);
      if (S.hider && source !== "cache") S.hider.showAll();
    }
    dbg.decisions++;
    const data = {};
    for (const d of list) if (d.content && d.content.data !== undefined) data[d.slot] = d.content.data;
    const detail = {
      source, version, decisions: decisions.set(list.map((d) => (S.preview ? { ...slotDecision(d), preview: S.preview } : slotDecision(d)))), data,
      journey: result ? result.journey ?? null : (v.dims && v.dims.journey) ?? null, view: S.view.id,
    };
    S.last = detail;
    v.decided = true;
    v.pending = false;
    clearTimeout(v.timer);
    events.emit("decision", detail);
    stateChanged();
    events.emit("inspect", detail);
    try { doc.dispatchEvent(new CustomEvent("perso:decision", { detail })); } catch { /* old engine */ }
    if (source !== "worker" && !readyResult) fireReady({ ok: true, source, version, decisions: detail.decisions });
  }

  // ---- deciding ahead (src/ahead.js) ------------------------------------------
  // Personalization consent only; never for a QA-forced view or a preview.
  function canPrepare() {
    return !!(S && S.view && S.profile && !S.preview && S.consent.allows("personalization") && !S.engine.failed && !FORCE_MARK.test(win.location.search));
  }
  function prepareSoon() { if (S && S.ahead) S.ahead.soon(); }

  function maybeRedirect(target) {
    const url = typeof target === "string" ? target : target && target.url;
    if (!url || typeof url !== "string" || S.redirected) return false;
    let next;
    try { next = new URL(url, win.location.href); } catch { log(`a redirect to ${url} is not a valid URL`, "redirect"); return false; }
    const here = new URL(win.location.href);
    // Loop guard without storage: the target carries a mark, and a marked page never redirects.
    if (here.searchParams.has(REDIRECT_MARK) || !/^https?:$/.test(next.protocol)) return false;
    // Another site only when the ruleset says so in full ("https://other.example/..."):
    // "//evil.example", "/\evil.example" or "/<tab>/evil.example" read as paths but
    // leave the site (URL parsers drop tabs and newlines and read \ as /).
    if (next.origin !== here.origin && !/^https?:\/\/[^\\\s]*$/i.test(url)) {
      log(`a redirect to ${JSON.stringify(url)} would leave the site without naming it; refused`, "redirect");
      return false;
    }
    next.searchParams.set(REDIRECT_MARK, "1");
    here.hash = ""; next.hash = "";
    if (next.href === here.href) return false;
    S.redirected = true;
    persistAll();
    S.events.flush(true);
    win.location.replace(next.href);
    return true;
  }

  function fireReady(r) {
    readyResult = r;
    for (const cb of events.take("ready")) safeCall(cb, r);
  }

  // ---- the debugger (src/debug.js, loaded on demand) ---------------------------
  // It gets a read-only view of the runtime and can ask the worker to explain the last
  // decision (edge's explain mode, run on the inputs the worker already holds): nothing
  // is sent anywhere and no decision changes.
  function showDebugger() {
    if (!debugWanted) {
      if (debugUi && debugUi.close) debugUi.close();
      debugUi = null;
      return;
    }
    if (debugUi) return;
    const loading = (debugUi = Promise.resolve().then(() => env.loadDebugger(opts.cdn)).then((open) => {
      if (debugUi === loading) debugUi = open(inspector(), win); // not closed meanwhile
    }, (e) => {
      if (debugUi === loading) debugUi = null;
      log(`the debugger did not load (${e && e.message})`, "debugger");
    }));
  }

  function inspector() {
    return {
      site: opts.site, apply: opts.apply, version: VERSION,
      state: () => ({
        runtime: dbg.runtime, ruleset: S.engine.version || (S.last && S.last.version) || null, preview: S.preview, last: S.last, errors: dbg.errors.slice(),
        consent: { ...S.consent.state },
        view: S.view && { id: S.view.id, ahead: S.view.ahead, worker_ms: S.view.worker_ms, instant_ms: dbg.instant_ms },
      }),
      subscribe(cb) { events.on("inspect", cb); return () => events.off("inspect", cb); },
      // The core's explanation of the worker's last decision, or null when there is none
      // (or no answer within DECIDE_BOUND_MS: a worker.js from before explanations).
      explain() {
        if (!S.engine.alive || !S.answered) return Promise.resolve(null);
        const ref = ++S.xseq;
        return new Promise((resolve) => {
          const done = (x) => { clearTimeout(timer); S.explaining.delete(ref); resolve(x); };
          const timer = setTimeout(() => done(null), DECIDE_BOUND_MS);
          S.explaining.set(ref, done);
          S.engine.post({ type: P.EXPLAIN, ref, decide: S.answered });
        });
      },
      closed() { debugWanted = false; debugUi = null; },
    };
  }

  // ---- drain the stub's queue -------------------------------------------------
  const calls = Array.isArray(stub) ? stub.slice() : [];
  win.perso = api;
  let draining = true;
  // Options first (so set() and consent() before init still count), then start, then the rest.
  for (const c of calls) if (Array.isArray(c) && c[0] === "init") api.init(c[1]);
  for (const c of calls) if (Array.isArray(c) && (c[0] === "set" || c[0] === "consent" || c[0] === "on" || c[0] === "ready")) api.push(c);
  draining = false;
  if (opts && !S) start();
  for (const c of calls) if (Array.isArray(c) && !["init", "set", "consent", "on", "ready"].includes(c[0])) api.push(c);
  return api;
}
