// Starting the decision worker. `where` is the runtime directory (absolute, ending in
// "/"), or a promise of it when it is only known after a request (the npm package reads
// the CDN's runtime.json). Messages posted before the worker exists wait in order,
// behind the `init` message built for that directory. onError(stage, message): no
// decision will come from this worker.
//
// Which worker: where the browser has SharedWorker and the worker script is
// same-origin with the page, a SharedWorker named "perso:<site>", asked for an
// `extendedLifetime` (Chromium 148+): every page of the site in this browser profile
// talks to one engine, and it outlives a same-tab navigation, so Python boots once per
// visit instead of once per page (a browser without the option still shares it between
// open tabs). Otherwise a dedicated module Worker, one per page. A worker script must be
// same-origin, so a CDN on another origin is reached through a blob: module that
// imports it (the CDN sends CORS for runtime/); a blob: URL is unique to the page that
// made it, so that worker can never be shared, and it is a dedicated one.
//
// A shared worker that already serves another site, CDN or runtime under the same name
// answers the first INIT with an error marked `retry: "dedicated"`: this page then
// starts its own dedicated worker and replays what it had sent.

import * as P from "./protocol.js";

export function openWorker(win, where, { init, onMessage, onError }) {
  if (typeof Worker === "undefined") throw new Error("no Worker support");
  let channel = null; // {post(m), close()}
  let stopped = false;
  const waiting = [];

  function dedicated(url, base, replay) {
    let worker;
    if (url.origin === win.location.origin) {
      worker = new Worker(url, { type: "module" });
    } else {
      const blob = new Blob([`import ${JSON.stringify(url.href)};`], { type: "text/javascript" });
      worker = new Worker(URL.createObjectURL(blob), { type: "module" });
    }
    worker.onmessage = (e) => onMessage(e.data || {});
    worker.onerror = (e) => onError("the decision worker", (e && e.message) || "script error");
    worker.postMessage(init(base));
    for (const m of replay) worker.postMessage(m);
    return { post: (m) => worker.postMessage(m), close: () => worker.terminate() };
  }

  function shared(url, base) {
    const first = init(base);
    const worker = new win.SharedWorker(url, { type: "module", name: `perso:${first.site}`, extendedLifetime: true });
    const port = worker.port;
    // Sent before the worker's first answer, in case it refuses this page (see above).
    let sent = [];
    const leave = () => port.postMessage({ type: P.LEAVE });
    // Back from the back/forward cache: the page counts again (its consent included).
    const back = (e) => { if (e.persisted) port.postMessage(init(base)); };
    win.addEventListener("pagehide", leave);
    win.addEventListener("pageshow", back);
    const close = () => {
      win.removeEventListener("pagehide", leave);
      win.removeEventListener("pageshow", back);
      leave();
      port.close();
    };
    port.onmessage = (e) => {
      const m = e.data || {};
      if (sent) {
        const replay = sent.slice(1);
        sent = null;
        if (m.type === P.ERROR && m.retry === "dedicated") {
          close();
          try {
            channel = dedicated(url, base, replay);
          } catch (err) {
            channel = null;
            onError("starting the decision worker", err && err.message);
          }
          return;
        }
      }
      onMessage(m);
    };
    worker.onerror = (e) => onError("the decision worker", (e && e.message) || "script error");
    const post = (m) => { if (sent) sent.push(m); port.postMessage(m); };
    post(first);
    return { post, close };
  }

  function start(base) {
    if (stopped) return;
    const url = new URL("worker.js", base);
    const sameOrigin = url.origin === win.location.origin;
    // A preview (src/preview.js) runs its own engine: a shared one serves the live ruleset.
    if (sameOrigin && typeof win.SharedWorker === "function" && !init(base).preview) {
      try {
        channel = shared(url, base);
      } catch {
        channel = null; // refused here (a sandboxed frame, blocked storage): a dedicated one
      }
    }
    if (!channel) {
      try {
        channel = dedicated(url, base, []);
      } catch (e) {
        onError("starting the decision worker", e && e.message);
        return;
      }
    }
    for (const m of waiting.splice(0)) channel.post(m);
  }
  if (typeof where === "string") start(where);
  else where.then(start, (e) => { if (!stopped) onError("finding the runtime", e && e.message); });
  return {
    post(m) { if (channel) channel.post(m); else if (!stopped) waiting.push(m); },
    // A dedicated worker is terminated; a shared one cannot be (other pages may use
    // it): this page disconnects and keeps its defaults.
    stop() { stopped = true; if (channel) channel.close(); channel = null; },
  };
}
