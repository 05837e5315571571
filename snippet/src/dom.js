// Applying decisions to the DOM. Every change is revertible: the first touch of an
// element snapshots its attributes and child nodes (the nodes themselves, so their
// listeners survive a revert). Slots that appear later are caught by one
// MutationObserver.

import { UNSAFE_TAG } from "./instant.js";
import { contentAttr, safeUrl, sanitize } from "./sanitize.js";

const CHILD_KINDS = ["text", "html", "recommend"];
const list = (v) => (Array.isArray(v) ? v : String(v || "").split(/\s+/)).filter(Boolean);

export function renderRecommend(doc, value) {
  const items = Array.isArray(value) ? value : (value && (value.items || value.recommend)) || [];
  const ul = doc.createElement("ul");
  ul.className = "perso-recs";
  for (const it of items) {
    if (!it || typeof it !== "object") continue;
    const li = doc.createElement("li");
    li.className = "perso-rec";
    if (it.id != null) li.dataset.persoItem = String(it.id);
    const a = doc.createElement(it.url && safeUrl(it.url) ? "a" : "span");
    if (a.tagName === "A") a.href = String(it.url);
    if (it.image && safeUrl(it.image)) {
      const img = doc.createElement("img");
      img.src = String(it.image);
      img.alt = String(it.title || "");
      img.loading = "lazy";
      a.appendChild(img);
    }
    const t = doc.createElement("span");
    t.className = "perso-rec-title";
    t.textContent = String(it.title || it.id || "");
    a.appendChild(t);
    if (it.price != null) {
      const p = doc.createElement("span");
      p.className = "perso-rec-price";
      p.textContent = String(it.price);
      a.appendChild(p);
    }
    li.appendChild(a);
    ul.appendChild(li);
  }
  return ul;
}

function snapshot(el, content) {
  return {
    attrs: Array.from(el.attributes, (a) => [a.name, a.value]),
    children: CHILD_KINDS.some((k) => k in content) ? Array.from(el.childNodes) : null,
  };
}

export function revertElement(el, snap) {
  const keep = new Set(snap.attrs.map((a) => a[0]));
  for (const a of Array.from(el.attributes)) if (!keep.has(a.name)) el.removeAttribute(a.name);
  for (const [n, v] of snap.attrs) if (el.getAttribute(n) !== v) el.setAttribute(n, v);
  if (snap.children) el.replaceChildren(...snap.children);
}

export function applyContent(doc, el, content) {
  if ("text" in content) el.textContent = String(content.text ?? "");
  if ("html" in content) el.replaceChildren(sanitize(doc, content.html));
  if ("recommend" in content) el.replaceChildren(renderRecommend(doc, content.recommend));
  if (content.attrs && typeof content.attrs === "object") {
    for (const [n, v] of Object.entries(content.attrs)) {
      if (!contentAttr(n, v)) continue;
      if (v === null || v === false) el.removeAttribute(n);
      else el.setAttribute(n, String(v));
    }
  }
  if (content.class && typeof content.class === "object") {
    for (const c of list(content.class.add)) el.classList.add(c);
    for (const c of list(content.class.remove)) el.classList.remove(c);
  }
  if (content.hide) el.style.setProperty("display", "none", "important");
}

// Decisions as the stub's instant path replays them (src/instant.js applyOp): content
// already rendered and sanitized here, so the stub needs no sanitizer of its own.
export function cachedOps(doc, decisions) {
  const ops = [];
  for (const d of decisions) {
    const c = d.content;
    if (!c || typeof c !== "object" || !d.selector) continue;
    const op = { slot: d.slot, s: d.selector };
    const inner = {};
    for (const k of CHILD_KINDS) if (k in c) inner[k] = c[k];
    if (Object.keys(inner).length) {
      const box = doc.createElement("div");
      applyContent(doc, box, inner);
      op.h = box.innerHTML;
    }
    if (c.attrs && typeof c.attrs === "object") {
      op.a = {};
      for (const [n, v] of Object.entries(c.attrs)) {
        if (!contentAttr(n, v)) continue;
        op.a[n] = v === null || v === false ? null : String(v);
      }
    }
    if (c.class && typeof c.class === "object") op.c = { add: list(c.class.add), remove: list(c.class.remove) };
    if (c.hide) op.x = 1;
    if (Object.keys(op).length > 2) ops.push(op);
  }
  return ops;
}

