"""Collect throughput against moto's server: the batch path vs one PutItem per event.

Both runs go through the same real collect handler (API Gateway v2 events, validation,
consent, profile read, token) and differ only in how the store writes: BatchWriteItem in
groups of 25 (ours) or one PutItem per event (the baseline). Same events, same run; the
ratio is printed. Item sizes of realistic events are measured with DynamoDB's sizing rules
(DESIGN §10: <= 1 KB, one write unit per event). Figures are printed, never asserted;
only the size budget is checked.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from infra.local.stack import LocalBackend, start_local_backend
from lambdas.dal.store import Item, Store
from lambdas.handlers import _common
from lambdas.logic._events import check_events, event_item

BATCH = 100  # the largest batch the API takes
BATCHES = 12
ORIGIN = "http://localhost:8000"


class OnePutPerEvent(Store):
    """The baseline: the same store, writing each event with its own PutItem."""

    def put_items(self, items: Any) -> int:
        count = 0
        for item in items:
            self.put_item(item)
            count += 1
        return count


class NoIO(Store):
    """Writes and reads nothing: what is left is the handler's own CPU cost."""

    def put_items(self, items: Any) -> int:
        return len(list(items))

    def get_items(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Item]:
        return {}

    def get_item(self, pk: str, sk: str) -> Item | None:
        return None

    def query(self, pk: str, *, prefix: str | None = None, limit: int | None = None) -> list[Item]:
        return []


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def realistic_events(count: int) -> list[dict[str, Any]]:
    """The snippet's event mix on the demo shop (page views dominate)."""
    now = int(time.time() * 1000)
    out: list[dict[str, Any]] = []
    for i in range(count):
        kind = ("page_view", "page_view", "exposure", "click", "page_view", "conversion")[i % 6]
        event: dict[str, Any] = {"id": str(uuid.uuid4()), "type": kind, "ts": _iso(now - i * 7)}
        if kind == "page_view":
            event["props"] = {
                "path": f"/produtos/tenis-corrida-{i % 50}",
                "title": "Tênis de corrida leve — Demo Shop",
                "referrer": "https://www.google.com/",
                "utm": {"source": "newsletter", "campaign": "black-friday-2026"},
            }
        elif kind == "exposure":
            event |= {
                "experience": "evening-free-shipping",
                "variant": "free-shipping",
                "props": {"slot": "banner"},
            }
        elif kind == "click":
            event |= {"name": "add-to-cart", "props": {"item": f"sku-{i % 200}", "slot": "hero"}}
        else:
            event |= {
                "name": "purchase",
                "value": 129.9,
                "props": {"items": [f"sku-{j}" for j in range(3)], "currency": "BRL"},
            }
        out.append(event)
    return out


def ddb_size(item: Item) -> int:
    """DynamoDB's item size: attribute names + values (numbers ~ 1 byte per 2 digits + 1)."""

    def value_size(value: Any) -> int:
        if isinstance(value, bool) or value is None:
            return 1
        if isinstance(value, int | float | Decimal):
            digits = len(str(Decimal(str(value))).replace("-", "").replace(".", "").lstrip("0"))
            return (digits + 1) // 2 + 1
        if isinstance(value, str):
            return len(value.encode())
        if isinstance(value, bytes):
            return len(value)
        if isinstance(value, dict):
            return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in value.items())
        if isinstance(value, list):
            return 3 + sum(value_size(v) + 1 for v in value)
        raise TypeError(type(value))

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


@pytest.fixture(scope="module")
def backend() -> Iterator[LocalBackend]:
    stack = start_local_backend(origin_ports=[8000], loops=False)
    try:
        yield stack
    finally:
        stack.stop()


def _post(backend: LocalBackend, events: list[dict[str, Any]]) -> None:
    body = json.dumps(
        {
            "site": "demo-shop",
            "visitor": str(uuid.uuid4()),
            "consent": {"analytics": True, "personalization": True},
            "events": events,
        }
    )
    status, _, answer = backend.api(
        "POST", "/v1/events", {"Origin": ORIGIN, "Content-Type": "text/plain"}, body
    )
    assert status == 200 and json.loads(answer)["accepted"] == len(events), answer


def _rate(backend: LocalBackend, batches: list[list[dict[str, Any]]]) -> tuple[float, float]:
    started = time.perf_counter()
    for events in batches:
        _post(backend, events)
    elapsed = time.perf_counter() - started
    return sum(len(b) for b in batches) / elapsed, elapsed


def test_collect_events_per_second_batch_vs_put_item(
    backend: LocalBackend,
    monkeypatch: pytest.MonkeyPatch,
    report: Callable[[str, str], None],
) -> None:
    batches = [realistic_events(BATCH) for _ in range(BATCHES)]
    _post(backend, realistic_events(5))  # cold start (imports, settings) out of the figures
    ours = _common.store()
    baseline = OnePutPerEvent(ours.client, ours.table, site_cache_seconds=60)
    # Interleave the two so drift on a shared machine hits both alike.
    rates: dict[str, list[float]] = {"batch": [], "put": []}
    for round_ in range(2):
        half = batches[round_ * BATCHES // 2 : (round_ + 1) * BATCHES // 2]
        monkeypatch.setattr(_common, "store", lambda: ours)
        rates["batch"].append(_rate(backend, half)[0])
        monkeypatch.setattr(_common, "store", lambda: baseline)
        rates["put"].append(_rate(backend, [realistic_events(BATCH) for _ in half])[0])
    batch_rate, put_rate = statistics.mean(rates["batch"]), statistics.mean(rates["put"])
    no_io = NoIO(ours.client, ours.table, site_cache_seconds=60)
    config = ours.site_config("demo-shop")
    no_io.site_config = lambda site: config  # type: ignore[method-assign]
    monkeypatch.setattr(_common, "store", lambda: no_io)
    cpu_rate, _ = _rate(backend, [realistic_events(BATCH) for _ in range(BATCHES)])
    report(
        "collect (moto server, 100-event requests through the handler)",
        f"BatchWriteItem x25: {batch_rate:8.0f} events/s\n"
        f"PutItem per event:  {put_rate:8.0f} events/s\n"
        f"ratio: batch path is {batch_rate / put_rate:.1f}x the per-event baseline\n"
        f"handler alone, no I/O: {cpu_rate:8.0f} events/s (moto's server is the bottleneck)",
    )
    assert batch_rate > 0 and put_rate > 0


def test_item_sizes_of_real_events(report: Callable[[str, str], None]) -> None:
    raw = realistic_events(600)
    now = int(time.time() * 1000)
    batch = check_events(raw, now_ms=now, retention_days=395)
    assert not batch.rejected
    visitor = str(uuid.uuid4())
    sizes = [
        ddb_size(
            event_item(
                e,
                ts,
                d,
                pk=f"V#demo-shop#{visitor}",
                site="demo-shop",
                vid=visitor,
                channel="web",
                personalization=True,
                retention_days=395,
            )
        )
        for _, e, ts, d in batch.events
    ]
    report(
        "event item size (DynamoDB sizing rules)",
        f"{len(sizes)} events: max {max(sizes)} B, mean {statistics.mean(sizes):.0f} B, "
        f"min {min(sizes)} B (budget 1024 B = one write unit)",
    )
    assert max(sizes) < 1024  # the budget itself (DESIGN §10), not a timing
