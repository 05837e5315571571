"""decide() on a 200-experience, 20-slot ruleset against the 100 us CPython budget.

Four situations, from the most to the least cached:
- warm: the same context and profile again (a repeat view): the result cache answers;
- returning visitor, new page: the context differs each call (page, minute), the
  profile is the visitor's: audiences are evaluated, the visitor's hashes are cached;
- cold: a new visitor each call with a fresh (empty) profile: nothing cached but the
  prepared ruleset;
- prepare: compiling the ruleset itself (once per artifact).

Run: `pytest tests/bench/test_decide_bench.py --benchmark-enable`; the means against
the budget are printed in the terminal summary ("perso benchmark figures", "decide").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from edge._decide_prepare import _build
from edge.decide import decide
from tests._factories import NOW, generated_ruleset, sample_context, sample_profile

BUDGET_US = 100.0
RULESET = generated_ruleset(experiences=200, slots=20, seed=7)
PROFILE = sample_profile()


def _new_pages() -> Iterator[dict[str, Any]]:
    base = sample_context()
    for i in itertools.count():
        context = dict(base)
        context["local"] = {**base["local"], "minute": i % 60}
        context["page"] = {**base["page"], "path": f"/p/sku-{i}"}
        yield context


def _new_visitors() -> Iterator[dict[str, Any]]:
    for i in itertools.count():
        yield sample_context(visitor=f"visitor-{i:08d}")


def _report(benchmark: Any, report: Callable[[str, str], None], label: str) -> None:
    if benchmark.stats is None:  # --benchmark-disable: ran once, nothing measured
        return
    mean_us = benchmark.stats.stats.mean * 1e6
    median_us = benchmark.stats.stats.median * 1e6
    verdict = "within" if mean_us <= BUDGET_US else "over"
    report(
        "decide",
        f"{label:<34} mean {mean_us:8.1f} us  median {median_us:8.1f} us  "
        f"= {mean_us / BUDGET_US:5.2f} x the {BUDGET_US:.0f} us budget ({verdict})",
    )


@pytest.mark.bench
def test_warm_repeated_context(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = "decide: 200 experiences, 20 slots"
    context = sample_context()
    decide(RULESET, context, PROFILE, NOW)
    result = benchmark(decide, RULESET, context, PROFILE, NOW)
    assert len(result.decisions) == 20
    _report(benchmark, report, "warm (repeat view, cached)")


@pytest.mark.bench
def test_returning_visitor_new_page(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = "decide: 200 experiences, 20 slots"
    pages = _new_pages()
    decide(RULESET, next(pages), PROFILE, NOW)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (RULESET, next(pages), PROFILE, NOW), {}

    result = benchmark.pedantic(decide, setup=setup, rounds=2000, warmup_rounds=50)
    assert len(result.decisions) == 20
    _report(benchmark, report, "returning visitor, new page")


@pytest.mark.bench
def test_cold_new_visitor_fresh_profile(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = "decide: 200 experiences, 20 slots"
    visitors = _new_visitors()
    decide(RULESET, next(visitors), {}, NOW)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (RULESET, next(visitors), {}, NOW), {}

    result = benchmark.pedantic(decide, setup=setup, rounds=2000, warmup_rounds=50)
    assert len(result.decisions) == 20
    _report(benchmark, report, "cold (new visitor, fresh profile)")


@pytest.mark.bench
def test_explain_new_page(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = "decide: 200 experiences, 20 slots"
    pages = _new_pages()

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (RULESET, next(pages), PROFILE, NOW), {"explain": True}

    result = benchmark.pedantic(decide, setup=setup, rounds=300, warmup_rounds=10)
    assert any(d.trace for d in result.decisions)
    _report(benchmark, report, "explain=True, new page")


@pytest.mark.bench
def test_prepare_ruleset(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = "decide: preparing the ruleset (once per artifact)"
    prepared = benchmark.pedantic(_build, args=(RULESET,), rounds=30, warmup_rounds=2)
    assert len(prepared.slots) == 20
    if benchmark.stats is not None:
        mean_ms = benchmark.stats.stats.mean * 1e3
        report("decide", f"{'prepare (compile 200 audiences)':<34} mean {mean_ms:8.2f} ms")
