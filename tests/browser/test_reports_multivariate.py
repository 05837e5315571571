"""The multivariate report's HTML in Chromium: the factor tables and the effects' forest
plot (inline SVG, no script) drew with a real size."""

from __future__ import annotations

from playwright.sync_api import BrowserContext

from infra.report import render_html
from tests.unit.test_report_multivariate import BANNER, BUTTON, FULL_2X2, HALF_2X2X2, HEADLINE
from tests.unit.test_report_multivariate import _report as multivariate_report


def test_the_effects_chart_and_tables_draw(context: BrowserContext) -> None:
    # Given the report of a full 2x2 (fixed data set)
    page = context.new_page()
    page.set_content(render_html(multivariate_report((HEADLINE, BUTTON), FULL_2X2)))
    section = page.locator("section#x-home-mvt")
    # Then the forest plot has a line per effect: 2 main effects and the interaction
    chart = section.locator(".chart svg", has_text="main effects (blue) and interactions")
    assert chart.count() == 1
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 80
    labels = chart.locator("text").all_text_contents()
    for label in ("headline=short", "button=bold", "headline=short × button=bold"):
        assert any(label in text for text in labels), (label, labels)
    # And the tables name the effects; no script ran or was needed
    text = section.inner_text()
    assert "purchase: main effects" in text and "two-way interactions" in text
    assert page.locator("script").count() == 0
    # And a half fraction names its aliased interactions instead of estimating them
    page.set_content(render_html(multivariate_report((HEADLINE, BUTTON, BANNER), HALF_2X2X2)))
    text = page.locator("section#x-home-mvt").inner_text()
    assert "aliased: headline × button is aliased with banner" in text
    assert "purchase: two-way interactions" not in text
