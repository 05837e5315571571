"""QA override: `?perso_force=experience:variant` on the demo shows that variant to the
person testing and sends no exposure for it (issue 10 §3, edge/decide/_force.py)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from infra.local.devserver import DevServer
from tests.browser._pages import LONE_VISITOR, events_of, seed_visitor, wait_until
from tests.browser._support import RecordingApi, wait_for_decision

# A personalization experience whose audience (a Portuguese-speaking mobile visitor in
# the evening) an English desktop visitor never matches.
FORCED = "evening-free-shipping"
VARIANT = "frete-hoje"
TEXT = "Frete grátis para pedidos feitos hoje à noite"

DECISIONS_JS = """
window.__decisions = [];
document.addEventListener("perso:decision", (e) => window.__decisions.push(e.detail));
"""


def test_forced_variant_is_shown_and_never_counted(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting English desktop visitor, outside the forced experience's audience
    context = new_context(locale="en-US")
    seed_visitor(context, LONE_VISITOR)
    context.add_init_script(DECISIONS_JS)
    page = context.new_page()

    # When they open the home page with the QA override
    page.goto(f"{dev_server.url}/?perso_force={FORCED}:{VARIANT}")
    wait_for_decision(page)

    # Then the banner shows the forced variant, decided with reason "forced"
    expect(page.locator("[data-perso-slot=banner]")).to_have_text(TEXT)
    decisions = page.evaluate("() => window.__decisions.at(-1).decisions")
    banner = next(d for d in decisions if d["slot"] == "banner")
    assert (banner["experience"], banner["variant"], banner["reason"]) == (
        FORCED,
        VARIANT,
        "forced",
    )

    # And once the events queued after the decision reached the API, none is an
    # exposure of the forced experience or of its slot
    page.evaluate("() => perso.track('qa_probe')")
    wait_until(
        lambda: any(e.get("name") == "qa_probe" for e in events_of(api, LONE_VISITOR)),
        page=page,
        what="the probe track to reach the API",
    )
    exposures = [e for e in events_of(api, LONE_VISITOR) if e.get("type") == "exposure"]
    assert [
        e for e in exposures if e.get("experience") == FORCED or e.get("slot") == "banner"
    ] == []

    # And a later view without the override is decided as usual (nothing forced was kept)
    page.goto(dev_server.url + "/")
    wait_for_decision(page)
    expect(page.locator("[data-perso-slot=banner]")).not_to_have_text(TEXT)
