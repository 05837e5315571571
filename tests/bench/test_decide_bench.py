"""decide() on a 200-experience, 20-slot ruleset against the 100 us CPython budget.

Five situations, from the most to the least cached (what each may reuse is in its
label, so a cached case never passes for an uncached one):
- repeat view: the same context and profile again: the result cache answers (from
  the second sight of a context on);
- returning visitor, new page: the context differs each call (page, minute), the
  profile is the visitor's; audiences are evaluated, the visitor's hashes come from
  the in-memory per-visitor cache (a long-lived worker);
- returning visitor, fresh worker: the same, but every per-visitor and per-context
  cache is emptied before each call (a worker started for this page view);
- new visitor: a new id each call with an empty profile and emptied caches: every
  audience evaluated, every hash computed;
- prepare: compiling the ruleset itself (once per artifact).

Only the prepared ruleset (and bucketing's FNV state per seed, which depends on the
experience ids alone) survives between calls of the uncached cases.

The test process holds pytest, hypothesis, boto3, moto...: ~65,000 objects that every
garbage collection pass walks, which made decide() ~1.6x slower here than in a process
holding edge alone (a worker). The module therefore freezes the heap it starts with
(`gc.freeze()`): collections still run, over what decide allocates, as in a worker.

Run: `pytest tests/bench/test_decide_bench.py --benchmark-enable`; the medians and
means against the budget are printed in the terminal summary ("perso benchmark
figures", "decide"). The budget is judged on the median: the machine running the
suite is shared, and a mean carries every scheduling hiccup of the run.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from edge.decide import decide
from edge.decide._prepare import _build, prepare
from tests._factories import NOW, generated_ruleset, sample_context, sample_profile

BUDGET_US = 100.0
RULESET = generated_ruleset(experiences=200, slots=20, seed=7)
PROFILE = sample_profile()
GROUP = "decide: 200 experiences, 20 slots"


@pytest.fixture(autouse=True, scope="module")
def _small_heap() -> Iterator[None]:
    gc.collect()
    gc.freeze()  # the harness's objects leave the collector's generations
    yield
    gc.unfreeze()


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


def _forget() -> None:
    """Empty the per-context, per-visitor and result caches (not the preparation)."""
    prepared = prepare(RULESET)
    prepared.memos.clear()
    prepared.visitors.clear()
    prepared.results.clear()
    prepared.glances.clear()


def _report(benchmark: Any, report: Callable[[str, str], None], label: str) -> None:
    if benchmark.stats is None:  # --benchmark-disable: ran once, nothing measured
        return
    mean_us = benchmark.stats.stats.mean * 1e6
    median_us = benchmark.stats.stats.median * 1e6
    verdict = "within" if median_us <= BUDGET_US else "over"
    report(
        "decide",
        f"{label:<44} median {median_us:7.1f} us = {median_us / BUDGET_US:4.2f} x budget "
        f"({verdict})   mean {mean_us:7.1f} us",
    )


@pytest.mark.bench
def test_warm_repeated_context(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = GROUP
    context = sample_context()
    decide(RULESET, context, PROFILE, NOW)
    decide(RULESET, context, PROFILE, NOW)  # second sight: stored in the result cache
    result = benchmark(decide, RULESET, context, PROFILE, NOW)
    assert len(result.decisions) == 20
    _report(benchmark, report, "repeat view (result cache)")


@pytest.mark.bench
def test_returning_visitor_new_page(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = GROUP
    pages = _new_pages()
    decide(RULESET, next(pages), PROFILE, NOW)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (RULESET, next(pages), PROFILE, NOW), {}

    result = benchmark.pedantic(decide, setup=setup, rounds=2000, warmup_rounds=50)
    assert len(result.decisions) == 20
    _report(benchmark, report, "returning visitor, new page (hashes cached)")


@pytest.mark.bench
def test_returning_visitor_fresh_worker(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = GROUP
    pages = _new_pages()

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        _forget()
        return (RULESET, next(pages), PROFILE, NOW), {}

    result = benchmark.pedantic(decide, setup=setup, rounds=2000, warmup_rounds=50)
    assert len(result.decisions) == 20
    _report(benchmark, report, "returning visitor, fresh worker (no cache)")


@pytest.mark.bench
def test_cold_new_visitor_fresh_profile(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = GROUP
    visitors = _new_visitors()

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        _forget()
        return (RULESET, next(visitors), {}, NOW), {}

    result = benchmark.pedantic(decide, setup=setup, rounds=2000, warmup_rounds=50)
    assert len(result.decisions) == 20
    _report(benchmark, report, "new visitor, empty profile (no cache)")


@pytest.mark.bench
def test_explain_new_page(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = GROUP
    pages = _new_pages()

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (RULESET, next(pages), PROFILE, NOW), {"explain": True}

    result = benchmark.pedantic(decide, setup=setup, rounds=300, warmup_rounds=10)
    assert any(d.trace for d in result.decisions)
    _report(benchmark, report, "explain=True, new page (hashes cached)")


@pytest.mark.bench
def test_prepare_ruleset(benchmark: Any, report: Callable[[str, str], None]) -> None:
    benchmark.group = "decide: preparing the ruleset (once per artifact)"
    prepared = benchmark.pedantic(_build, args=(RULESET,), rounds=30, warmup_rounds=2)
    assert len(prepared.slots) == 20
    if benchmark.stats is not None:
        mean_ms = benchmark.stats.stats.mean * 1e3
        report("decide", f"{'prepare (compile 200 audiences)':<44} mean {mean_ms:8.2f} ms")
