// The raw signals the rules can see (DESIGN §4), read on the main thread because a
// worker has no location, referrer or document. edge.context derives the attributes.

const pad = (n) => (n < 10 ? "0" : "") + n;

export function localClock(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function readSignals(win, now) {
  const nav = win.navigator || {};
  let tz = "";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch { /* old engine */ }
  const uad = nav.userAgentData;
  return {
    local_time: localClock(now),
    utc_offset_minutes: -now.getTimezoneOffset(),
    timezone: tz,
    languages: Array.from(nav.languages || (nav.language ? [nav.language] : [])),
    user_agent: nav.userAgent || "",
    ua_ch: uad ? {
      mobile: !!uad.mobile,
      platform: uad.platform || "",
      brands: Array.from(uad.brands || [], (b) => ({ brand: b.brand, version: b.version })),
    } : null,
    max_touch_points: nav.maxTouchPoints | 0,
    url: win.location.href,
    referrer: win.document.referrer || "",
  };
}

// cyrb53: a short, well-mixed 53-bit string hash; the key is not a secret, it only
// has to change whenever something a rule can see changes.
export function hash53(str) {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

const refHost = (r) => { try { return r ? new URL(r).host : ""; } catch { return ""; } };

// The context key of the instant path: everything a rule can see that is known before
// the worker answers. Counters that move on every view (pageviews, exposure counts) are
// left out on purpose, or the key would never repeat; the worker's decision, applied
// when it arrives, corrects the rare case where they change the outcome.
export function contextKey(signals, { consent, segments, profile, custom }) {
  let path = "";
  try { const u = new URL(signals.url); path = u.pathname + u.search; } catch { path = signals.url; }
  const p = profile || {};
  return hash53(JSON.stringify([
    signals.user_agent, signals.ua_ch, signals.max_touch_points, signals.languages,
    signals.timezone, signals.local_time.slice(0, 13), path, refHost(signals.referrer),
    consent.analytics, consent.personalization, segments || [],
    p.visits | 0, p.cart_items | 0, p.purchases | 0, p.traits || {}, custom || {},
  ]));
}
