"""edge.conditions against growthbook-python's evalCondition, side by side, one process.

The workload is one pass over the 248 evalCondition cases of the GrowthBook suite.
Run: `pytest tests/bench/test_conditions_bench.py --benchmark-enable`; the ratios are
printed in the terminal summary ("perso benchmark figures", block "conditions").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from growthbook.core import evalCondition as growthbook_eval_condition

from edge.conditions import compile, evaluate

CASES_FILE = Path(__file__).parent.parent / "conformance" / "growthbook" / "cases.json"
_RAW: list[Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["evalCondition"]
# (condition, attributes, saved_groups, expected)
CASES = [(c[1], c[2], c[4] if len(c) > 4 else None, c[3]) for c in _RAW]
EXPECTED_TRUE = sum(1 for case in CASES if case[3])
PRECOMPILED = [(compile(cond), attrs, groups) for cond, attrs, groups, _ in CASES]


def ours_precompiled() -> int:
    return sum(predicate(attrs, groups) for predicate, attrs, groups in PRECOMPILED)


def ours_compile_and_call() -> int:
    return sum(compile(cond)(attrs, groups) for cond, attrs, groups, _ in CASES)


def ours_evaluate() -> int:
    return sum(evaluate(cond, attrs, groups) for cond, attrs, groups, _ in CASES)


def growthbook() -> int:
    return sum(growthbook_eval_condition(attrs, cond, groups) for cond, attrs, groups, _ in CASES)


VARIANTS: dict[str, Callable[[], int]] = {
    "ours, precompiled predicates": ours_precompiled,
    "ours, evaluate() (compiles, reuses)": ours_evaluate,
    "ours, compile() + call, no reuse": ours_compile_and_call,
    "growthbook 4.0.0 evalCondition": growthbook,
}


@pytest.mark.bench
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_pass_over_suite(benchmark: Any, variant: str) -> None:
    benchmark.group = "conditions: one pass over 248 cases"
    passed = benchmark(VARIANTS[variant])
    if variant.startswith("ours"):
        assert passed == EXPECTED_TRUE
    else:
        # growthbook-python 4.0.0 follows newer rules on 3 cases (missing attribute as 0,
        # numbers against numeric strings): it still has to be doing the real work.
        assert abs(passed - EXPECTED_TRUE) <= 3


def _best_pass_seconds(
    variants: dict[str, Callable[[], int]], *, rounds: int, passes: int
) -> dict[str, float]:
    # Rounds alternate between the variants, so a busy moment on the shared machine
    # slows all of them alike; the best round of each is kept.
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(rounds):
        for name, run in variants.items():
            start = time.perf_counter()
            for _ in range(passes):
                run()
            best[name] = min(best[name], (time.perf_counter() - start) / passes)
    return best


@pytest.mark.bench
def test_ratio_against_growthbook(report: Callable[[str, str], None]) -> None:
    # Given the same cases for every variant, and our answers checked against the suite
    disagreements = [
        raw[0]
        for raw, (pred, attrs, groups) in zip(_RAW, PRECOMPILED, strict=True)
        if pred(attrs, groups) is not raw[3]
    ]
    assert disagreements == []
    theirs_wrong = [
        raw[0]
        for raw, (cond, attrs, groups, want) in zip(_RAW, CASES, strict=True)
        if growthbook_eval_condition(attrs, cond, groups) is not want
    ]

    # When each variant makes repeated passes over the suite
    best = _best_pass_seconds(VARIANTS, rounds=12, passes=10)

    # Then the figures and ratios are printed (never asserted: speed is shown, not tested)
    theirs = best["growthbook 4.0.0 evalCondition"]
    lines = [f"one pass = {len(CASES)} evalCondition cases; best of 12 rounds x 10 passes"]
    for name, seconds in best.items():
        per_case = seconds / len(CASES) * 1e9
        lines.append(
            f"{name:38s} {seconds * 1e6:9.1f} us/pass {per_case:7.0f} ns/case"
            f"  {theirs / seconds:5.2f}x growthbook's speed"
        )
    lines.append(
        f"growthbook 4.0.0 disagrees with the suite on {len(theirs_wrong)} case(s): "
        + "; ".join(theirs_wrong)
    )
    report("conditions", "\n".join(lines))
    print("\n".join(lines))
