"""What the runtime sends for the report: a track of a goal the ruleset declares is a
conversion (the names come from the worker), any other name stays a track, and each
exposure carries its breakdown (device type, journey stage, new or returning).
"""

from __future__ import annotations

from typing import Any

from infra.local.devserver import DevServer
from tests.browser._pages import wait_until
from tests.browser._support import (
    IPHONE,
    RecordingApi,
    open_as_returning_visitor,
)


def test_declared_goals_are_conversions_and_exposures_carry_their_breakdown(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting visitor on a phone, on the demo, once the worker is ready
    _context, page, record = open_as_returning_visitor(
        new_context, dev_server.url + "/product.html?id=bag-01", **IPHONE, locale="en-US"
    )
    assert record["errors"] == [], record["errors"]

    # When the page tracks a declared goal (add_to_cart) and an undeclared name
    page.evaluate(
        "() => { perso.track('add_to_cart', {id: 'bag-01', value: 49.5});"
        " perso.track('newsletter_open', {list: 'weekly'}); }"
    )

    def named(name: str) -> list[dict[str, Any]]:
        return [e for e in api.events() if e.get("name") == name]

    wait_until(
        lambda: bool(named("add_to_cart")) and bool(named("newsletter_open")),
        page=page,
        timeout=15,
        what="both tracked events at the recording API",
    )

    # Then the goal arrived as a conversion with its value, the other as a track
    (goal,) = named("add_to_cart")
    assert goal["type"] == "conversion"
    assert goal["value"] == 49.5
    (other,) = named("newsletter_open")
    assert other["type"] == "track"

    # And every exposure of the view carries device, journey stage and new/returning
    exposures = [e for e in api.events() if e.get("type") == "exposure"]
    assert exposures, "no exposure reached the recording API"
    for exposure in exposures:
        props = exposure.get("props") or {}
        assert props.get("device") == "mobile", exposure
        assert isinstance(props.get("journey"), str) and props["journey"], exposure
        assert props.get("returning") is False, exposure  # the profile's first visit


def test_a_click_in_a_decided_slot_sends_one_click_per_slot_per_view(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting visitor on the demo, with a cart, once a slot got a decision
    # from an experience
    _context, page, _ = open_as_returning_visitor(
        new_context, dev_server.url + "/product.html?id=bag-01", **IPHONE, locale="en-US"
    )
    # (a cart makes the demo's cart experiences match this page's slots)
    page.evaluate(
        """() => { window.__decided = [];
  perso.on("decision", (d) => { window.__decided = d.decisions.filter((x) => x.experience
    && x.reason !== "holdout" && x.selector && document.querySelector(x.selector)); });
  perso.track("add_to_cart", {id: "bag-01"}); }"""
    )
    page.wait_for_function("() => window.__decided.length > 0", timeout=15_000)
    decided = page.evaluate(
        "() => window.__decided.map((x) => ({slot: x.slot, selector: x.selector,"
        " experience: x.experience, variant: x.variant}))"
    )
    first = decided[0]

    # When the visitor clicks inside that slot twice (links kept from navigating)
    page.evaluate("() => document.addEventListener('click', (e) => e.preventDefault())")
    for _ in range(2):
        page.evaluate(
            "(sel) => document.querySelector(sel).dispatchEvent("
            "new MouseEvent('click', {bubbles: true, cancelable: true}))",
            first["selector"],
        )

    def clicks() -> list[dict[str, Any]]:
        return [e for e in api.events() if e.get("type") == "click"]

    wait_until(lambda: bool(clicks()), page=page, timeout=15, what="the click event")
    page.wait_for_timeout(1_500)  # room for a second one, if there were one

    # Then one click arrived, naming the slot's experience, variant and slot
    (click,) = [c for c in clicks() if c.get("name") == first["slot"]]
    assert (click["experience"], click["variant"]) == (first["experience"], first["variant"])
