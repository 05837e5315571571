"""decide() inside Pyodide (Node) against the 1 ms p95 budget, CPython side by side.

The same measurement (tests/pyodide/_bench_decide.py: 200 experiences, 20 slots, three
situations) runs in this process and in Pyodide 314 under Node; the figures and the
Pyodide/CPython ratio are printed under "perso benchmark figures" ("decide in Pyodide").
A figure, not an assertion: the test checks only that both sides measured.

Run: `pytest tests/bench/test_pyodide_bench.py --benchmark-enable` (1000 rounds per
situation; 100 without --benchmark-enable).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.pyodide._bench_decide import MARKER, SCENARIOS, measure
from tests.pyodide._wheels import CACHE
from tests.pyodide.run import run_python

__all__: list[str] = []

BUDGET_P95_US = 1000.0


@pytest.mark.bench
def test_decide_in_pyodide_vs_cpython(
    request: pytest.FixtureRequest, report: Callable[[str, str], None]
) -> None:
    # Given the same measurement on both interpreters
    rounds = 1000 if request.config.getoption("benchmark_enable", default=False) else 100
    code = (
        "import os, sys\n"
        "sys.path.insert(0, os.getcwd())\n"
        "from tests.pyodide._bench_decide import measure_json\n"
        f"measure_json(rounds={rounds})\n"
    )
    # When each side runs it
    done = run_python(code, wheels_dir=CACHE / "edge", capture=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    assert len(lines) == 1, done.stdout + done.stderr
    inside = json.loads(lines[0].removeprefix(MARKER))
    pyodide = inside["figures"]
    cpython = measure(rounds=rounds)

    # Then both produced figures for every situation, and they are printed side by side
    assert inside["python"].startswith("3.14")
    for name in SCENARIOS:
        for side in (pyodide[name], cpython[name]):
            assert side["n"] == rounds
            assert 0 < side["p50"] <= side["p95"]
    report("decide in Pyodide", _table(cpython, pyodide, rounds=rounds))


def _table(
    cpython: dict[str, dict[str, float]], pyodide: dict[str, dict[str, float]], *, rounds: int
) -> str:
    lines = [
        f"200 experiences, 20 slots, {rounds} calls each; microseconds; "
        f"budget: Pyodide p95 <= {BUDGET_P95_US:.0f} us",
        f"{'situation':<30}{'CPython p50/p95/mean':>24}{'Pyodide p50/p95/mean':>26}"
        f"{'ratio p50/p95':>15}  budget",
    ]
    for name in SCENARIOS:
        ours, theirs = cpython[name], pyodide[name]
        verdict = "within" if theirs["p95"] <= BUDGET_P95_US else "OVER"
        lines.append(
            f"{name:<30}{_triple(ours):>24}{_triple(theirs):>26}"
            f"{theirs['p50'] / ours['p50']:>8.1f}x/{theirs['p95'] / ours['p95']:.1f}x  {verdict}"
        )
    return "\n".join(lines)


def _triple(figures: dict[str, float]) -> str:
    return f"{figures['p50']:.0f} / {figures['p95']:.0f} / {figures['mean']:.0f}"
