"""Rules are data, never code: `html` content carrying scripts or event handlers,
`text` that looks like markup, and `attrs` with handlers or javascript: URLs are
applied without anything executing (a window flag stays unset).

The artifact is built here from the demo ruleset with hostile content put straight
into the model, bypassing the compiler's checks, as a tampered or buggy artifact would.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from infra.local.devserver import DevServer
from tests.browser._support import (
    DESKTOP,
    RecordingApi,
    demo_ruleset_data,
    encode_ruleset_data,
    fixed_experience,
    serve_ruleset,
    wait_for_decision,
)

HOSTILE_HTML = (
    "<strong>Olá</strong>"
    "<img src=x onerror=\"window.__pwned='img onerror'\">"
    "<script>window.__pwned='script'</script>"
    "<svg onload=\"window.__pwned='svg onload'\"></svg>"
    "<a id=evil href=\"javascript:window.__pwned='javascript: link'\">link</a>"
    "<iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe>"
)
HOSTILE_TEXT = "<img src=x onerror=\"window.__pwned='text'\">"


def _hostile_artifact() -> bytes:
    data = demo_ruleset_data()
    data["experiences"] = [
        fixed_experience("x-html", "hero", {"html": HOSTILE_HTML}),
        fixed_experience("x-text", "banner", {"text": HOSTILE_TEXT}),
        fixed_experience(
            "x-attrs",
            "cta",
            {
                "text": "Go",
                "attrs": {
                    "href": "javascript:window.__pwned='href'",
                    "onclick": "window.__pwned='onclick'",
                    "data-ok": "kept",
                },
            },
        ),
    ]
    return encode_ruleset_data(data)


def test_hostile_content_is_shown_but_never_executed(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given an artifact whose content carries scripts, handlers and javascript: URLs
    context = new_context(**DESKTOP, locale="en-US")
    serve_ruleset(context, _hostile_artifact())
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    # When the page applies it and the visitor clicks what it produced
    page.goto(dev_server.url + "/")
    record = wait_for_decision(page)
    assert record["errors"] == []
    hero = page.locator("#hero h1")
    expect(hero.locator("strong")).to_have_text("Olá")  # the html content was applied
    expect(page.locator("[data-perso-slot=banner]")).to_have_text(HOSTILE_TEXT)
    expect(page.locator("#cta")).to_have_text("Go")
    expect(page.locator("#cta")).to_have_attribute("data-ok", "kept")
    page.wait_for_timeout(1_000)  # time for an image error or a load handler to fire

    # Then no handler or script made it into the page
    assert hero.locator("script, iframe, [onerror], [onload]").count() == 0
    assert page.locator("[data-perso-slot=banner] img").count() == 0
    assert page.locator("#cta").get_attribute("onclick") is None
    cta_href = page.locator("#cta").get_attribute("href") or ""
    assert not cta_href.strip().lower().startswith("javascript:")
    link = hero.locator("a")
    link_href = (link.first.get_attribute("href") or "") if link.count() else ""
    assert not link_href.strip().lower().startswith("javascript:")

    # And nothing ran, even when the visitor clicks the link the html brought
    here = page.url
    if link.count():
        link.first.click(no_wait_after=True)
        page.wait_for_timeout(500)
    assert page.url == here
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
