// Starting the decision worker. Its script must be same-origin, so a CDN on another
// origin is reached through a same-origin blob: module that imports it (the CDN sends
// CORS for runtime/). `where` is the runtime directory (absolute, ending in "/"), or a
// promise of it when it is only known after a request (the npm package reads the
// CDN's runtime.json). Messages posted before the worker exists wait in order, behind
// the `init` message built for that directory. onError(stage, message): no decision
// will come from this worker.

export function openWorker(win, where, { init, onMessage, onError }) {
  if (typeof Worker === "undefined") throw new Error("no Worker support");
  let worker = null;
  let stopped = false;
  const waiting = [];
  function start(base) {
    if (stopped) return;
    try {
      const url = new URL("worker.js", base);
      if (url.origin === win.location.origin) {
        worker = new Worker(url, { type: "module" });
      } else {
        const blob = new Blob([`import ${JSON.stringify(url.href)};`], { type: "text/javascript" });
        worker = new Worker(URL.createObjectURL(blob), { type: "module" });
      }
    } catch (e) {
      onError("starting the decision worker", e && e.message);
      return;
    }
    worker.onmessage = (e) => onMessage(e.data || {});
    worker.onerror = (e) => onError("the decision worker", (e && e.message) || "script error");
    worker.postMessage(init(base));
    for (const m of waiting.splice(0)) worker.postMessage(m);
  }
  if (typeof where === "string") start(where);
  else where.then(start, (e) => { if (!stopped) onError("finding the runtime", e && e.message); });
  return {
    post(m) { if (worker) worker.postMessage(m); else if (!stopped) waiting.push(m); },
    stop() { stopped = true; if (worker) worker.terminate(); worker = null; },
  };
}
