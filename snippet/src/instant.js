/* The instant path, shared by the stub (which runs it in <head>, before first paint)
 * and the runtime (which computes the same context key when it caches a decision).
 * Plain ES5 on purpose: the stub is built from it with esbuild --target=es5. */

// The device's wall clock as ISO local time without offset ("2026-11-25T19:30:05"):
// the instant shifted by its own UTC offset, then formatted as UTC.
export function localClock(d) {
  return new Date(d - d.getTimezoneOffset() * 6e4).toISOString().slice(0, 19);
}

// The raw signals the rules can see (DESIGN §4), read on the main thread because a
// worker has no location, referrer or document. edge.context derives the attributes.
export function readSignals(win, now) {
  var nav = win.navigator || {};
  var tz = "";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* old engine */ }
  var uad = nav.userAgentData;
  return {
    local_time: localClock(now),
    timezone: tz,
    languages: [].slice.call(nav.languages || (nav.language ? [nav.language] : [])),
    user_agent: nav.userAgent || "",
    ua_ch: uad ? { mobile: !!uad.mobile, platform: uad.platform || "", brands: [].slice.call(uad.brands || []) } : null,
    max_touch_points: nav.maxTouchPoints | 0,
    url: win.location.href,
    referrer: win.document.referrer || ""
  };
}

// cyrb53: a short, well-mixed 53-bit string hash; the key is not a secret, it only has
// to change whenever something a rule can see changes.
export function hash53(str) {
  var h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (var i = 0; i < str.length; i++) {
    var ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

function urlOf(url) {
  try { return new URL(url); } catch (e) { return { pathname: url || "", search: "", host: "" }; }
}

// The context key: everything a rule can see that is known before the worker answers.
// Counters that move on every view (pageviews, exposure counts) are left out on purpose,
// or the key would never repeat; the worker's decision, applied when it arrives,
// corrects the rare case where they change the outcome.
export function contextKey(s, parts) {
  var p = parts.profile || {};
  var c = parts.consent || {};
  var u = urlOf(s.url);
  return hash53(JSON.stringify([
    s.user_agent, s.ua_ch, s.max_touch_points, s.languages, s.timezone,
    s.local_time.slice(0, 13), u.pathname + u.search,
    s.referrer && urlOf(s.referrer).host,
    c.analytics === true, c.personalization === true, parts.segments || [],
    p.visits | 0, p.cart_items | 0, p.purchases | 0, p.traits || {}, parts.custom || {}
  ]));
}

function each(list, fn) { for (var i = 0; i < list.length; i++) fn(list[i], i); }

// Elements no content is ever applied to, whatever a slot's selector matches: changing
// a script's text, src or type before the parser runs it (or a JSON-LD block's type,
// then its text) would run code; the others load, embed or restyle. Case-insensitive,
// so an SVG <script> counts too. The runtime (dom.js) uses the same list.
export var UNSAFE_TAG = /^((no)?script|style|i?frame|object|embed|link|meta|base|template)$/i;

// The stub's own last check on a cached attribute (the runtime applied its allowlist
// before caching): no handler, and no script URL anywhere in the value (control
// characters and spaces dropped first, as a URL parser does). type, nonce and srcdoc
// only matter on the elements UNSAFE_TAG already leaves alone.
export function cachedAttrOk(name, value) {
  return !/^on/i.test(name) && !/script:/i.test(("" + value).replace(/[\0- \x7f-\x9f]/g, ""));
}

// Apply one cached op ({s: selector, h: html, a: attrs, c: {add, remove}, x: hide}) to
// an element; returns the snapshot that reverts it (attributes and the child nodes).
export function applyOp(el, op) {
  var snap = { attrs: [], children: null };
  each(el.attributes, function (a) { snap.attrs.push([a.name, a.value]); });
  if (op.h != null) {
    snap.children = [].slice.call(el.childNodes);
    el.innerHTML = op.h; // the runtime's own sanitizer output, cached on this device
  }
  for (var k in op.a || {}) if (cachedAttrOk(k, op.a[k])) op.a[k] === null ? el.removeAttribute(k) : el.setAttribute(k, op.a[k]);
  each(op.c && op.c.add || [], function (n) { el.classList.add(n); });
  each(op.c && op.c.remove || [], function (n) { el.classList.remove(n); });
  if (op.x) el.style.setProperty("display", "none", "important");
  return snap;
}

// Apply cached ops now and to matching elements as the parser adds them, until the
// runtime takes over (stop()). Returns {applied: [{slot, el, snap}], stop}.
export function applyCached(doc, ops) {
  var applied = [];
  function scan() {
    each(ops, function (op, i) {
      var nodes = [];
      try { nodes = doc.querySelectorAll(op.s); } catch (e) { /* a bad selector: defaults */ }
      each(nodes, function (el) {
        if (!(el.__perso && el.__perso[i]) && !UNSAFE_TAG.test(el.tagName)) { // an expando: each op once per element
          (el.__perso = el.__perso || {})[i] = 1;
          applied.push({ slot: op.slot, el: el, snap: applyOp(el, op) });
        }
      });
    });
  }
  scan();
  var mo = new MutationObserver(scan);
  mo.observe(doc.documentElement, { childList: true, subtree: true });
  return { applied: applied, stop: function () { scan(); mo.disconnect(); } };
}

// The stub's part: find this view's cached decisions and apply them. Everything read
// here was written only with personalization consent; nothing is written.
export function instantPath(win, site, queued) {
  var t0, ls, get = function (name) {
    return JSON.parse(ls.getItem("perso:" + site + ":" + name)); // absent: JSON.parse(null) is null
  };
  try {
    t0 = performance.now();
    ls = win.localStorage;
    var cache = get("d");
    if (!cache || !cache.e) return null;
    var stored = get("c");
    var custom = {};
    each(queued, function (call) {
      if (call[0] === "consent" && call[1]) stored = { analytics: call[1].analytics, personalization: call[1].personalization };
      if (call[0] === "set" && call[1]) for (var k in call[1]) if (call[1].hasOwnProperty(k)) custom[k] = call[1][k];
    });
    // Consent as the runtime starts with it: explicit, or the CMP's last answer unless GPC.
    if (!stored || stored.personalization !== true || (stored.source === "tcf" && win.navigator.globalPrivacyControl === true)) return null;
    var consent = { analytics: stored.analytics === true, personalization: true };
    var t = get("t") || {};
    var key = contextKey(readSignals(win, new Date()), {
      consent: consent, segments: t.segments || [], profile: get("p"), custom: custom
    });
    var hit = cache.e[key];
    if (!hit || !hit.o || !win.MutationObserver) return null;
    var run = applyCached(win.document, hit.o);
    run.version = cache.v;
    run.decisions = hit.d;
    run.ms = performance.now() - t0;
    return run;
  } catch (e) {
    return null; // storage blocked or corrupt: the worker decides as on a first view
  }
}
