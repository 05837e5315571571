"""Deciding ahead (issue 8): after a page's `load`, in idle time, the runtime has the
worker decide the visitor's next views (this page again, the next session's first
view, the page's links, the next time window) and stores them, so the next view is
personalized by the stub before first paint, with Python off the critical path: no
worker before `load`, and no slot changing after first paint.
"""

from __future__ import annotations

import json
from typing import Any

from infra.local.devserver import DevServer
from tests.browser._pages import route_artifact, route_page, snippet_head
from tests.browser._support import (
    DESKTOP,
    STORAGE_SNAPSHOT_JS,
    RecordingApi,
    debug,
    demo_ruleset_data,
    encode_ruleset_data,
    seed_returning_visitor,
    serve_ruleset,
    wait_for_decision,
)

HERO_PT = "Bem-vindo à Perso Shop"
HERO_REPUBLISHED = "Olá de novo, Perso Shop"

# Recorded from the page's first byte: `load`, and in every animation frame (a frame is
# what gets painted) the text of each slot that exists by then: window.__ahead.painted
# [slot] lists the texts painted, in order, repeats dropped. One entry: the slot never
# changed on the screen.
RECORDER = """
window.__ahead = {load: null, painted: {}};
addEventListener("load", () => { window.__ahead.load = performance.now(); });
window.__slots = () => {
  const out = {};
  const h = document.querySelector("#hero h1");
  if (h) out.hero = h.textContent;
  for (const el of document.querySelectorAll("[data-perso-slot], [data-slot]"))
    out[el.getAttribute("data-perso-slot") || el.getAttribute("data-slot")] = el.textContent.trim();
  return out;
};
const sample = () => {
  for (const [slot, text] of Object.entries(window.__slots())) {
    const seen = (window.__ahead.painted[slot] = window.__ahead.painted[slot] || []);
    if (seen[seen.length - 1] !== text) seen.push(text);
  }
  requestAnimationFrame(sample);
};
requestAnimationFrame(sample);
"""

WAIT_PREPARED = (
    "() => { const d = window.__persoDebug;"
    " return !!d && d.prepares > 0 && !d.preparing && document.readyState === 'complete'; }"
)


def _settled(page: Any) -> dict[str, Any]:
    """The view once loaded and idle: its debug record and its recorder."""
    page.wait_for_function(WAIT_PREPARED, timeout=90_000)
    page.wait_for_timeout(300)  # a late change, if any, would be recorded by now
    record = debug(page)
    seen: dict[str, Any] = page.evaluate("() => ({...window.__ahead, now: window.__slots()})")
    return {"debug": record, "seen": seen}


def _assert_decided_ahead(view: dict[str, Any]) -> None:
    record, seen = view["debug"], view["seen"]
    assert record["ahead"] is True and record["instant_applied"] is True, record
    # No worker before `load` (started after it in idle time, or not at all)...
    started = record["worker_started_ms"]
    assert started is None or started >= seen["load"], (started, seen["load"])
    # ... and no slot changed on the screen: each painted one text, the one it shows now
    changed = {k: v for k, v in seen["painted"].items() if len(v) != 1}
    assert changed == {}, changed
    assert {k: v[0] for k, v in seen["painted"].items()} == seen["now"]


def _route_pages(context: Any, dev_server: DevServer) -> None:
    """/app/a and /app/b (tests/browser/_pages.py ROUTE_RULESET: the hero depends on the
    path), each with the snippet and a link to the other."""
    serve_ruleset(context, route_artifact())
    for here, there in (("a", "b"), ("b", "a")):
        route_page(
            context,
            f"{dev_server.url}/app/{here}",
            f"<!doctype html><html><head>{snippet_head()}</head><body>"
            '<h1 id="hero" data-slot="hero">Default hero</h1>'
            '<div id="banner" data-slot="banner">Default banner</div>'
            f'<a id="next" href="/app/{there}">{there}</a></body></html>',
        )


