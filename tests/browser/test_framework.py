"""The calls a framework needs, on a plain page with the snippet: perso.get(slot),
perso.off(event, cb), init({apply: "none"}) (decide and report, touch no element,
record an exposure only when the app says the slot was shown, once per view), a
holdout visitor's decisions carrying their reason, and perso.state(slot) telling a view
still pending (after a route change, never the previous route's decision) from a
decided one (by the worker, or at once from the device cache).

The ruleset is tests/browser/_pages.py ROUTE_RULESET (hero by route, banner for all,
promo for desktops), served in place of the demo's.
"""

from __future__ import annotations

from typing import Any

from infra.local.devserver import DevServer
from tests.browser._pages import (
    HOLDOUT_VISITOR,
    VIEWS_JS,
    exposures,
    route_artifact,
    route_page,
    seed_visitor,
    snippet_head,
    wait_until,
)
from tests.browser._support import (
    DESKTOP,
    RecordingApi,
    seed_returning_visitor,
    serve_ruleset,
    wait_for_decision,
)

BODY = """
<h1 id="hero" data-slot="hero">Default hero</h1>
<div id="banner" data-slot="banner">Default banner</div>
<div id="promo" data-slot="promo">Default promo</div>
"""

# The slots as the parser left them at DOMContentLoaded, every change to them after
# that, and whether a hiding style was ever added.
WATCH_JS = """
window.__mutations = [];
window.__hid = false;
window.__atDcl = null;
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes)
    if (n.nodeName === "STYLE" && n.hasAttribute("data-perso-hide")) window.__hid = true;
}).observe(document, {childList: true, subtree: true});
document.addEventListener("DOMContentLoaded", () => {
  window.__atDcl = Array.from(document.querySelectorAll("[data-slot]"), (e) => e.outerHTML);
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (el && el.closest && el.closest("[data-slot]")) {
        window.__mutations.push(r.type + " " + el.id);
      }
    }
  }).observe(document.body, {
    childList: true, subtree: true, attributes: true, characterData: true,
  });
});
"""
AS_WRITTEN = [line.strip() for line in BODY.strip().splitlines()]


def _open(
    new_context: Any, dev_server: DevServer, *, visitor: str | None = None, **init: Any
) -> Any:
    context = new_context(**DESKTOP, locale="en-US")
    if visitor is None:
        seed_returning_visitor(context)
    else:
        seed_visitor(context, visitor)
    serve_ruleset(context, route_artifact())
    context.add_init_script(WATCH_JS)
    context.add_init_script(VIEWS_JS)
    url = dev_server.url + "/app/a"
    route_page(
        context,
        url,
        f"<!doctype html><html><head>{snippet_head(**init)}</head><body>{BODY}</body></html>",
    )
    page = context.new_page()
    page.goto(url)
    return page


def _probe(page: Any, api: RecordingApi, name: str) -> None:
    """Events go out in order, in batches: once `name` arrived, everything before it did."""
    page.evaluate("(n) => perso.track(n)", name)
    wait_until(
        lambda: any(
            e.get("props", {}).get("name") == name or e.get("name") == name for e in api.events()
        ),
        what=f"the {name} event at the API",
    )


