"""Visitors for the report tests and the README: events posted through the local stack's
real API (`/v1/events`), the way the snippet sends them, and what they must add up to.

`publish_demo(backend)` deploys examples/demo-shop.yaml into the backend's bucket;
`simulate(...)` makes a deterministic population; `post(backend, visitors)` sends each
visitor's batch (and, with `replay=True`, the same batch again, as a browser retrying);
`drain(backend)` runs the stream poller until the counters are complete.

    .venv/bin/python -m tests._report_seed      # a seeded `perso dev`-like stack, for the README
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from edge.compiler import compile_file
from infra.local.stack import LocalBackend
from lambdas.dal.cdn import S3Cdn
from lambdas.logic.publish import deploy_ruleset
from tests.integration._api import post_events

__all__ = ["Visitor", "drain", "post", "publish_demo", "simulate"]

ROOT = Path(__file__).resolve().parents[1]
SITE = "demo-shop"


@dataclass
class Visitor:
    id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    # (experience, variant) -> this visitor's total value per goal (for the expected sums)
    assigned: dict[str, str] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)  # goal -> total value
    converted: set[str] = field(default_factory=set)
    holdout: bool = False
    exposures: dict[str, int] = field(default_factory=dict)
    clicks: dict[str, int] = field(default_factory=dict)


def publish_demo(backend: LocalBackend) -> None:
    """The demo ruleset, live in the backend's bucket (what `perso deploy` does)."""
    result = compile_file(ROOT / "examples" / "demo-shop.yaml")
    assert result.ruleset is not None, result.problems
    cdn = S3Cdn(backend.client("s3"), backend.bucket)
    deploy_ruleset(result.ruleset, cdn=cdn, now=datetime.now(UTC))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event(kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": kind, "ts": _iso(at), **fields}


def simulate(
    n: int,
    *,
    seed: int = 7,
    days: int = 1,
    split: tuple[float, float] = (0.5, 0.5),
    lift: float = 0.3,
    base_rate: float = 0.08,
    holdout: float = 0.05,
    bandit_split: tuple[float, float] = (0.5, 0.5),
    bandit_from_day: int = 0,
) -> list[Visitor]:
    """`n` visitors over the last `days` days: cta-style (control/accent, `split`), the
    evening-free-shipping bandit (50/50, then `bandit_split` from day `bandit_from_day`),
    the holdout; purchases (some twice),
    a few refunds, clicks on the cta slot, device/journey/returning in exposure props."""
    rng = random.Random(seed)
    now = datetime.now(UTC) - timedelta(minutes=5)
    out = []
    for index in range(n):
        visitor = Visitor(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        # spread first visits over the days; the last day is today
        day = (index * days) // n
        at = now - timedelta(days=days - 1 - day, minutes=rng.randrange(0, 60))
        props = {
            "view": str(uuid.uuid4()),
            "device": rng.choices(["mobile", "desktop", "tablet"], [0.55, 0.38, 0.07])[0],
            "journey": rng.choices(["new", "returning", "engaged", "cart"], [5, 3, 2, 1])[0],
            "returning": rng.random() < 0.4,
        }
        events = [_event("page_view", at, props={"url": "/"})]
        rate = base_rate
        if rng.random() < holdout:
            visitor.holdout = True
            visitor.assigned["__holdout__"] = "holdout"
            events.append(
                _event("exposure", at, experience="__holdout__", variant="holdout", props=props)
            )
            visitor.exposures["__holdout__"] = 1
            rate = base_rate * 0.85
        else:
            cta = "control" if rng.random() < split[0] else "accent"
            share = bandit_split[0] if day >= bandit_from_day else 0.5
            bandit = "boa-noite" if rng.random() < share else "frete-hoje"
            visitor.assigned.update({"cta-style": cta, "evening-free-shipping": bandit})
            views = 1 + (rng.random() < 0.5)
            for _ in range(views):
                for experience, variant in visitor.assigned.items():
                    events.append(
                        _event("exposure", at, experience=experience, variant=variant, props=props)
                    )
                    visitor.exposures[experience] = visitor.exposures.get(experience, 0) + 1
            if rng.random() < (0.12 if cta == "control" else 0.18):
                events.append(_event("click", at, experience="cta-style", variant=cta, name="cta"))
                visitor.clicks["cta-style"] = 1
            if cta == "accent":
                rate = base_rate * (1 + lift)
        if rng.random() < rate:
            for _ in range(1 + (rng.random() < 0.25)):  # a quarter buy twice
                value = round(rng.lognormvariate(4.6, 0.6), 2)
                events.append(_event("conversion", at, name="purchase", value=value))
                visitor.totals["purchase"] = visitor.totals.get("purchase", 0.0) + value
                visitor.converted.add("purchase")
        if rng.random() < 0.02:
            events.append(_event("conversion", at, name="refund", value=0))
            visitor.totals.setdefault("refund", 0.0)
            visitor.converted.add("refund")
        visitor.events = events
        out.append(visitor)
    return out


def post(backend: LocalBackend, visitors: list[Visitor], *, replay: bool = False) -> None:
    """Each visitor's events in one batch through `/v1/events`; `replay` sends it twice."""
    for visitor in visitors:
        status, _, body = post_events(backend, visitor.events, visitor=visitor.id)
        assert status == 200 and body["accepted"] == len(visitor.events), body
        if replay:
            token = body["visitor"]["token"]
            status, _, again = post_events(backend, visitor.events, visitor=visitor.id, token=token)
            assert status == 200 and again["accepted"] == len(visitor.events), again


def drain(backend: LocalBackend, *, quiet_polls: int = 2, timeout: float = 300.0) -> int:
    """Run the stream poller by hand until it hands over nothing `quiet_polls` times."""
    poller = next(loop for loop in backend.loops if hasattr(loop, "poll_once"))
    poller.stop()  # driven here, not by its thread
    total, quiet, deadline = 0, 0, time.monotonic() + timeout
    while quiet < quiet_polls and time.monotonic() < deadline:
        delivered = int(poller.poll_once())
        total += delivered
        quiet = quiet + 1 if delivered == 0 else 0
    return total


if __name__ == "__main__":  # pragma: no cover - the README's seeded run
    import signal
    import sys

    from infra.local.discovery import DevEndpoints, announce
    from infra.local.stack import start_local_backend
    from lambdas.dal.counters import DynamoCounters
    from lambdas.models.counters import WeightsRecord

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)  # a background job ignores Ctrl-C's SIGINT
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1200
    days, shift = 14, 6
    stack = start_local_backend(origin_ports=[8000], publish_interval=10**6)
    try:
        publish_demo(stack)
        # the bandit as the publisher would have moved it: 50/50, then 70/30 from day 6
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        moved = start - timedelta(days=days - 1 - shift)
        counters = DynamoCounters(stack.client("dynamodb"), stack.table)
        counters.record_weights(
            SITE, WeightsRecord("evening-free-shipping", int(moved.timestamp()),
                                {"boa-noite": 0.7, "frete-hoje": 0.3})
        )  # fmt: skip
        people = simulate(
            count, days=days, base_rate=0.1, lift=0.5, bandit_split=(0.7, 0.3),
            bandit_from_day=shift,
        )  # fmt: skip
        post(stack, people)
        print(f"posted {sum(len(v.events) for v in people)} events; counted", drain(stack))
        endpoints = DevEndpoints(
            url="http://127.0.0.1:0",
            endpoint_url=stack.endpoint_url,
            table=stack.table,
            bucket=stack.bucket,
        )
        with announce(endpoints):
            print("a seeded local stack is announced; Ctrl-C stops it", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
