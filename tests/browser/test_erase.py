"""The device proof and the erase on revoke.

On consent the device makes a secret (32 random bytes, base64url, 43 characters) kept
with the visitor id; every event batch carries it as `proof`, beacons included.
Revoking consent asks the API to erase the visitor (`DELETE /v1/visitors/me`, with
`Authorization: Bearer <token>` when the API gave a token, else
`Authorization: Proof v1.<site>.<visitor>.<secret>`) and wipes the device. When that
request cannot reach the API (offline, a 5xx), only a pending-erase record stays on the
device, and the next page load sends it again and then deletes it.

The API is the recording API on the dev server's seam, not the real local backend:
its side of this protocol is being built at the same time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from infra.local.devserver import DevServer
from tests.browser._support import (
    IPHONE,
    STORAGE_SNAPSHOT_JS,
    RecordedRequest,
    RecordingApi,
    storage_snapshot,
    wait_for_decision,
)

SITE = "demo-shop"
PROOF = r"^[A-Za-z0-9_-]{43}$"


@dataclass
class TokenApi(RecordingApi):
    """The recording API, answering every accepted batch with a visitor token."""

    token: str = "token-from-the-api"

    def __call__(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        status, out_headers, out_body = super().__call__(method, path, headers, body)
        if status == 200 and method == "POST":
            answer = json.loads(out_body)
            answer["visitor"]["token"] = self.token
            out_body = json.dumps(answer).encode()
        return status, out_headers, out_body


@pytest.fixture
def token_api(dev_server: DevServer) -> Iterator[TokenApi]:
    recorder = TokenApi()
    previous = dev_server.api
    dev_server.api = recorder
    try:
        yield recorder
    finally:
        dev_server.api = previous


def _deletes(api: RecordingApi) -> list[RecordedRequest]:
    return [r for r in list(api.requests) if r.method == "DELETE"]


def _event_posts(api: RecordingApi) -> list[RecordedRequest]:
    return [r for r in list(api.requests) if r.method == "POST" and r.path.startswith("/v1/events")]


def _wait(page: Any, check: Any, what: str, timeout_ms: int = 20_000) -> None:
    waited = 0
    while not check():
        assert waited < timeout_ms, f"timed out waiting for {what}"
        page.wait_for_timeout(200)
        waited += 200


def _consent_and_send(page: Any, dev_server: DevServer, api: RecordingApi) -> tuple[str, str]:
    """Accept on the banner, add to cart, wait for the events; (visitor id, secret)."""
    page.goto(dev_server.url + "/product.html?id=tee-01")
    wait_for_decision(page)
    page.click("#consent-accept")
    page.click("#add-to-cart")
    _wait(page, lambda: any(e.get("name") == "add_to_cart" for e in api.events()), "add_to_cart")
    visitor = json.loads(page.evaluate(f"localStorage.getItem('perso:{SITE}:id')"))
    secret = json.loads(page.evaluate(f"localStorage.getItem('perso:{SITE}:k')"))
    return visitor, secret


def _storage_is_empty(page: Any, timeout_ms: int = 10_000) -> None:
    page.wait_for_function(
        f"async () => {{ const s = await ({STORAGE_SNAPSHOT_JS})();"
        " return Object.keys(s.local).length === 0 && Object.keys(s.session).length === 0"
        " && s.cookies === '' && s.indexeddb.length === 0 && s.cache_storage.length === 0; }",
        timeout=timeout_ms,
    )


def test_consent_makes_a_device_proof_and_every_batch_carries_it(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a visitor who accepts, adds to cart, and leaves the page at once (a beacon)
    context = new_context(**IPHONE, locale="en-US")
    page = context.new_page()
    page.goto(dev_server.url + "/")
    wait_for_decision(page)
    assert page.evaluate(f"localStorage.getItem('perso:{SITE}:k')") is None  # not before consent
    visitor, secret = _consent_and_send(page, dev_server, api)
    page.click("#add-to-cart")
    page.goto(dev_server.url + "/")  # pagehide: the queue goes out as a beacon
    wait_for_decision(page)
    _wait(page, lambda: sum(e.get("name") == "add_to_cart" for e in api.events()) >= 2, "beacon")

    # Then the secret is 43 characters of base64url, kept with the visitor id...
    assert isinstance(secret, str)
    assert re.match(PROOF, secret), secret
    assert visitor
    # ... and every batch, the beacon's too, carries it as proof
    posts = _event_posts(api)
    assert any(r.headers.get("sec-fetch-mode") == "no-cors" for r in posts), "no beacon was sent"
    bodies = [r.json() for r in posts]
    assert [b.get("proof") for b in bodies] == [secret] * len(bodies)
    assert {b.get("visitor") for b in bodies} == {visitor}


def test_revoking_asks_the_api_to_erase_with_the_proof_then_wipes(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting visitor whose events reached the API (which gave no token)
    context = new_context(**IPHONE, locale="en-US")
    page = context.new_page()
    visitor, secret = _consent_and_send(page, dev_server, api)

    # When they withdraw consent
    page.click("#privacy-choices")
    page.click("#consent-decline")

    # Then the API is asked to erase them, with the device proof, and the device is empty
    _wait(page, lambda: bool(_deletes(api)), "DELETE /v1/visitors/me")
    (erase,) = _deletes(api)
    assert erase.path == "/v1/visitors/me"
    assert erase.headers.get("authorization") == f"Proof v1.{SITE}.{visitor}.{secret}"
    _storage_is_empty(page)


def test_revoking_with_a_token_uses_it(
    new_context: Any, dev_server: DevServer, token_api: TokenApi
) -> None:
    # Given a consenting visitor who holds a token from the API
    context = new_context(**IPHONE, locale="en-US")
    page = context.new_page()
    _consent_and_send(page, dev_server, token_api)
    page.wait_for_function(
        f"() => (localStorage.getItem('perso:{SITE}:t') || '').includes('{token_api.token}')"
    )

    # When they withdraw consent
    page.click("#privacy-choices")
    page.click("#consent-decline")

    # Then the erase goes with the token
    _wait(page, lambda: bool(_deletes(token_api)), "DELETE /v1/visitors/me")
    assert _deletes(token_api)[0].headers.get("authorization") == f"Bearer {token_api.token}"
    _storage_is_empty(page)


@pytest.mark.parametrize("failure", ["offline", "server-error"])
def test_an_erase_that_fails_is_kept_alone_and_sent_on_the_next_load(
    new_context: Any, dev_server: DevServer, api: RecordingApi, failure: str
) -> None:
    # Given a consenting visitor whose events reached the API
    context = new_context(**IPHONE, locale="en-US")
    page = context.new_page()
    visitor, secret = _consent_and_send(page, dev_server, api)

    # When they withdraw consent while the API cannot be reached (or answers 503)
    if failure == "offline":
        context.set_offline(True)
    else:
        api.status = 503
    page.click("#privacy-choices")
    page.click("#consent-decline")
    if failure == "server-error":
        _wait(page, lambda: bool(_deletes(api)), "the failed DELETE")

    # Then the device keeps the pending erase and nothing else
    page.wait_for_function(
        f"async () => {{ const s = await ({STORAGE_SNAPSHOT_JS})();"
        f" return JSON.stringify(Object.keys(s.local)) === '[\"perso:{SITE}:e\"]'"
        " && s.cache_storage.length === 0; }",
        timeout=10_000,
    )
    snapshot = storage_snapshot(page)
    assert json.loads(snapshot["local"][f"perso:{SITE}:e"]) == [
        {"site": SITE, "visitor": visitor, "secret": secret}
    ]
    assert snapshot["session"] == {} and snapshot["cookies"] == ""
    assert snapshot["indexeddb"] == [] and snapshot["context_cookies"] == []
    failed = len(_deletes(api))

    # When the next page loads with the API reachable again
    context.set_offline(False)
    api.status = 200
    page.goto(dev_server.url + "/")

    # Then the erase is sent again, and once answered nothing is left on the device
    _wait(page, lambda: len(_deletes(api)) > failed, "the DELETE on the next load")
    retry = _deletes(api)[-1]
    assert retry.headers.get("authorization") == f"Proof v1.{SITE}.{visitor}.{secret}"
    _storage_is_empty(page)
    wait_for_decision(page)
    assert len(_deletes(api)) == failed + 1  # answered, so not asked again
