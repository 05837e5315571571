"""The debugger in the page: off by default and not loaded at all; `?perso_debug=1` or
`perso.debug(true)` loads perso-debug.js and shows, in an overlay the page can close and
in the console, each slot's decision and reason (with the core's explanation: which
audience condition failed), the ruleset version, and whether the view was applied
ahead of time or waited for the worker. It changes no decision and sends nothing, and
a hostile id or condition name in the ruleset is shown as text and runs nothing.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from edge.artifact import encode
from edge.compiler import compile_text
from edge.model import Ruleset
from infra.local.devserver import DevServer
from tests.browser._pages import (
    HOLDOUT_VISITOR,
    LONE_VISITOR,
    ROUTE_RULESET,
    events_of,
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

OVERLAY = "[data-perso-debug] section[role=dialog]"
# How long a line that needs the worker's explanation may take to appear: the worker
# answers in order, after the next views' preparation, on a machine that may be busy.
EXPLAINED_MS = 30_000
NOW = "2026-11-20T15:00:00Z"  # before Black Friday, not evening anywhere near


def _open(new_context: Any, *, visitor: str | None = None) -> tuple[Any, list[str], list[str]]:
    context = new_context(**DESKTOP, locale="en-US", timezone_id="America/New_York")
    if visitor is None:
        seed_returning_visitor(context)
    else:
        seed_visitor(context, visitor)
    page = context.new_page()
    page.clock.set_fixed_time(NOW)
    logs: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: logs.append(m.text))
    page.on("request", lambda r: requests.append(r.method + " " + r.url))
    return page, logs, requests


def _row(page: Any, slot: str) -> Any:
    return page.locator(f"{OVERLAY} tr[data-slot='{slot}']")


def test_off_by_default_nothing_is_loaded(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    page, logs, requests = _open(new_context)
    page.goto(dev_server.url + "/")
    wait_for_decision(page)
    page.wait_for_timeout(300)
    assert not any("perso-debug.js" in r for r in requests)
    assert page.locator("[data-perso-debug]").count() == 0
    assert page.evaluate("() => window.__persoDebugUI") is None
    assert not any(line.startswith("perso debug:") for line in logs)


def test_query_parameter_opens_the_overlay_with_each_slot_and_why(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given an English desktop visitor on the demo home page with ?perso_debug=1
    page, logs, requests = _open(new_context)
    page.goto(dev_server.url + "/?perso_debug=1")
    record = wait_for_decision(page)

    # Then the overlay lists every slot of the ruleset, the decision and the reason, with
    # the core's explanation of which condition failed
    expect(page.locator(OVERLAY)).to_be_visible()
    expect(_row(page, "hero")).to_contain_text("page default")
    expect(_row(page, "hero")).to_contain_text("audience")
    # (the explanation is the worker's answer; it may queue behind the next views'
    # preparation on a busy machine)
    expect(_row(page, "hero")).to_contain_text(
        "hero-pt: audience failed at language", timeout=EXPLAINED_MS
    )
    slots = page.locator(f"{OVERLAY} tr[data-slot]").evaluate_all(
        "(rows) => rows.map((r) => r.dataset.slot)"
    )
    assert sorted(slots) == [
        "banner",
        "checkout",
        "cta",
        "hero",
        "landing",
        "newsletter",
        "promo",
        "recs",
    ]
    # the ruleset version, and that this first view waited for the worker
    version = page.evaluate(
        """() => new Promise((r) => perso.on('decision', function cb(d) {
          perso.off('decision', cb);
          r(d.version);
        }))"""
    )
    assert isinstance(version, str) and version
    text = page.locator(OVERLAY).inner_text()
    assert f"ruleset {version}" in text and f"runtime {record['runtime']}" in text
    assert "view waited for the worker" in text
    # and the console says the same
    wait_until(
        lambda: any(line.startswith("perso debug: hero: page default (audience)") for line in logs),
        page=page,
        what="the debugger's console lines",
    )
    assert any("hero-pt: audience failed at language" in line for line in logs)
    assert any(r.endswith("/cdn/perso-debug.js") for r in requests)

    # When the page closes it, then reopens it with perso.debug(true)
    page.locator(f"{OVERLAY} [data-perso-debug-close]").click()
    expect(page.locator("[data-perso-debug]")).to_have_count(0)
    page.evaluate("() => perso.debug(true)")
    # (the worker's explanation again: it may queue behind the next views' preparation)
    expect(_row(page, "hero")).to_contain_text("audience failed at", timeout=EXPLAINED_MS)
    page.evaluate("() => perso.debug(false)")
    expect(page.locator("[data-perso-debug]")).to_have_count(0)

    # When the visitor comes back (the decisions cached on the device)
    page.wait_for_function("() => !!localStorage.getItem('perso:demo-shop:d')")
    page.goto(dev_server.url + "/?perso_debug=1")
    wait_for_decision(page)
    # Then the overlay says the view was applied ahead of time
    expect(page.locator(OVERLAY)).to_contain_text(
        "view applied ahead of time from the device cache", timeout=EXPLAINED_MS
    )


def test_holdout_is_the_reason_shown(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    page, _, _ = _open(new_context, visitor=HOLDOUT_VISITOR)
    page.goto(dev_server.url + "/?perso_debug=1")
    wait_for_decision(page)
    # The slot this consenting visitor would have been personalized in says holdout...
    expect(_row(page, "cta")).to_contain_text("withheld, the visitor is in the global holdout")
    # ...and a slot nothing would have matched keeps its own reason, not a consent it has.
    expect(_row(page, "banner")).to_contain_text(
        "audience failed at language", timeout=EXPLAINED_MS
    )
    expect(_row(page, "banner")).not_to_contain_text("not granted")
    expect(page.locator(OVERLAY)).to_contain_text("holdout: visitor is in the 5% global holdout")


def _run(
    new_context: Any, api: RecordingApi, url: str, probe: str, skip: list[str]
) -> dict[str, Any]:
    """One view of `url` by LONE_VISITOR on a fresh device; the events it sent (not those
    with ids in `skip`, an earlier run's), its decisions and its requests."""
    page, logs, requests = _open(new_context, visitor=LONE_VISITOR)
    page.goto(url)
    wait_for_decision(page)
    if "perso_debug" in url:
        wait_until(
            lambda: any(line.startswith("perso debug: landing") for line in logs),
            page=page,
            what="the explanation",
        )
    decisions = page.evaluate(
        "(slots) => slots.map((s) => perso.get(s))",
        ["hero", "banner", "promo", "cta", "newsletter", "recs", "checkout", "landing"],
    )
    page.evaluate("(n) => perso.track(n)", probe)
    wait_until(
        lambda: any(e.get("name") == probe for e in events_of(api, LONE_VISITOR)),
        page=page,
        what=f"the {probe} event",
    )
    # Everything this page sent before its probe (events go out in order, in batches).
    sent = events_of(api, LONE_VISITOR)
    sent = sent[: [e.get("name") for e in sent].index(probe)]
    seen = set(skip)
    events = sorted(
        (str(e.get("type")), str(e.get("experience")), str(e.get("variant")))
        for e in sent
        if e.get("id") not in seen
    )
    paths = sorted({re.sub(r"\?.*$", "", r) for r in requests if "perso-debug.js" not in r})
    page.context.close()
    ids = [str(e.get("id")) for e in events_of(api, LONE_VISITOR)]
    return {"decisions": decisions, "events": events, "requests": paths, "ids": ids}


def test_debugger_changes_no_decision_and_sends_nothing(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # The same visitor, device and moment, without and with the debugger
    plain = _run(new_context, api, dev_server.url + "/", "probe-plain", [])
    debug_url = dev_server.url + "/?perso_debug=1"
    debugged = _run(new_context, api, debug_url, "probe-debug", plain["ids"])
    assert plain["events"], "the plain view sent no event to compare with"
    assert debugged["decisions"] == plain["decisions"]
    assert debugged["events"] == plain["events"]
    assert debugged["requests"] == plain["requests"]


HOSTILE_ID = '<img src=x onerror="window.__pwned=1">'
HOSTILE_VARIANT = "<script>window.__pwned=2</script>"
HOSTILE_KEY = "<img src=y onerror=window.__pwned=3>"


def _hostile_artifact() -> bytes:
    result = compile_text(ROUTE_RULESET)
    assert result.ruleset is not None
    data = result.ruleset.to_dict()
    for exp in data["experiences"]:
        if exp["id"] == "banner-all":
            exp["id"] = HOSTILE_ID
            exp["variants"][0]["id"] = HOSTILE_VARIANT
        if exp["id"] == "promo-desktop":
            exp["audience"] = {HOSTILE_KEY: "yes"}
    return encode(Ruleset.from_dict(data)).data


def test_overlay_shows_hostile_ids_as_text(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a ruleset whose experience id, variant id and an audience key are markup
    page, _, _ = _open(new_context)
    page.context.route("**/x.png", lambda route: route.abort())
    serve_ruleset(page.context, _hostile_artifact())
    url = dev_server.url + "/app/a?perso_debug=1"
    body = (
        '<h1 id="hero">Default hero</h1><div id="banner">Default banner</div>'
        '<div id="promo">Default promo</div>'
    )
    route_page(
        page.context,
        url,
        f"<!doctype html><html><head>{snippet_head()}</head><body>{body}</body></html>",
    )
    page.goto(url)
    wait_for_decision(page)

    # Then the overlay shows them as text, and nothing in them ran or was parsed as markup
    expect(_row(page, "banner")).to_contain_text(f"{HOSTILE_ID} / {HOSTILE_VARIANT}")
    expect(_row(page, "promo")).to_contain_text(
        f"audience failed at {HOSTILE_KEY}", timeout=EXPLAINED_MS
    )
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    inside = page.evaluate(
        "() => document.querySelector('[data-perso-debug]').shadowRoot"
        ".querySelectorAll('img, script').length"
    )
    assert inside == 0
    assert page.locator("img").count() == 0
