"""GrowthBook's bucketing cases, one test each, against `edge.bucketing`.

Sections: hash, getBucketRange, chooseVariation, inNamespace, getEqualWeights,
getQueryStringOverride. Runs on CPython and inside Pyodide (pytest and stdlib only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge.bucketing import (
    choose_variation,
    get_bucket_ranges,
    get_equal_weights,
    get_query_string_override,
    hash,
    in_namespace,
)

CASES_FILE = Path(__file__).parent / "growthbook" / "cases.json"
# The suite writes some floats rounded (1/3 as 0.33333333): compare those this closely.
TOLERANCE = 1e-8

_CASES: dict[str, list[Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
_EXPECTED_COUNTS = {
    "hash": 15,
    "getBucketRange": 13,
    "chooseVariation": 13,
    "inNamespace": 16,
    "getEqualWeights": 6,
    "getQueryStringOverride": 16,
}


def _id(section: str, index: int, case: list[Any]) -> str:
    if section == "hash":
        seed, value, version, _ = case
        return f"{index:02d} seed={seed!r} value={value!r} v{version}"
    if section == "getEqualWeights":
        return f"{index:02d} n={case[0]}"
    return f"{index:02d} {case[0]}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for section in _EXPECTED_COUNTS:
        argument = f"{section}_case"
        if argument in metafunc.fixturenames:
            cases = _CASES[section]
            ids = [_id(section, index, case) for index, case in enumerate(cases)]
            metafunc.parametrize(argument, cases, ids=ids)


@pytest.mark.parametrize("section", sorted(_EXPECTED_COUNTS))
def test_section_is_complete(section: str) -> None:
    assert len(_CASES[section]) == _EXPECTED_COUNTS[section]


def test_hash(hash_case: list[Any]) -> None:
    seed, value, version, expected = hash_case
    # n % 10000 / 10000 gives the double nearest the decimal, as JSON parsing does.
    assert hash(seed, value, version) == expected


def test_get_bucket_range(getBucketRange_case: list[Any]) -> None:
    name, (num_variations, coverage, weights), expected = getBucketRange_case
    ranges = get_bucket_ranges(num_variations, coverage, weights)
    assert len(ranges) == len(expected), name
    for (start, end), (want_start, want_end) in zip(ranges, expected, strict=True):
        assert start == pytest.approx(want_start, abs=TOLERANCE), name
        assert end == pytest.approx(want_end, abs=TOLERANCE), name


def test_choose_variation(chooseVariation_case: list[Any]) -> None:
    name, n, ranges, expected = chooseVariation_case
    assert choose_variation(n, [tuple(r) for r in ranges]) == expected, name


def test_in_namespace(inNamespace_case: list[Any]) -> None:
    name, user_id, (namespace, start, end), expected = inNamespace_case
    assert in_namespace(user_id, (namespace, start, end)) is expected, name


def test_get_equal_weights(getEqualWeights_case: list[Any]) -> None:
    n, expected = getEqualWeights_case
    weights = get_equal_weights(n)
    assert weights == pytest.approx(expected, abs=TOLERANCE)
    assert len(weights) == len(expected)


def test_get_query_string_override(getQueryStringOverride_case: list[Any]) -> None:
    name, key, url, num_variations, expected = getQueryStringOverride_case
    assert get_query_string_override(key, url, num_variations) == expected, name
