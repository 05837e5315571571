/* perso loader stub: plain ES5, no dependencies. It queues calls, loads the runtime
 * once, asynchronously, and on a consented repeat view applies the decisions cached
 * for this context before first paint (the instant path, src/instant.js). Safe to
 * include twice: the second copy logs one console error and does nothing. With no
 * document (server rendering) it does nothing. Built with esbuild --target=es5. */
import { instantPath } from "./src/instant.js";

(function (w, d) {
  if (!w || !d) return;
  var p = (w.perso = w.perso || []);
  function err(m) { w.console && console.error("perso: " + m); }
  if (p.__stub || p.__loaded) return err("snippet included twice");
  p.__stub = 1;
  var names = "init consent track identify set page on ready reset".split(" ");
  function queue(name) {
    return function () {
      var args = [].slice.call(arguments);
      args.unshift(name);
      p.push(args);
      return p;
    };
  }
  for (var i = 0; i < names.length; i++) p[names[i]] = queue(names[i]);
  p.init = function (opts) {
    p.push(["init", opts]);
    if (p.__src) return p;
    var cdn = opts && typeof opts.cdn === "string" ? opts.cdn.replace(/\/+$/, "") : "";
    if (!cdn) return err("init needs a cdn"), p;
    p.__src = cdn + "/perso.js";
    var s = d.createElement("script");
    s.async = true;
    s.src = p.__src;
    s.onerror = function () { err("cannot load " + p.__src); };
    (d.head || d.documentElement).appendChild(s);
    p.__inst = instantPath(w, opts.site, p); // a missing site finds no cache
    return p;
  };
})(typeof window !== "undefined" ? window : null, typeof document !== "undefined" ? document : null);
