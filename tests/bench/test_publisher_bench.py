"""The publisher on one million synthetic events (DESIGN §10: <= 60 s on one core).

Pipeline, all in one process on one core: each event goes through the real aggregation
logic (`lambdas.logic.aggregate.aggregate`: markers, attribution, profile features,
co-views, histograms) into an in-memory sink with DynamoDB's semantics; the counters are
then folded into a snapshot, the learned params computed (bandit, recommendation lists,
co-views, segment thresholds), merged into the ruleset and encoded as the artifact.
The database round trips are left out on purpose: they are I/O, measured in AWS, not
here. Figures are printed (time per stage, events/s, tracemalloc peak), never asserted.
"""

from __future__ import annotations

import random
import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from edge.artifact import encode, load
from edge.model import Experience, Ruleset, Slot, Variant
from lambdas.logic.aggregate import Event, aggregate
from lambdas.logic.publish import learn
from tests._memory_store import MemorySink

EVENTS = 1_000_000
VISITORS = 50_000
ITEMS = 2_000
EXPERIENCES = 20  # half of them bandits, 2-3 variants each
SITE = "bench-shop"
DAYS = [f"2026-11-{d:02d}" for d in range(1, 29)]


def _ruleset() -> Ruleset:
    experiences = []
    for n in range(EXPERIENCES):
        count = 2 + n % 2
        experiences.append(
            Experience(
                id=f"exp-{n}",
                slot=f"slot-{n}",
                allocation="bandit" if n % 2 == 0 else "fixed",
                goals=("purchase",),
                variants=tuple(
                    Variant(id=f"v{i}", weight=round(1 / count, 6), content={"text": f"{n}/{i}"})
                    for i in range(count)
                ),
            )
        )
    return Ruleset(
        site=SITE,
        slots={f"slot-{n}": Slot(id=f"slot-{n}", selector=f"#s{n}") for n in range(EXPERIENCES)},
        experiences=tuple(experiences),
        catalog={f"sku-{i}": {"title": f"Item {i}"} for i in range(ITEMS)},
    )


def _events(count: int, *, seed: int = 7) -> Iterator[Event]:
    """A realistic mix: 55% item views, 10% clicks, 28% exposures, 7% conversions."""
    rng = random.Random(seed)
    rand, randrange = rng.random, rng.randrange
    # Popularity follows a power law, as in real catalogs.
    items = [f"sku-{min(int(ITEMS * rand() ** 3), ITEMS - 1)}" for _ in range(20_000)]
    owners = [f"V#{SITE}#visitor-{i}" for i in range(VISITORS)]
    for n in range(count):
        owner = owners[randrange(VISITORS)]
        day = DAYS[n * len(DAYS) // count]
        roll = rand()
        if roll < 0.55:
            yield Event(
                SITE,
                owner,
                f"e{n}",
                "page_view",
                day,
                personalization=rand() < 0.8,
                viewed=items[randrange(20_000)],
            )
        elif roll < 0.65:
            yield Event(
                SITE,
                owner,
                f"e{n}",
                "click",
                day,
                personalization=True,
                viewed=items[randrange(20_000)],
            )
        elif roll < 0.93:
            exp = randrange(EXPERIENCES)
            variant = f"v{hash(owner) % (2 + exp % 2)}"  # sticky per visitor
            yield Event(
                SITE, owner, f"e{n}", "exposure", day, f"exp-{exp}", variant, personalization=True
            )
        else:
            yield Event(
                SITE,
                owner,
                f"e{n}",
                "conversion",
                day,
                name="purchase",
                value=round(20 + 200 * rand(), 2),
                personalization=True,
                purchased=(items[randrange(20_000)],),
            )


def _run(count: int) -> dict[str, float]:
    times: dict[str, float] = {}
    cpu = time.process_time()
    start = time.perf_counter()
    sink = MemorySink()
    for event in _events(count):
        aggregate(event, sink)
    times["aggregate"] = time.perf_counter() - start
    mark = time.perf_counter()
    snapshot = sink.snapshot(SITE)
    times["fold"] = time.perf_counter() - mark
    mark = time.perf_counter()
    ruleset = _ruleset()
    learned = learn(ruleset, snapshot)
    times["learn"] = time.perf_counter() - mark
    mark = time.perf_counter()
    artifact = encode(Ruleset(**{**{f: getattr(ruleset, f) for f in ruleset.__slots__},
                                  "learned": learned}))  # fmt: skip
    times["encode"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    times["cpu"] = time.process_time() - cpu
    times["artifact_bytes"] = float(len(artifact.data))
    times["counter_rows"] = float(len(sink.rows))
    reloaded = load(artifact.data, sha256=artifact.sha256).learned
    times["bandits_moved"] = float(len(reloaded.weights))
    times["co_viewed_items"] = float(len(reloaded.co_viewed))
    times["segments"] = float(len(reloaded.segments))
    return times


@pytest.mark.bench
def test_publisher_one_million_events(report: Callable[[str, str], None]) -> None:
    figures = _run(EVENTS)
    # Sanity of the result itself (not of the speed): the pipeline really learned.
    assert figures["bandits_moved"] == EXPERIENCES // 2
    assert figures["co_viewed_items"] > 0 and figures["segments"] == 3
    lines = [
        f"{EVENTS:,} events, {VISITORS:,} visitors, {ITEMS:,} items, {EXPERIENCES} experiences",
        f"aggregate {figures['aggregate']:.1f} s ({EVENTS / figures['aggregate']:,.0f} events/s),"
        f" fold {figures['fold']:.2f} s, learn {figures['learn']:.2f} s,"
        f" encode {figures['encode']:.3f} s",
        f"total {figures['total']:.1f} s wall, {figures['cpu']:.1f} s CPU"
        f" (budget 60 s on one core: CPU/budget = {figures['cpu'] / 60:.2f})",
        f"{figures['counter_rows']:,.0f} counter rows, artifact {figures['artifact_bytes']:,.0f} B",
    ]
    # Peak memory: tracemalloc slows Python down, so it runs on 1/20 of the events and
    # the growth is reported for that run (memory grows with visitors and pairs, not events).
    tracemalloc.start()
    small = _run(EVENTS // 20)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lines.append(
        f"tracemalloc peak on {EVENTS // 20:,} events: {peak / 2**20:.0f} MiB"
        f" ({small['total']:.1f} s under tracing)"
    )
    report("publisher (1M events -> learned params -> artifact)", "\n".join(lines))
