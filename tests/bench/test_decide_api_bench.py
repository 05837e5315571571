"""`POST /v1/decide`: the time spent inside the handler, on the demo artifact.

Two figures, printed and never asserted (DESIGN §10 budget: < 5 ms p95 inside the
handler): the handler's own work on one request (body validated, `decide_view` on the
ruleset held in memory, the answer serialized), and the whole handler through the
API Gateway adapter against moto (the site's config read from the table included, as
a cold site cache would; in AWS it is cached for a minute).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from edge.artifact import encode, load
from edge.compiler import compile_file
from infra.local.stack import start_local_backend
from lambdas.logic.decide import decide_view
from lambdas.models.decide import DecideRequest
from tests._report_seed import ROOT, publish_demo

RUNS = 2000
BODY: dict[str, Any] = {
    "site": "demo-shop",
    "consent": {"analytics": True, "personalization": True},
    "visitor": "v-bench",
    "signals": {
        "local_time": "2026-11-25T19:30:00+01:00",
        "timezone": "Europe/Paris",
        "languages": ["fr-FR", "fr", "en"],
        "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
        "ua_ch": None,
        "max_touch_points": 5,
        "url": "https://shop.example/products/sofa?utm_source=newsletter",
        "referrer": "https://www.google.com/",
    },
}


def _percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return f"p50 {cuts[49] * 1000:.3f} ms, p95 {cuts[94] * 1000:.3f} ms ({len(samples)} runs)"


def _time(fn: Callable[[], object], runs: int) -> list[float]:
    for _ in range(50):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def test_decide_inside_the_handler(report: Callable[[str, str], None]) -> None:
    compiled = compile_file(ROOT / "examples" / "demo-shop.yaml").ruleset
    assert compiled is not None
    artifact = encode(compiled)
    ruleset = load(artifact.data, sha256=artifact.sha256)
    raw = json.dumps(BODY).encode()

    def one() -> str:
        request = DecideRequest.model_validate(json.loads(raw))
        answer = decide_view(
            request, ruleset=ruleset, version=artifact.sha256, now=datetime.now(UTC)
        )
        return json.dumps(answer.model_dump(mode="json"))

    report(
        "decide API",
        f"inside the handler (parse, decide, answer): {_percentiles(_time(one, RUNS))}",
    )


def test_decide_through_the_local_api(report: Callable[[str, str], None]) -> None:
    backend = start_local_backend(origin_ports=[8000], loops=False)
    try:
        publish_demo(backend)
        headers = {"Content-Type": "text/plain", "Origin": "http://localhost:8000"}
        raw = json.dumps(BODY)

        def one() -> None:
            status, _, _ = backend.api("POST", "/v1/decide", headers, raw)
            assert status == 200

        samples = _time(one, 300)
    finally:
        backend.stop()
    report(
        "decide API",
        f"whole handler via the adapter, site config from moto: {_percentiles(samples)}",
    )
