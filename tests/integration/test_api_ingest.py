"""`POST /v1/ingest`: other channels' events, API key, identity resolution."""

from __future__ import annotations

from typing import Any

from infra.local import DEMO_API_KEY
from infra.local.stack import LocalBackend
from tests.integration._api import call, event, new_visitor, post_events


def _ingest(
    backend: LocalBackend, body: dict[str, Any], *, key: str | None = DEMO_API_KEY
) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    return call(backend, "POST", "/v1/ingest", body, headers=headers)


def test_the_api_key_is_required_and_checked(backend: LocalBackend) -> None:
    body = {"site": "demo-shop", "channel": "crm", "customer": "c-1", "events": [event()]}
    assert _ingest(backend, body, key=None)[0] == 401
    status, _, answer = _ingest(backend, body, key="wrong")
    assert status == 403 and "API key is not valid for site 'demo-shop'" in answer["message"]
    status, _, answer = _ingest(backend, {**body, "site": "elsewhere"})
    assert status == 403 and "'elsewhere'" in answer["message"]


def test_events_from_another_channel_are_stored_under_the_customer(backend: LocalBackend) -> None:
    customer = f"c-{new_visitor()}"
    body = {
        "site": "demo-shop",
        "channel": "call_centre",
        "customer": customer,
        "events": [event("conversion", name="evening-free-shipping"), {"type": "conversion"}],
    }
    status, _, answer = _ingest(backend, body)
    assert status == 200 and answer["accepted"] == 1
    assert answer["rejected"][0]["index"] == 1 and "events[1].id" in answer["rejected"][0]["error"]
    (stored,) = backend.store.query(f"C#demo-shop#{customer}", prefix="E#")
    assert (stored["ch"], stored["n"]) == ("call_centre", "evening-free-shipping")
    assert stored["vid"] == customer


def test_identify_merges_the_visitor_into_the_customer_once(backend: LocalBackend) -> None:
    # Given a web visitor who saw variant B and a customer who bought in the store
    visitor, customer = new_visitor(), f"c-{new_visitor()}"
    _, _, first = post_events(backend, [event()], visitor=visitor)
    token = first["visitor"]["token"]
    vpk, cpk = f"V#demo-shop#{visitor}", f"C#demo-shop#{customer}"
    backend.store.put_item({
        "pk": vpk, "sk": "P", "counts": {"page_view": 4}, "expo": {"hero-test": 2},
        "assign": {"hero-test": "B", "banner": "free-shipping"}, "segments": ["browser"],
    })
    backend.store.put_item({
        "pk": cpk, "sk": "P", "counts": {"page_view": 1, "conversion": 1},
        "conv": {"evening-free-shipping": 1}, "assign": {"banner": "control"},
        "segments": ["store-buyer"],
    })
    body = {
        "site": "demo-shop", "channel": "crm", "customer": customer, "visitor": visitor,
        "events": [event("identify", props={"tier": "gold"})],
    }
    # When the CRM identifies the visitor (twice: a retry must not double anything)
    for _ in range(2):
        status, _, answer = _ingest(backend, body)
        assert status == 200 and answer["merged"] is True
    # Then the customer profile holds both, the customer's assignment winning a conflict
    merged = backend.store.get_item(cpk, "P")
    assert merged is not None
    assert merged["counts"] == {"page_view": 5, "conversion": 1}
    assert merged["assign"] == {"hero-test": "B", "banner": "control"}
    assert merged["segments"] == ["browser", "store-buyer"]
    assert merged["traits"] == {"tier": "gold"}
    assert backend.store.get_item(vpk, "P")["merged_into"] == cpk  # type: ignore[index]
    assert backend.store.get_item(vpk, "ALIAS")["customer"] == customer  # type: ignore[index]
    assert backend.store.get_item(cpk, f"A#{visitor}")["channel"] == "crm"  # type: ignore[index]
    # And the browser learns what the store sold, so the offer is not pushed again
    _, _, answer = post_events(backend, [event()], visitor=visitor, token=token)
    assert answer["visitor"]["conversions"] == {"evening-free-shipping": 1}
    assert answer["visitor"]["assignments"]["banner"] == "control"
    assert answer["visitor"]["segments"] == ["browser", "store-buyer"]


def test_identify_needs_both_identities(backend: LocalBackend) -> None:
    body = {"site": "demo-shop", "channel": "crm", "customer": "c-2", "events": [event("identify")]}
    status, _, answer = _ingest(backend, body)
    assert status == 200 and answer["accepted"] == 0 and answer["merged"] is False
    assert "identify event needs 'visitor'" in answer["rejected"][0]["error"]
    status, _, answer = _ingest(backend, {"site": "demo-shop", "channel": "crm", "events": []})
    assert status == 400 and "'customer' or 'visitor'" in answer["message"]
