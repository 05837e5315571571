/* perso loader stub: plain ES5, no dependencies, only queues calls and loads the
 * runtime once, asynchronously. Safe to include twice: the second copy logs one
 * console error and does nothing. With no document (server rendering) it does nothing. */
(function (w, d) {
  if (!w || !d) return;
  var p = (w.perso = w.perso || []);
  if (p.__stub || p.__loaded) {
    if (w.console && console.error) console.error("perso: the snippet is included twice; the second copy is ignored");
    return;
  }
  p.__stub = 1;
  var names = ["init", "consent", "track", "identify", "set", "page", "on", "ready", "reset"];
  function queue(name) {
    return function () {
      var args = Array.prototype.slice.call(arguments);
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
    if (!cdn) {
      if (w.console && console.error) console.error("perso: init needs {cdn: 'https://...'}; page defaults stay");
      return p;
    }
    p.__src = cdn + "/perso.js";
    var s = d.createElement("script");
    s.async = true;
    s.src = p.__src;
    s.onerror = function () {
      if (w.console && console.error) console.error("perso: could not load " + p.__src + "; page defaults stay");
    };
    (d.head || d.getElementsByTagName("head")[0] || d.documentElement).appendChild(s);
    return p;
  };
})(typeof window !== "undefined" ? window : null, typeof document !== "undefined" ? document : null);
