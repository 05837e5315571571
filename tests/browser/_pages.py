"""What the integration tests (framework calls, the npm package, React, the debugger)
share: pages of their own served on the dev server's origin, a small ruleset whose
content depends on the route, the packed npm package, and an observer of what each
slot showed frame by frame.
"""

from __future__ import annotations

import json
import mimetypes
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge import bucketing
from edge.artifact import encode
from edge.compiler import compile_text
from infra.bundle.snippet import minified_stub
from tests.browser._support import SITE, RecordingApi

__all__ = [
    "HOLDOUT_VISITOR",
    "LONE_VISITOR",
    "PAINTS_JS",
    "ROUTE_RULESET",
    "VIEWS_JS",
    "events_of",
    "exposures",
    "pack_package",
    "paints",
    "route_artifact",
    "route_dir",
    "route_page",
    "seed_visitor",
    "snippet_head",
    "wait_until",
]

ROOT = Path(__file__).resolve().parents[2]

# A ruleset whose hero depends on the route (/app/a, /app/b), whose banner is the same
# everywhere, and whose promo fills on desktops (an app that never shows it must record
# no exposure for it). No consent needed to decide; events still need analytics consent.
# The holdout withholds every experience (scope all): its experiences are `consent: none`,
# which the default scope (consent) would leave running for holdout visitors.
ROUTE_RULESET = f"""
site: {SITE}
timezone: UTC
holdout: {{share: 0.05, scope: all}}
slots:
  hero: {{selector: "#hero"}}
  banner: {{selector: "#banner"}}
  promo: {{selector: "#promo"}}
experiences:
  - id: hero-a
    slot: hero
    consent: none
    audience: {{page.path: /app/a}}
    variants:
      - {{id: a, content: {{text: "Hero for A"}}}}
  - id: hero-b
    slot: hero
    consent: none
    audience: {{page.path: /app/b}}
    variants:
      - {{id: b, content: {{text: "Hero for B"}}}}
  - id: banner-all
    slot: banner
    consent: none
    variants:
      - {{id: all, content: {{text: "Banner for everyone"}}}}
  - id: promo-desktop
    slot: promo
    consent: none
    audience: {{device.type: desktop}}
    variants:
      - {{id: desk, content: {{text: "Promo for desktops"}}}}
"""


def route_artifact() -> bytes:
    result = compile_text(ROUTE_RULESET)
    assert result.ruleset is not None, result.problems
    return encode(result.ruleset).data


def _visitor(*, held: bool, prefix: str) -> str:
    """The first id `prefix`-nnn... inside (or outside) the demo's 5% holdout."""
    for n in range(100_000):
        visitor = f"{prefix}-0000-4000-8000-{n:012d}"
        share = bucketing.hash(f"{SITE}/holdout", visitor, 2)
        if share is not None and (share < 0.05) == held:
            return visitor
    raise AssertionError(f"no visitor id {'in' if held else 'outside'} the 5% holdout")


HOLDOUT_VISITOR = _visitor(held=True, prefix="00000000")
# A visitor only one test plays, so its events can be told from those a page of another
# test still sends as it closes (same ruleset bucket as everyone outside the holdout).
LONE_VISITOR = _visitor(held=False, prefix="33333333")


def events_of(api: RecordingApi, visitor: str) -> list[dict[str, Any]]:
    """The events the API received in batches sent for `visitor`."""
    found: list[dict[str, Any]] = []
    for request in list(api.requests):
        if request.method != "POST" or not request.path.startswith("/v1/events"):
            continue
        try:
            payload = request.json()
        except ValueError:
            continue
        if isinstance(payload, dict) and payload.get("visitor") == visitor:
            found.extend(e for e in payload.get("events", []) if isinstance(e, dict))
    return found


def seed_visitor(
    context: Any, visitor: str, secret: str = "holdout-visitor-device-proof-for-tests-0001"
) -> None:
    """A visitor who accepted earlier (consent, id, device proof), whatever their bucket."""
    assert len(secret) == 43
    context.add_init_script(
        f"""(() => {{
  const put = (k, v) => {{ if (localStorage.getItem(k) === null) localStorage.setItem(k, v); }};
  put("perso:{SITE}:c", JSON.stringify({{analytics: true, personalization: true}}));
  put("perso:{SITE}:id", JSON.stringify({json.dumps(visitor)}));
  put("perso:{SITE}:k", JSON.stringify({json.dumps(secret)}));
}})();"""
    )


