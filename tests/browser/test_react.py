"""The third integration: a single-page app written with React (react and react-dom
from npm, pinned in package-lock.json), bundled with esbuild in the test's setup
against the packed npm package, using the hook perso ships (`usePersoSlot` from
`@perso/browser/react`) with `init({apply: "none"})`.

In Chromium: the app renders the decided content through the hook (upper-cased by the
app, so React's rendering is told apart from the runtime's); an exposure is recorded
once per view for each slot the app showed, none for a slot it never rendered; a route
change with perso.page() called before or after the router renders ends with the right
content and the same exposures, and no slot's content changes after it was first
painted with its final content (sampled every animation frame); a repeat view paints
the final content in its first frame.
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
import { usePersoSlot } from "@perso/browser/react";

perso.init({ site: "demo-shop", cdn: "/cdn", api: "/v1", apply: "none" });

// "before": perso.page() in the navigation handler, before the router renders the new
// route; "after": in an effect once the new route has rendered.
const ORDER = new URLSearchParams(location.search).get("order") || "before";

// The app renders the decision itself; upper-cased, so the test can tell React's
// rendering from the runtime's (apply: "dom" would write the ruleset's text as is).
function Slot({ name, fallback, tag: Tag = "div" }) {
  const decision = usePersoSlot(name);
  const text = decision && decision.content && decision.content.text != null
    ? decision.content.text.toUpperCase()
    : fallback;
  return <Tag id={name} data-slot={name}>{text}</Tag>;
}

const Hero = () => <Slot name="hero" tag="h1" fallback="Default hero" />;
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
    history.pushState(null, "", to);
    if (ORDER === "before") perso.page();
    setPath(to);
  };
  return (
    <main>
      <nav>
        <a id="to-b" href="/app/b" onClick={(e) => { e.preventDefault(); go("/app/b"); }}>B</a>
      </nav>
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
    '<nav><a id="to-b" href="/app/b">B</a></nav>'
    '<div id="banner" data-slot="banner">BANNER FOR EVERYONE</div>'
    '<section><h1 id="hero" data-slot="hero">HERO FOR B</h1><p>Page B</p></section>'
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


def _settled_after_final(seen: list[str], final: str) -> bool:
    """True when nothing else was painted after the slot first showed `final`."""
    return final in seen and all(text == final for text in seen[seen.index(final) :])


@pytest.mark.parametrize("order", ["before", "after"])
def test_react_app_renders_decisions_and_route_changes_without_flicker(
    new_context: Any, dev_server: DevServer, api: RecordingApi, app_dir: Path, order: str
) -> None:
    # Given a consenting visitor on route /app/a of the React app
    page = _open(new_context, dev_server, app_dir)
    page.goto(f"{dev_server.url}/app/a?order={order}")
    wait_for_decision(page)

    # Then the app rendered the decided content through the hook
    expect(page.locator("#hero")).to_have_text("HERO FOR A")
    expect(page.locator("#banner")).to_have_text("BANNER FOR EVERYONE")
    # and one exposure per shown slot was recorded for this view: none for the promo,
    # which was decided (desktop) but never rendered
    _probe(page, api, "probe-a")
    view_a = exposures(api, page)
    assert sorted(x for x, _ in view_a) == ["banner-all", "hero-a"]
    assert page.evaluate("() => perso.get('promo').experience") == "promo-desktop"

    # When the visitor follows the app's link to /app/b (perso.page() before or after render)
    page.click("#to-b")
    expect(page.locator("#hero")).to_have_text("HERO FOR B")
    page.wait_for_function("() => perso.get('hero').variant === 'b'")
    seen = paints(page)
    print(f"\norder={order}: painted per element {seen['elements']}")

    # Then it ends with the new route's content, and no slot changed after it was first
    # painted with its final content (the banner, the same on both routes, never moved)
    assert page.inner_html("#root > main") == FINAL_B
    assert _settled_after_final(seen["slots"]["hero"], "HERO FOR B"), seen
    assert _settled_after_final(seen["slots"]["banner"], "BANNER FOR EVERYONE"), seen
    assert len(seen["elements"]["banner"]) == 1  # one element, kept by React across routes
    # and the new view recorded one exposure for each slot shown again
    _probe(page, api, "probe-b")
    view_b = exposures(api, page)[len(view_a) :]
    assert sorted(x for x, _ in view_b) == ["banner-all", "hero-b"]
    assert len({v for _, v in view_b}) == 1 and view_b[0][1] != view_a[0][1]


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
    # slot's first painted frame already had its final content
    seen = paints(page)["slots"]
    assert seen["hero"] == ["HERO FOR A"]
    assert seen["banner"] == ["BANNER FOR EVERYONE"]
