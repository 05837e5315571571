"""The marketer's publish loop end to end: `perso dev` as a subprocess, Chromium, the CLI.

A visitor consents, browses, is exposed and converts; the local stack aggregates and its
scheduled publisher serves new bandit weights; `perso deploy --target local --yes`
changes the page; `perso deploy --preview` shows another version in one browser context
while another keeps the live one; `perso rollback` brings the previous version back and
it stays through scheduled publishes; revoking consent erases the visitor from the local
DynamoDB; and `perso dev` stops on Ctrl-C (SIGINT) or a process manager's SIGTERM,
leaving no process and no temporary folder behind.

Everything is real: `perso dev` (moto's server, the learning loops, the bucket mirror)
runs in its own process with its own temp folder (TMPDIR) and state folder
(PERSO_STATE_DIR), the commands run as a user types them, and the pages run in Chromium.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from edge.artifact import load
from infra.local.discovery import LOCAL_CREDENTIALS
from tests.browser._pages import wait_until
from tests.browser._support import IPHONE, wait_for_decision

ROOT = Path(__file__).resolve().parents[2]
SITE = "demo-shop"
PUBLISH_EVERY = 2  # seconds between the stack's scheduled publishes
BANDIT = "evening-free-shipping"
LIVE_HERO = "Bem-vindo à Perso Shop"  # hero-pt, for Portuguese speakers, no consent needed
DEPLOYED_HERO = "Olá, nova coleção chegou"
PREVIEW_HERO = "Prévia: coleção de verão"
HERO = "#hero h1"
PT_PHONE: dict[str, Any] = {**IPHONE, "locale": "pt-BR", "timezone_id": "America/Sao_Paulo"}

pytestmark = pytest.mark.timeout(300)


@dataclass
class Dev:
    """A running `perso dev` subprocess and the folders it was given."""

    process: subprocess.Popen[str]
    url: str
    env: dict[str, str]
    tmp: Path
    state: Path
    log: Path

    def endpoints(self) -> dict[str, Any]:
        (announced,) = self.state.glob("dev-*.json")
        data: dict[str, Any] = json.loads(announced.read_text(encoding="utf-8"))
        return data

    def perso(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`perso ARGS` as a user runs it, finding this `perso dev` by itself."""
        return subprocess.run(
            [sys.executable, "-m", "infra.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )


def _start(tmp_path: Path) -> Dev:
    tmp, state = tmp_path / "tmp", tmp_path / "state"
    tmp.mkdir()
    log = tmp_path / "dev.log"
    # Its own temp and state folders: whatever it leaves behind is found there.
    env = {**os.environ, "TMPDIR": str(tmp), "PERSO_STATE_DIR": str(state)}
    command = [sys.executable, "-m", "infra.cli", "dev", "--port", "0"]
    command += ["--publish-every", str(PUBLISH_EVERY)]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8")
        found = re.search(r"demo\s+(http://127\.0\.0\.1:\d+)/", text)
        if found and "Ctrl-C stops it." in text and list(state.glob("dev-*.json")):
            return Dev(process, found.group(1), env, tmp, state, log)
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    process.wait(10)
    pytest.fail(f"perso dev did not start:\n{log.read_text(encoding='utf-8')}")


def _descendants(pid: int) -> set[int]:
    """Every process under `pid` (from /proc: each thread's children)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = {int(k) for k in children.read_text().split()}
            except OSError:
                continue
            todo.extend(kids - found)
            found |= kids
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited


def _stop_and_check(dev: Dev, how: signal.Signals) -> None:
    """Send `how`, then: a clean exit, no process, no temp folder, no announcement."""
    children = _descendants(dev.process.pid)
    dev.process.send_signal(how)
    try:
        code = dev.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        dev.process.kill()
        pytest.fail(f"perso dev did not stop within 20 s of {how.name}")
    log = dev.log.read_text(encoding="utf-8")
    assert code == 0, f"perso dev exited {code} on {how.name}:\n{log}"
    assert "perso dev: stopped." in log
    assert "Traceback" not in log, log
    assert [pid for pid in children if _alive(pid)] == []
    assert sorted(p.name for p in dev.tmp.iterdir()) == []
    assert list(dev.state.glob("dev-*")) == []


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Dev]:
    running = _start(tmp_path)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(10)


# --- the stack, seen from outside -----------------------------------------------------


def _pointer(dev: Dev) -> dict[str, Any]:
    answer = requests.get(f"{dev.url}/cdn/rulesets/{SITE}/latest.json", timeout=10)
    answer.raise_for_status()
    pointer: dict[str, Any] = answer.json()
    return pointer


def _served_hero(dev: Dev) -> str | None:
    """The text of hero-pt in the artifact the CDN serves now."""
    pointer = _pointer(dev)
    data = requests.get(f"{dev.url}/cdn/{pointer['url']}", timeout=10).content
    for experience in load(data, sha256=str(pointer["sha256"])).experiences:
        if experience.id == "hero-pt" and experience.variants[0].content:
            return str(experience.variants[0].content.get("text"))
    return None


def _served_weights(dev: Dev, pointer: dict[str, Any]) -> list[float] | None:
    data = requests.get(f"{dev.url}/cdn/{pointer['url']}", timeout=10).content
    weights = load(data, sha256=str(pointer["sha256"])).learned.weights.get(BANDIT)
    return None if weights is None else list(weights)


def _table_items(dev: Dev) -> list[dict[str, Any]]:
    found = dev.endpoints()
    client = boto3.session.Session(
        aws_access_key_id=LOCAL_CREDENTIALS[0],
        aws_secret_access_key=LOCAL_CREDENTIALS[1],
        region_name=found["region"],
    ).client("dynamodb", endpoint_url=found["endpoint_url"])
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=found["table"]):
        items.extend(page.get("Items", []))
    return items


def _mentioning(dev: Dev, text: str) -> list[dict[str, Any]]:
    return [item for item in _table_items(dev) if text in repr(item)]


def _traffic(dev: Dev, *, visitors: int = 110) -> None:
    """Visitors exposed to each arm of the bandit; one arm converts far more often."""

    def visit(n: int) -> None:
        arm = ("boa-noite", "frete-hoje")[n % 2]
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        events: list[dict[str, Any]] = [
            {
                "id": str(uuid.uuid4()),
                "type": "exposure",
                "ts": now,
                "experience": BANDIT,
                "variant": arm,
            },
        ]
        if arm == "frete-hoje" or n % 10 == 0:
            events.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "conversion",
                    "ts": now,
                    "name": "purchase",
                    "value": 99.0,
                }
            )
        body = {
            "site": SITE,
            "visitor": str(uuid.uuid4()),
            "sent_at": now,
            "events": events,
            "consent": {"analytics": True, "personalization": True},
        }
        answer = requests.post(
            f"{dev.url}/v1/events",
            data=json.dumps(body),
            headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": dev.url},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(visit, range(2 * visitors)))


def _hero(context: Any, url: str, expected: str, *, within: float = 90.0) -> Any:
    """Open `url` in `context` until the hero says `expected` (reloading: a first view is
    decided by the API's /v1/decide, whose live ruleset trails a publish by up to 60 s,
    as the CDN's pointer does); the page."""
    page = context.new_page()
    deadline = time.monotonic() + within
    while True:
        page.goto(url)
        try:
            page.wait_for_function(
                "([sel, text]) => document.querySelector(sel)?.textContent === text",
                arg=[HERO, expected],
                timeout=20_000,
            )
            return page
        except PlaywrightTimeout:
            if time.monotonic() < deadline:
                continue
            shown = page.evaluate(f"document.querySelector({HERO!r})?.textContent")
            record = page.evaluate("JSON.stringify(window.__persoDebug)")
            pytest.fail(f"{url} shows {shown!r}, not {expected!r}; the runtime's record: {record}")


def _on_device(context: Any) -> Any:
    """Decide this context's first views on the device, from the CDN's pointer.

    A first view is otherwise decided by the API's POST /v1/decide, whose live ruleset
    trails a publish by up to 60 s by design (as the CDN's pointer cache does); a fresh
    context reads the pointer now, so the checks after a deploy or a rollback need not
    wait that minute. The runtime falls back to its worker when the API cannot answer.
    """
    context.route("**/v1/decide", lambda route: route.abort())
    return context


def _ruleset(tmp_path: Path, name: str, hero: str) -> str:
    text = (ROOT / "examples" / "demo-shop.yaml").read_text(encoding="utf-8")
    assert LIVE_HERO in text
    path = tmp_path / name
    path.write_text(text.replace(LIVE_HERO, hero), encoding="utf-8")
    return str(path)


# --- the loop ---------------------------------------------------------------------------


def test_the_publish_loop_end_to_end(dev: Dev, new_context: Any, tmp_path: Path) -> None:
    clock = time.monotonic()

    def step(name: str) -> None:  # where the minutes go, printed (never asserted)
        print(f"e2e: {name} at {time.monotonic() - clock:.1f} s")

    started = _pointer(dev)

    # Given a Portuguese-speaking visitor on a phone who consents, browses, sees a
    # personalized hero (an exposure) and converts (add to cart)
    visitor_context = new_context(**PT_PHONE)
    page = _hero(visitor_context, f"{dev.url}/", LIVE_HERO)
    page.click("#consent-accept")
    page.goto(f"{dev.url}/product.html?id=sneaker-01")
    wait_for_decision(page)
    page.click("#add-to-cart")
    visitor = json.loads(page.evaluate(f"localStorage.getItem('perso:{SITE}:id')"))

    def stored() -> bool:
        items = repr(_mentioning(dev, visitor))
        return "'exposure'" in items and "add_to_cart" in items

    wait_until(
        stored, what="the visitor's exposure and conversion in the table", timeout=30, interval=0.5
    )

    step("visit done")
    # (1) and enough traffic on the bandit for it to learn: a scheduled publish serves a
    # new artifact whose weights favour the arm that converts
    _traffic(dev)

    def learned() -> list[float] | None:
        pointer = _pointer(dev)
        return None if pointer["sha256"] == started["sha256"] else _served_weights(dev, pointer)

    step("traffic sent")
    weights = wait_until(
        learned, what="a scheduled publish with learned weights", timeout=90, interval=0.5
    )
    assert weights != [0.5, 0.5] and weights[1] > weights[0], weights

    step("learned weights served")
    # (2) When the marketer deploys a changed ruleset, the page changes
    changed = _ruleset(tmp_path, "changed.yaml", DEPLOYED_HERO)
    done = dev.perso("deploy", changed, "--target", "local", "--yes")
    assert done.returncode == 0, done.stderr
    assert "~ experience hero-pt: content of pt" in done.stdout, done.stdout
    assert "published demo-shop version" in done.stdout
    assert "wrote pointer rulesets/demo-shop/latest.json" in done.stderr  # progress, plain
    # the CDN serves the deployed rules (the scheduled publisher goes on from them)
    deployed = wait_until(
        lambda: _served_hero(dev) == DEPLOYED_HERO and _pointer(dev),
        what="the deploy",
        timeout=15,
        interval=0.5,
    )
    kept = _served_weights(dev, deployed)  # what was learned is kept
    assert kept is not None and kept[1] > kept[0], kept
    live_context = _on_device(new_context(**PT_PHONE))
    live_page = _hero(live_context, f"{dev.url}/", DEPLOYED_HERO)

    step("deploy shown")
    # (3) A preview of another version shows in its own context only
    other = _ruleset(tmp_path, "other.yaml", PREVIEW_HERO)
    done = dev.perso("deploy", other, "--preview", "--target", "local")
    assert done.returncode == 0, done.stderr
    found = re.search(r"see it in one browser tab: (\S+)", done.stdout)
    assert found, done.stdout
    preview_url = found.group(1)
    assert re.fullmatch(rf"{re.escape(dev.url)}/\?perso_preview=[0-9a-f]{{64}}", preview_url)
    preview_sha = preview_url.rsplit("=", 1)[1]
    # the pointer did not move to it (scheduled publishes of the deployed source go on)
    assert _pointer(dev)["sha256"] != preview_sha
    history = json.loads(dev.perso("history", SITE, "--target", "local", "--json").stdout)
    assert preview_sha not in {row["sha256"] for row in history["versions"]}
    preview_context = _on_device(new_context(**PT_PHONE))
    sent: list[str] = []
    preview_context.on(
        "request", lambda r: sent.append(r.post_data or "") if "/v1/events" in r.url else None
    )
    preview_page = _hero(preview_context, preview_url, PREVIEW_HERO)
    preview_page.click("#consent-accept")  # a tester who accepts: still nothing counted
    assert preview_page.evaluate("perso.get('hero').preview") == preview_sha
    assert preview_page.evaluate("window.__persoDebug.preview") == preview_sha
    preview_page.goto(f"{dev.url}/product.html?id=jacket-01")  # the tab keeps previewing
    preview_page.goto(f"{dev.url}/")
    preview_page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.textContent === t", arg=[HERO, PREVIEW_HERO]
    )
    live_page.reload()
    live_page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.textContent === t", arg=[HERO, DEPLOYED_HERO]
    )
    previewing = list(sent)  # what the previewing tab sent: page views, never an exposure
    assert previewing and not [body for body in previewing if '"exposure"' in body], previewing
    _hero(preview_context, f"{dev.url}/", DEPLOYED_HERO)  # another tab: the live version
    preview_page.goto(f"{dev.url}/?perso_preview=off")  # the tab ends its preview
    preview_page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.textContent === t", arg=[HERO, DEPLOYED_HERO]
    )
    assert preview_page.evaluate(f"sessionStorage.getItem('perso:{SITE}:preview')") is None

    step("preview checked")
    # (4) A rollback brings the previous version back, and it stays through publishes
    # (the version live just before the deploy: re-weightings since are part of the deploy)
    rows = json.loads(dev.perso("history", SITE, "--target", "local", "--json").stdout)
    commands = [row["command"] for row in rows["versions"]]
    before = rows["versions"][commands.index("deploy") + 1]["sha256"]
    done = dev.perso("rollback", SITE, "--target", "local", "--yes")
    assert done.returncode == 0, done.stderr
    assert "rolled back demo-shop to version" in done.stdout
    assert wait_until(
        lambda: _pointer(dev)["sha256"] == before, what="the rollback", timeout=15, interval=0.5
    )
    assert _served_weights(dev, _pointer(dev)) is not None  # with what was learned then
    _hero(_on_device(new_context(**PT_PHONE)), f"{dev.url}/", LIVE_HERO)
    _traffic(dev, visitors=10)  # news a publish would otherwise ship
    time.sleep(3 * PUBLISH_EVERY)
    assert _pointer(dev)["sha256"] == before
    history = dev.perso("history", SITE, "--target", "local", "--json")
    commands = [row["command"] for row in json.loads(history.stdout)["versions"]]
    assert commands[0] == "rollback" and "deploy" in commands, commands

    step("rollback held")
    # (5) Revoking consent erases the visitor: nothing of them is left in the table
    page.evaluate("perso.consent({analytics: false, personalization: false})")
    wait_until(
        lambda: not _mentioning(dev, visitor),
        what="the visitor's erasure",
        timeout=30,
        interval=0.5,
    )
    time.sleep(2)  # the stream poller runs every 0.5 s: nothing comes back
    assert _mentioning(dev, visitor) == []

    step("visitor erased")
    # (6) Ctrl-C stops everything it started
    _stop_and_check(dev, signal.SIGINT)


def test_sigterm_stops_perso_dev_and_leaves_nothing(dev: Dev) -> None:
    # Given a running `perso dev` that served a page and took an event
    assert requests.get(f"{dev.url}/", timeout=10).status_code == 200
    assert _pointer(dev)["sha256"]
    # When a process manager stops it, then it stops cleanly and leaves nothing behind
    _stop_and_check(dev, signal.SIGTERM)


def test_a_publish_interval_out_of_range_is_a_sentence() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "infra.cli", "dev", "--publish-every", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "perso: --publish-every 0 must be between 1 and 86400 seconds.\n"
