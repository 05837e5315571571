"""`GET` / `DELETE /v1/visitors/me`: export and erasure with the visitor token."""

from __future__ import annotations

from infra.local.stack import LocalBackend
from tests.integration._api import call, event, new_visitor, post_events


def _me(backend: LocalBackend, method: str, token: str | None) -> tuple[int, dict[str, str], dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return call(backend, method, "/v1/visitors/me", headers=headers)


def test_export_shows_events_profile_and_aliases(backend: LocalBackend) -> None:
    # Given a visitor with events, a profile and an alias to a customer
    visitor = new_visitor()
    sent = [event("page_view", props={"path": "/p/1"}), event("exposure")]
    _, _, body = post_events(backend, sent, visitor=visitor)
    token = body["visitor"]["token"]
    backend.store.put_item({"pk": f"V#demo-shop#{visitor}", "sk": "P", "counts": {"page_view": 1}})
    backend.store.put_item({"pk": f"V#demo-shop#{visitor}", "sk": "ALIAS", "customer": "c-9"})
    backend.store.put_item({"pk": "C#demo-shop#c-9", "sk": "P", "conv": {"purchase": 2}})
    # When the visitor asks for their data
    status, _, export = _me(backend, "GET", token)
    # Then every stored event comes back decoded, with the profile and the alias
    assert status == 200
    assert sorted(e["id"] for e in export["events"]) == sorted(e["id"] for e in sent)
    page_view = next(e for e in export["events"] if e["type"] == "page_view")
    assert page_view["props"] == {"path": "/p/1"}
    assert export["profile"] == {"counts": {"page_view": 1}}
    assert export["aliases"][0]["customer"] == "c-9"
    assert export["customer_profile"] == {"conv": {"purchase": 2}}


def test_erase_removes_everything_and_is_idempotent(backend: LocalBackend) -> None:
    visitor = new_visitor()
    _, _, body = post_events(backend, [event(), event(), event("click")], visitor=visitor)
    token = body["visitor"]["token"]
    backend.store.put_item({"pk": f"V#demo-shop#{visitor}", "sk": "P", "segments": ["x"]})
    backend.store.put_item({"pk": f"V#demo-shop#{visitor}", "sk": "ALIAS", "customer": "c-7"})
    backend.store.put_item({"pk": "C#demo-shop#c-7", "sk": f"A#{visitor}", "visitor": visitor})
    status, _, answer = _me(backend, "DELETE", token)
    assert status == 200
    assert answer == {"removed": {"events": 3, "profile": 1, "aliases": 1}}
    assert backend.store.query(f"V#demo-shop#{visitor}") == []
    assert backend.store.get_item("C#demo-shop#c-7", f"A#{visitor}") is None
    status, _, answer = _me(backend, "DELETE", token)
    assert (status, answer) == (200, {"removed": {"events": 0, "profile": 0, "aliases": 0}})
    status, _, export = _me(backend, "GET", token)
    assert (status, export["events"], export["profile"]) == (200, [], None)


def test_missing_or_bad_tokens_are_401_with_a_sentence(backend: LocalBackend) -> None:
    visitor = new_visitor()
    _, _, body = post_events(backend, [event()], visitor=visitor)
    token = body["visitor"]["token"]
    forged = token.replace(visitor, new_visitor())
    for method in ("GET", "DELETE"):
        for headers, words in (
            ({}, "Authorization: Bearer"),
            ({"Authorization": token}, "must be 'Bearer"),
            ({"Authorization": "Bearer nonsense"}, "not valid"),
            ({"Authorization": f"Bearer {forged}"}, "not valid"),
        ):
            status, _, answer = call(backend, method, "/v1/visitors/me", headers=headers)
            assert status == 401 and words in answer["message"], (method, headers, answer)
    # The forged attempts erased nothing.
    assert len(backend.store.query(f"V#demo-shop#{visitor}", prefix="E#")) == 1


def test_a_token_respelled_with_other_digits_is_401_not_a_crash(backend: LocalBackend) -> None:
    # Given a real token whose issue time is respelled: superscript digits (int() raises),
    # fullwidth digits and a leading zero (int() reads the same number, so the signature
    # used to verify)
    visitor = new_visitor()
    _, _, body = post_events(backend, [event()], visitor=visitor)
    token = body["visitor"]["token"]
    _, site, issued, rest = token.split(".", 3)
    fullwidth = issued.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    for spelling in ("\u00b2" * len(issued), fullwidth, f"0{issued}"):
        respelled = f"v1.{site}.{spelling}.{rest}"
        for method in ("GET", "DELETE"):
            status, _, answer = _me(backend, method, respelled)
            assert status == 401 and "not valid" in answer["message"], (spelling, answer)
    assert len(backend.store.query(f"V#demo-shop#{visitor}", prefix="E#")) == 1
