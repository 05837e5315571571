"""Deterministic bucketing, as in GrowthBook's reference SDK (so assignments agree).

>>> hash("seed", "a", 2)
0.0505
>>> ranges = get_bucket_ranges(2, 0.5)
>>> ranges, choose_variation(0.6, ranges)
([(0.0, 0.25), (0.5, 0.75)], 1)

Pure standard library: runs unchanged under CPython and Pyodide.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

__all__ = [
    "choose_variation",
    "fnv1a32",
    "get_bucket_ranges",
    "get_equal_weights",
    "get_query_string_override",
    "hash",
    "hash_many",
    "in_namespace",
]

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF


def fnv1a32(text: str) -> int:
    """FNV-1a (32 bits) over UTF-16 code units, like JavaScript's `charCodeAt` loop.

    >>> fnv1a32("a")
    3826002220
    """
    return _fnv_from(_FNV_OFFSET, text)


def _fnv_from(value: int, text: str, _prime: int = _FNV_PRIME, _mask: int = _MASK) -> int:
    # FNV-1a works left to right, so hashing "ab" equals hashing "b" from the state
    # after "a": the seed's state is memoized by hash(). The constants are default
    # arguments because local loads cost less than global ones in this loop.
    if text.isascii():
        # ASCII: UTF-8 bytes are the UTF-16 code units, and bytes iterate in C.
        for unit in text.encode("ascii"):
            value = ((value ^ unit) * _prime) & _mask
        return value
    # Outside ASCII, walk UTF-16 code units: a character above U+FFFF counts twice.
    data = text.encode("utf-16-le", "surrogatepass")
    for index in range(0, len(data), 2):
        value = ((value ^ (data[index] | data[index + 1] << 8)) * _prime) & _mask
    return value


# The FNV state after each seed seen (experience ids, a few per ruleset): hashing a
# visitor then walks the visitor's id only. Bounded; cleared whole when full.
_SEED_STATES: dict[str, int] = {}
_SEED_STATES_KEPT = 4096


def _hash_v2(
    seed: str,
    value: str,
    _offset: int = _FNV_OFFSET,
    _prime: int = _FNV_PRIME,
    _mask: int = _MASK,
) -> float:
    state = _SEED_STATES.get(seed)
    if state is None:
        if len(_SEED_STATES) >= _SEED_STATES_KEPT:
            _SEED_STATES.clear()
        state = _SEED_STATES[seed] = _fnv_from(_offset, seed)
    if value.isascii():  # the usual visitor id: inlined, this runs ~20 times a page
        for unit in value.encode("ascii"):
            state = ((state ^ unit) * _prime) & _mask
        inner = state
    else:
        inner = _fnv_from(state, value)
    # The outer hash reads at most 10 decimal digits: the product may grow past 32
    # bits (only its low 32 bits matter, and they do not depend on the high ones),
    # so it is masked once at the end instead of at every digit.
    outer = _offset
    for unit in str(inner).encode("ascii"):
        outer = (outer ^ unit) * _prime
    return ((outer & _mask) % 10000) / 10000


_LANE = b"\x01" + bytes(7)  # one 64-bit lane holding 1


def hash_many(seeds: Sequence[str], value: str) -> list[float]:
    """`[hash(seed, value, 2) for seed in seeds]`, hashing the seeds side by side.

    A new visitor needs a hash per split experience on the page (~20). FNV-1a is a
    byte loop, slow in pure Python; here every seed's state sits in its own 64-bit
    lane of one big integer, so each byte of `value` (and each digit of the second
    pass) is one xor, one multiplication and one mask for all seeds at once (a
    32-bit state times the 25-bit prime stays inside its lane). Same results.

    >>> hash_many(["seed", "abc"], "a") == [hash("seed", "a", 2), hash("abc", "a", 2)]
    True
    """
    count = len(seeds)
    # Too few to pay for the packing; lanes are read back as native 64-bit integers
    # (little-endian on x86, ARM and WebAssembly).
    if count < 4 or not value.isascii() or sys.byteorder != "little":
        return [_hash_v2(seed, value) for seed in seeds]
    states = _SEED_STATES
    if len(states) + count > _SEED_STATES_KEPT:
        states.clear()
    packed = bytearray()
    for seed in seeds:
        state = states.get(seed)
        if state is None:
            state = states[seed] = _fnv_from(_FNV_OFFSET, seed)
        packed += state.to_bytes(8, "little")
    ones = int.from_bytes(_LANE * count, "little")
    lanes = ones * _MASK
    lanes_state = int.from_bytes(packed, "little")
    for unit in value.encode("ascii"):
        lanes_state = ((lanes_state ^ ones * unit) * _FNV_PRIME) & lanes
    inner = memoryview(lanes_state.to_bytes(8 * count, "little")).cast("Q").tolist()
    # Second pass: the decimal text of each state. Most have 10 digits (77%); those
    # go side by side too, digit j of every lane gathered by a strided slice.
    texts = [str(number) for number in inner]
    out = [0.0] * count
    long_ones = [i for i, text in enumerate(texts) if len(text) == 10]
    if len(long_ones) < count:
        for i, text in enumerate(texts):
            if len(text) != 10:
                outer = _FNV_OFFSET
                for unit in text.encode("ascii"):
                    outer = (outer ^ unit) * _FNV_PRIME
                out[i] = ((outer & _MASK) % 10000) / 10000
    width = len(long_ones)
    if width:
        digits = "".join([texts[i] for i in long_ones]).encode("ascii")
        ones = int.from_bytes(_LANE * width, "little")
        lanes = ones * _MASK
        lanes_state = ones * _FNV_OFFSET
        spread = bytearray(8 * width)
        for j in range(10):
            spread[0::8] = digits[j::10]
            lanes_state = ((lanes_state ^ int.from_bytes(spread, "little")) * _FNV_PRIME) & lanes
        finals = memoryview(lanes_state.to_bytes(8 * width, "little")).cast("Q").tolist()
        for i, outer in zip(long_ones, finals, strict=True):
            out[i] = (outer % 10000) / 10000
    return out


def hash(seed: str, value: str, version: int) -> float | None:
    """A number in [0, 1) from `seed` and `value`; None for an unknown hash version.

    >>> hash("", "a", 1), hash("abc", "def", 99)
    (0.22, None)
    """
    if version == 2:
        return _hash_v2(seed, value)
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    return None


def get_equal_weights(num_variations: int) -> list[float]:
    """`n` equal weights summing to 1 (none for n < 1).

    >>> get_equal_weights(4)
    [0.25, 0.25, 0.25, 0.25]
    """
    if num_variations < 1:
        return []
    return [1 / num_variations] * num_variations


def get_bucket_ranges(
    num_variations: int, coverage: float = 1.0, weights: Sequence[float] | None = None
) -> list[tuple[float, float]]:
    """One `[start, end)` range per variation; `coverage` shrinks each from its start.

    Weights of the wrong length, or not summing to 1 (within 0.01), fall back to equal
    weights, as in the reference SDK.

    >>> get_bucket_ranges(3, 0.2, [0.2, 0.3, 0.5])
    [(0.0, 0.04000000000000001), (0.2, 0.26), (0.5, 0.6)]
    """
    coverage = min(max(float(coverage), 0.0), 1.0)
    equal = get_equal_weights(num_variations)
    chosen: Sequence[float] = weights if weights else equal
    if len(chosen) != num_variations:
        chosen = equal
    total = sum(chosen)
    if total < 0.99 or total > 1.01:
        chosen = equal
    ranges: list[tuple[float, float]] = []
    cumulative = 0.0
    for weight in chosen:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def choose_variation(n: float, ranges: Sequence[tuple[float, float]]) -> int:
    """The index of the range holding `n`, or -1 when `n` falls outside coverage.

    >>> choose_variation(0.4, [(0.0, 0.25), (0.5, 0.75)])
    -1
    """
    for index, (start, end) in enumerate(ranges):
        if start <= n < end:
            return index
    return -1


def in_namespace(user_id: str, namespace: tuple[str, float, float]) -> bool:
    """Whether `user_id` hashes into the namespace's `[start, end)` slice.

    >>> in_namespace("1", ("namespace1", 0.4, 1.0))
    True
    """
    name, start, end = namespace
    n = hash("__" + name, user_id, 1)
    return n is not None and start <= n < end


# parseInt: optional leading JS whitespace and sign, then the longest run of digits
# (hexadecimal after 0x).
_PARSE_INT = re.compile(
    r"[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*"
    r"([+-]?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))"
)


def _parse_int(text: str) -> int | None:
    match = _PARSE_INT.match(text)
    if match is None:
        return None
    sign, hexadecimal, decimal = match.groups()
    try:
        number = int(hexadecimal, 16) if hexadecimal else int(decimal)
    except ValueError:  # beyond Python's digit limit: far above any variation count
        return None
    return -number if sign == "-" else number


def get_query_string_override(key: str, url: str, num_variations: int) -> int | None:
    """The variation forced by `?key=N` in `url`, when 0 <= N < num_variations.

    As in the reference SDK, the query is read raw (no percent-decoding) and the
    first `key=` pair decides.

    >>> get_query_string_override("my-test", "http://example.com?foo=bar&my-test=1#x", 2)
    1
    """
    if not url:
        return None
    pieces = url.split("?")
    search = pieces[1] if len(pieces) > 1 else ""
    if not search:
        return None
    search = search.split("#", 1)[0]
    for pair in search.split("&"):
        name, sep, rest = pair.partition("=")
        if name != key:
            continue
        # kv.split("=", 2) keeps the text up to a second "=", if any.
        value = _parse_int(rest.split("=", 1)[0]) if sep else None
        if value is not None and 0 <= value < num_variations:
            return value
        return None
    return None
