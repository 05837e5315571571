"""`?perso_preview=<sha256>` (snippet/src/preview.js): one tab runs an unpublished artifact.

The preview's artifact is served by routing its content-addressed URL in the browser
context, as `perso deploy --preview` would have uploaded it; the live pointer and
artifact are the dev server's. The end-to-end run with the real command is
tests/browser/test_publish_loop_e2e.py.
"""

from __future__ import annotations

import hashlib
from typing import Any

from infra.local.devserver import DevServer
from tests.browser._support import (
    ENGINE_TIMEOUT_MS,
    IPHONE,
    STORAGE_SNAPSHOT_JS,
    RecordingApi,
    debug,
    demo_ruleset_data,
    encode_ruleset_data,
    events_in,
    seed_returning_visitor,
    wait_for_decision,
)

SITE = "demo-shop"
# A visitor of this test alone (outside the demo's 5% holdout).
PREVIEWER = "22222222-3333-4444-8555-666666666666"
PREVIEWER_SECRET = "previewing-visitor-device-proof-for-tests-1"
HERO = "#hero h1"
PT_PHONE: dict[str, Any] = {**IPHONE, "locale": "pt-BR", "timezone_id": "America/Sao_Paulo"}
LIVE = "Bem-vindo à Perso Shop"
DEFAULT = "Welcome to Perso Shop"
PREVIEWED = "Prévia: só nesta aba"


def _preview_artifact() -> tuple[bytes, str]:
    data = demo_ruleset_data()
    for experience in data["experiences"]:
        if experience["id"] == "hero-pt":
            experience["variants"][0]["content"] = {"text": PREVIEWED}
    artifact = encode_ruleset_data(data)
    return artifact, hashlib.sha256(artifact).hexdigest()


def _serve(context: Any, sha: str, body: bytes | None) -> None:
    """The CDN's answer for the preview's artifact: `body`, or a 404 when None."""
    context.route(
        f"**/cdn/rulesets/{SITE}/{sha}.msgpack",
        lambda route: route.fulfill(
            status=404 if body is None else 200,
            content_type="application/octet-stream",
            body=b"not found" if body is None else body,
        ),
    )


def _hero(page: Any) -> str:
    text: str = page.evaluate(f"document.querySelector({HERO!r}).textContent")
    return text


def test_a_preview_runs_in_its_tab_only_and_keeps_nothing(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a consenting returning visitor (storage allowed) and a preview on the CDN
    artifact, sha = _preview_artifact()
    context = new_context(**PT_PHONE)
    seed_returning_visitor(context, visitor=PREVIEWER, secret=PREVIEWER_SECRET)
    _serve(context, sha, artifact)
    page = context.new_page()
    # When the tab opens the preview URL, then browses on
    page.goto(f"{dev_server.url}/?perso_preview={sha}")
    wait_for_decision(page)
    page.wait_for_function(f"document.querySelector({HERO!r}).textContent === {PREVIEWED!r}")
    page.goto(f"{dev_server.url}/product.html?id=sneaker-01")
    wait_for_decision(page)
    page.goto(f"{dev_server.url}/")
    wait_for_decision(page)
    # Then it still previews, and says so
    page.wait_for_function(f"document.querySelector({HERO!r}).textContent === {PREVIEWED!r}")
    assert page.evaluate("perso.get('hero').preview") == sha
    assert page.evaluate("window.__persoDebug.preview") == sha
    # and it kept no decision and no artifact on the device, and counted no exposure
    storage = page.evaluate(STORAGE_SNAPSHOT_JS)
    assert f"perso:{SITE}:d" not in storage["local"]
    assert storage["session"] == {f"perso:{SITE}:preview": sha}
    assert storage["cache_storage"] == []
    # (this visitor's batches only: a page an earlier test closed may still deliver its
    # pagehide beacon to this shared dev server, and the other tests' returning visitor
    # is another id)
    mine = events_in([r for r in api.requests if _visitor_of(r) == PREVIEWER])
    assert mine, "page views are still sent"
    assert [e for e in mine if e.get("type") == "exposure"] == []
    # When another tab of the same browser opens the site, it sees the live version
    other = context.new_page()
    other.goto(f"{dev_server.url}/")
    other.wait_for_function(f"document.querySelector({HERO!r}).textContent === {LIVE!r}")
    assert other.evaluate("perso.get('hero').preview") is None
    # And ?perso_preview=off ends the preview in its tab
    page.goto(f"{dev_server.url}/?perso_preview=off")
    page.wait_for_function(f"document.querySelector({HERO!r}).textContent === {LIVE!r}")
    assert page.evaluate(f"sessionStorage.getItem('perso:{SITE}:preview')") is None


def test_a_missing_or_altered_preview_keeps_the_defaults_with_one_sentence(
    new_context: Any, dev_server: DevServer, api: RecordingApi
) -> None:
    artifact, sha = _preview_artifact()
    for body, said in ((None, "HTTP 404"), (artifact + b"!", "sha256")):
        # Given a preview whose artifact is missing, or is not the bytes it names
        context = new_context(**PT_PHONE)
        _serve(context, sha, body)
        lines: list[str] = []
        page = context.new_page()
        page.on("console", lambda m, lines=lines: lines.append(m.text))
        # When the tab opens it
        page.goto(f"{dev_server.url}/?perso_preview={sha}")
        page.wait_for_function(
            "window.__persoDebug && window.__persoDebug.errors.some((e) => e.includes('preview'))",
            timeout=ENGINE_TIMEOUT_MS,
        )
        record = debug(page)
        page.wait_for_timeout(300)
        # Then the page keeps its defaults (not the live version) and says why once
        assert _hero(page) == DEFAULT
        assert len([line for line in lines if "preview" in line]) == 1, lines
        assert any(said in line for line in lines if "preview" in line), lines
        assert [e for e in record["errors"] if said in e], record


def _visitor_of(request: Any) -> Any:
    try:
        body = request.json()
    except ValueError:
        return None
    return body.get("visitor") if isinstance(body, dict) else None
