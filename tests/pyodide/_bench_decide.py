"""The decide() measurement shared by CPython and Pyodide (tests/bench/test_pyodide_bench.py).

Same code, same ruleset (200 experiences, 20 slots), same contexts on both sides, so
the two figures differ only by the interpreter. Plain stdlib + edge: runs in Pyodide.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

from edge.decide import decide
from tests._factories import NOW, generated_ruleset, sample_context, sample_profile

__all__ = ["MARKER", "SCENARIOS", "measure", "measure_json"]

MARKER = "PERSO-BENCH-JSON "
SCENARIOS = ("warm (repeat view)", "returning visitor, new page", "new visitor, no profile")


def _pages() -> Iterator[dict[str, Any]]:
    base = sample_context()
    for i in itertools.count():
        yield {
            **base,
            "local": {**base["local"], "minute": i % 60},
            "page": {**base["page"], "path": f"/p/sku-{i}"},
        }


def _visitors() -> Iterator[dict[str, Any]]:
    for i in itertools.count():
        yield sample_context(visitor=f"visitor-{i:08d}")


def measure(*, rounds: int, warmup: int = 200) -> dict[str, dict[str, float]]:
    """Per scenario: p50, p95 and mean of one decide() call in microseconds, and n."""
    ruleset = generated_ruleset(experiences=200, slots=20, seed=7)
    total = rounds + warmup
    # Contexts are built before timing, so only decide() itself is measured.
    scenarios: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
        SCENARIOS[0]: ([sample_context()] * total, sample_profile()),
        SCENARIOS[1]: (list(itertools.islice(_pages(), total)), sample_profile()),
        SCENARIOS[2]: (list(itertools.islice(_visitors(), total)), {}),
    }
    figures: dict[str, dict[str, float]] = {}
    for name, (contexts, profile) in scenarios.items():
        samples: list[float] = []
        clock = time.perf_counter_ns
        for i, context in enumerate(contexts):
            started = clock()
            result = decide(ruleset, context, profile, NOW)
            elapsed = clock() - started
            if i >= warmup:
                samples.append(elapsed / 1000)
        if len(result.decisions) != 20:
            raise AssertionError(f"{name}: {len(result.decisions)} decisions, expected 20")
        samples.sort()
        figures[name] = {
            "p50": statistics.median(samples),
            "p95": samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))],
            "mean": statistics.fmean(samples),
            "n": float(len(samples)),
        }
    return figures


def measure_json(*, rounds: int) -> int:
    """Print the figures as one marked JSON line (what the Pyodide side sends back)."""
    figures = measure(rounds=rounds)
    print(MARKER + json.dumps({"python": sys.version.split()[0], "figures": figures}))
    return 0
