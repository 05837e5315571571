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
  // (Intl is there wherever the stub reads signals: with fetch, or inside its try.)
  var nav = win.navigator, uad = nav.userAgentData;
  return {
    local_time: localClock(now),
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "",
    languages: [].slice.call(nav.languages || []),
    user_agent: nav.userAgent,
    ua_ch: uad && uad.toJSON ? uad.toJSON() : null, // {brands, mobile, platform}
    max_touch_points: nav.maxTouchPoints | 0,
    url: win.location.href,
    referrer: win.document.referrer
  };
}

// A short 64-bit string hash (two multiplicative 32-bit lanes, the second fed by the
// first); the key is not a secret, it only has to change whenever something a rule can
// see changes.
export function hash64(str) {
  for (var a = 1, b = 7, i = 0; i < str.length; i++) {
    a = Math.imul(a ^ str.charCodeAt(i), 2654435761);
    b = Math.imul(b ^ a, 1597334677);
  }
  return (a >>> 0).toString(36) + "." + (b >>> 0).toString(36);
}

// The context key (v2): only what the ruleset reads. `k` lists paths into the facts
// below (written by the runtime from the bridge's `reads`: snippet/src/cache.js
// keyPaths), so the stub needs no list of its own. The profile is the one before this
// view counts itself; n: this view would start a new session (profile.js onPageView,
// SESSION_GAP_MS). Where a rule reads less than a fact (the referrer's host, some query
// names), the key holds the whole fact: more keys, never a wrong hit, and a smaller stub
// than parsing here. The visitor id is not in it either: the cache is wiped with the id.
// Time is not: each entry carries the window in which its decision holds. Positional
// (what the stub passes, in this order: consent, segments, the stored profile, the
// site's perso.set() values, now in epoch ms, the key paths) to keep the stub small.
export function contextKey(s, consent, segments, profile, custom, now, k) {
  var p = profile || {};
  var facts = {
    s: s, p: p, c: consent, u: custom, g: segments || [], l: new URL(s.url),
    n: !p.visits || now - Date.parse(p.last_seen) > 18e5
  };
  return hash64(JSON.stringify(k.map(function (path) {
    var o = facts;
    each(path, function (n) { o = o && o[n]; });
    return o;
  })));
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
  var cl = el.classList;
  if (op.c) cl.add.apply(cl, op.c.add), cl.remove.apply(cl, op.c.remove); // lists of names
  if (op.x) el.style.setProperty("display", "none", "important");
  return snap;
}

// Apply cached ops now and to matching elements as the parser adds them, until the
// runtime takes over (stop()). Returns {applied: [{slot, el, snap}], stop}. An element
// that holds the document's last node may still be parsed (a busy parser yields
// between a start tag and its text, which would then land after the cached content):
// it waits for the next node, or for stop().
export function applyCached(doc, ops) {
  var applied = [];
  function scan(all) {
    for (var last = doc.documentElement; last.lastChild; last = last.lastChild);
    each(ops, function (op, i) {
      var nodes = [];
      try { nodes = doc.querySelectorAll(op.s); } catch (e) { /* a bad selector: defaults */ }
      each(nodes, function (el) {
        // an expando: each op once per element
        if (!(el.__perso && el.__perso[i]) && !UNSAFE_TAG.test(el.tagName) && (all === 1 || !el.contains(last))) {
          (el.__perso = el.__perso || {})[i] = 1;
          applied.push({ slot: op.slot, el: el, snap: applyOp(el, op) });
        }
      });
    });
  }
  scan();
  var mo = new MutationObserver(scan);
  mo.observe(doc.documentElement, { childList: true, subtree: true });
  return { applied: applied, stop: function () { scan(1); mo.disconnect(); } };
}

// The stub's part: find this view's cached decisions and apply them; when the device
// holds none, ask the edge (`firstView`). Everything read here was written only with
// consent; nothing is written.
export function instantPath(win, o, queued) {
  var t0, ls, stored, consent, signals, custom = {}, get = function (name) {
    return JSON.parse(ls.getItem("perso:" + o.site + ":" + name)); // absent: JSON.parse(null) is null
  };
  try {
    t0 = performance.now();
    // A tab previewing a ruleset (src/preview.js) must not show live decisions first.
    if (win.sessionStorage["perso:" + o.site + ":preview"]) return null;
    ls = win.localStorage;
    stored = get("c");
  } catch (e) { /* storage blocked: nothing stored, as on a first view */ }
  try {
    each(queued, function (call) {
      if (call[0] === "consent" && call[1]) stored = call[1]; // explicit: read as {analytics, personalization}
      if (call[0] === "set") for (var k in call[1]) custom[k] = call[1][k]; // (for-in over null: nothing)
    });
    // Consent as the runtime starts with it: explicit, or the CMP's last answer unless GPC.
    if (!stored || (stored.source == "tcf" && win.navigator.globalPrivacyControl)) stored = {};
    consent = { analytics: stored.analytics === true, personalization: stored.personalization === true };
    signals = readSignals(win, new Date());
    try {
      var cache = get("d"), t = get("t") || {}, now = Date.now(), hit; // no cache: cache.k throws
      var key = contextKey(signals, consent, t.segments, get("p"), custom, now, cache.k);
      // The first entry whose window holds now (the runtime writes open ends as numbers);
      // the cache is read only with personalization consent.
      each(consent.personalization && cache.e[key] || [], function (x) { if (!hit && x.w[0] <= now && now < x.w[1]) hit = x; });
      var run = applyCached(win.document, hit.o); // no hit: hit.o throws, nothing applied
      run.version = cache.v;
      run.decisions = hit.d;
      run.x = hit.x;
      run.ms = performance.now() - t0;
      return run;
    } catch (e) {
      return firstView(win, o, signals, consent, consent.analytics || consent.personalization ? get("id") : null);
    }
  } catch (e) {
    return null; // an engine without what the stub needs: the runtime decides
  }
}

// Nothing valid on the device: `POST /v1/decide` (edge.decide on the server, from the
// signals this page request already carried; the visitor id only with consent) and
// apply its ops the moment they come, unless the runtime gave up waiting (stop()).
// Sent as text/plain, a simple request: no CORS preflight round trip. A site turns it
// off with init({decide: "device"}). The runtime adopts the run (index.js awaitEdge).
export function firstView(win, o, signals, consent, visitor) {
  if (o.decide === "device" || !o.api || !win.fetch) return null; // (fetch: MutationObserver too)
  var run = { stop: function () { run.off = 1; } }; // no decisions (yet), nothing applied
  var answered = fetch(o.api.replace(/(\/v1)?\/*$/, "/v1/decide"), {
    method: "POST", body: JSON.stringify({ site: o.site, signals: signals, consent: consent, visitor: visitor })
  }).then(function (r) { return r.json(); }).then(function (a) {
    if (!run.off) {
      var done = applyCached(win.document, a.ops);
      run.applied = done.applied;
      run.stop = done.stop;
      run.decisions = a.decisions;
      run.version = a.version;
    }
  })["catch"](function () {});
  run.wait = function (cb) { answered.then(cb); };
  return run;
}
