"""edge.conditions and edge.bucketing beyond the GrowthBook suite: reuse, malformed
input, and the JavaScript coercions the suite does not spell out.

Pytest and the standard library only, so it runs inside Pyodide too.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from edge.bucketing import (
    fnv1a32,
    get_bucket_ranges,
    get_query_string_override,
    hash,
    hash_many,
)
from edge.conditions import OPERATORS, compile, evaluate

# --- compile once, call many times


def test_one_predicate_serves_many_visitors() -> None:
    # Given a condition compiled once
    condition = {"device.type": "mobile", "visits": {"$gte": 3}, "country": {"$in": ["fr", "be"]}}
    predicate = compile(condition)
    visitors = [
        {"device": {"type": "mobile"}, "visits": 3, "country": "fr"},
        {"device": {"type": "desktop"}, "visits": 9, "country": "fr"},
        {"device": {"type": "mobile"}, "visits": "7", "country": "be"},
        {"device": {"type": "mobile"}, "visits": 2, "country": "be"},
        {},
    ]
    # When it is called for each visitor, twice
    first = [predicate(attrs) for attrs in visitors]
    second = [predicate(attrs) for attrs in visitors]
    # Then the answers are stable and the same as evaluate()'s
    assert first == [True, False, True, False, False]
    assert second == first
    assert [evaluate(condition, attrs) for attrs in visitors] == first


def test_evaluate_sees_a_condition_changed_in_place() -> None:
    # evaluate() reuses what it compiled, keyed by content, so a mutated dict is recompiled.
    condition: dict[str, Any] = {"plan": "pro"}
    assert evaluate(condition, {"plan": "pro"}) is True
    condition["plan"] = "free"
    assert evaluate(condition, {"plan": "pro"}) is False


def test_evaluate_tells_one_from_true_and_from_one_point_zero() -> None:
    assert evaluate({"a": True}, {"a": 5}) is True  # !!5 === true
    assert evaluate({"a": 1}, {"a": 5}) is False
    assert evaluate({"a": 1.0}, {"a": 1}) is True


def test_saved_groups_are_read_at_call_time() -> None:
    predicate = compile({"id": {"$inGroup": "beta"}})
    assert predicate({"id": "u1"}, {"beta": ["u1"]}) is True
    assert predicate({"id": "u1"}, {"beta": ["u2"]}) is False
    assert predicate({"id": "u1"}) is False


# --- malformed conditions are false, never an exception

MALFORMED: list[Any] = [
    None,
    "country = fr",
    ["a", "b"],
    42,
    {"$or": "not a list"},
    {"$and": {"a": 1}},
    {"$nor": [1, 2]},
    {"$or": [{"a": 1}, "b"]},
    {"$not": ["a"]},
    {"tags": {"$elemMatch": "x"}},
    {"a": {1, 2}},
    {1: "a"},
    {"a": {"$in": [{"b": object()}]}, "c": object()},
]


@pytest.mark.parametrize("condition", MALFORMED, ids=[repr(c)[:40] for c in MALFORMED])
def test_malformed_condition_is_false(condition: Any) -> None:
    attributes = {"a": 1, "tags": ["x"], "country": "fr"}
    assert evaluate(condition, attributes) is False
    assert compile(condition)(attributes) is False


@pytest.mark.parametrize("condition", MALFORMED[4:10], ids=[repr(c)[:40] for c in MALFORMED[4:10]])
def test_malformed_part_stays_false_under_not(condition: Any) -> None:
    # A broken branch fails the whole rule: $not must not turn it into a match.
    assert evaluate({"$not": condition}, {"a": 1}) is False
    assert evaluate({"$nor": [condition]}, {"a": 1}) is False


def test_unknown_operator_and_invalid_regex_fail_only_their_own_test() -> None:
    # As in the reference SDK, these are false where they stand, so $not makes them true.
    assert evaluate({"name": {"$regx": "a"}}, {"name": "a"}) is False
    assert evaluate({"$not": {"name": {"$regx": "a"}}}, {"name": "a"}) is True
    assert evaluate({"name": {"$regex": "(unclosed"}}, {"name": "("}) is False
    assert evaluate({"name": {"$not": {"$regex": "(unclosed"}}}, {"name": "("}) is True


def test_saved_group_that_is_not_a_list_fails_the_rule() -> None:
    groups = {"beta": {"type": "list", "values": ["u1"]}}
    assert evaluate({"id": {"$inGroup": "beta"}}, {"id": "u1"}, groups) is False
    assert evaluate({"id": {"$notInGroup": "beta"}}, {"id": "u1"}, groups) is False


@pytest.mark.parametrize("attributes", [None, "abc", [1, 2], 7])
def test_attributes_that_are_not_an_object_read_as_empty(attributes: Any) -> None:
    assert evaluate({"a": {"$exists": False}}, attributes) is True
    assert evaluate({"a": 1}, attributes) is False


def test_deeply_nested_condition_is_false_not_a_recursion_error() -> None:
    condition: dict[str, Any] = {"a": 1}
    for _ in range(1200):
        condition = {"$and": [condition]}
    assert evaluate(condition, {"a": 1}) is False
    assert compile(condition)({"a": 1}) is False


def _random_json(rng: random.Random, depth: int) -> Any:
    leaves: list[Any] = [None, True, False, 0, 1, -2.5, "", "a", "1.2.3", "$in", float("nan")]
    if depth <= 0 or rng.random() < 0.3:
        return rng.choice(leaves)
    keys = [
        "a",
        "b.c",
        "$or",
        "$and",
        "$not",
        "$nor",
        "$in",
        "$gt",
        "$elemMatch",
        "$size",
        "$all",
        "$regex",
        "$vgt",
        "$exists",
        "$type",
        "$inGroup",
        "$eq",
        "$zzz",
    ]
    if rng.random() < 0.4:
        return [_random_json(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(keys): _random_json(rng, depth - 1) for _ in range(rng.randint(0, 3))}


def test_random_conditions_always_answer_a_boolean() -> None:
    # Given 3000 random JSON shapes built from operator names (a fixed seed: reproducible)
    rng = random.Random(20240611)
    answers = set()
    for _ in range(3000):
        condition = _random_json(rng, 4)
        attributes = _random_json(rng, 3)
        groups = {"a": ["a", 1], "$in": "oops"}
        # When evaluated both ways, Then each gives the same real boolean, never raising
        result = evaluate(condition, attributes, groups)
        assert result is compile(condition)(attributes, groups)
        answers.add(result)
    assert answers == {True, False}


# --- JavaScript coercions that the suite does not spell out


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [
        ({"n": 0}, {}, True),  # null * 1 === 0
        ({"n": 16}, {"n": "0x10"}, True),  # Number("0x10")
        ({"n": 10}, {"n": "1_0"}, False),  # not a JavaScript number
        ({"n": 5}, {"n": [5]}, True),  # [5] * 1 === 5
        ({"s": "1,2"}, {"s": [1, 2]}, True),  # [1, 2] + "" === "1,2"
        ({"s": "true"}, {"s": True}, True),
        ({"s": "1"}, {"s": 1.0}, True),  # String(1.0) === "1"
        ({"s": "1e+21"}, {"s": 1e21}, True),
        ({"n": {"$gt": 2}}, {"n": [3]}, True),  # [3] > 2
        ({"s": {"$lt": "b"}}, {"s": ["a"]}, True),  # ["a"] < "b" as strings
        ({"n": {"$lte": 0}}, {"n": "abc"}, False),  # NaN compares false
        ({"n": {"$gte": 0}}, {"n": None}, True),  # null >= 0
        ({"e": {"$exists": []}}, {"e": 1}, True),  # [] is truthy
        ({"e": {"$exists": 0}}, {}, True),
        ({"o": {}}, {"o": {}}, True),  # {} is a literal, not an operator object
        ({"o": {}}, {"o": {"a": 1}}, False),
        ({"o": {"a": 1, "b": [1, None]}}, {"o": {"a": 1.0, "b": [1, float("nan")]}}, True),
        ({"o": {"a": 1, "b": 2}}, {"o": {"b": 2, "a": 1}}, False),  # key order matters
        ({"o": {"2": 1, "1": 2}}, {"o": {"1": 2, "2": 1}}, True),  # index keys sort first
        ({"t": {"$elemMatch": {"$eq": 0}}}, {"t": [0, 0]}, False),  # falsy items skipped
        ({"t": {"$elemMatch": {"$exists": True}}}, {"t": [0, "", 1]}, True),
        ({"items.1.id": "b"}, {"items": [{"id": "a"}, {"id": "b"}]}, True),
        ({"items.length": 2}, {"items": [1, 2]}, True),
        ({"items.01": 2}, {"items": [1, 2]}, False),
        ({"x": {"$regex": "ull$"}}, {}, True),  # RegExp.test(null) reads "null"
        ({"x": {"$in": [1]}}, {"x": True}, False),  # true is not 1
        ({"x": {"$in": [float("nan")]}}, {"x": float("nan")}, True),  # SameValueZero
        ({"x": {"$eq": 1}}, {"x": 1.0}, True),
        ({"x": {"$eq": [1]}}, {"x": [1]}, False),  # === on arrays: never the same reference
        ({"x": {"$ini": ["ÉTÉ"]}}, {"x": "été"}, True),
        ({"v": {"$vgt": 1}}, {"v": "1.0.1"}, True),  # a number version is String(1)
        ({"s": {"$gt": "\ue000"}}, {"s": "\U0001f600"}, False),  # UTF-16 order
        ({"$groups": {"$size": 2}}, {"$groups": ["a", "b"]}, True),  # "$groups" is a path
    ],
)
def test_javascript_coercion(condition: Any, attributes: Any, expected: bool) -> None:
    assert evaluate(condition, attributes) is expected
    assert compile(condition)(attributes) is expected


# --- bucketing details


def _fnv_reference(units: list[int]) -> int:
    value = 0x811C9DC5
    for unit in units:
        value = ((value ^ unit) * 0x01000193) % 2**32
    return value


def test_hash_walks_utf16_code_units() -> None:
    # U+1F600 is the surrogate pair D83D DE00 in JavaScript strings.
    assert fnv1a32("a\U0001f600é") == _fnv_reference([0x61, 0xD83D, 0xDE00, 0xE9])
    assert fnv1a32("abc") == _fnv_reference([0x61, 0x62, 0x63])
    n = hash("seed", "\U0001f600", 2)
    assert n is not None and 0 <= n < 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://x.com?t=0x1", 1),  # parseInt reads hexadecimal
        ("http://x.com?t=1abc", 1),  # parseInt stops at the first non-digit
        ("http://x.com?t= 1", 1),  # and skips leading spaces
        ("http://x.com?t=1=2", 1),
        ("http://x.com?t=abc&t=1", None),  # the first pair decides
        ("http://x.com?t", None),
        ("http://x.com?%74=1", None),  # no percent-decoding, as in the reference SDK
        ("http://x.com?a=1?t=1", None),  # only the text between the first two "?"
        ("http://x.com?t=" + "9" * 5000, None),  # beyond Python's int digit limit
    ],
)
def test_query_string_override_reads_like_parse_int(url: str, expected: int | None) -> None:
    assert get_query_string_override("t", url, 3) == expected


def test_bucket_ranges_accept_a_tuple_of_weights() -> None:
    assert get_bucket_ranges(2, 1.0, (0.25, 0.75)) == [(0.0, 0.25), (0.25, 1.0)]


def _hash_reference(seed: str, value: str, version: int) -> float | None:
    # The specification, without the fast paths: fnv over UTF-16 code units.
    def units(text: str) -> list[int]:
        data = text.encode("utf-16-le", "surrogatepass")
        return [data[i] | data[i + 1] << 8 for i in range(0, len(data), 2)]

    if version == 2:
        inner = _fnv_reference(units(seed + value))
        return (_fnv_reference(units(str(inner))) % 10000) / 10000
    if version == 1:
        return (_fnv_reference(units(value + seed)) % 1000) / 1000
    return None


def test_hash_fast_paths_agree_with_the_plain_specification() -> None:
    # hash() memoizes the state after each seed and has an ASCII fast path; the same
    # seed must give the same answer whatever value (ASCII or not) follows it.
    rng = random.Random(11)
    alphabet = "ab-_09~ é\u00ff中\U0001f600"
    seeds = ["", "exp-001", "site/holdout", "é中", "\U0001f600x"]
    for _ in range(3000):
        seed = rng.choice(seeds) if rng.random() < 0.7 else "".join(rng.choices(alphabet, k=4))
        value = "".join(rng.choices(alphabet, k=rng.randint(0, 40)))
        for version in (1, 2):
            assert hash(seed, value, version) == _hash_reference(seed, value, version)


_RANGE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2.5,
    18,
    22.9,
    23,
    10**30,
    float("nan"),
    float("inf"),
    "3",
    "abc",
    "",
    " 7 ",
    "0x10",
    "1e3",
    [5],
    [],
    {},
]


def test_numeric_ranges_match_the_operators_one_by_one() -> None:
    # {"$gte": a, "$lt": b} compiles to one fused test; it must agree with the
    # conjunction of single-operator conditions on every kind of value.
    rng = random.Random(5)
    bounds: list[Any] = [18, 23, 0, -1, 2.5, float("nan"), 10**30]
    for _ in range(400):
        names = rng.sample(["$lt", "$lte", "$gt", "$gte"], rng.randint(1, 4))
        condition = {name: rng.choice(bounds) for name in names}
        fused = compile({"x": condition})
        # The operator factories themselves (the fused path is compile_value's).
        singles = [OPERATORS[name](bound) for name, bound in condition.items()]
        for value in _RANGE_VALUES:
            expected = all(test(value, None) for test in singles)
            assert fused({"x": value}) == expected, (condition, value)


def test_hash_many_agrees_with_hash_seed_by_seed() -> None:
    # Side by side in 64-bit lanes, including seeds whose second pass has fewer
    # than 10 digits and values outside ASCII (which take the plain path).
    rng = random.Random(13)
    alphabet = "ab-_09~ é中\U0001f600"
    for _ in range(300):
        seeds = ["".join(rng.choices(alphabet, k=rng.randint(0, 6))) for _ in range(30)]
        seeds = seeds[: rng.randint(0, 30)]
        chars = alphabet if rng.random() < 0.2 else "abc-0123456789"
        value = "".join(rng.choices(chars, k=rng.randint(0, 40)))
        expected = [_hash_reference(seed, value, 2) for seed in seeds]
        assert hash_many(seeds, value) == expected, (seeds, value)