def test_returning_visitors_new_page_is_personalized_before_first_paint(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting returning visitor on page A, decided by the worker
    context = new_context(**DESKTOP, locale="en-US")
    seed_returning_visitor(context)
    _route_pages(context, dev_server)
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.goto(dev_server.url + "/app/a")
    first = wait_for_decision(page)
    assert first["instant_applied"] is False
    home = _settled(page)
    assert home["debug"]["prepared"] > 0, home["debug"]
    assert page.locator("#hero").inner_text() == "Hero for A"

    # When they follow the link to page B, which they never saw
    page.click("#next")
    page.wait_for_url("**/app/b")
    view = _settled(page)

    # Then B's hero was in the page when it was parsed and first painted, Python was
    # not asked before load, and nothing in a slot changed after
    _assert_decided_ahead(view)
    assert view["seen"]["now"]["hero"] == "Hero for B", view["seen"]
    assert view["seen"]["now"]["banner"] == "Banner for everyone", view["seen"]
    record = view["debug"]
    print(
        f"\npage B: load at {view['seen']['load']:.0f} ms, worker started at "
        f"{record['worker_started_ms']}, prepared {record['prepared']}"
    )


def test_next_sessions_first_view_is_decided_ahead(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given an English speaker's first visit (a new visitor: the page's default hero)
    context = new_context(**DESKTOP, locale="en-US", timezone_id="UTC")
    seed_returning_visitor(context)
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.clock.set_fixed_time("2026-11-20T14:05:00Z")
    page.goto(dev_server.url + "/")
    wait_for_decision(page)
    _settled(page)
    assert page.evaluate("() => JSON.parse(localStorage.getItem('perso:demo-shop:p')).visits") == 1
    default_hero = page.locator("#hero h1").inner_text()

    # When they come back 31 minutes later: a new session, their second visit
    page.clock.set_fixed_time("2026-11-20T14:36:00Z")
    page.goto(dev_server.url + "/")
    view = _settled(page)

    # Then the returning visitor's greeting was there before first paint, prepared ahead
    _assert_decided_ahead(view)
    assert view["seen"]["now"]["hero"].startswith("Welcome back"), view["seen"]["now"]
    assert default_hero != view["seen"]["now"]["hero"]
    assert page.evaluate("() => JSON.parse(localStorage.getItem('perso:demo-shop:p')).visits") == 2


def test_a_republished_ruleset_is_taken_up_on_the_next_view_only(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a returning Portuguese speaker whose home page was prepared ahead
    context = new_context(**DESKTOP, locale="pt-BR")
    seed_returning_visitor(context)
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.goto(dev_server.url + "/")
    wait_for_decision(page)
    _settled(page)
    page.goto(dev_server.url + "/")
    before = _settled(page)
    _assert_decided_ahead(before)
    assert before["seen"]["now"]["hero"] == HERO_PT
    old_version = json.loads(page.evaluate("() => localStorage.getItem('perso:demo-shop:d')"))["v"]

    # When the site republishes with a new Portuguese hero, and the visitor reloads
    data = demo_ruleset_data()
    for exp in data["experiences"]:
        if exp["id"] == "hero-pt":
            exp["variants"][0]["content"] = {"text": HERO_REPUBLISHED}
    serve_ruleset(context, encode_ruleset_data(data))
    page.goto(dev_server.url + "/")
    current = _settled(page)
    page.wait_for_function(
        "(v) => { const c = JSON.parse(localStorage.getItem('perso:demo-shop:d'));"
        " return c && c.v !== v && !window.__persoDebug.preparing; }",
        arg=old_version,
        timeout=90_000,
    )
    page.wait_for_timeout(300)

    # Then the view it was published during kept what it showed from first paint ...
    _assert_decided_ahead(current)
    assert all(len(v) == 1 for v in page.evaluate("() => window.__ahead.painted").values())
    assert page.locator("#hero h1").inner_text() == HERO_PT
    # ... and the next view shows the new hero before first paint
    page.goto(dev_server.url + "/")
    after = _settled(page)
    _assert_decided_ahead(after)
    assert after["seen"]["now"]["hero"] == HERO_REPUBLISHED


def test_nothing_is_prepared_or_stored_before_consent(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a visitor who has not consented, on two pages
    context = new_context(**DESKTOP, locale="pt-BR")
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.goto(dev_server.url + "/")
    wait_for_decision(page)
    page.wait_for_load_state("load")
    page.wait_for_timeout(1500)  # past the debounce and idle time a preparation waits for
    page.click("main a[href='/product.html?id=jacket-01']")
    page.wait_for_url("**/product.html?id=jacket-01")
    record = wait_for_decision(page)
    page.wait_for_load_state("load")
    page.wait_for_timeout(1500)

    # Then nothing was decided ahead, nothing applied from a cache, nothing stored
    assert record["prepared"] == 0 and record["prepares"] == 0, record
    assert record["ahead"] is False
    stored = page.evaluate(STORAGE_SNAPSHOT_JS)
    assert stored["local"] == {}, stored["local"]
    assert stored["cache_storage"] == [], stored["cache_storage"]


# The stub's run for a first view it asked the edge about (the contract in
# src/index.js startView): `wait(cb)` calls back once the answer was applied (decisions
# set) or failed (decisions stays null). Stood in for here until the stub makes it.
EDGE_RUN = """
window.__edgeAnswer = %s;
window.perso = Object.assign([["init", {site: "demo-shop", cdn: "/cdn", api: "/v1"}]], {
  __stub: 1,
  __inst: {
    applied: [], decisions: null, version: null, source: "edge",
    stop() { this.stopped = true; },
    wait(cb) {
      setTimeout(() => {
        if (window.__edgeAnswer) {
          this.decisions = window.__edgeAnswer;
          this.version = "edge-version";
          document.querySelector("#hero").textContent = window.__edgeAnswer[0].content.text;
        }
        cb();
      }, 50);
    },
  },
});
"""
EDGE_HERO = [
    {
        "slot": "hero",
        "selector": "#hero",
        "experience": "hero-a",
        "variant": "a",
        "content": {"text": "Hero from the edge"},
        "reason": "matched",
    }
]


def _edge_page(context: Any, dev_server: DevServer, answer: Any) -> Any:
    serve_ruleset(context, route_artifact())
    route_page(
        context,
        f"{dev_server.url}/app/a",
        f"<!doctype html><html><head><script>{EDGE_RUN % json.dumps(answer)}</script>"
        '<script async src="/cdn/perso.js"></script></head><body>'
        '<h1 id="hero" data-slot="hero">Default hero</h1></body></html>',
    )
    page = context.new_page()
    page.goto(dev_server.url + "/app/a")
    return page


def test_an_edge_answer_decides_the_first_view_and_a_failed_one_falls_back(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting visitor's first view, which the stub asked the edge about
    context = new_context(**DESKTOP, locale="en-US")
    seed_returning_visitor(context)
    page = _edge_page(context, dev_server, EDGE_HERO)

    # When the edge's answer comes within the hide budget
    page.wait_for_function("() => window.__persoDebug && window.__persoDebug.source !== null")
    ready = page.evaluate("() => new Promise((r) => perso.ready(r))")
    page.wait_for_timeout(500)
    record = debug(page)

    # Then it decides the view: no worker decision for it, the edge's content stays
    assert record["source"] == "edge" and record["ahead"] is True, record
    assert record["decide"] is None  # the worker decided nothing for this view
    assert ready["ok"] is True and ready["source"] == "edge"
    assert page.evaluate("() => perso.get('hero').variant") == "a"
    assert page.locator("#hero").inner_text() == "Hero from the edge"

    # When the edge fails on another first view
    other = new_context(**DESKTOP, locale="en-US")
    seed_returning_visitor(other)
    page = _edge_page(other, dev_server, None)
    record = wait_for_decision(page)

    # Then the worker decides it, as on any first view
    assert record["source"] == "worker" and record["ahead"] is False, record
    assert page.locator("#hero").inner_text() == "Hero for A"