def snippet_head(**init: Any) -> str:
    """The inline stub and perso.init(...) with these options (apply too)."""
    options = {"site": SITE, "cdn": "/cdn", "api": "/v1", **init}
    call = json.dumps(options).replace("<", "\\u003c")
    return f"<script>{minified_stub()}\nperso.init({call});</script>"


def route_page(context: Any, url: str, html: str) -> None:
    """Serve `html` at `url` (and only there) in this browser context."""
    context.route(
        url,
        lambda route: route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-store"},
            body=html,
        ),
    )


def route_dir(context: Any, prefix: str, directory: Path) -> list[str]:
    """Serve the files of `directory` under the URL `prefix` (ending in /); the paths asked."""
    asked: list[str] = []

    def fulfil(route: Any) -> None:
        rel = route.request.url.split("?", 1)[0][len(prefix) :]
        asked.append(rel)
        path = (directory / rel).resolve()
        if not path.is_file() or directory.resolve() not in path.parents:
            route.fulfill(status=404, body="not found")
            return
        kind = (
            "text/javascript"
            if path.suffix in (".js", ".mjs")
            else mimetypes.guess_type(path.name)[0]
        )
        route.fulfill(
            status=200, content_type=kind or "application/octet-stream", body=path.read_bytes()
        )

    context.route(prefix + "**", fulfil)
    return asked


def pack_package(dest: Path) -> Path:
    """`npm pack` of snippet/ (what would be published), extracted where a bundler
    finds it: dest/node_modules/@perso/browser. React and ReactDOM are linked from the
    repository's node_modules (pinned in package-lock.json). Returns dest."""
    done = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(dest)],
        cwd=ROOT / "snippet",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    tarball = dest / json.loads(done.stdout)[0]["filename"]
    unpacked = dest / "unpacked"
    with tarfile.open(tarball) as tar:
        tar.extractall(unpacked, filter="data")
    modules = dest / "node_modules"
    (modules / "@perso").mkdir(parents=True)
    (unpacked / "package").rename(modules / "@perso" / "browser")
    for name in ("react", "react-dom", "scheduler"):
        (modules / name).symlink_to(ROOT / "node_modules" / name)
    return dest


# Every animation frame, the text each [data-slot] element shows (a frame is what gets
# painted): window.__paints[slot] is the list of texts in the order painted, repeats
# dropped; window.__elements[slot] the same per element (a route that mounts a new
# element for the slot starts a new list).
PAINTS_JS = """
window.__paints = {};
window.__elements = {};
const lists = new WeakMap();
const sample = () => {
  for (const el of document.querySelectorAll("[data-slot]")) {
    const slot = el.getAttribute("data-slot");
    const seen = (window.__paints[slot] = window.__paints[slot] || []);
    if (seen[seen.length - 1] !== el.textContent) seen.push(el.textContent);
    let mine = lists.get(el);
    if (!mine) {
      mine = [];
      lists.set(el, mine);
      (window.__elements[slot] = window.__elements[slot] || []).push(mine);
    }
    if (mine[mine.length - 1] !== el.textContent) mine.push(el.textContent);
  }
  requestAnimationFrame(sample);
};
requestAnimationFrame(sample);
"""


def paints(page: Any) -> dict[str, Any]:
    """What each slot showed, frame by frame, after two more frames were painted:
    {"slots": {slot: [texts]}, "elements": {slot: [[texts of one element], ...]}}."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    seen: dict[str, Any] = page.evaluate(
        "() => ({slots: window.__paints, elements: window.__elements})"
    )
    return seen


def wait_until(
    check: Callable[[], Any],
    *,
    page: Any = None,
    timeout: float = 15.0,
    what: str = "the condition",
    interval: float = 0.1,
) -> Any:
    """Poll `check` until it returns something truthy (events reach the API in batches).
    With `page`, wait through it, so the page's console and request events are delivered."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        if page is None:
            time.sleep(interval)
        else:
            page.wait_for_timeout(interval * 1000)


# The ids of the views this page decided (from the document's perso:decision events).
VIEWS_JS = """
window.__views = [];
document.addEventListener("perso:decision", (e) => {
  if (!window.__views.includes(e.detail.view)) window.__views.push(e.detail.view);
});
"""


def exposures(api: RecordingApi, page: Any) -> list[tuple[str, str]]:
    """(experience, view) of every exposure the API received for this page's views (a
    page another test closed may still send its queue as it goes: a beacon)."""
    views = set(page.evaluate("() => window.__views"))
    assert views, "no perso:decision event seen on this page (is VIEWS_JS installed?)"
    return [
        (str(e.get("experience")), str((e.get("props") or {}).get("view")))
        for e in api.events()
        if e.get("type") == "exposure" and (e.get("props") or {}).get("view") in views
    ]
