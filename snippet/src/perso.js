// perso.js, the runtime as the CDN serves it (esbuild --format=iife): the stub loads it
// and it replaces the stub. The npm package's entry is src/module.js; both install the
// same runtime (src/index.js).

import { boot } from "./index.js";

/* global __PERSO_VERSION__, __PERSO_RUNTIME__ */
const VERSION = typeof __PERSO_VERSION__ === "string" ? __PERSO_VERSION__ : "dev";
const RUNTIME = typeof __PERSO_RUNTIME__ === "string" ? __PERSO_RUNTIME__ : "dev";

// perso-debug.js sits next to perso.js and hands its openDebugger over on a global.
function loadDebugger(cdn) {
  return new Promise((resolve, reject) => {
    if (window.__persoDebugUI) return resolve(window.__persoDebugUI);
    const s = document.createElement("script");
    s.async = true;
    s.src = `${cdn}/perso-debug.js`;
    s.onload = () => (window.__persoDebugUI ? resolve(window.__persoDebugUI) : reject(new Error(`${s.src} did not start`)));
    s.onerror = () => reject(new Error(`cannot load ${s.src}`));
    (document.head || document.documentElement).appendChild(s);
  });
}

if (typeof window !== "undefined" && typeof document !== "undefined") {
  try {
    boot(window, { version: VERSION, runtime: () => RUNTIME, loadDebugger });
  } catch (e) {
    if (window.console) console.error("perso: the runtime failed to start; page defaults stay", e);
  }
}
