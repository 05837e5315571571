// The device's decision cache (localStorage "d", personalization consent only) and the
// planner of what to decide ahead. Shape, read by the stub (src/instant.js) too:
//   {v: ruleset version, r: the bridge's reads, k: key paths (keyPaths(r)),
//    e: {key: [{w: [from_ms, until_ms], d: decisions, o: DOM ops, x: {device, journey, a: assignments}, t: written}]}}
// A key's entries are sorted by window; the stub applies the first whose window holds now.

import { contextKey, localClock, readSignals } from "./instant.js";
import { SESSION_GAP_MS, onPageView } from "./profile.js";

export const MAX_CACHED_CONTEXTS = 64;
// What a ruleset may read when the worker does not say (a worker.js from before
// `reads`): everything today's rules can see, so the key never misses a difference.
export const FULL_READS = Object.freeze({
  parts: ["device", "languages", "timezone", "path", "referrer", "segments", "consent"],
  profile: ["visits", "cart_items", "purchases", "traits"],
  custom: "*", query: "*", time: "hour",
});
// An entry "holds" for the next view when its window still covers this long from now;
// one that ends sooner is prepared again (its next window).
export const EXPIRING_MS = 10 * 60 * 1000;
// How far ahead the next window of a prepared context is decided (step d of the plan).
export const NEXT_WINDOW_MS = 2 * 60 * 60 * 1000;
export const MAX_LINKS = 12;
const OPEN_END = 8.64e15; // Date's largest instant: a window with no end

const SIGNAL_PATHS = {
  device: [["s", "user_agent"], ["s", "ua_ch"], ["s", "max_touch_points"]],
  languages: [["s", "languages"]],
  timezone: [["s", "timezone"]],
  path: [["l", "pathname"]],
  referrer: [["s", "referrer"]],
  segments: [["g"]],
};
const names = (x) => (Array.isArray(x) ? x.filter((n) => typeof n === "string") : []);
// A list of names, or "*" (written "*" or ["*"]: the whole map is read).
const namesOrAll = (x) => (x === "*" || names(x).includes("*") ? "*" : names(x));

// The bridge's reads (edge/reads.py Reads.to_dict()), checked; FULL_READS when absent
// or malformed.
export function readsOf(r) {
  if (!r || typeof r !== "object" || !Array.isArray(r.parts) || !Array.isArray(r.profile)) return FULL_READS;
  return {
    parts: names(r.parts), profile: names(r.profile), custom: namesOrAll(r.custom), query: namesOrAll(r.query),
    time: typeof r.time === "string" ? r.time : null,
  };
}

// The key paths (instant.js contextKey) for reads: consent always, then what is read.
// keyPaths({parts: ["path"], profile: ["visits"], custom: [], query: ["utm"]})
//   -> [["c","analytics"], ["c","personalization"], ["l","pathname"], ["l","search"], ["p","visits"], ["n"]]
export function keyPaths(reads) {
  const r = readsOf(reads);
  const k = [["c", "analytics"], ["c", "personalization"]];
  for (const n of r.parts) k.push(...(SIGNAL_PATHS[n] || []));
  if (r.parts.includes("path") && (r.query === "*" || r.query.length)) k.push(["l", "search"]);
  for (const n of r.profile) k.push(["p", n]);
  if (r.profile.includes("visits") || r.profile.includes("session")) k.push(["n"]);
  if (r.custom === "*") k.push(["u"]); else for (const n of r.custom) k.push(["u", n]);
  return k;
}

// The window a decision holds in: the bridge's `valid` ([from_ms, until_ms], null open),
// or, from a worker before it, the local clock hour around `now` (today's rules read
// at most the hour).
export function windowOf(valid, now) {
  if (Array.isArray(valid) && valid.length === 2) {
    const [a, b] = valid;
    const from = Number.isFinite(a) ? a : 0;
    const until = Number.isFinite(b) ? b : OPEN_END;
    if (from <= now && now < until) return [from, until];
  }
  const d = new Date(now);
  d.setMinutes(0, 0, 0);
  const from = d.getTime();
  d.setHours(d.getHours() + 1);
  return [from, d.getTime()];
}

function covers(list, at) { return list.some((x) => Array.isArray(x.w) && x.w[0] <= at && at < x.w[1]); }

