// QA preview of an unpublished ruleset: `perso deploy FILE --preview` uploads the
// artifact (content-addressed, the pointer unmoved) and prints the site's page with
// `?perso_preview=<sha256>`. That tab then runs on that artifact:
//
// - the mark is kept in sessionStorage, so it holds for the tab's navigation and is
//   forgotten when the tab closes; `?perso_preview=off` ends it at once;
// - the worker is told `preview: sha` in INIT and fetches
//   `${cdn}/rulesets/<site>/<sha>.msgpack` itself (the CDN's origin only), checks its
//   sha256, and neither reads nor writes Cache Storage or the last good artifact;
// - the page sends no exposure and neither reads nor writes the device's decision cache
//   (the stub's instant path skips too: src/instant.js), so nothing of a preview is
//   counted or kept, and `perso.get()` and the debugger say `preview`;
// - a missing or altered artifact leaves the page's defaults and one console line.
//
// The mark is the tester's own doing on their own device, like ?perso_force=, not a
// visitor's data: it is kept without consent and never sent anywhere.

export const PREVIEW_PARAM = "perso_preview";
const MARK = /[?&]perso_preview=([^&#]*)/;
const SHA = /^[0-9a-f]{64}$/;
const key = (site) => `perso:${site}:preview`;

// The sha256 this tab previews, or null. Reads the URL first (a sha keeps it, "off"
// clears it), then what the tab kept. `log(sentence)` is told of a mark it ignores.
export function previewOf(win, site, log) {
  let store = null;
  try { store = win.sessionStorage; } catch { /* blocked: this page only */ }
  const asked = MARK.exec(win.location.search);
  if (asked) {
    const value = decodeURIComponent(asked[1]).toLowerCase();
    if (value === "off") {
      try { if (store) store.removeItem(key(site)); } catch { /* nothing kept */ }
      return null;
    }
    if (SHA.test(value)) {
      try { if (store) store.setItem(key(site), value); } catch { /* this page only */ }
      return value;
    }
    if (log) log(`?${PREVIEW_PARAM}= takes a ruleset's sha256 (64 hex digits) or "off", not ${JSON.stringify(asked[1].slice(0, 80))}; ignored`);
  }
  try {
    const kept = store && store.getItem(key(site));
    return kept && SHA.test(kept) ? kept : null;
  } catch {
    return null;
  }
}

// Where the preview's artifact is: the same layout and origin as the pointer's.
export function previewUrl(cdn, site, sha) {
  return `${cdn}/rulesets/${site}/${sha}.msgpack`;
}

// The worker's side: the preview's artifact, checked against its sha256 and never kept
// (no Cache Storage, no last good). `digest(bytes)` is the worker's sha256 in hex. A
// failure is one sentence: the page then keeps its defaults.
export async function loadPreview(cdn, site, sha, digest) {
  if (!SHA.test(String(sha))) throw new Error(`the preview ${JSON.stringify(String(sha).slice(0, 80))} is not a sha256`);
  const url = previewUrl(cdn, site, sha);
  const res = await fetch(url, { credentials: "omit" });
  if (!res.ok) throw new Error(`the preview ${sha.slice(0, 12)}… is not on the CDN (${url} answered HTTP ${res.status})`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const sum = await digest(bytes);
  if (sum !== sha) throw new Error(`the preview's artifact has sha256 ${sum.slice(0, 12)}…, not ${sha.slice(0, 12)}…`);
  return { bytes, sha256: sum, version: sha.slice(0, 16), source: "preview" };
}
