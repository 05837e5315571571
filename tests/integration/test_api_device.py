"""Device proof (docs/notes/backend-api.md): who may write into a visitor's partition, and
export or erase it, through the real handlers and moto's server.

The browser makes a secret on consent and sends it as `proof` with every batch; the first
batch registers its SHA-256 in the visitor's `AUTH` item. From then on a batch needs the
token or the proof, and `Authorization: Proof v1.<site>.<visitor>.<secret>` exports or
erases, even when the answer that carried the token never reached the device.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest

from infra.local.stack import LocalBackend
from lambdas.dal.store import Item, Store
from lambdas.logic import tokens
from lambdas.logic.collect import collect
from lambdas.models.errors import Forbidden
from lambdas.models.events import CollectRequest
from lambdas.models.settings import get_settings
from tests.integration._api import (
    ORIGIN,
    call,
    event,
    new_secret,
    new_visitor,
    post_events,
    proof_header,
    token_for,
)


def _partition(backend: LocalBackend, visitor: str) -> list[Item]:
    return backend.store.query(f"V#demo-shop#{visitor}")


def _refused(visitor: str) -> str:
    return f"events for visitor {visitor!r} need its token or device proof"


def test_a_device_whose_first_answer_was_lost_exports_and_erases_with_its_proof(
    backend: LocalBackend,
) -> None:
    # Given a visitor who accepts and leaves at once: the first batch goes out by beacon
    # with the device's proof, and its answer (with the token) is dropped
    visitor, secret = new_visitor(), new_secret()
    sent = [event("page_view", props={"path": "/"}), event("exposure")]
    status, _, _ = post_events(backend, sent, visitor=visitor, proof=secret)
    assert status == 200
    # Then the server keeps the proof's SHA-256, never the secret
    auth = backend.store.get_item(f"V#demo-shop#{visitor}", "AUTH")
    assert auth is not None
    assert auth["proof_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert auth["token_issued"] is True
    assert secret not in json.dumps(_partition(backend, visitor), default=str)
    # When the device asks for its data with the proof alone
    status, _, export = call(
        backend, "GET", "/v1/visitors/me", headers=proof_header(visitor, secret)
    )
    # Then it gets everything, its device record included
    assert status == 200, export
    assert sorted(e["id"] for e in export["events"]) == sorted(e["id"] for e in sent)
    assert export["device"]["proof_sha256"] == auth["proof_sha256"]
    # When consent is revoked: the browser sends DELETE with the proof, then wipes itself
    status, _, answer = call(
        backend, "DELETE", "/v1/visitors/me", headers=proof_header(visitor, secret)
    )
    # Then everything is erased, the AUTH item too
    assert (status, answer) == (200, {"removed": {"events": 2, "profile": 0, "aliases": 0}})
    assert _partition(backend, visitor) == []
    # And the proof no longer opens anything (nothing is registered for it any more),
    # while a token still held answers an empty export, as before
    status, _, answer = call(
        backend, "GET", "/v1/visitors/me", headers=proof_header(visitor, secret)
    )
    assert status == 401 and "not the one registered" in answer["message"]
    status, _, export = call(
        backend, "GET", "/v1/visitors/me",
        headers={"Authorization": f"Bearer {token_for(visitor)}"},
    )
    assert (status, export["events"], export["profile"], export["device"]) == (200, [], None, None)


def test_someone_who_knows_a_visitor_id_cannot_write_into_its_profile(
    backend: LocalBackend,
) -> None:
    # Given a real device's first batch, and the profile the aggregator keeps for it
    visitor, secret = new_visitor(), new_secret()
    status, _, first = post_events(backend, [event("exposure")], visitor=visitor, proof=secret)
    assert status == 200 and first["visitor"]["token"]
    backend.store.put_item({"pk": f"V#demo-shop#{visitor}", "sk": "P", "counts": {"exposure": 1}})
    before = _partition(backend, visitor)
    # When an attacker elsewhere sends events for that id: no token, a wrong proof, a
    # token of their own visitor, a forged token
    forged = tokens.sign(b"a key the attacker made up", site="demo-shop",
                         visitor=visitor, now=int(time.time()))
    attempts: list[dict[str, Any]] = [
        {}, {"proof": new_secret()}, {"token": token_for(new_visitor())}, {"token": forged},
        {"token": first["visitor"]["token"][:-2] + "AA"},
    ]
    for attempt in attempts:
        status, _, body = post_events(
            backend, [event("conversion"), event("page_view")], visitor=visitor,
            origin=None, client_addr="198.51.100.9", **attempt,
        )
        # Then each batch is refused whole, with a sentence
        assert (status, body) == (403, {"message": _refused(visitor)}), attempt
    # And nothing was written: events, profile and AUTH item are as they were
    assert _partition(backend, visitor) == before
    # And the attacker can neither read nor erase with a guessed proof
    for method in ("GET", "DELETE"):
        status, _, _ = call(
            backend, method, "/v1/visitors/me", headers=proof_header(visitor, new_secret())
        )
        assert status == 401
    assert _partition(backend, visitor) == before
    # While the real device, with its proof, goes on as before
    status, _, body = post_events(backend, [event()], visitor=visitor, proof=secret)
    assert (status, body["accepted"]) == (200, 1) and body["visitor"]["token"]


def test_the_token_or_the_proof_each_suffice(backend: LocalBackend) -> None:
    # Given a first batch without a proof (an older snippet): a token, an AUTH item without proof
    visitor, secret = new_visitor(), new_secret()
    _, _, first = post_events(backend, [event()], visitor=visitor)
    token = first["visitor"]["token"]
    auth = backend.store.get_item(f"V#demo-shop#{visitor}", "AUTH")
    assert auth is not None and "proof_sha256" not in auth
    # Then its proof alone is not enough yet
    status, _, _ = post_events(backend, [event()], visitor=visitor, proof=secret)
    assert status == 403
    # When a batch carries the token and the proof, the proof is registered
    status, _, _ = post_events(backend, [event()], visitor=visitor, token=token, proof=secret)
    assert status == 200
    # Then either one suffices, and a wrong proof with a valid token is still the token's
    for credentials in ({"proof": secret}, {"token": token},
                        {"token": token, "proof": new_secret()}):
        status, _, body = post_events(backend, [event()], visitor=visitor, **credentials)
        assert (status, body["accepted"]) == (200, 1) and body["visitor"]["token"], credentials
    status, _, _ = call(backend, "GET", "/v1/visitors/me", headers=proof_header(visitor, secret))
    assert status == 200


def test_a_visitor_from_before_device_proofs_is_protected_once_it_shows_its_token(
    backend: LocalBackend,
) -> None:
    # Given a visitor with data from before this change, and the token it was given then
    visitor, secret = new_visitor(), new_secret()
    backend.store.put_item({"pk": f"V#demo-shop#{visitor}", "sk": "P", "counts": {"x": 1}})
    # When its device sends a proof alone: accepted as before, but not registered (the
    # proof of whoever knows the id first must not lock the real device out)
    status, _, body = post_events(backend, [event()], visitor=visitor, proof=new_secret())
    assert (status, body["visitor"]["token"]) == (200, None)
    assert backend.store.get_item(f"V#demo-shop#{visitor}", "AUTH") is None
    # When it sends its token and its proof
    status, _, body = post_events(
        backend, [event()], visitor=visitor, token=token_for(visitor), proof=secret
    )
    assert status == 200 and body["visitor"]["token"]
    # Then the proof is registered and a batch proving nothing is refused from now on
    auth = backend.store.get_item(f"V#demo-shop#{visitor}", "AUTH")
    assert auth is not None and auth["proof_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert post_events(backend, [event()], visitor=visitor)[0] == 403


class RacingStore(Store):
    """Registers another batch's AUTH item just before this batch's conditional put: two
    first batches of one visitor arriving in the same instant (on the real server)."""

    def __init__(self, base: Store, rival: str) -> None:
        super().__init__(base.client, base.table)
        self.rival = rival

    def put_if_unchanged(self, item: Item, **options: Any) -> None:
        if item["sk"] == "AUTH":
            digest = hashlib.sha256(self.rival.encode()).hexdigest()
            self.put_item({**item, "proof_sha256": digest})
        super().put_if_unchanged(item, **options)


@pytest.mark.parametrize("same_device", [False, True])
def test_of_two_racing_first_batches_only_the_registered_secret_is_trusted(
    backend: LocalBackend, same_device: bool
) -> None:
    visitor, secret = new_visitor(), new_secret()
    store = RacingStore(backend.store, rival=secret if same_device else new_secret())
    request = CollectRequest.model_validate({
        "site": "demo-shop", "visitor": visitor, "proof": secret,
        "consent": {"analytics": True, "personalization": True}, "events": [event()],
    })
    config = backend.store.site_config("demo-shop") or {}
    key = str(get_settings().token_key).encode()
    now_ms = int(time.time() * 1000)
    if same_device:
        # The same device's other batch registered the same secret: trusted
        answer = collect(request, store=store, config=config, key=key, now_ms=now_ms)
        assert answer.accepted == 1 and answer.visitor.token
    else:
        # Another secret won the race: this batch is refused and writes nothing
        with pytest.raises(Forbidden, match="need its token or device proof"):
            collect(request, store=store, config=config, key=key, now_ms=now_ms)
        assert [item["sk"] for item in _partition(backend, visitor)] == ["AUTH"]


def test_a_visitor_id_with_dots_works_in_the_proof_header(backend: LocalBackend) -> None:
    visitor, secret = f"a.b.{new_visitor()}", new_secret()
    post_events(backend, [event()], visitor=visitor, proof=secret)
    status, _, export = call(
        backend, "GET", "/v1/visitors/me", headers=proof_header(visitor, secret)
    )
    assert status == 200 and export["visitor"] == visitor and len(export["events"]) == 1


def test_malformed_or_wrong_proofs_are_401_with_a_sentence(backend: LocalBackend) -> None:
    visitor, secret = new_visitor(), new_secret()
    post_events(backend, [event()], visitor=visitor, proof=secret)
    cases = [
        (f"Proof v1.demo-shop.{visitor}.{secret[:-1]}", "43 base64url characters"),
        (f"Proof v2.demo-shop.{visitor}.{secret}", "must be 'v1.<site>.<visitor>.<secret>'"),
        (f"Proof v1.Demo.{visitor}.{secret}", "must be 'v1.<site>.<visitor>.<secret>'"),
        (f"Proof {secret}", "must be 'v1.<site>.<visitor>.<secret>'"),
        (f"Proof v1.demo-shop.{visitor}.{new_secret()}",
         f"not the one registered for visitor {visitor!r} of site 'demo-shop'"),
        (f"Proof v1.demo-shop.{new_visitor()}.{secret}", "(or none is registered)"),
        (f"Secret v1.demo-shop.{visitor}.{secret}", "must be 'Bearer <visitor token>' or 'Proof"),
    ]
    for method in ("GET", "DELETE"):
        for header, words in cases:
            status, _, answer = call(
                backend, method, "/v1/visitors/me", headers={"Authorization": header}
            )
            assert status == 401 and words in answer["message"], (header, answer)
    assert len(_partition(backend, visitor)) == 2  # the event and the AUTH item


def test_the_sites_pages_may_call_visitors_me_with_an_authorization_header(
    backend: LocalBackend,
) -> None:
    visitor, secret = new_visitor(), new_secret()
    post_events(backend, [event()], visitor=visitor, proof=secret)
    # The preflight the browser sends before DELETE with an Authorization header
    for method in ("DELETE", "GET"):
        status, headers, _ = call(backend, "OPTIONS", "/v1/visitors/me", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization",
        })
        assert status == 204
        assert headers["access-control-allow-origin"] == ORIGIN
        allowed = [m.strip() for m in headers["access-control-allow-methods"].split(",")]
        assert {"GET", "DELETE"} <= set(allowed)
        assert "authorization" in headers["access-control-allow-headers"].lower().split(", ")
    # The real answers carry the Origin for the site's own pages, refusals included
    wrong = proof_header(visitor, new_secret()) | {"Origin": ORIGIN}
    status, headers, _ = call(backend, "GET", "/v1/visitors/me", headers=wrong)
    assert (status, headers.get("access-control-allow-origin")) == (401, ORIGIN)
    # And not for an origin the site does not list
    evil = proof_header(visitor, secret) | {"Origin": "https://evil.example"}
    status, headers, _ = call(backend, "GET", "/v1/visitors/me", headers=evil)
    assert status == 200 and "access-control-allow-origin" not in headers
    status, headers, _ = call(
        backend, "DELETE", "/v1/visitors/me",
        headers=proof_header(visitor, secret) | {"Origin": ORIGIN},
    )
    assert (status, headers.get("access-control-allow-origin")) == (200, ORIGIN)