export function makeCache(store) {
  function read() {
    const c = store.get("d");
    return c && typeof c === "object" && c.e && typeof c.e === "object" && Array.isArray(c.k) ? c : null;
  }
  return {
    read,
    // The entry for key whose window holds `now`, or null.
    lookup(key, now) {
      const c = read();
      const list = c && Array.isArray(c.e[key]) ? c.e[key] : [];
      return list.find((x) => Array.isArray(x.w) && x.w[0] <= now && now < x.w[1]) || null;
    },
    // Does the cache, for this version, hold key at `at` and still EXPIRING_MS later?
    holds(version, key, at) {
      const c = read();
      if (!c || c.v !== version || !Array.isArray(c.e[key])) return false;
      return covers(c.e[key], at) && covers(c.e[key], at + EXPIRING_MS);
    },
    // Store [{key, entry}] decided with `version` under `reads`; a cache of another
    // version (or other reads) starts afresh. An entry replaces those its window overlaps.
    put(version, reads, items, now) {
      const r = readsOf(reads);
      const k = keyPaths(r);
      let c = read();
      if (!c || c.v !== version || JSON.stringify(c.k) !== JSON.stringify(k)) c = { v: version, r, k, e: {} };
      // Written later than anything before, whatever the clock did (pruning keeps the newest).
      const t = Math.max(Date.now(), (c.t || 0) + 1);
      c.t = t;
      for (const { key, entry } of items) {
        entry.t = t;
        const [a, b] = entry.w;
        const kept = (Array.isArray(c.e[key]) ? c.e[key] : []).filter((x) => !(x.w[0] < b && a < x.w[1]));
        c.e[key] = kept.concat([entry]).sort((x, y) => x.w[0] - y.w[0]);
      }
      prune(c, now);
      return store.set("d", c, "personalization");
    },
  };
}

// Expired entries go, then the contexts written longest ago beyond MAX_CACHED_CONTEXTS.
function prune(c, now) {
  for (const key of Object.keys(c.e)) {
    const list = Array.isArray(c.e[key]) ? c.e[key].filter((x) => Array.isArray(x.w) && x.w[1] > now) : [];
    if (list.length) c.e[key] = list; else delete c.e[key];
  }
  const newest = (key) => Math.max(...c.e[key].map((x) => x.t || 0));
  const keys = Object.keys(c.e).sort((a, b) => newest(b) - newest(a));
  for (const key of keys.slice(MAX_CACHED_CONTEXTS)) delete c.e[key];
}

// The contexts the next views will have, each {key, signals, before, profile, now}: the key
// that view computes (from the profile as it is now: that view's "before"), and what
// the worker decides it with (signals at its time; the profile after its page view).
//   (a) this page again; (b) the first view of the next session (this page, and the
//   home page reached directly), when visits or the session are read; (c) when the path is read, up to MAX_LINKS
//   same-origin links of this page, followed (referrer: this page), then reached
//   directly (no referrer; the same key, planned once, unless the referrer is read).
// `state`: {win, reads, profile, consent, segments, custom, now}. Duplicate keys are
// planned once.
export function planNext(state) {
  const { win, reads, profile, now } = state;
  const r = readsOf(reads);
  const k = keyPaths(r);
  const here = win.location.href;
  const out = [];
  const seen = new Set();
  const add = (at, url, referrer) => {
    const signals = readSignals(win, new Date(at));
    signals.utc_offset_minutes = -new Date(at).getTimezoneOffset();
    signals.url = url;
    signals.referrer = referrer;
    const key = contextKey(signals, state.consent, state.segments, profile, state.custom, at, k);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ key, signals, before: profile, profile: onPageView(clone(profile), new Date(at).toISOString()), now: at });
  };
  const referrer = win.document.referrer || "";
  add(now, here, referrer);
  if (r.profile.includes("visits") || r.profile.includes("session")) {
    // A new session starts here again, or (more often) at the home page, typed.
    const next = now + SESSION_GAP_MS + 1000;
    add(next, here, referrer);
    add(next, new URL("/", here).href, "");
  }
  if (r.parts.includes("path")) {
    const links = linksOf(win).slice(0, MAX_LINKS);
    for (const url of links) add(now, url, here);
    // Reached without a referrer (typed, bookmarked): another key only when it is read.
    for (const url of links) add(now, url, "");
  }
  return out;
}

// The page's distinct same-origin http(s) links, other than this page, in page order.
export function linksOf(win) {
  const here = new URL(win.location.href);
  here.hash = "";
  const out = [];
  for (const a of win.document.querySelectorAll("a[href]")) {
    let u;
    try { u = new URL(a.getAttribute("href"), here.href); } catch { continue; }
    u.hash = "";
    if (!/^https?:$/.test(u.protocol) || u.origin !== here.origin || u.href === here.href || out.includes(u.href)) continue;
    out.push(u.href);
  }
  return out;
}

// A context moved to `at` (the next window: step d): same key, the clock at `at`, the
// page view counted at `at`.
export function shifted(ctx, at) {
  const d = new Date(at);
  const signals = { ...ctx.signals, local_time: localClock(d), utc_offset_minutes: -d.getTimezoneOffset() };
  return { key: ctx.key, signals, before: ctx.before, profile: onPageView(clone(ctx.before), d.toISOString()), now: at, next: true };
}

const clone = (x) => JSON.parse(JSON.stringify(x));
