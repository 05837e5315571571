"""JavaScript value semantics for the condition language (private to `edge.conditions`).

GrowthBook's reference SDK evaluates conditions with JavaScript's own coercions
(`value + ""`, `value * 1`, `!!value`, `<` between mixed types, `JSON.stringify`
equality). These helpers reproduce them on JSON-shaped Python values, where a
JavaScript `null` (and a missing attribute) is `None`.

>>> to_string([1, None, 2.5]), to_number(" 0x1F "), less_than(None, 1)
('1,,2.5', 31.0, True)
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

__all__ = [
    "NUMBER_TYPES",
    "compare_strings",
    "js_type",
    "json_equal",
    "less_than",
    "number_to_string",
    "padded_version",
    "same_value_zero",
    "strict_equal",
    "stringify",
    "to_number",
    "to_string",
    "truthy",
]

# `type(v) in NUMBER_TYPES` excludes bool, which JavaScript never treats as a number.
NUMBER_TYPES: frozenset[type] = frozenset((int, float))

# ECMAScript WhiteSpace and LineTerminator: what `Number(" 8 ")` trims.
_JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_RADIX = re.compile(r"0(?:([xX])[0-9a-fA-F]+|([oO])[0-7]+|([bB])[01]+)")
# Beyond 2**53 a JavaScript number is no longer an exact integer, so format via float.
_EXACT_INT = 2**53


def js_type(value: Any) -> str:
    """`getType` of the reference SDK: "null", "array", "string", "number", ...

    >>> js_type(None), js_type([1]), js_type(True), js_type(2.5)
    ('null', 'array', 'boolean', 'number')
    """
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return "string"
    if kind is bool:
        return "boolean"
    if kind in NUMBER_TYPES:
        return "number"
    if kind is list:
        return "array"
    if kind is dict:
        return "object"
    return "unknown"


def truthy(value: Any) -> bool:
    """JavaScript `!!value`: empty lists and dicts are objects, hence true.

    >>> truthy([]), truthy(0.0), truthy(float("nan")), truthy("0")
    (True, False, False, True)
    """
    if value is None or value is False:
        return False
    kind = type(value)
    if kind is str:
        return bool(value != "")
    if kind in NUMBER_TYPES:
        return bool(value == value and value != 0)
    return True


def number_to_string(value: float) -> str:
    """ECMAScript Number::toString: shortest round-trip digits laid out like JS.

    >>> number_to_string(1.0), number_to_string(1e21), number_to_string(1.5e-7)
    ('1', '1e+21', '1.5e-7')
    """
    if type(value) is int and -_EXACT_INT <= value <= _EXACT_INT:
        return str(value)
    x = float(value)
    if x != x:
        return "NaN"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + number_to_string(-x)
    if math.isinf(x):
        return "Infinity"
    if x.is_integer() and x < 1e21:
        return str(int(x))
    # x = 0.d1..dk * 10**n, read off repr (which already gives the shortest digits).
    mantissa, _, exp = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    digits = all_digits.lstrip("0")
    trailing = len(digits) - len(digits.rstrip("0"))
    digits = digits.rstrip("0")
    k = len(digits)
    n = int(exp or "0") - len(fraction) + trailing + k
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{'+' if n > 0 else '-'}{abs(n - 1)}"


def to_string(value: Any) -> str:
    """JavaScript `value + ""` (`String(value)` for JSON values).

    >>> to_string(None), to_string(True), to_string([[1, 2], "a"]), to_string({})
    ('null', 'true', '1,2,a', '[object Object]')
    """
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind in NUMBER_TYPES:
        return number_to_string(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is list:
        # Array.prototype.join writes null and undefined elements as "".
        return ",".join("" if item is None else to_string(item) for item in value)
    return "[object Object]"


def _string_to_number(text: str) -> float:
    if text.isascii() and text.isdigit():
        return float(text)  # the usual case, "42": no need for the full grammar
    text = text.strip(_JS_SPACE)
    if not text:
        return 0.0
    if _DECIMAL.fullmatch(text):
        return float(text)
    radix = _RADIX.fullmatch(text)
    if radix:
        base = 16 if radix.group(1) else 8 if radix.group(2) else 2
        return float(int(text[2:], base))
    return math.nan


def to_number(value: Any) -> float:
    """JavaScript `value * 1`: null is 0, "8" is 8, "abc" and objects are NaN.

    >>> to_number(None), to_number("8"), to_number(True), to_number([5]), to_number("1_0")
    (0.0, 8.0, 1.0, 5.0, nan)
    """
    kind = type(value)
    if kind in NUMBER_TYPES:
        return float(value)
    if kind is str:
        return _string_to_number(value)
    if value is None:
        return 0.0
    if kind is bool:
        return 1.0 if value else 0.0
    if kind is list:
        return _string_to_number(to_string(value))
    return math.nan


def compare_strings(left: str, right: str) -> int:
    """Order two strings by UTF-16 code units, as JavaScript does (-1, 0 or 1).

    Code-point order agrees unless both strings hold non-ASCII text, where a
    character above U+FFFF (a surrogate pair) sorts below U+E000..U+FFFF.
    """
    if not (left.isascii() or right.isascii()):
        left_units = left.encode("utf-16-be", "surrogatepass")
        right_units = right.encode("utf-16-be", "surrogatepass")
        return (left_units > right_units) - (left_units < right_units)
    return (left > right) - (left < right)


def _to_primitive(value: Any) -> Any:
    kind = type(value)
    if kind is list or kind is dict:
        return to_string(value)
    return value


def less_than(left: Any, right: Any) -> bool | None:
    """JavaScript's abstract relational comparison `left < right`.

    None means "undefined" (a NaN was involved): every one of <, <=, >, >= is false.

    >>> less_than(8, "10"), less_than("8", "10"), less_than(None, 1), less_than("a", 1)
    (True, False, True, None)
    """
    left = _to_primitive(left)
    right = _to_primitive(right)
    if type(left) is str and type(right) is str:
        return compare_strings(left, right) < 0
    x = to_number(left)
    y = to_number(right)
    if x != x or y != y:
        return None
    return x < y


def same_value_zero(left: Any, right: Any) -> bool:
    """`Array.prototype.includes` equality: strict, but NaN equals NaN.

    Arrays and objects never match: they come from separate parses, so they are
    never the same reference.
    """
    kind = type(left)
    if kind is str or kind is bool:
        return type(right) is kind and left == right
    if kind in NUMBER_TYPES:
        return type(right) in NUMBER_TYPES and (left == right or (left != left and right != right))
    return left is None and right is None


def strict_equal(left: Any, right: Any) -> bool:
    """JavaScript `===` on JSON values: NaN is not equal to itself."""
    kind = type(left)
    if kind is str or kind is bool:
        return type(right) is kind and left == right
    if kind in NUMBER_TYPES:
        return type(right) in NUMBER_TYPES and left == right
    return left is None and right is None


def json_equal(left: Any, right: Any) -> bool:
    """`JSON.stringify(left) === JSON.stringify(right)`, without building the text.

    >>> json_equal({"a": [1, float("inf")]}, {"a": [1.0, None]}), json_equal([True], [1])
    (True, False)
    """
    kind = type(left)
    if kind is str or kind is bool:
        return type(right) is kind and left == right
    if kind in NUMBER_TYPES:
        if not math.isfinite(left):
            return right is None or (type(right) in NUMBER_TYPES and not math.isfinite(right))
        return type(right) in NUMBER_TYPES and left == right
    if left is None:
        return right is None or (type(right) in NUMBER_TYPES and not math.isfinite(right))
    if kind is list:
        return type(right) is list and len(left) == len(right) and all(map(json_equal, left, right))
    if kind is dict:
        if type(right) is not dict or len(left) != len(right):
            return False
        left_keys = _js_key_order(left)
        if left_keys is None or left_keys != _js_key_order(right):
            return stringify(left) == stringify(right)
        return all(json_equal(left[key], right[key]) for key in left_keys)
    return stringify(left) == stringify(right)


def _js_key_order(value: dict[Any, Any]) -> list[Any] | None:
    """The keys in JavaScript property order; None when a key is not a string."""
    keys = list(value)
    indices = []
    for key in keys:
        if type(key) is not str:
            return None
        if key[:1].isdigit() and _is_index_key(key):
            indices.append(key)
    if not indices:
        return keys
    indices.sort(key=int)
    return indices + [key for key in keys if key not in indices]


def _is_index_key(key: str) -> bool:
    return (
        key.isascii() and key.isdigit() and (key == "0" or key[0] != "0") and int(key) < 2**32 - 1
    )


def stringify(value: Any) -> str | None:
    """`JSON.stringify(value)`: object keys in JS property order, NaN as null.

    >>> stringify({"b": 1.0, "1": [float("nan")], "a": None})
    '{"1":[null],"b":1,"a":null}'
    """
    kind = type(value)
    if kind is str:
        return json.dumps(value, ensure_ascii=False)
    if kind in NUMBER_TYPES:
        return number_to_string(value) if math.isfinite(value) else "null"
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is list:
        return "[" + ",".join(stringify(item) or "null" for item in value) + "]"
    if kind is dict:
        keys = [str(key) for key in value]
        indices = sorted((key for key in keys if _is_index_key(key)), key=int)
        ordered = indices + [key for key in keys if not _is_index_key(key)]
        lookup = {str(key): item for key, item in value.items()}
        parts = []
        for key in ordered:
            text = stringify(lookup[key])
            if text is not None:
                parts.append(json.dumps(key, ensure_ascii=False) + ":" + text)
        return "{" + ",".join(parts) + "}"
    return None


_VERSION_STRIP = re.compile(r"^v|\+.*$")
_VERSION_SPLIT = re.compile(r"[-.]")


@lru_cache(maxsize=1024)
def _pad_version_text(text: str) -> str:
    # "v1.2.3-rc.1+build" -> ["1", "2", "3", "rc", "1"]
    parts = _VERSION_SPLIT.split(_VERSION_STRIP.sub("", text))
    # "~" sorts above every other ASCII character, so 1.0.0 > 1.0.0-beta.
    if len(parts) == 3:
        parts.append("~")
    # Left-pad numbers so that string order is numeric order (" 9" < "10").
    return "-".join(
        part.rjust(5, " ") if part.isascii() and part.isdigit() else part for part in parts
    )


def padded_version(value: Any) -> str:
    """`paddedVersionString` of the reference SDK: comparable version text.

    >>> padded_version("v1.2.3+build") > padded_version("1.2.3-beta")
    True
    """
    if type(value) in NUMBER_TYPES:
        value = number_to_string(value)
    if type(value) is not str or not value:
        value = "0"
    return _pad_version_text(value)
