"""What the browser tests share: Chromium's launch settings, the recording event API,
the device profiles, and small page helpers.

The recording API stands in for the backend on the dev server's API seam
(`DevServer.api`): it is a real HTTP endpoint on the dev server, answering as
DESIGN §8 says, and it records every request so a test can count what reached `/v1/`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.bundle.snapshot import CHROMIUM, CHROMIUM_ARGS

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "DESKTOP",
    "IPHONE",
    "NO_SHARED_WORKER",
    "PIXEL",
    "RETURNING_SECRET",
    "RETURNING_VISITOR",
    "STORAGE_SNAPSHOT_JS",
    "RecordedRequest",
    "RecordingApi",
    "RecordingProxy",
    "debug",
    "dedicated_worker",
    "events_in",
    "seed_returning_visitor",
    "serve_ruleset",
    "storage_snapshot",
    "wait_for_decision",
]

SITE = "demo-shop"
# A fixed visitor id outside the 5% holdout of examples/demo-shop.yaml (checked by
# `seed_returning_visitor`), so audience tests cannot land in the holdout by chance.
RETURNING_VISITOR = "11111111-2222-4333-8444-555555555555"
# Its device proof (43 base64url characters), seeded with it: the API binds the first
# proof it sees to a visitor, so every context playing this visitor must be one device.
RETURNING_SECRET = "returning-visitor-device-proof-for-tests-01"
ENGINE_TIMEOUT_MS = 90_000  # a cold Pyodide boot on 2 busy cores, with slack

ROOT = Path(__file__).resolve().parents[2]

# Device profiles as a browser context takes them (user agent, viewport, touch).
IPHONE: dict[str, Any] = {
    "user_agent": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
    ),
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
PIXEL: dict[str, Any] = {
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
    ),
    "viewport": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP: dict[str, Any] = {
    "user_agent": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
    ),
    "viewport": {"width": 1366, "height": 900},
    "is_mobile": False,
    "has_touch": False,
}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class RecordingApi:
    """An event API that accepts every well-formed batch and records each request."""

    requests: list[RecordedRequest] = field(default_factory=list)
    status: int = 200
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        with self._lock:
            self.requests.append(RecordedRequest(method, path, dict(headers), body))
        if self.status != 200:
            return self.status, {"Content-Type": "application/json"}, b'{"error": "test"}'
        accepted = 0
        try:
            payload = json.loads(body.decode("utf-8")) if body else {}
            accepted = len(payload.get("events", [])) if isinstance(payload, dict) else 0
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, {"Content-Type": "application/json"}, b'{"error": "not JSON"}'
        answer = {
            "accepted": accepted,
            "duplicates": 0,
            "dropped_no_consent": 0,
            "rejected": [],
            "visitor": {"token": None, "segments": []},
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    def events(self) -> list[dict[str, Any]]:
        """Every event received in POST /v1/events bodies, in arrival order."""
        with self._lock:
            recorded = list(self.requests)
        return events_in(recorded)

    def event_ids(self) -> list[str]:
        return [str(e.get("id")) for e in self.events()]


def events_in(recorded: list[RecordedRequest]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for request in recorded:
        if request.method != "POST" or not request.path.startswith("/v1/events"):
            continue
        try:
            payload = request.json()
        except ValueError:
            continue
        batch = payload.get("events", []) if isinstance(payload, dict) else []
        events.extend(e for e in batch if isinstance(e, dict))
    return events


@dataclass
class RecordingProxy:
    """Records each request and answer, and hands the request to a real API."""

    api: Any
    requests: list[RecordedRequest] = field(default_factory=list)
    answers: list[tuple[int, bytes]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        status, out_headers, out_body = self.api(method, path, headers, body)
        with self._lock:
            self.requests.append(RecordedRequest(method, path, dict(headers), body))
            self.answers.append((status, out_body))
        return status, out_headers, out_body

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            recorded = list(self.requests)
        return events_in(recorded)

    def event_answers(self, since: int = 0) -> list[tuple[int, bytes]]:
        """(status, body) of the answers to `POST /v1/events` from request `since` on (a
        first view's `POST /v1/decide` is answered too, 404 while no ruleset is live)."""
        with self._lock:
            pairs = list(zip(self.requests, self.answers, strict=True))[since:]
        return [answer for request, answer in pairs if request.path.startswith("/v1/events")]


# Reads every storage area the page's origin can write: the privacy tests compare it
# with "nothing at all".
STORAGE_SNAPSHOT_JS = """async () => {
  const dump = (s) => {
    const o = {};
    for (let i = 0; i < s.length; i++) { const k = s.key(i); o[k] = s.getItem(k); }
    return o;
  };
  let idb = [];
  if (indexedDB.databases) { idb = (await indexedDB.databases()).map((d) => d.name); }
  let caches_ = [];
  if (self.caches) { caches_ = await caches.keys(); }
  return {local: dump(localStorage), session: dump(sessionStorage), cookies: document.cookie,
          indexeddb: idb, cache_storage: caches_};
}"""


def storage_snapshot(page: Any) -> dict[str, Any]:
    """localStorage, sessionStorage, cookies, IndexedDB names and Cache Storage keys."""
    snapshot: dict[str, Any] = page.evaluate(STORAGE_SNAPSHOT_JS)
    snapshot["context_cookies"] = page.context.cookies()
    return snapshot


def wait_for_decision(page: Any, *, timeout: float = ENGINE_TIMEOUT_MS) -> dict[str, Any]:
    """Wait until the worker decided (or the runtime gave up); the debug record."""
    page.wait_for_function(
        "() => { const d = window.__persoDebug;"
        " return !!d && (d.first_decision_ms !== null || d.errors.length > 0); }",
        timeout=timeout,
    )
    return debug(page)


def debug(page: Any) -> dict[str, Any]:
    record: dict[str, Any] = page.evaluate("() => JSON.parse(JSON.stringify(window.__persoDebug))")
    return record


def seed_returning_visitor(
    context: Any, *, visitor: str = RETURNING_VISITOR, secret: str = RETURNING_SECRET
) -> None:
    """Give the context a visitor who accepted earlier: consent, id and device proof in
    perso's storage.

    Done by an init script (before any page script), as the storage of an earlier visit
    would be; written only when absent so the runtime's own writes are kept.
    """
    from edge import bucketing
    from edge.compiler import compile_file

    ruleset = compile_file(ROOT / "examples" / "demo-shop.yaml").ruleset
    assert ruleset is not None, "examples/demo-shop.yaml does not compile"
    share = bucketing.hash(f"{SITE}/holdout", visitor, 2)
    assert share is not None and share >= ruleset.holdout, (
        f"visitor {visitor} falls in the {ruleset.holdout:.0%} holdout; pick another id"
    )
    context.add_init_script(
        f"""(() => {{
  const put = (k, v) => {{ if (localStorage.getItem(k) === null) localStorage.setItem(k, v); }};
  put("perso:{SITE}:c", JSON.stringify({{analytics: true, personalization: true}}));
  put("perso:{SITE}:id", JSON.stringify({json.dumps(visitor)}));
  put("perso:{SITE}:k", JSON.stringify({json.dumps(secret)}));
}})();"""
    )


# Playwright's routes do not reach a SharedWorker's requests (Chromium runs it as a
# target of its own, which Playwright does not attach to), so a test that routes what
# the worker fetches makes its pages use a dedicated worker, as a browser without
# SharedWorker does. tests/browser/test_shared_worker.py tests the shared one.
NO_SHARED_WORKER = "delete window.SharedWorker;"


def dedicated_worker(context: Any) -> None:
    """Make this context's pages start a dedicated decision worker (routes reach it)."""
    context.add_init_script(NO_SHARED_WORKER)


def serve_ruleset(context: Any, data: bytes, *, sha256: str | None = None) -> str:
    """Route this context's ruleset pointer and artifact to `data`; the artifact URL.

    `sha256` is what the pointer claims (default: the real digest of `data`), so a test
    can serve bytes that do not match their pointer. The context's pages use a dedicated
    worker from then on (`dedicated_worker`).
    """
    import hashlib

    dedicated_worker(context)

    digest = sha256 or hashlib.sha256(data).hexdigest()
    path = f"rulesets/{SITE}/{digest}.msgpack"
    pointer = {
        "version": digest[:16],
        "url": path,
        "sha256": digest,
        "published_at": "2026-11-01T00:00:00Z",
    }
    context.route(
        f"**/cdn/rulesets/{SITE}/latest.json",
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
            body=json.dumps(pointer),
        ),
    )
    context.route(
        f"**/cdn/{path}",
        lambda route: route.fulfill(
            status=200,
            content_type="application/octet-stream",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
            body=data,
        ),
    )
    return path


