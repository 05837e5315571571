// Allowlist HTML sanitizer for `html` content, built on <template> (inert: nothing
// in it runs or loads while we walk it). Unknown elements are unwrapped (their text
// stays); dangerous ones are dropped with their contents; attributes are kept only
// when allowlisted, never on*, and URLs only with a safe scheme.

const DROP = new Set(["SCRIPT", "STYLE", "IFRAME", "OBJECT", "EMBED", "LINK", "META", "BASE",
  "FRAME", "FRAMESET", "NOSCRIPT", "TEMPLATE", "SVG", "MATH", "FORM", "INPUT", "TEXTAREA",
  "SELECT", "BUTTON", "APPLET", "PORTAL", "TITLE"]);
const KEEP = new Set(("A ABBR ARTICLE ASIDE B BDI BDO BLOCKQUOTE BR CAPTION CITE CODE COL " +
  "COLGROUP DATA DD DEL DETAILS DFN DIV DL DT EM FIGCAPTION FIGURE FOOTER H1 H2 H3 H4 H5 H6 " +
  "HEADER HR I IMG INS KBD LI MAIN MARK NAV OL P PICTURE PRE Q S SAMP SECTION SMALL SOURCE " +
  "SPAN STRONG SUB SUMMARY SUP TABLE TBODY TD TFOOT TH THEAD TIME TR U UL VAR WBR").split(" "));
const ATTRS = new Set(["class", "id", "title", "lang", "dir", "role", "alt", "href", "src",
  "srcset", "sizes", "width", "height", "target", "rel", "colspan", "rowspan", "datetime",
  "loading", "decoding", "media", "type", "open", "value", "cite"]);
const URL_ATTRS = new Set(["href", "src", "cite", "action", "formaction", "xlink:href", "poster", "background"]);

export function safeUrl(value) {
  // Browsers ignore control characters and whitespace inside a scheme, so strip them
  // before looking at it ("java\tscript:" is javascript:).
  const v = String(value).replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(v);
  if (!m) return true; // relative URL
  return ["http", "https", "mailto", "tel"].includes(m[1].toLowerCase());
}

export function safeAttr(name, value) {
  const n = String(name).toLowerCase();
  if (n.startsWith("on") || n === "srcdoc" || n === "style" && /expression|url\s*\(\s*['"]?\s*javascript/i.test(value)) return false;
  if (URL_ATTRS.has(n) && !safeUrl(value)) return false;
  if (n === "srcset" && String(value).split(",").some((c) => !safeUrl(c.trim().split(/\s+/)[0] || ""))) return false;
  return true;
}

// Attributes `attrs` content may set on a page element: the html allowlist above minus
// `type` (it turns a JSON-LD block into a script, a button into a submit), plus data-*,
// aria-* and style; every value still passes safeAttr (no script URL, no expression()).
export function contentAttr(name, value) {
  const n = String(name).toLowerCase();
  const known = (ATTRS.has(n) && n !== "type") || n === "style" || /^(data|aria)-[-a-z0-9_.]+$/.test(n);
  return known && safeAttr(n, value);
}

function clean(node) {
  for (const child of Array.from(node.childNodes)) {
    if (child.nodeType === 3) continue; // text
    if (child.nodeType !== 1) { child.remove(); continue; } // comments, PIs
    const tag = child.tagName.toUpperCase();
    if (DROP.has(tag)) { child.remove(); continue; }
    clean(child);
    if (!KEEP.has(tag)) { child.replaceWith(...Array.from(child.childNodes)); continue; }
    for (const a of Array.from(child.attributes)) {
      const n = a.name.toLowerCase();
      const ok = (ATTRS.has(n) || n.startsWith("data-") || n.startsWith("aria-")) && safeAttr(n, a.value);
      if (!ok) child.removeAttribute(a.name);
    }
    if (child.getAttribute("target") === "_blank") child.setAttribute("rel", "noopener noreferrer");
  }
}

// Returns a DocumentFragment holding only allowlisted nodes.
export function sanitize(doc, html) {
  const t = doc.createElement("template");
  t.innerHTML = String(html);
  clean(t.content);
  return t.content;
}

export function sanitizeToString(doc, html) {
  const box = doc.createElement("div");
  box.appendChild(sanitize(doc, html));
  return box.innerHTML;
}
