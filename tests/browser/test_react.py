"""The third integration: a single-page app written with React (react and react-dom
from npm, pinned in package-lock.json), bundled with esbuild in the test's setup
against the packed npm package, using the hooks perso ships (`usePersoState` and
`usePersoSlot` from `@perso/browser/react`) with `init({apply: "none"})`.

In Chromium, every animation frame sampled: the app renders the decided content through
the hooks (upper-cased by the app, so React's rendering is told apart from the
runtime's); an exposure is recorded once per view for each slot the app showed, none
for a slot it never rendered or kept at its default; on a first visit of a route, with
perso.page() called before or after the router renders, the new route's elements paint
a placeholder (usePersoState) or their default (usePersoSlot) and then their own
content, never the previous route's, and a slot on both routes never changes; a route
whose decisions the device cached, and a repeat view, paint the final content in the
first frame; a slot that waited past the `hide` budget keeps its default for the view.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from infra.local.devserver import DevServer
from tests.browser._pages import (
    PAINTS_JS,
    VIEWS_JS,
    exposures,
    pack_package,
    paints,
    route_artifact,
    route_dir,
    route_page,
    wait_until,
)
from tests.browser._support import (
    DESKTOP,
    RecordingApi,
    seed_returning_visitor,
    serve_ruleset,
    wait_for_decision,
)

ROOT = Path(__file__).resolve().parents[2]

APP = r"""
import { StrictMode, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { perso } from "@perso/browser";
import { usePersoSlot, usePersoState } from "@perso/browser/react";

const params = new URLSearchParams(location.search);
// "before": perso.page() in the navigation handler, before the router renders the new
// route; "after": in an effect once the new route has rendered.
const ORDER = params.get("order") || "before";
const QUERY = location.search;

// The slots wait for their view's decision for at most `hide` ms: long enough here for
// the first view's cold engine (1-7 s on a busy 2-core machine), unless the test says.
const hide = Number(params.get("hide") || 60000);
perso.init({ site: "demo-shop", cdn: "/cdn", api: "/v1", apply: "none", hide });

// The app renders the decision itself; upper-cased, so the test can tell React's
// rendering from the runtime's (apply: "dom" would write the ruleset's text as is).
const textOf = (decision, fallback) => {
  const text = decision && decision.content ? decision.content.text : null;
  return text != null ? text.toUpperCase() : fallback;
};

// usePersoState: an empty, hidden placeholder while the view is pending.
function Slot({ name, fallback, tag: Tag = "div" }) {
  const { decision, pending } = usePersoState(name);
  if (pending) return <Tag id={name} data-slot={name} hidden />;
  return <Tag id={name} data-slot={name}>{textOf(decision, fallback)}</Tag>;
}

// usePersoSlot: the decision or null, the default meanwhile (the same slot, shown twice).
function PlainHero() {
  const decision = usePersoSlot("hero");
  return <p id="hero-plain" data-slot="hero-plain">{textOf(decision, "Default plain hero")}</p>;
}

const Hero = () => <><Slot name="hero" tag="h1" fallback="Default hero" /><PlainHero /></>;
function PageA() { return <section><Hero /><p>Page A</p></section>; }
function PageB() { return <section><Hero /><p>Page B</p></section>; }

function App() {
  const [path, setPath] = useState(location.pathname);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) { first.current = false; return; } // the first view is init's
    if (ORDER === "after") perso.page();
  }, [path]);
  const go = (to) => {
    history.pushState(null, "", to + QUERY);
    if (ORDER === "before") perso.page();
    setPath(to);
  };
  const link = (id, to) => (
    <a id={id} href={to} onClick={(e) => { e.preventDefault(); go(to); }}>{id}</a>
  );
  return (
    <main>
      <nav>{link("to-a", "/app/a")}{link("to-b", "/app/b")}</nav>
      <Slot name="banner" fallback="Default banner" />
      {path === "/app/b" ? <PageB /> : <PageA />}
    </main>
  );
}

