"""The decision worker across navigations: one SharedWorker (with `extendedLifetime`) per
site and browser profile where Chromium has it, a dedicated worker where it does not.

What the worker says about itself comes with READY (`__persoDebug.worker`): a random
`instance` id, how many times it booted Pyodide (`boots`), how many pages joined it
(`clients`) and whether this page found it running (`reused`).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext

from edge.model import Ruleset
from infra.local.bucket import now_iso, write_release
from infra.local.devserver import DevServer, running
from tests.browser._support import (
    ENGINE_TIMEOUT_MS,
    NO_SHARED_WORKER,
    RecordingApi,
    debug,
    demo_ruleset_data,
    seed_returning_visitor,
    wait_for_decision,
)

ROOT = Path(__file__).resolve().parents[2]

# A new decision asked for (perso.set changes the context); window.__answered once it came.
_ASK = """() => {
  window.__answered = false;
  document.addEventListener("perso:decision", () => { window.__answered = true; }, {once: true});
  window.perso.set({tab: location.pathname});
}"""


def _decided(page: Any, url: str) -> dict[str, Any]:
    """Open `url`, wait for its first decision and for the worker's READY; READY's timings."""
    page.goto(url)
    record = wait_for_decision(page)
    assert record["errors"] == [], record["errors"]
    assert record["first_decision_ms"] is not None
    # A view decided ahead from the device's cache starts the worker only after `load`.
    page.wait_for_function("() => !!window.__persoDebug.worker", timeout=ENGINE_TIMEOUT_MS)
    worker: dict[str, Any] = debug(page)["worker"]
    return worker


def test_same_tab_navigations_reuse_one_engine(
    context: BrowserContext, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a visitor on the demo shop's home page, decided by a freshly booted worker
    page = context.new_page()
    home = _decided(page, dev_server.url + "/")
    assert home["reused"] is False and home["boots"] == 1 and home["clients"] == 1

    # When they follow two links in the same tab
    product = _decided(page, dev_server.url + "/product.html?id=cap-01")
    cart = _decided(page, dev_server.url + "/cart.html")

    # Then both pages were answered by that same instance, which booted Python once
    for later, clients in ((product, 2), (cart, 3)):
        assert later["instance"] == home["instance"]
        assert later["reused"] is True
        assert later["boots"] == 1
        assert later["clients"] == clients
    # and it answered at once: no second boot was waited for
    assert cart["wait_ms"] < home["ready_ms"]


def test_two_tabs_share_the_engine_and_each_gets_its_own_answers(
    context: BrowserContext, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given two tabs of the same visitor
    first, second = context.new_page(), context.new_page()
    a = _decided(first, dev_server.url + "/")
    b = _decided(second, dev_server.url + "/product.html?id=cap-01")

    # Then one worker serves both
    assert b["instance"] == a["instance"] and b["reused"] is True

    # When both ask for a decision at the same time (their request ids are per page, so
    # they collide in the worker)
    for page in (first, second):
        page.evaluate(_ASK)

    # Then each page got the answer to its own request
    for page in (first, second):
        page.wait_for_function("() => window.__answered === true")
        record = wait_for_decision(page)
        assert record["errors"] == []
        assert record["decisions"] >= 2


def test_without_shared_worker_a_dedicated_worker_still_decides(
    context: BrowserContext, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a browser without SharedWorker (Safari before 16, some webviews)
    context.add_init_script(NO_SHARED_WORKER)
    page = context.new_page()

    # When the visitor opens two pages in the same tab
    home = _decided(page, dev_server.url + "/")
    product = _decided(page, dev_server.url + "/product.html?id=cap-01")

    # Then each page decided through its own dedicated worker, booted for it
    assert home["reused"] is False and product["reused"] is False
    assert product["instance"] != home["instance"]
    assert product["clients"] == 1


def test_a_page_refused_by_the_shared_worker_decides_through_a_dedicated_one(
    context: BrowserContext, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given the shared worker "perso:demo-shop" already running an engine for another CDN
    # (the same worker script and name; here the same files through "localhost")
    blank = context.new_page()
    blank.goto(dev_server.url + "/style.css")  # a same-origin document without perso
    other = blank.evaluate(_START_OTHER_ENGINE, dev_server.port)
    assert other["type"] == "ready", other

    # When a page of the site opens
    page = context.new_page()
    mine = _decided(page, dev_server.url + "/cart.html")

    # Then it was refused by that engine and decided through its own dedicated worker,
    # without the refusal reaching the page as an error
    assert mine["instance"] != other["timings"]["instance"]
    assert mine["reused"] is False and mine["clients"] == 1


def test_cache_storage_is_written_only_while_every_connected_page_allows_it(
    new_context: Any, cdn_dir: Path, tmp_path: Path
) -> None:
    # A CDN of this test's own: it publishes a new ruleset halfway.
    cdn = tmp_path / "cdn"
    shutil.copytree(cdn_dir, cdn)
    with running(cdn_dir=cdn, demo_dir=ROOT / "demo") as server:
        for round_, other_page_connected in enumerate((False, True)):
            # Given a visitor who consented to storage, whose engine is up, and whose
            # Cache Storage holds nothing of perso's yet
            context = new_context()
            seed_returning_visitor(context)
            page = context.new_page()
            _decided(page, server.url + "/")
            page.evaluate("async () => { await caches.delete('perso-demo-shop'); }")
            # and, the second time, another page of the site connected to the same engine
            # whose INIT did not allow storage
            if other_page_connected:
                blank = context.new_page()
                blank.goto(server.url + "/style.css")
                assert blank.evaluate(_JOIN_WITHOUT_STORAGE)["type"] == "ready"

            # When a new ruleset is published and the visitor opens another page (the
            # engine revalidates the pointer, past the HTTP cache, and swaps the artifact)
            _publish_variation(cdn, round_)
            context.new_cdp_session(page).send("Network.clearBrowserCache")
            later = _decided(page, server.url + "/product.html?id=cap-01")
            assert later["reused"] is True
            if other_page_connected:
                blank.wait_for_function("() => window.__seen.includes('update')")
            kept = _wait_for_cache(page, expected=not other_page_connected)

            # Then the new ruleset was kept on the device only when no page said no
            assert kept is not other_page_connected
            context.close()


def _publish_variation(cdn: Path, round_: int) -> None:
    data = demo_ruleset_data()
    data["timezone"] = ("UTC", "Europe/Lisbon")[round_]  # a new artifact, same decisions
    write_release(cdn, Ruleset.from_dict(data), published_at=now_iso())


def _wait_for_cache(page: Any, *, expected: bool) -> bool:
    # Written right after the new artifact arrives; absence is only known by waiting.
    deadline = time.monotonic() + (10 if expected else 2)
    kept = False
    while time.monotonic() < deadline and not kept:
        kept = "perso-demo-shop" in page.evaluate("async () => await caches.keys()")
        page.wait_for_timeout(100)
    return kept


# Joins the site's shared worker as a page without storage consent would (the same INIT
# as the demo page's, `storage: false`); its READY. window.__seen: the types it received.
_JOIN_WITHOUT_STORAGE = """async () => {
  const version = (await (await fetch("/cdn/runtime.json")).json()).runtime;
  const cdn = `${location.origin}/cdn`;
  const runtime = `${cdn}/runtime/${version}/`;
  const w = new SharedWorker(new URL("worker.js", runtime),
                             {type: "module", name: "perso:demo-shop", extendedLifetime: true});
  window.__other = w;
  window.__seen = [];
  const answer = new Promise((done) => {
    w.port.onmessage = (e) => {
      window.__seen.push(e.data.type);
      if (e.data.type === "ready" || e.data.fatal) done(e.data);
    };
  });
  w.port.postMessage({type: "init", protocol: 1, site: "demo-shop", cdn, runtime, storage: false});
  return await answer;
}"""


# Starts the site's shared worker with an INIT that names the CDN as http://localhost:
# (another engine for the runtime, under the same name); its READY.
_START_OTHER_ENGINE = """async (port) => {
  const version = (await (await fetch("/cdn/runtime.json")).json()).runtime;
  const here = new URL(`/cdn/runtime/${version}/`, location.href);
  const cdn = `http://localhost:${port}/cdn`;
  const w = new SharedWorker(new URL("worker.js", here),
                             {type: "module", name: "perso:demo-shop", extendedLifetime: true});
  window.__other = w;  // kept: the engine stays up while this page holds its port
  const answer = new Promise((done) => {
    w.port.onmessage = (e) => { if (e.data.type === "ready" || e.data.fatal) done(e.data); };
  });
  w.port.postMessage({type: "init", protocol: 1, site: "demo-shop", cdn,
                      runtime: `${cdn}/runtime/${version}/`, storage: false});
  return await answer;
}"""
