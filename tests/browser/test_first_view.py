"""A new visitor's first view, decided at the edge (issue 8 §2).

With nothing valid on the device, the loader stub asks `POST /v1/decide` (the real
handler on the local backend: moto's S3 holds the live demo artifact) and applies the
answer before the runtime arrives; the runtime adopts it, so no worker is started for
that view. Before consent the request carries no identifier and nothing is stored; a
site that turned it off (`init({decide: "device"})`) sends nothing and the worker decides.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.devserver import DevServer
from tests.browser._pages import wait_until
from tests.browser._support import DESKTOP, RecordingProxy, debug, storage_snapshot

ROOT = Path(__file__).resolve().parents[2]
HERO_PT = "Bem-vindo à Perso Shop"  # examples/demo-shop.yaml hero-pt: consent none, pt-BR


@pytest.fixture(scope="module")
def edge_api(dev_server: DevServer, cdn_dir: Path) -> Iterator[RecordingProxy]:
    """The real local backend on /v1/, its bucket seeded with the CDN tree (no publisher
    loop and no mirror: the session's CDN folder stays as it is)."""
    from infra.local.bucket import BucketMirror
    from infra.local.stack import start_local_backend

    backend = start_local_backend(port=0, origin_ports=[dev_server.port], loops=False)
    try:
        BucketMirror(backend.client("s3"), backend.bucket, cdn_dir).seed(ROOT / "examples")
        proxy = RecordingProxy(backend.api)
        previous = dev_server.api
        dev_server.api = proxy
        # The handler's first call loads the live artifact from the bucket (a cold start):
        # done here, so the test sees a warm edge as a visitor mostly would.
        warm = requests.post(
            dev_server.url + "/v1/decide",
            data=json.dumps({"site": "demo-shop", "signals": {"url": dev_server.url + "/"}}),
            headers={"Content-Type": "text/plain", "Origin": dev_server.url},
            timeout=30,
        )
        assert warm.status_code == 200, warm.text
        del proxy.requests[:]
        try:
            yield proxy
        finally:
            dev_server.api = previous
    finally:
        backend.stop()


def _decide_requests(api: RecordingProxy, since: int) -> list[dict[str, Any]]:
    return [
        json.loads(r.body)
        for r in api.requests[since:]
        if r.method == "POST" and r.path.split("?")[0].endswith("/v1/decide")
    ]


def _embed(context: Any, dev_server: DevServer, change: Any) -> None:
    """Serve the home page with its embed code changed by `change(html)`."""

    def serve(route: Any) -> None:
        html = route.fetch().text()
        assert "perso.init({" in html and '"hide":300' in html, "the embed code changed shape"
        route.fulfill(status=200, content_type="text/html", body=change(html))

    context.route(f"{dev_server.url}/", serve)


def _requested(page: Any) -> list[str]:
    urls: list[str] = page.evaluate("() => performance.getEntries().map((e) => e.name)")
    return urls


def test_a_new_visitors_first_view_is_decided_by_the_edge_without_any_identifier(
    new_context: Any, dev_server: DevServer, edge_api: RecordingProxy
) -> None:
    # Given a new visitor (no consent, nothing stored) whose browser prefers Portuguese,
    # on a page that waits up to 5 s for a decision (a busy test machine must not turn
    # this into a test of the API's speed: the benchmark measures that)
    context = new_context(**DESKTOP, locale="pt-BR")
    _embed(context, dev_server, lambda html: html.replace('"hide":300', '"hide":5000'))
    page = context.new_page()
    since = len(edge_api.requests)
    # When they open the home page
    page.goto(dev_server.url + "/")
    wait_until(lambda: debug(page).get("settled"), page=page, what="the view to settle")
    # Then the stub asked the edge once, with the page's signals and no identifier
    asked = _decide_requests(edge_api, since)
    assert len(asked) == 1, asked
    assert asked[0]["site"] == "demo-shop"
    assert asked[0].get("visitor") is None
    assert asked[0]["consent"] == {"analytics": False, "personalization": False}
    assert asked[0]["signals"]["languages"][0] == "pt-BR"
    # And its answer decided the view: the Portuguese hero, and no worker for this view
    record = debug(page)
    assert record["source"] == "edge" and record["ahead"] is True, record
    assert record["worker_started"] is False, record
    assert page.locator("#hero h1").inner_text() == HERO_PT
    # And nothing was stored, and nothing but the decide request went to the API
    assert storage_snapshot(page)["local"] == {}
    assert [r.path.split("?")[0] for r in edge_api.requests[since:]] == ["/v1/decide"]


def test_a_site_that_decides_on_the_device_sends_nothing_before_consent(
    new_context: Any, dev_server: DevServer, edge_api: RecordingProxy
) -> None:
    # Given a page whose embed code says init({decide: "device"})
    context = new_context(**DESKTOP, locale="pt-BR")
    page = context.new_page()
    since = len(edge_api.requests)

    _embed(
        context,
        dev_server,
        lambda html: html.replace("perso.init({", 'perso.init({decide: "device", '),
    )
    # When a new visitor opens it
    page.goto(dev_server.url + "/")
    wait_until(
        lambda: debug(page).get("first_decision_ms"),
        page=page,
        timeout=90,
        what="the worker's decision",
    )
    # Then no request reached the API at all, and the worker decided the Portuguese hero
    assert edge_api.requests[since:] == []
    assert debug(page)["source"] == "worker"
    assert page.locator("#hero h1").inner_text() == HERO_PT
    assert not any("/v1/decide" in u for u in _requested(page))