def fixed_experience(
    exp_id: str, slot: str, content: dict[str, Any], *, audience: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A single-variant experience in the model's dict form (no compiler), for everyone
    unless `audience` narrows it."""
    return {
        "id": exp_id,
        "slot": slot,
        "priority": 1000,
        "audience": audience or {},
        "schedule": {"start": None, "end": None},
        "frequency": None,
        "consent": "none",
        "allocation": "fixed",
        "goals": [],
        "coverage": 1.0,
        "variants": [{"id": "only", "weight": 1.0, "content": content}],
    }


def demo_ruleset_data() -> dict[str, Any]:
    """The compiled demo ruleset as a dict, for a test to tamper with."""
    from edge.compiler import compile_file

    ruleset = compile_file(ROOT / "examples" / "demo-shop.yaml").ruleset
    assert ruleset is not None
    return ruleset.to_dict()


def encode_ruleset_data(data: dict[str, Any]) -> bytes:
    """Artifact bytes for a ruleset dict, bypassing the compiler's checks."""
    from edge.artifact import encode
    from edge.model import Ruleset

    return encode(Ruleset.from_dict(data)).data


def open_as_returning_visitor(
    new_context: Any, url: str, **context_options: Any
) -> tuple[Any, Any, dict[str, Any]]:
    """A consenting returning visitor's context and page, opened on `url` once decided:
    (context, page, the decision record)."""
    context = new_context(**context_options)
    seed_returning_visitor(context)
    page = context.new_page()
    page.goto(url)
    return context, page, wait_for_decision(page)