def test_get_answers_the_current_decision_and_off_unsubscribes(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    page = _open(new_context, dev_server)
    # Before the first decision (the engine is still booting): null
    page.wait_for_function("() => window.perso && window.perso.__loaded === true")
    assert page.evaluate("() => perso.get('hero')") is None
    wait_for_decision(page)

    hero = page.evaluate("() => perso.get('hero')")
    assert hero == {
        "slot": "hero",
        "selector": "#hero",
        "experience": "hero-a",
        "variant": "a",
        "content": {"text": "Hero for A"},
        "reason": "matched",
    }
    assert page.evaluate("() => perso.get('no-such-slot')") is None
    # The same object while the decision does not change; frozen.
    assert page.evaluate(
        "() => perso.get('hero') === perso.get('hero') && Object.isFrozen(perso.get('hero'))"
    )

    # When one callback is removed with off() and the page re-decides
    counts = page.evaluate(
        """() => new Promise((resolve) => {
          const seen = {kept: 0, removed: 0};
          const removed = () => { seen.removed++; };
          const kept = () => { seen.kept++; if (seen.kept === 2) resolve(seen); };
          perso.on("decision", removed).on("decision", kept);   // each called at once with the last
          perso.off("decision", removed);
          perso.set({plan: "gold"});                              // a new decision
        })"""
    )
    # Then only the one still subscribed hears the new decision
    assert counts == {"kept": 2, "removed": 1}
    # and get() kept the unchanged hero's object across the re-decision
    assert page.evaluate("() => perso.get('hero').variant") == "a"


def test_apply_none_decides_without_touching_the_page_and_exposes_on_shown(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting visitor on a page that renders its slots itself
    page = _open(new_context, dev_server, apply="none")
    wait_for_decision(page)

    # Then every slot is decided, and no element was changed or hidden
    got = page.evaluate("() => ['hero', 'banner', 'promo'].map((s) => perso.get(s).content.text)")
    assert got == ["Hero for A", "Banner for everyone", "Promo for desktops"]
    assert page.evaluate("() => window.__atDcl") == AS_WRITTEN
    assert page.evaluate("() => window.__mutations") == []
    assert page.evaluate("() => window.__hid") is False
    # and no exposure was recorded: the app has shown nothing yet
    _probe(page, api, "probe-1")
    assert exposures(api, page) == []

    # When the app shows the hero (three times) and the banner, and never the promo
    page.evaluate("() => { perso.shown('hero').shown('hero').shown('banner').shown('hero'); }")
    _probe(page, api, "probe-2")
    first = exposures(api, page)
    # Then one exposure each, in this view
    assert sorted(x for x, _ in first) == ["banner-all", "hero-a"]
    assert len({v for _, v in first}) == 1

    # When a new view starts (a route change to the same URL) and the hero is shown again
    page.evaluate(
        """() => new Promise((resolve) => {
          let n = 0;
          const cb = (d) => { if (++n === 2) { perso.off('decision', cb); resolve(d.view); } };
          perso.on('decision', cb);   // 1: the last decision, at once; 2: the new view's
          perso.page();
        })"""
    )
    page.evaluate("() => perso.shown('hero')")
    _probe(page, api, "probe-3")
    second = exposures(api, page)[len(first) :]
    # Then the hero counts once more, for the new view
    assert [x for x, _ in second] == ["hero-a"]
    assert second[0][1] not in {v for _, v in first}
    assert page.evaluate("() => window.__mutations") == []


def test_apply_none_repeat_view_reports_cached_decisions_and_touches_nothing(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    page = _open(new_context, dev_server, apply="none")
    wait_for_decision(page)
    page.wait_for_function("() => !!localStorage.getItem('perso:demo-shop:d')")
    # When the visitor comes back
    page.reload()
    page.wait_for_function("() => window.perso && window.perso.__loaded === true")
    # Then the decisions cached on the device are there as soon as the runtime is,
    # without waiting for the worker, and the stub changed nothing in the page
    early = page.evaluate(
        "() => [perso.get('hero') && perso.get('hero').variant,"
        " window.__persoDebug.instant_applied]"
    )
    assert early == ["a", True]
    wait_for_decision(page)
    assert page.evaluate("() => window.__atDcl") == AS_WRITTEN
    assert page.evaluate("() => window.__mutations") == []


def test_holdout_visitor_gets_defaults_with_the_reason(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a visitor who accepted and falls in the 5% holdout
    page = _open(new_context, dev_server, visitor=HOLDOUT_VISITOR)
    page.evaluate(
        "() => { window.__details = []; perso.on('decision', (d) => window.__details.push(d)); }"
    )
    wait_for_decision(page)

    # Then every slot keeps its default and says why, in get() and in the decision event
    slots = page.evaluate("() => ['hero', 'banner', 'promo'].map((s) => perso.get(s))")
    assert [(d["experience"], d["reason"]) for d in slots] == [(None, "holdout")] * 3
    details = page.evaluate("() => window.__details.filter((d) => d.source === 'worker')")
    assert details and {d["reason"] for d in details[-1]["decisions"]} == {"holdout"}
    assert page.locator("#hero").inner_text() == "Default hero"
    # and the holdout's own exposure is recorded once for the view
    _probe(page, api, "probe-holdout")
    assert [x for x, _ in exposures(api, page)] == ["__holdout__"]


def test_state_tells_a_pending_view_from_a_decided_one_across_route_changes(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a page that renders its slots itself and lets them wait up to 60 s
    page = _open(new_context, dev_server, apply="none", hide=60000)
    page.wait_for_function("() => window.perso && window.perso.__loaded === true")
    # Then before the first decision the view is pending (get() has nothing either)
    early = page.evaluate("() => [perso.state('hero'), perso.get('hero')]")
    assert early[0]["pending"] is True and early[0]["decision"] is None and early[1] is None
    wait_for_decision(page)
    decided = page.evaluate(
        """() => { const s = perso.state('hero');
          return {s, same: s === perso.state('hero') && Object.isFrozen(s),
                  isGet: s.decision === perso.get('hero'), view: window.__views.at(-1)}; }"""
    )
    assert decided["s"]["pending"] is False and decided["s"]["decision"]["variant"] == "a"
    assert decided["same"] and decided["isGet"] and decided["s"]["view"] == decided["view"]

    # When the app moves to a route this device never saw: the URL first, then page()
    steps = page.evaluate(
        """() => new Promise((resolve) => {
          const out = {events: []};
          perso.on('state', (d) => {
            out.events.push(d);
            const now = perso.state('hero');
            if (!d.pending && now.decision) { out.done = now; resolve(out); }
          });
          history.pushState(null, '', '/app/b');
          out.urlChanged = perso.state('hero');          // the router rendered before page()
          perso.page();
          out.afterPage = perso.state('hero');
          out.get = perso.get('hero').variant;
        })"""
    )
    # Then the view is pending from the URL change on, with no decision (not route A's),
    # while get() keeps the last decision until the new one arrives
    assert steps["urlChanged"]["pending"] is True and steps["urlChanged"]["decision"] is None
    assert steps["afterPage"]["pending"] is True and steps["afterPage"]["decision"] is None
    assert steps["afterPage"]["view"] != decided["view"]
    assert steps["get"] == "a"
    # and then it is decided, which the "state" event announced
    assert steps["done"]["decision"]["variant"] == "b" and steps["done"]["pending"] is False
    assert steps["events"][0] == {"view": steps["afterPage"]["view"], "pending": True}

    # When the app goes back to a route whose decisions this device cached
    back = page.evaluate(
        """() => {
          history.pushState(null, '', '/app/a');
          perso.page();
          return perso.state('hero');
        }"""
    )
    # Then page() decided it at once, from the cache: never pending
    assert back["pending"] is False and back["decision"]["variant"] == "a"
    assert back["view"] != steps["afterPage"]["view"]