// The DOM side of a page: which slot shows which content on which elements.
export function makeDom(doc) {
  const active = new Map(); // slot -> {selector, content, sig, els: Map<el, snap>}
  let observer = null;
  let scheduled = false;

  function applySlot(rec) {
    let nodes;
    try { nodes = doc.querySelectorAll(rec.selector); } catch { return 0; } // bad selector: defaults
    for (const el of nodes) {
      // A selector that reaches a script (or style, iframe...) gets nothing: see UNSAFE_TAG.
      if (rec.els.has(el) || UNSAFE_TAG.test(el.tagName)) continue;
      rec.els.set(el, snapshot(el, rec.content));
      applyContent(doc, el, rec.content);
    }
    return nodes.length;
  }
  function rescan() {
    scheduled = false;
    if (observer) observer.takeRecords();
    for (const rec of active.values()) applySlot(rec);
  }
  function watch() {
    if (observer || typeof MutationObserver === "undefined") return;
    observer = new MutationObserver(() => {
      if (!scheduled) { scheduled = true; queueMicrotask(rescan); }
    });
    observer.observe(doc.documentElement, { childList: true, subtree: true });
  }
  function revertSlot(slot) {
    const rec = active.get(slot);
    if (!rec) return;
    for (const [el, snap] of rec.els) revertElement(el, snap);
    active.delete(slot);
  }
  return {
    // entries: [{slot, selector, content}], content null = the page's default.
    // Returns the slots whose elements changed.
    apply(entries) {
      const changed = [];
      for (const e of entries) {
        const sig = JSON.stringify([e.selector, e.content]);
        const cur = active.get(e.slot);
        if (cur && cur.sig === sig) { applySlot(cur); continue; }
        if (cur) revertSlot(e.slot);
        if (e.content && e.selector) {
          const rec = { selector: e.selector, content: e.content, sig, els: new Map() };
          active.set(e.slot, rec);
          applySlot(rec);
        }
        changed.push(e.slot);
      }
      if (active.size) watch();
      return changed;
    },
    // Take over elements the stub already changed (entries as for apply, adopted:
    // [{slot, el, snap}]), keeping the stub's snapshots of the originals.
    adopt(entries, adopted) {
      for (const e of entries) {
        if (!e.content || !e.selector) continue;
        const rec = { selector: e.selector, content: e.content, sig: JSON.stringify([e.selector, e.content]), els: new Map() };
        for (const a of adopted) if (a.slot === e.slot) rec.els.set(a.el, a.snap);
        active.set(e.slot, rec);
        applySlot(rec);
      }
      if (active.size) watch();
    },
    revertSlot,
    revertAll() { for (const slot of Array.from(active.keys())) revertSlot(slot); },
    active,
    stop() { if (observer) observer.disconnect(); observer = null; },
  };
}

export function validSelector(doc, sel) {
  if (typeof sel !== "string" || !sel || /[{}]/.test(sel)) return false;
  try { doc.querySelector(sel); return true; } catch { return false; }
}

// Hides hide_until_decided slots with one injected style, for at most `ms`. Once the
// budget ran out or everything was shown, it never hides again: a ruleset that arrives
// late (the worker's `ready`) must not hide what the visitor already sees.
export function makeHider(doc, ms, onTimeout) {
  let style = null;
  let selectors = new Map(); // slot or "*" -> selector
  let over = false;
  function render() {
    if (!selectors.size) { if (style) style.remove(); style = null; return; }
    if (!style) {
      style = doc.createElement("style");
      style.setAttribute("data-perso-hide", "");
      (doc.head || doc.documentElement).appendChild(style);
    }
    // One rule per selector, so a selector the browser rejects cannot unhide the rest.
    style.textContent = Array.from(selectors.values(), (s) => `${s}{visibility:hidden!important}`).join("\n");
  }
  const timer = setTimeout(() => {
    over = true;
    if (selectors.size) { selectors.clear(); render(); onTimeout(); }
  }, ms);
  return {
    hide(map) {
      if (over) return;
      for (const [k, v] of Object.entries(map)) if (validSelector(doc, v)) selectors.set(k, v);
      render();
    },
    show(slot) { if (selectors.delete(slot)) render(); },
    showAll() { over = true; clearTimeout(timer); selectors = new Map(); render(); },
    get hidden() { return Array.from(selectors.keys()); },
  };
}
