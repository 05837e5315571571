"""The instant path: on a repeat view the decisions cached for the same ruleset and
context are applied before first paint, with no hiding and no layout shift
(DESIGN §7, §10: CLS 0, content present when the DOM is ready).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from infra.local.devserver import DevServer
from tests.browser._support import IPHONE, RecordingApi, seed_returning_visitor, wait_for_decision

HERO_PT = "Bem-vindo à Perso Shop"
EVENING_VARIANTS = {
    "Boa noite, cliente! Frete grátis até as 23h",
    "Frete grátis para pedidos feitos hoje à noite",
}

# What the page looked like at DOMContentLoaded and at first paint, whether a slot was
# ever hidden, and the layout shift total, recorded from the first byte of the page.
OBSERVE = """
window.__seen = {cls: 0, hid: false, dcl: null, paint: null};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__seen.cls += e.value;
}).observe({type: "layout-shift", buffered: true});
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes)
    if (n.nodeName === "STYLE" && n.hasAttribute("data-perso-hide")) window.__seen.hid = true;
}).observe(document, {childList: true, subtree: true});
const grab = () => {
  const h = document.querySelector("#hero h1");
  const b = document.querySelector("[data-perso-slot=banner]");
  return {hero: h && h.textContent, banner: b && b.textContent, at: performance.now()};
};
document.addEventListener("DOMContentLoaded", () => { window.__seen.dcl = grab(); });
// The first frame can come before the parser has added a slot (None there means "not
// painted yet", not "painted without the content"): each slot's text is taken at the
// first frame in which its element exists, which is the first time it is painted.
const first = {};
const onFrame = () => {
  const g = grab();
  for (const k of ["hero", "banner"]) if (!(k in first) && g[k] !== null) first[k] = g[k];
  if ("hero" in first && "banner" in first) window.__seen.paint = {...first, at: g.at};
  else requestAnimationFrame(onFrame);
};
requestAnimationFrame(onFrame);
"""


def test_repeat_view_applies_cached_decisions_before_first_paint(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting Portuguese speaker on a phone, in the evening, who saw the home page
    context = new_context(**IPHONE, locale="pt-BR", timezone_id="America/Sao_Paulo")
    seed_returning_visitor(context)
    context.add_init_script(OBSERVE)
    page = context.new_page()
    page.clock.set_fixed_time("2026-11-20T23:30:00Z")
    page.goto(dev_server.url + "/")
    first = wait_for_decision(page)
    assert first["instant_applied"] is False  # nothing was cached yet
    banner_text = page.locator("[data-perso-slot=banner]").inner_text()
    assert banner_text in EVENING_VARIANTS
    page.wait_for_function("() => !!localStorage.getItem('perso:demo-shop:d')")

    # When they come back to the same page
    page.goto(dev_server.url + "/")
    record = wait_for_decision(page)
    page.wait_for_timeout(500)  # let a late shift, if any, be observed

    # Then the cached content was there at DOMContentLoaded and in the first frame that
    # painted each slot, nothing was hidden, and nothing moved
    seen = page.evaluate("window.__seen")
    assert record["instant_applied"] is True
    timeline = (
        f"perso.js ran at {record['runtime_start_ms']:.0f} ms, DOMContentLoaded at "
        f"{seen['dcl']['at']:.0f} ms, both slots painted by {seen['paint']['at']:.0f} ms"
    )
    assert _texts(seen["dcl"]) == {"hero": HERO_PT, "banner": banner_text}, timeline
    assert _texts(seen["paint"]) == {"hero": HERO_PT, "banner": banner_text}, timeline
    assert seen["hid"] is False
    assert seen["cls"] == 0
    expect(page.locator("#hero h1")).to_have_text(HERO_PT)


def _texts(grabbed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in grabbed.items() if k != "at"}


def test_first_view_without_consent_uses_no_cache(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a visitor who never consented and has seen the page before
    context = new_context(**IPHONE, locale="pt-BR")
    context.add_init_script(OBSERVE)
    page = context.new_page()
    page.goto(dev_server.url + "/")
    wait_for_decision(page)

    # When they come back
    page.goto(dev_server.url + "/")
    record = wait_for_decision(page)

    # Then there was nothing cached to apply: the worker decided again
    assert record["instant_applied"] is False
    expect(page.locator("#hero h1")).to_have_text(HERO_PT)
