"""The second integration: an ES module import of the npm package. The package is
packed for real (`npm pack` of snippet/) and its files served as they would be from
node_modules; the page maps the bare name with an import map (as a bundler resolves
it through the package's "exports") and does `import { perso } from "@perso/browser"`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from infra.local.devserver import DevServer
from tests.browser._pages import pack_package, route_artifact, route_dir, route_page
from tests.browser._support import (
    DESKTOP,
    RecordingApi,
    seed_returning_visitor,
    serve_ruleset,
    wait_for_decision,
)

BODY = """
<h1 id="hero">Default hero</h1>
<div id="banner">Default banner</div>
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    dest = pack_package(tmp_path_factory.mktemp("npm"))
    yield dest / "node_modules" / "@perso" / "browser"


def _page_html(entry: str) -> str:
    return f"""<!doctype html><html><head>
<script type="importmap">{json.dumps({"imports": {"@perso/browser": entry}})}</script>
<script type="module">
  import {{ perso, sanitizeHtml, VERSION }} from "@perso/browser";
  perso.init({{ site: "demo-shop", cdn: "/cdn", api: "/v1" }});
  // What an app sees right after init, before any worker answer.
  window.__early = perso.get("hero");
  window.__imported = perso;
  window.__version = VERSION;
  window.__clean = sanitizeHtml('<b onclick="x()">bold</b><script>window.__pwned = 1<\\/script>');
</script></head><body>{BODY}</body></html>"""


def _open(new_context: Any, dev_server: DevServer, package: Path) -> tuple[Any, list[str]]:
    meta = json.loads((package / "package.json").read_text())
    entry = "/node_modules/@perso/browser/" + meta["exports"]["."]["default"].removeprefix("./")
    context = new_context(**DESKTOP, locale="en-US")
    seed_returning_visitor(context)
    serve_ruleset(context, route_artifact())
    asked = route_dir(context, dev_server.url + "/node_modules/@perso/browser/", package)
    url = dev_server.url + "/app/a"
    route_page(context, url, _page_html(entry))
    page = context.new_page()
    return page, asked


def test_es_module_import_installs_the_runtime(
    new_context: Any, dev_server: DevServer, api: RecordingApi, package: Path
) -> None:
    page, asked = _open(new_context, dev_server, package)
    runtime_json: list[Any] = []
    page.on(
        "response",
        lambda r: runtime_json.append(r.json()) if r.url.endswith("/cdn/runtime.json") else None,
    )

    # When the page imports the package and calls init
    page.goto(dev_server.url + "/app/a")
    record = wait_for_decision(page)

    # Then the imported object is the page's runtime, it found the worker through the
    # CDN's runtime.json, and the decided content is applied
    assert record["errors"] == []
    assert page.evaluate("() => window.__imported === window.perso && perso.__loaded === true")
    assert page.evaluate("() => window.__version") == "0.1.0"
    assert runtime_json and record["runtime"] == runtime_json[0]["runtime"]
    expect(page.locator("#hero")).to_have_text("Hero for A")
    expect(page.locator("#banner")).to_have_text("Banner for everyone")
    assert page.evaluate("() => window.__early") is None  # a first view: nothing cached
    # The package's files came from the packed package; the debugger was not loaded.
    assert "src/module.js" in asked and "src/index.js" in asked
    assert "src/debug.js" not in asked
    # sanitizeHtml is the runtime's own allowlist
    assert page.evaluate("() => window.__clean") == "<b>bold</b>"
    assert page.evaluate("() => window.__pwned") is None

    # When the visitor comes back
    page.wait_for_function("() => !!localStorage.getItem('perso:demo-shop:d')")
    page.reload()
    page.wait_for_function("() => window.__imported !== undefined")
    # Then get() answered from the device's cache right after init
    early = page.evaluate("() => window.__early")
    assert early is not None and early["variant"] == "a"
    assert page.evaluate("() => window.__persoDebug.instant_applied") is True