createRoot(document.getElementById("root")).render(<StrictMode><App /></StrictMode>);
"""

HTML = """<!doctype html><html><head><title>React app</title></head>
<body><div id="root"></div><script type="module" src="/react-app/app.js"></script></body></html>"""

FINAL_B = (
    '<nav><a id="to-a" href="/app/a">to-a</a><a id="to-b" href="/app/b">to-b</a></nav>'
    '<div id="banner" data-slot="banner">BANNER FOR EVERYONE</div>'
    '<section><h1 id="hero" data-slot="hero">HERO FOR B</h1>'
    '<p id="hero-plain" data-slot="hero-plain">HERO FOR B</p><p>Page B</p></section>'
)


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The app bundled by esbuild against the packed package, into a temp folder."""
    work = pack_package(tmp_path_factory.mktemp("react"))
    (work / "app.jsx").write_text(APP)
    out = work / "out"
    done = subprocess.run(
        [
            str(ROOT / "node_modules" / ".bin" / "esbuild"),
            str(work / "app.jsx"),
            "--bundle",
            "--minify",
            "--format=esm",
            "--splitting",
            f"--outdir={out}",
            "--jsx=automatic",
            '--define:process.env.NODE_ENV="production"',
            "--log-level=warning",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    yield out


def _open(new_context: Any, dev_server: DevServer, app_dir: Path) -> Any:
    context = new_context(**DESKTOP, locale="en-US")
    seed_returning_visitor(context)
    serve_ruleset(context, route_artifact())
    context.add_init_script(PAINTS_JS)
    context.add_init_script(VIEWS_JS)
    route_dir(context, dev_server.url + "/react-app/", app_dir)
    for path in ("/app/a", "/app/b"):
        route_page(context, f"{dev_server.url}{path}**", HTML)
    return context.new_page()


def _probe(page: Any, api: RecordingApi, name: str) -> None:
    page.evaluate("(n) => window.perso.track(n)", name)
    wait_until(lambda: any(e.get("name") == name for e in api.events()), what=f"the {name} event")


def _views_of(page: Any) -> list[str]:
    views: list[str] = page.evaluate("() => window.__views")
    return views


def _no_change_after_content(painted: list[str], final: str) -> bool:
    """An element's paints: placeholders ("") only before its content, and that content
    `final` from its first paint on (nothing else, no other route's content)."""
    shown = [text for text in painted if text]
    return shown == [final] and "" not in painted[painted.index(final) :]


@pytest.mark.parametrize("order", ["before", "after"])
def test_react_route_changes_never_paint_another_routes_content(
    new_context: Any, dev_server: DevServer, api: RecordingApi, app_dir: Path, order: str
) -> None:
    # Given a consenting visitor on route /app/a of the React app (first visit: the slots
    # wait for the worker's decision)
    page = _open(new_context, dev_server, app_dir)
    page.goto(f"{dev_server.url}/app/a?order={order}")
    wait_for_decision(page)

    # Then the app rendered the decided content through the hooks
    expect(page.locator("#hero")).to_have_text("HERO FOR A")
    expect(page.locator("#hero-plain")).to_have_text("HERO FOR A")
    expect(page.locator("#banner")).to_have_text("BANNER FOR EVERYONE")
    first = paints(page)["elements"]
    # usePersoState: a placeholder while the view was pending, then the content, once
    assert first["hero"] == [["", "HERO FOR A"]], first
    assert first["banner"] == [["", "BANNER FOR EVERYONE"]], first
    # usePersoSlot: the default until the decision (it never waits)
    assert first["hero-plain"] == [["Default plain hero", "HERO FOR A"]], first
    # and one exposure per shown slot was recorded for this view: none for the promo,
    # which was decided (desktop) but never rendered
    _probe(page, api, "probe-a")
    view_a = exposures(api, page)
    assert sorted(x for x, _ in view_a) == ["banner-all", "hero-a"]
    assert page.evaluate("() => perso.get('promo').experience") == "promo-desktop"

    # When the visitor follows the app's link to /app/b, a route never seen on this device
    # (perso.page() before or after the router renders it)
    page.click("#to-b")
    expect(page.locator("#hero")).to_have_text("HERO FOR B")
    expect(page.locator("#hero-plain")).to_have_text("HERO FOR B")
    page.wait_for_function("() => perso.state('hero').decision?.variant === 'b'")
    seen = paints(page)["elements"]
    print(f"\norder={order}: painted per element {seen}")

    # Then route B's slots (new elements) were never painted with route A's content: a
    # placeholder (or the default, for usePersoSlot) until B's decision, then it, unchanged
    assert page.inner_html("#root > main") == FINAL_B
    assert len(seen["hero"]) == len(seen["hero-plain"]) == 2
    assert _no_change_after_content(seen["hero"][1], "HERO FOR B"), seen
    assert seen["hero-plain"][1] in (["Default plain hero", "HERO FOR B"], ["HERO FOR B"]), seen
    # and the banner, on both routes (one element kept by React), never changed
    assert seen["banner"] == [["", "BANNER FOR EVERYONE"]], seen
    # and the new view recorded one exposure for each slot shown again
    _probe(page, api, "probe-b")
    view_b = exposures(api, page)[len(view_a) :]
    assert sorted(x for x, _ in view_b) == ["banner-all", "hero-b"]
    assert len({v for _, v in view_b}) == 1 and view_b[0][1] != view_a[0][1]

    # When the visitor goes back to /app/a, whose decisions this device cached
    views = len(_views_of(page))
    page.click("#to-a")
    expect(page.locator("#hero")).to_have_text("HERO FOR A")
    page.wait_for_function(
        "(n) => window.__views.length > n && perso.state('hero').decision?.variant === 'a'",
        arg=views,
    )
    seen = paints(page)["elements"]
    # Then the view was decided inside page(), from the cache: the new elements were
    # painted with their final content in their first frame, no placeholder, no default
    assert seen["hero"][2] == ["HERO FOR A"], seen
    assert seen["hero-plain"][2] == ["HERO FOR A"], seen
    assert seen["banner"] == [["", "BANNER FOR EVERYONE"]], seen


def test_react_slot_that_waited_past_the_budget_keeps_its_default_for_the_view(
    new_context: Any, dev_server: DevServer, api: RecordingApi, app_dir: Path
) -> None:
    # Given a first visit whose ruleset is held back until the 1 s budget has run out
    page = _open(new_context, dev_server, app_dir)
    held: list[Any] = []
    page.context.route("**/cdn/rulesets/**/*.msgpack", lambda route: held.append(route))
    page.goto(f"{dev_server.url}/app/a?hide=1000")
    # Then the slots that waited show their defaults once the budget ran out
    expect(page.locator("#hero")).to_have_text("Default hero")
    expect(page.locator("#banner")).to_have_text("Default banner")
    assert page.evaluate("() => perso.state('hero')")["pending"] is False

    # When the decision arrives after that
    wait_until(lambda: held, page=page, what="the ruleset request")
    held[0].fallback()
    wait_for_decision(page)
    page.wait_for_function("() => perso.state('hero').decision?.variant === 'a'")
    expect(page.locator("#hero-plain")).to_have_text("HERO FOR A")
    # and the view is re-decided with the same outcome
    page.evaluate("() => perso.set({plan: 'gold'})")
    page.wait_for_function("() => window.__persoDebug.decisions >= 2")
    seen = paints(page)["elements"]
    print(f"\nwaited past the budget: painted per element {seen}")

    # Then a slot that waited and was painted with its default keeps it for this view
    # (no change after its first paint), while get() and state() report the decision
    assert seen["hero"] == [["", "Default hero"]], seen
    assert seen["banner"] == [["", "Default banner"]], seen
    assert page.evaluate("() => perso.get('hero').variant") == "a"
    # usePersoSlot, which never waits, shows the late decision when it comes
    assert seen["hero-plain"] == [["Default plain hero", "HERO FOR A"]], seen
    # and only what was on the screen is exposed: the hero (through usePersoSlot), not the
    # banner, which the visitor never saw
    _probe(page, api, "probe-late")
    assert [x for x, _ in exposures(api, page)] == ["hero-a"]

    # When the visitor moves to /app/b (the engine is ready: decided within the budget)
    page.click("#to-b")
    expect(page.locator("#hero")).to_have_text("HERO FOR B")
    expect(page.locator("#banner")).to_have_text("BANNER FOR EVERYONE")
    seen = paints(page)["elements"]
    # Then the next view shows its decisions: the banner, kept on the screen with its
    # default while B was pending, now shows B's; B's hero waited and got its content
    assert seen["banner"] == [["", "Default banner", "BANNER FOR EVERYONE"]], seen
    assert _no_change_after_content(seen["hero"][1], "HERO FOR B"), seen


def test_react_repeat_view_paints_the_final_content_first(
    new_context: Any, dev_server: DevServer, api: RecordingApi, app_dir: Path
) -> None:
    page = _open(new_context, dev_server, app_dir)
    page.goto(f"{dev_server.url}/app/a")
    wait_for_decision(page)
    page.wait_for_function("() => !!localStorage.getItem('perso:demo-shop:d')")

    # When the visitor comes back to the same route
    page.reload()
    wait_for_decision(page)
    expect(page.locator("#hero")).to_have_text("HERO FOR A")

    # Then the decisions cached on the device were there for React's first render: each
    # slot's first painted frame already had its final content (nothing pending)
    seen = paints(page)["slots"]
    assert seen["hero"] == ["HERO FOR A"]
    assert seen["hero-plain"] == ["HERO FOR A"]
    assert seen["banner"] == ["BANNER FOR EVERYONE"]
