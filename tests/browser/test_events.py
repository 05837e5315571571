"""Events queued while offline reach the event API once the network is back, exactly
once each: first against a recording API on the dev server's seam, then against the
real local backend (lambdas.local: the collect handler over moto's DynamoDB).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.local.devserver import DevServer, local_api
from tests.browser._pages import wait_until
from tests.browser._support import (
    IPHONE,
    RecordingApi,
    RecordingProxy,
    events_in,
    open_as_returning_visitor,
    seed_returning_visitor,
    wait_for_decision,
)

CLICKS = 3


def _offline_round_trip(
    context: Any, dev_server: DevServer, events: Callable[[], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Browse online, add to cart offline, come back online; every event received."""
    page = context.new_page()
    page.goto(dev_server.url + "/product.html?id=bag-01")
    wait_for_decision(page)
    wait_until(
        lambda: any(e.get("type") == "page_view" for e in events()),
        page=page,
        timeout=15,
        what="the page view to be sent while online",
    )

    # When the network drops, the visitor adds to cart, and the network comes back
    context.set_offline(True)
    for _ in range(CLICKS):
        page.click("#add-to-cart")
    page.wait_for_timeout(3_000)  # a send fails and a retry is scheduled meanwhile
    offline_adds = [e for e in events() if e.get("name") == "add_to_cart"]
    queued = page.evaluate(
        "() => (JSON.parse(localStorage.getItem('perso:demo-shop:q') || '[]')).length"
    )
    context.set_offline(False)
    wait_until(
        lambda: sum(e.get("name") == "add_to_cart" for e in events()) >= CLICKS,
        page=page,
        timeout=30,
        what="the queued add_to_cart events after reconnecting",
    )
    page.wait_for_timeout(2_500)  # room for a duplicate to show up, if there were one

    assert offline_adds == [], "events went out while the browser was offline"
    assert queued >= CLICKS, "the offline events were not kept in the on-device queue"
    return events()


def _assert_exactly_once(received: list[dict[str, Any]]) -> None:
    counts = Counter(str(e.get("id")) for e in received)
    repeated = {event_id: n for event_id, n in counts.items() if n > 1}
    assert repeated == {}, f"events delivered more than once: {repeated}"
    assert sum(e.get("name") == "add_to_cart" for e in received) == CLICKS


