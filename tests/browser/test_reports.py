"""`perso dev`'s `/reports/<site>` in Chromium: the charts drew.

Events go through the local stack's real API and the stream poller into the counters; the
dev server draws the report from them when the page is opened.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from infra.local._reports import LocalReports
from infra.local.devserver import DevServer, running
from infra.local.discovery import LOCAL_CREDENTIALS
from infra.local.stack import start_local_backend
from infra.report import TableTarget
from tests._report_seed import drain, post, publish_demo, simulate


@pytest.fixture(scope="module")
def reports_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    # Own table and bucket: moto's state is process-wide, and a long stream left in the
    # shared `perso-events` table would keep the next module's poller busy.
    name = f"perso-report-{uuid.uuid4().hex[:8]}"
    stack = start_local_backend(origin_ports=[8000], publish_interval=3600, table=name, bucket=name)
    try:
        publish_demo(stack)
        post(stack, simulate(60, days=4, seed=5))
        drain(stack)
        target = TableTarget(
            table=stack.table,
            bucket=stack.bucket,
            endpoint_url=stack.endpoint_url,
            credentials=LOCAL_CREDENTIALS,
        )
        with running(cdn_dir=tmp_path_factory.mktemp("cdn"), compress_cache=None) as dev:
            dev.reports = LocalReports(target)
            yield dev
    finally:
        stack.stop()


def test_the_served_report_draws_its_charts(
    reports_server: DevServer, context: BrowserContext, tmp_path: Path
) -> None:
    # Given the list of sites
    page = context.new_page()
    page.goto(f"{reports_server.url}/reports/")
    # When the demo's report is opened from it
    page.click("text=demo-shop")
    page.wait_for_selector("section#x-cta-style .chart svg")
    # Then every chart is an SVG with drawn paths and a real size on the page
    charts = page.locator(".chart svg")
    assert (
        charts.count() >= 5
    )  # holdout lift; cta-style and the bandit: rate, 2 lifts (+ allocation)
    for index in range(charts.count()):
        chart = charts.nth(index)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50
        assert chart.locator("path").count() > 3
    # And the bandit shows its allocation over time, and no script ran or was needed
    bandit = page.locator("section#x-evening-free-shipping")
    assert bandit.locator("svg text", has_text="allocation over time").count() == 1
    assert page.locator("script").count() == 0
    assert "sample ratio" in page.locator("section#x-cta-style").inner_text()
