"""The whole learn path on one machine: collect -> stream -> aggregate -> profile -> collect.

Its own local stack with the learning loops (the aggregate engineer's stream poller in
`infra/local/loops.py`), driven deterministically with `poll_once()`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local import DEMO_API_KEY
from infra.local.stack import LocalBackend, start_local_backend
from tests.integration._api import call, event, new_visitor, post_events


@pytest.fixture
def learning(backend: LocalBackend) -> Iterator[LocalBackend]:
    # Started after the session stack: its stop() puts that stack's environment back.
    stack = start_local_backend(origin_ports=[8000], publish_interval=3600)
    poller = next(loop for loop in stack.loops if hasattr(loop, "poll_once"))
    poller.stop()  # driven by hand below, so the test does not race a thread
    try:
        yield stack
    finally:
        stack.stop()


def _poll(stack: LocalBackend) -> int:
    poller = next(loop for loop in stack.loops if hasattr(loop, "poll_once"))
    return int(poller.poll_once())


def test_an_offer_taken_in_the_call_centre_reaches_the_browser(learning: LocalBackend) -> None:
    # Given a web visitor exposed to an offer, identified by the CRM as a customer
    visitor, customer = new_visitor(), f"c-{new_visitor()}"
    _, _, first = post_events(learning, [event("exposure")], visitor=visitor)
    token = first["visitor"]["token"]
    assert _poll(learning) >= 1
    identify = {
        "site": "demo-shop", "channel": "crm", "customer": customer, "visitor": visitor,
        "events": [event("identify")],
    }
    headers = {"x-api-key": DEMO_API_KEY}
    assert call(learning, "POST", "/v1/ingest", identify, headers=headers)[0] == 200
    # When the call centre sells the offer to the customer
    sale = {
        "site": "demo-shop", "channel": "call_centre", "customer": customer,
        "events": [event("conversion", name="purchase", value=49.0)],
    }
    assert call(learning, "POST", "/v1/ingest", sale, headers=headers)[0] == 200
    assert _poll(learning) >= 1
    # Then the browser's next batch learns of the purchase and keeps its variant
    _, _, answer = post_events(learning, [event()], visitor=visitor, token=token)
    assert answer["visitor"]["conversions"] == {"purchase": 1}
    assert answer["visitor"]["assignments"] == {"evening-free-shipping": "free-shipping"}