def test_offline_events_are_delivered_once_when_back_online(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting visitor on a phone
    context = new_context(**IPHONE, locale="en-US")
    seed_returning_visitor(context)

    received = _offline_round_trip(context, dev_server, api.events)

    # Then each event arrived exactly once, the three offline ones included
    _assert_exactly_once(received)


@pytest.fixture(scope="module")
def real_api(dev_server: DevServer) -> Iterator[RecordingProxy]:
    """The real local backend on /v1/ (moto server started and stopped here)."""
    with local_api(origin_ports=[dev_server.port]) as backend_api:
        assert backend_api is not None, "lambdas.local is missing"
        proxy = RecordingProxy(backend_api)
        previous = dev_server.api
        dev_server.api = proxy
        try:
            yield proxy
        finally:
            dev_server.api = previous


def test_offline_events_reach_the_real_local_api_once(
    new_context: Any, dev_server: DevServer, real_api: RecordingProxy
) -> None:
    # Given a consenting visitor and the real collect handler behind /v1/
    context = new_context(**IPHONE, locale="en-US")
    seed_returning_visitor(context)

    received = _offline_round_trip(context, dev_server, real_api.events)

    # Then each event arrived once, and the API accepted every one without duplicates
    _assert_exactly_once(received)
    answers = [json.loads(body) for status, body in real_api.event_answers() if status == 200]
    assert [s for s, _ in real_api.event_answers() if s != 200] == []
    assert sum(a["accepted"] for a in answers) == len(received)
    assert sum(a["duplicates"] for a in answers) == 0
    assert all(a["rejected"] == [] for a in answers), answers


def test_offline_events_survive_a_page_exit_and_are_delivered_once(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting visitor whose network drops on a product page
    context, page, _ = open_as_returning_visitor(
        new_context, dev_server.url + "/product.html?id=bag-01", **IPHONE, locale="en-US"
    )
    context.set_offline(True)
    for _ in range(CLICKS):
        page.click("#add-to-cart")
    page.wait_for_timeout(2_000)  # the visitor lingers: a send fails meanwhile
    queued_ids = page.evaluate(
        "() => JSON.parse(localStorage.getItem('perso:demo-shop:q') || '[]').map(e => e.id)"
    )

    # When the visitor leaves while offline. Chromium's offline emulation neither holds
    # back a beacon sent on pagehide nor keeps navigator.onLine false in that handler,
    # so the network that is down is modelled on the server side too: whatever reaches
    # /v1/ meanwhile is lost (503, not recorded), as a beacon the browser accepted while
    # offline would be.
    leaked = RecordingApi(status=503)
    dev_server.api = leaked
    try:
        page.goto("about:blank")
        page.wait_for_timeout(1_000)
    finally:
        dev_server.api = api
    # and comes back online on a new view
    context.set_offline(False)
    page.goto(dev_server.url + "/")
    wait_until(
        lambda: {str(e.get("id")) for e in api.events()} >= set(queued_ids),
        page=page,
        timeout=30,
        what="the events queued offline before the page exit",
    )
    page.wait_for_timeout(2_500)  # room for a duplicate to show up, if there were one

    # Then every event queued offline arrived exactly once (a beacon that left on the
    # way out was lost with the network; the kept queue was replayed by the next view)
    assert len(queued_ids) >= CLICKS
    counts = Counter(str(e.get("id")) for e in api.events())
    assert {i: counts[i] for i in queued_ids} == dict.fromkeys(queued_ids, 1)
    _assert_exactly_once(api.events())


def test_demo_view_and_purchase_carry_the_ids_the_aggregator_reads(
    new_context: Any, dev_server: DevServer, real_api: RecordingProxy
) -> None:
    # Given a consenting visitor and the real collect handler behind /v1/
    context = new_context(**IPHONE, locale="en-US")
    seed_returning_visitor(context)
    page = context.new_page()
    before = len(real_api.requests)  # the fixture is shared with the test above

    def since() -> list[dict[str, Any]]:
        return events_in(real_api.requests[before:])

    # When they view a product, and place an order on the cart page, one with a note too
    # large for the API's 224-byte props limit
    page.goto(dev_server.url + "/product.html?id=bag-01")
    wait_for_decision(page)
    page.goto(dev_server.url + "/cart.html?items=tee-01,cap-01")
    wait_for_decision(page)
    page.click("#purchase")
    page.evaluate(
        "() => perso.track('purchase', {value: 10, items: ['tee-01'], note: 'x'.repeat(400)})"
    )
    wait_until(
        lambda: sum(e.get("type") == "conversion" for e in since()) >= 2,
        page=page,
        timeout=30,
        what="both purchases",
    )

    # Then the product view names the item, the purchases name theirs, and the API
    # accepted every event (nothing over its props limit)
    received = since()
    views = [e for e in received if e.get("type") == "page_view"]
    assert [v["props"].get("item") for v in views] == ["bag-01", None], views
    conversions = [e for e in received if e.get("type") == "conversion"]
    assert [c["props"]["items"] for c in conversions] == [["tee-01", "cap-01"], ["tee-01"]]
    assert "note" not in conversions[1]["props"]  # the largest extra key went first
    assert conversions[1]["value"] == 10
    answered = real_api.event_answers(before)
    assert [s for s, _ in answered if s != 200] == []
    answers = [json.loads(body) for _, body in answered]
    assert all(a["rejected"] == [] for a in answers), answers
    assert sum(a["accepted"] for a in answers) == len(received)
