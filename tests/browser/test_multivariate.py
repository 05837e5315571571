"""A multivariate experience in Chromium (issue 12 §3): a visitor sees one combination
across the factors' slots on every view (the worker's first decision, then repeat views
applied from the device cache), and the combination's exposure reaches the API once
per view.

The ruleset is this file's (two factors on hero and cta), served in place of the demo's
on a page of its own; events are read for this test's visitor and views only (a page
another test closed may still send its queue).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from edge.artifact import encode
from edge.compiler import compile_text
from edge.decide import decide
from edge.model import Ruleset
from infra.local.devserver import DevServer
from tests.browser._pages import (
    VIEWS_JS,
    events_of,
    route_page,
    seed_visitor,
    snippet_head,
    wait_until,
)
from tests.browser._support import (
    DESKTOP,
    SITE,
    RecordingApi,
    debug,
    serve_ruleset,
    wait_for_decision,
)

RULESET = f"""
site: {SITE}
slots:
  hero: "#hero"
  cta: "#cta"
experiences:
  - id: home-mvt
    type: multivariate
    goals: [purchase]
    factors:
      headline:
        slot: hero
        levels: [{{id: default}}, {{id: short, content: {{text: "Short headline"}}}}]
      button:
        slot: cta
        levels: [{{id: default}}, {{id: bold, content: {{class: {{add: [btn-bold]}}}}}}]
"""
BODY = '<h1 id="hero">Default headline</h1><button id="cta" class="btn">Buy</button>'
VIEWS = 3


def _compiled() -> Ruleset:
    result = compile_text(RULESET)
    assert result.ruleset is not None, result.problems
    return result.ruleset


def _visitor(combination: str) -> str:
    """The first test visitor id the core assigns `combination` (as the worker will)."""
    ruleset = _compiled()
    consent = {"analytics": True, "personalization": True}
    for n in range(1000):
        visitor = f"55555555-0000-4000-8000-{n:012d}"
        result = decide(ruleset, {"id": visitor, "consent": consent}, {}, datetime.now(UTC))
        if result.decisions[0].variant == combination:
            return visitor
    raise AssertionError(f"no test visitor gets {combination}")


@pytest.mark.parametrize(
    ("combination", "headline", "button"),
    [
        ("short.bold", "Short headline", "btn btn-bold"),
        ("default.bold", "Default headline", "btn btn-bold"),
    ],
)
def test_one_combination_across_its_slots_on_every_view_and_one_exposure_each(
    new_context: Any,
    dev_server: DevServer,
    api: RecordingApi,
    combination: str,
    headline: str,
    button: str,
) -> None:
    # Given a consenting visitor whom the core assigns this combination (a default level
    # keeps its slot's own content, and still counts as the combination's)
    visitor = _visitor(combination)
    context = new_context(**DESKTOP, locale="en-US")
    seed_visitor(context, visitor)
    serve_ruleset(context, encode(_compiled()).data)
    context.add_init_script(VIEWS_JS)
    url = dev_server.url + "/mvt/home"
    route_page(
        context,
        url,
        f"<!doctype html><html><head>{snippet_head()}</head><body>{BODY}</body></html>",
    )
    page = context.new_page()
    views: list[str] = []
    sources: list[bool] = []
    for n in range(VIEWS):
        # When they open the page (a first view, then repeat views)
        if n == 0:
            page.goto(url)
        else:
            page.reload()
        wait_for_decision(page)
        # Then both slots show the combination's levels, and the decisions agree
        expect(page.locator("#hero")).to_have_text(headline)
        expect(page.locator("#cta")).to_have_class(button)
        got = page.evaluate(
            "() => ['hero', 'cta'].map((s) => { const d = perso.get(s);"
            " return [d.experience, d.variant, d.reason]; })"
        )
        assert got == [["home-mvt", combination, "matched"]] * 2
        sources.append(bool(debug(page)["instant_applied"]))
        # And once this view's events reached the API (a probe sent after them), the
        # combination's exposure for this view is in (checked once all views are done)
        probe = f"mvt-probe-{n}"
        page.evaluate("(name) => perso.track(name)", probe)
        wait_until(
            lambda probe=probe: any(e.get("name") == probe for e in events_of(api, visitor)),
            page=page,
            what=f"the {probe} event at the API",
        )
        views += [v for v in page.evaluate("() => window.__views") if v not in views]
    exposures = [
        (e.get("experience"), e.get("variant"), e.get("slot"), (e.get("props") or {}).get("view"))
        for e in events_of(api, visitor)
        if e.get("type") == "exposure"
    ]
    assert len(views) == VIEWS
    exposures.sort(key=lambda x: views.index(str(x[3])))
    assert [(x, v, view) for x, v, _slot, view in exposures] == [
        ("home-mvt", combination, view) for view in views
    ]
    # The worker's exposure names the first factor's slot; a view replayed from the
    # device cache records the experience once, under the first of its slots it applies.
    assert exposures[0][2] == "hero" and {x[2] for x in exposures} <= {"hero", "cta"}
    # The repeat views were applied from the device cache before the worker answered.
    assert sources == [False, True, True]
