"""GrowthBook's evalCondition cases, one test each, against `edge.conditions`.

Runs on CPython and inside Pyodide: pytest and the standard library only, and the
case file is found next to this file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from edge.conditions import compile, evaluate

CASES_FILE = Path(__file__).parent / "growthbook" / "cases.json"
CASES_SHA256 = "1422cb1bfc6f6035f78aa21e5181ab91f758e37f1688e2c6142aface7d953886"


def _eval_condition_cases() -> list[Any]:
    cases: list[Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["evalCondition"]
    return cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "eval_condition_case" in metafunc.fixturenames:
        cases = _eval_condition_cases()
        # Some names repeat in the suite (e.g. "$not - pass"), so the index leads.
        ids = [f"{index:03d} {case[0]}" for index, case in enumerate(cases)]
        metafunc.parametrize("eval_condition_case", cases, ids=ids)


def test_cases_file_is_the_pinned_copy() -> None:
    assert hashlib.sha256(CASES_FILE.read_bytes()).hexdigest() == CASES_SHA256


def test_suite_has_every_eval_condition_case() -> None:
    assert len(_eval_condition_cases()) == 248


def test_eval_condition(eval_condition_case: list[Any]) -> None:
    # Given a case: [name, condition, attributes, expected, saved_groups?]
    name, condition, attributes, expected = eval_condition_case[:4]
    saved_groups = eval_condition_case[4] if len(eval_condition_case) > 4 else None

    # When it is evaluated directly, and through a predicate compiled once and used twice
    result = evaluate(condition, attributes, saved_groups)
    predicate = compile(condition)

    # Then all three agree with the reference SDK, and are real booleans
    assert result is expected, name
    assert predicate(attributes, saved_groups) is expected, name
    assert predicate(attributes, saved_groups) is expected, name
