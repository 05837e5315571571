// The event queue (analytics consent only): batched, bounded, persisted while
// offline, retried with exponential backoff and jitter. 4xx other than 408/429 drop
// the batch (it will never be accepted); 408, 429, 5xx and network errors keep it.

import { uuid } from "./profile.js";

export const MAX_QUEUE = 500;
const BATCH = 50;
const FLUSH_DELAY_MS = 1000;
const MAX_BACKOFF_MS = 60000;

// The API stores an event's props as msgpack and rejects more than this many bytes
// (lambdas/models/events.py MAX_PROPS_BYTES).
export const MAX_PROPS_BYTES = 224;
const utf8 = (str) => new TextEncoder().encode(str).length;

// Size of `v` as msgpack once the API has parsed the JSON (integers as ints, other numbers
// as float64, strings as str).
export function packedSize(v) {
  if (v === null || v === undefined || typeof v === "boolean") return 1;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) return 9;
    if (v >= 0) return v < 128 ? 1 : v < 256 ? 2 : v < 65536 ? 3 : v < 2 ** 32 ? 5 : 9;
    return v >= -32 ? 1 : v >= -128 ? 2 : v >= -32768 ? 3 : v >= -(2 ** 31) ? 5 : 9;
  }
  if (typeof v === "string") { const n = utf8(v); return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5); }
  if (Array.isArray(v)) return v.reduce((t, x) => t + packedSize(x), v.length < 16 ? 1 : v.length < 65536 ? 3 : 5);
  if (typeof v === "object") {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    return entries.reduce((t, [k, x]) => t + packedSize(k) + packedSize(x), entries.length < 16 ? 1 : entries.length < 65536 ? 3 : 5);
  }
  return 1;
}

// Props trimmed to the API's limit, deterministically: the largest other keys go first
// (ties by name); the viewed/purchased ids (`item`, `items`) are kept, and only a list of
// ids still too long alone is shortened from its end.
export function fitProps(props) {
  if (!props || typeof props !== "object") return {};
  let out;
  try { out = JSON.parse(JSON.stringify(props)); } catch { return {}; } // a cycle: nothing sendable
  if (packedSize(out) <= MAX_PROPS_BYTES) return out;
  const extra = Object.keys(out).filter((k) => k !== "item" && k !== "items")
    .map((k) => [k, packedSize(k) + packedSize(out[k])])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [k] of extra) {
    delete out[k];
    if (packedSize(out) <= MAX_PROPS_BYTES) return out;
  }
  if (Array.isArray(out.items)) while (out.items.length && packedSize(out) > MAX_PROPS_BYTES) out.items.pop();
  if (packedSize(out) > MAX_PROPS_BYTES) delete out.item; // an id the API would refuse anyway
  return out;
}

// `${api}/v1/<path>`, or `${api}/<path>` when the base already ends in /v1; "" without an API.
export function endpoint(api, path) {
  const base = api ? api.replace(/\/+$/, "") : "";
  return base ? `${base}${/\/v1$/.test(base) ? "" : "/v1"}/${path}` : "";
}

export function makeEvents({ site, api, store, consent, visitor, onVisitor, log }) {
  let queue = (consent.allows("analytics") && store.get("q")) || [];
  if (!Array.isArray(queue)) queue = [];
  let timer = null;
  let sending = false;
  let failures = 0;
  let offline = false; // from the offline/online events, in case onLine reads true on exit
  if (typeof addEventListener === "function") {
    addEventListener("offline", () => { offline = true; });
    addEventListener("online", () => { offline = false; });
  }
  const url = endpoint(api, "events");

  function persist() { if (queue.length) store.set("q", queue, "analytics"); else store.del("q"); }
  function schedule(ms) {
    if (timer || !url) return;
    timer = setTimeout(() => { timer = null; flush(false); }, ms);
  }
  function body(batch) {
    const v = visitor();
    return JSON.stringify({
      site, visitor: v.id, token: v.token || undefined, proof: v.proof || undefined,
      consent: { analytics: consent.state.analytics, personalization: consent.state.personalization },
      sent_at: new Date().toISOString(), events: batch,
    });
  }
  function drop(n) { queue.splice(0, n); persist(); }

  async function flush(leaving) {
    if (!url || !queue.length || !consent.allows("analytics") || !visitor().id) return;
    if (leaving) {
      // The page is going away. sendBeacon reports success when the browser has merely
      // queued the request, even while offline, so a beacon is no proof of delivery:
      // offline, nothing is sent and the persisted queue waits for the next view; after
      // a failed send (navigator.onLine is not always right), the beacon goes out but the
      // queue is kept too: the next view replays it and event ids make the API count
      // each event once.
      if (navigator.onLine === false || offline) { persist(); return; }
      const keep = failures > 0;
      let at = 0;
      while (at < queue.length) {
        const batch = queue.slice(at, at + BATCH);
        const payload = body(batch);
        let sent = false;
        try {
          sent = navigator.sendBeacon && navigator.sendBeacon(url, new Blob([payload], { type: "text/plain" }));
        } catch { sent = false; }
        if (!sent) {
          try { fetch(url, { method: "POST", body: payload, keepalive: true, credentials: "omit", headers: { "Content-Type": "text/plain" } }); sent = true; } catch { sent = false; }
        }
        if (!sent) break;
        at += batch.length;
      }
      if (!keep && at) drop(at); // what the browser took; the rest waits for the next view
      return;
    }
    if (sending) return;
    sending = true;
    const batch = queue.slice(0, BATCH);
    try {
      const payload = body(batch);
      const res = await fetch(url, {
        method: "POST", body: payload, credentials: "omit", keepalive: payload.length < 60000,
        headers: { "Content-Type": "text/plain" },
      });
      if (res.ok) {
        failures = 0;
        drop(batch.length);
        try { const j = await res.json(); if (j && j.visitor) onVisitor(j.visitor); } catch { /* no body */ }
      } else if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        failures = 0;
        drop(batch.length);
        log(`the event API refused a batch (HTTP ${res.status}); it was dropped`);
      } else {
        throw new Error(`HTTP ${res.status}`);
      }
    } catch (e) {
      failures++;
      log(`could not send events (${e && e.message ? e.message : e}); kept for retry`);
      sending = false;
      const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures, 16));
      schedule(base * (0.5 + Math.random())); // jitter spreads a fleet of retries
      return;
    }
    sending = false;
    if (queue.length) schedule(0);
  }

  return {
    push(type, fields) {
      if (!consent.allows("analytics")) return null;
      const ev = { id: uuid(), type, ts: new Date().toISOString(), ...fields };
      if (ev.props !== undefined) ev.props = fitProps(ev.props);
      queue.push(ev);
      if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE); // oldest go first
      persist();
      schedule(FLUSH_DELAY_MS);
      return ev;
    },
    flush,
    // Adds props to an event still waiting in the queue; false once it has been sent.
    amend(ev, props) {
      if (!ev || !queue.includes(ev)) return false;
      ev.props = fitProps({ ...ev.props, ...props });
      persist();
      return true;
    },
    clear() { queue = []; store.del("q"); if (timer) clearTimeout(timer); timer = null; },
    get size() { return queue.length; },
    get queue() { return queue; },
  };
}
