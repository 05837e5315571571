// The debugger in the page: perso.debug(true) or ?perso_debug=1. Loaded on demand
// (perso-debug.js next to perso.js, or a chunk of the npm package), never part of
// perso.js. For every slot it shows the decision and its reason, with the core's own
// explanation (which condition of the audience failed, which cap, ...), the ruleset
// version, and whether the view was applied ahead of time from the device cache or
// waited for the worker; it prints the same to the console. The page can close it.
//
// It only reads: the decisions, and the worker's explanation of the last one (edge's
// explain mode on the inputs the worker already holds). It changes no decision and
// sends nothing. Every text is put in with textContent: experience and variant ids,
// attribute names and messages are data, never markup.

const REASONS = {
  matched: "an experience filled the slot",
  holdout: "the visitor is in the global holdout: every slot keeps its default",
  consent: "an experience needs a consent (or a visitor id) the visitor has not given",
  schedule: "no experience for this slot is scheduled now",
  audience: "the visitor is not in the audience",
  frequency_cap: "the frequency cap is reached",
  policy: "the page policy (experiences per page, exposures per session) is reached",
  coverage: "the visitor is outside the experience's coverage",
  slot_taken: "a multivariate experience takes all its slots or none, and another of its slots is held",
  no_recommendations: "no recommendations left after filtering",
  no_match: "no experience targets this slot",
  error: "the decision failed; defaults shown",
};

const CSS = `
:host { all: initial; }
.panel { position: fixed; right: 8px; bottom: 8px; z-index: 2147483647; box-sizing: border-box;
  width: min(560px, calc(100vw - 16px)); max-height: 60vh; overflow: auto; padding: 8px 10px;
  background: #111; color: #eee; font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace;
  border-radius: 6px; box-shadow: 0 4px 16px rgba(0,0,0,.4); }
header { display: flex; justify-content: space-between; align-items: center; margin-bottom: 4px; }
h2 { font-size: 13px; margin: 0; }
button { all: unset; cursor: pointer; padding: 0 6px; font-size: 16px; color: #eee; }
button:focus-visible { outline: 1px solid #8cf; }
p { margin: 2px 0; color: #bbb; }
table { border-collapse: collapse; width: 100%; margin-top: 6px; }
th, td { text-align: left; vertical-align: top; padding: 2px 6px 2px 0; border-top: 1px solid #333; }
.why { color: #bbb; }
.error { color: #f88; }
`;

function shows(d) {
  if (d.experience == null) return "page default";
  return `${d.experience} / ${d.variant}${d.content == null ? " (control: page default)" : ""}`;
}

function ms(x) { return typeof x === "number" ? `${Math.round(x)} ms` : "?"; }

function viewLine(view, source) {
  if (!view) return "";
  if (view.ahead) {
    const then = view.worker_ms != null ? `; the worker answered ${ms(view.worker_ms)} after the view started` : "; the worker has not answered yet";
    return `view applied ahead of time from the device cache (instant path, ${ms(view.instant_ms)})${then}`;
  }
  if (view.worker_ms != null) return `view waited for the worker: decided ${ms(view.worker_ms)} after it started`;
  return `view waiting for the worker (${source || "nothing"} so far)`;
}

// The rows of the report: one per slot, with the explanation's lines when it has them.
export function report(detail, explanation) {
  const why = new Map();
  if (explanation && explanation.ok && Array.isArray(explanation.decisions)) {
    for (const x of explanation.decisions) why.set(x.slot, Array.isArray(x.trace) ? x.trace.map(String) : []);
  }
  return (detail ? detail.decisions : []).map((d) => {
    const lines = why.get(d.slot);
    const reason = d.reason == null ? "unknown" : String(d.reason);
    return {
      slot: String(d.slot), shows: shows(d), reason,
      why: lines && lines.length ? lines : [REASONS[reason] || reason],
    };
  });
}

export function openDebugger(inspector, win) {
  const doc = win.document;
  const el = (tag, text, cls) => {
    const e = doc.createElement(tag);
    if (text != null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const host = el("div");
  host.setAttribute("data-perso-debug", "");
  const root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("style", CSS));
  const panel = el("section", null, "panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "perso debugger");
  const header = el("header");
  const close = el("button", "×");
  close.setAttribute("aria-label", "Close the perso debugger");
  close.setAttribute("data-perso-debug-close", "");
  header.append(el("h2", "perso debugger"), close);
  const body = el("div");
  panel.append(header, body);
  root.appendChild(panel);
  (doc.body || doc.documentElement).appendChild(host);

  let shown = null; // the detail on screen
  let explanation = null;
  let printed = null;

  function render() {
    const st = inspector.state();
    const rows = report(shown, explanation);
    const lines = [
      `ruleset ${st.ruleset || (shown && shown.version) || "not loaded yet"}${st.preview ? " (preview: this tab only)" : ""} · runtime ${st.runtime || "?"} · perso ${inspector.version} · apply ${inspector.apply}`,
      viewLine(st.view, shown && shown.source),
      `consent: analytics ${st.consent.analytics ? "yes" : "no"}, personalization ${st.consent.personalization ? "yes" : "no"} (${st.consent.source || "none"})`,
    ];
    if (explanation && explanation.ok) for (const t of explanation.trace || []) lines.push(String(t));
    if (shown && shown.journey) lines.push(`journey stage: ${shown.journey}`);
    const kids = lines.filter(Boolean).map((t) => el("p", t));
    for (const e of st.errors) kids.push(el("p", e, "error"));
    if (explanation && !explanation.ok) kids.push(el("p", `no explanation: ${explanation.error}`, "error"));
    const table = el("table");
    const head = el("tr");
    for (const h of ["slot", "shows", "reason", "why"]) head.appendChild(el("th", h));
    table.appendChild(head);
    for (const r of rows) {
      const tr = el("tr");
      tr.setAttribute("data-slot", r.slot);
      const why = el("td", null, "why");
      for (const w of r.why) why.appendChild(el("div", w));
      tr.append(el("td", r.slot), el("td", r.shows), el("td", r.reason), why);
      table.appendChild(tr);
    }
    if (!rows.length) kids.push(el("p", "no decision yet"));
    body.replaceChildren(...kids, table);
  }

  function print() {
    if (printed === shown || !win.console) return;
    printed = shown;
    const st = inspector.state();
    console.info(`perso debug: ruleset ${shown.version}, ${viewLine(st.view, shown.source)}`);
    if (explanation && explanation.ok) for (const t of explanation.trace || []) console.info(`perso debug: ${t}`);
    for (const r of report(shown, explanation)) console.info(`perso debug: ${r.slot}: ${r.shows} (${r.reason}): ${r.why.join("; ")}`);
  }

  function onDecision(detail) {
    shown = detail;
    explanation = null;
    render();
    inspector.explain().then((x) => {
      if (shown !== detail || !host.isConnected) return; // a newer decision came meanwhile
      explanation = x;
      render();
      print();
    });
  }

  const unsubscribe = inspector.subscribe(onDecision);
  const api = {
    close() {
      unsubscribe();
      host.remove();
      inspector.closed();
    },
  };
  close.addEventListener("click", () => api.close());
  const last = inspector.state().last;
  if (last) onDecision(last); else render();
  return api;
}
