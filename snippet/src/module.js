// @perso/browser: the runtime as an ES module, for apps built with a bundler.
//
//   import { perso } from "@perso/browser";
//   perso.init({ site: "demo-shop", cdn: "https://cdn.example.com", api: "https://api.example.com", apply: "none" });
//
// Importing it installs the same runtime as the snippet's perso.js (src/index.js), once
// per page: window.perso is this object, and a snippet stub already on the page hands
// over its queued calls. No stub ran, so the device's cached decisions for this view are
// looked up at init (perso.get() answers at once on a repeat view). The runtime
// directory is the one the CDN's runtime.json names (written by `perso bundle`). The
// debugger is a separate chunk, imported only by perso.debug(true) or ?perso_debug=1.
// Without window and document (server rendering) it installs nothing: `perso` is an
// inert object whose get() is null (and state() {decision: null, pending: false, view: null}).

import { boot } from "./index.js";
import { sanitizeToString } from "./sanitize.js";

export const VERSION = "0.1.0"; // = package.json "version" = infra.bundle.PERSO_VERSION (tests/unit/test_snippet_package.py)

const METHODS = "init consent track identify set page on off ready get state shown debug reset push".split(" ");

function runtimeOf(cdn) {
  return fetch(`${cdn}/runtime.json`, { credentials: "omit" })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${cdn}/runtime.json answered HTTP ${r.status}`))))
    .then((j) => {
      if (!j || typeof j.runtime !== "string" || !/^[\w.-]+$/.test(j.runtime)) throw new Error(`${cdn}/runtime.json names no runtime`);
      return j.runtime;
    });
}

const NOTHING = Object.freeze({ decision: null, pending: false, view: null });
function inert() {
  const api = { __loaded: false, version: VERSION };
  for (const m of METHODS) api[m] = () => api;
  api.get = () => null;
  api.state = () => NOTHING;
  return api;
}

function install() {
  try {
    return boot(window, { version: VERSION, runtime: runtimeOf, loadDebugger: () => import("./debug.js").then((m) => m.openDebugger) });
  } catch (e) {
    if (window.console) console.error("perso: the runtime failed to start; page defaults stay", e);
    return inert();
  }
}

export const perso = typeof window !== "undefined" && typeof document !== "undefined" ? install() : inert();
export default perso;

// `html` content as the runtime itself would put it in the page (the allowlist
// sanitizer of apply: "dom"), for an app that renders it (apply: "none"). Browser only.
export function sanitizeHtml(html) {
  return sanitizeToString(document, html);
}
