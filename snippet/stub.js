/* perso loader stub: plain ES5, no dependencies. It queues calls, loads the runtime
 * once, asynchronously, and on a consented repeat view applies the decisions cached
 * for this context before first paint (the instant path, src/instant.js). Safe to
 * include twice: the second copy logs one console error and does nothing. With no
 * document (server rendering) it does nothing. Built with esbuild --target=es5. */
import { instantPath } from "./src/instant.js";

// esbuild wraps all of this in one function: nothing here leaks into the page's globals.
var w = typeof window != "undefined" && window, d = w && w.document, p;
function err(m) { w.console && console.error("perso: " + m); }
if (d) {
  p = w.perso = w.perso || [];
  if (p.__stub || p.__loaded) err("snippet included twice");
  else start();
}

function start() {
  p.__stub = 1;
  "init consent track identify set page on ready reset".split(" ").forEach(function (name) {
    p[name] = function () {
      p.push([name].concat([].slice.call(arguments)));
      return p;
    };
  });
  p.init = function (opts) {
    p.push(["init", opts]);
    if (p.__src) return p;
    var cdn = opts && opts.cdn;
    if (!cdn || typeof cdn != "string") return err("init needs a cdn"), p;
    p.__src = cdn.replace(/\/+$/, "") + "/perso.js";
    var s = d.createElement("script");
    s.async = true;
    s.src = p.__src;
    // (A runtime that cannot load leaves the page's defaults; the browser's console names the URL.)
    (d.head || d.documentElement).appendChild(s);
    p.__inst = instantPath(w, opts, p); // the cache, or the edge, or nothing
    return p;
  };
}
