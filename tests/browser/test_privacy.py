"""Privacy in the browser: before consent nothing is stored on the device and nothing
reaches /v1/ but the first view's `POST /v1/decide`, which carries no identifier (the
page's signals and "no consent"); after consent both happen (so the checks can see
them); revoking consent wipes every storage area again.

"Storage" is all of it: localStorage, sessionStorage, cookies (page and context),
IndexedDB and Cache Storage.
"""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect

from infra.local.devserver import DevServer
from tests.browser._support import (
    IPHONE,
    STORAGE_SNAPSHOT_JS,
    RecordingApi,
    storage_snapshot,
    wait_for_decision,
)

EMPTY = {"local": {}, "session": {}, "cookies": "", "indexeddb": [], "cache_storage": []}


def _empty(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in snapshot.items() if k != "context_cookies"}


def _identifier_free_decide(path: str, body: bytes | None) -> bool:
    """`POST /v1/decide` without consent or visitor id: what a page may send before consent
    (the stub's first-view request, issue 8); anything else to /v1/ is not allowed."""
    if not path.split("?")[0].endswith("/v1/decide") or not body:
        return False
    try:
        sent = json.loads(body)
    except ValueError:
        return False
    consent = sent.get("consent") or {}
    return (
        sent.get("visitor") is None
        and consent.get("analytics") is not True
        and consent.get("personalization") is not True
    )


def _watch_api(context: Any) -> list[str]:
    """What the browser sent to /v1/, but for identifier-free first-view decide requests."""
    seen: list[str] = []

    def note(r: Any) -> None:
        if "/v1/" in r.url and not _identifier_free_decide(r.url, r.post_data_buffer):
            seen.append(f"{r.method} {r.url}")

    context.on("request", note)
    return seen


def _sent(api: RecordingApi) -> list[Any]:
    """What reached the API, but for identifier-free first-view decide requests."""
    return [r for r in api.requests if not _identifier_free_decide(r.path, r.body)]


def test_nothing_is_stored_or_sent_before_consent(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a first-time visitor on a phone who never answers the consent banner
    context = new_context(**IPHONE, locale="pt-BR")
    browser_saw = _watch_api(context)
    page = context.new_page()

    # When they browse, are personalized, add to cart, buy and leave pages
    page.goto(dev_server.url + "/")
    wait_for_decision(page)
    expect(page.locator("#hero h1")).to_have_text("Bem-vindo à Perso Shop")  # perso did run
    page.goto(dev_server.url + "/product.html?id=jacket-01")
    wait_for_decision(page)
    page.click("#add-to-cart")
    page.goto(dev_server.url + "/cart.html?items=jacket-01")
    wait_for_decision(page)
    page.click("#purchase")
    page.goto(dev_server.url + "/")  # pagehide: where a queue would be flushed
    wait_for_decision(page)

    # Then no storage area holds anything and no request went to the event API
    snapshot = storage_snapshot(page)
    assert _empty(snapshot) == EMPTY
    assert snapshot["context_cookies"] == []
    assert browser_saw == []
    # The server side too. A page that an earlier test closed may still deliver its
    # pagehide beacon to this shared dev server; such a batch belongs to a consented
    # visitor and names its id, which this visitor never had.
    assert [r for r in _sent(api) if _anonymous(r)] == []


def test_consent_stores_and_sends_and_revoking_wipes_everything(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a visitor who accepts on the consent banner
    context = new_context(**IPHONE, locale="pt-BR")
    page = context.new_page()
    page.goto(dev_server.url + "/")
    wait_for_decision(page)
    page.click("#consent-accept")
    page.goto(dev_server.url + "/product.html?id=tee-01")
    wait_for_decision(page)
    page.click("#add-to-cart")

    # Then perso stores its state and the events reach the API (the checks can fail)
    page.wait_for_function(
        "() => Object.keys(localStorage).some((k) => k.startsWith('perso:demo-shop:'))"
    )
    page.wait_for_function("async () => (await caches.keys()).length > 0", timeout=60_000)
    expect(page.locator("#consent")).to_be_hidden()
    page.wait_for_timeout(1500)  # the queue flushes one second after the last event
    page.goto(dev_server.url + "/")
    wait_for_decision(page)
    assert api.event_ids(), "no event reached /v1/events after consent"

    # When the visitor withdraws consent from the privacy choices
    page.click("#privacy-choices")
    page.click("#consent-decline")

    # Then every storage area is empty again, and nothing more is sent
    page.wait_for_function(
        f"async () => {{ const s = await ({STORAGE_SNAPSHOT_JS})();"
        " return Object.keys(s.local).length === 0 && Object.keys(s.session).length === 0"
        " && s.cookies === '' && s.indexeddb.length === 0 && s.cache_storage.length === 0; }",
        timeout=10_000,
    )
    sent_before = len(_sent(api))
    page.goto(dev_server.url + "/product.html?id=cap-01")
    wait_for_decision(page)
    page.click("#add-to-cart")
    page.wait_for_timeout(1500)
    page.goto(dev_server.url + "/")
    wait_for_decision(page)
    snapshot = storage_snapshot(page)
    assert _empty(snapshot) == EMPTY
    assert snapshot["context_cookies"] == []
    assert len(_sent(api)) == sent_before
    expect(page.locator("#consent")).to_be_visible()  # the choice is not remembered either


# Values a careless site or CMP wrapper might pass for "yes": none of them is consent.
NOT_CONSENT = ["yes", "on", 1, "true"]


def test_only_json_true_counts_as_consent(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a stored choice and a call queued in the stub before perso.js loads, both
    # with truthy values that are not `true`
    context = new_context(**IPHONE, locale="pt-BR")
    context.add_init_script(
        """localStorage.setItem("perso:demo-shop:c",
             JSON.stringify({analytics: "yes", personalization: 1}));
           window.perso = [["consent", {analytics: "on", personalization: "true"}]];"""
    )
    browser_saw = _watch_api(context)
    page = context.new_page()
    page.goto(dev_server.url + "/")
    wait_for_decision(page)

    # When the site also calls perso.consent with each of them, and the visitor acts
    for value in NOT_CONSENT:
        page.evaluate("(v) => perso.consent({analytics: v, personalization: v})", value)
    page.evaluate("perso.track('add_to_cart', {id: 'tee-01', price: 79.9})")
    page.wait_for_timeout(1500)  # the queue would flush one second after the last event

    # Then nothing was granted: no visitor id, no profile, nothing sent
    assert page.evaluate("Object.keys(localStorage)") == ["perso:demo-shop:c"]
    assert browser_saw == [] and [r for r in _sent(api) if _anonymous(r)] == []

    # And JSON true does grant (so the checks above can fail)
    page.evaluate("perso.consent({analytics: true, personalization: true})")
    page.wait_for_function("() => !!localStorage.getItem('perso:demo-shop:id')")


def _anonymous(request: Any) -> bool:
    """A request that carries no visitor id: the only kind this unconsented visitor could send."""
    try:
        body = request.json()
    except ValueError:
        return True
    return not (isinstance(body, dict) and body.get("visitor"))
