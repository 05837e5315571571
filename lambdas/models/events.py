"""Request and response bodies of the event API (DESIGN §8).

The envelope is validated as a whole (a bad envelope is a 400); each event is validated
alone so that a bad one is rejected with its index while the good ones are kept.

>>> Event.model_validate({"id": "e1", "type": "page_view", "ts": "2026-11-22T10:00:00Z"}).type
'page_view'
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

__all__ = [
    "EVENT_TYPES",
    "ID_PATTERN",
    "MAX_BODY_BYTES",
    "MAX_EVENTS",
    "MAX_ITEM_BYTES",
    "MAX_NAME_BYTES",
    "MAX_PROPS_BYTES",
    "PROOF_PATTERN",
    "SITE_PATTERN",
    "CollectRequest",
    "CollectResponse",
    "Consent",
    "ErrorBody",
    "Event",
    "Id",
    "IngestRequest",
    "IngestResponse",
    "Rejected",
    "SiteId",
    "VisitorOut",
    "number_problem",
]

MAX_EVENTS = 100
MAX_BODY_BYTES = 64 * 1024
# DESIGN §10: a stored event is one write unit, i.e. the item (attribute names + values,
# DynamoDB's sizing) is at most 1 KB. The field bounds below are chosen so that even an
# event with every field at its bound fits (tests/integration/test_event_size.py builds
# that worst case and has moto and dynalite size it); props get what is left.
MAX_ITEM_BYTES = 1024
MAX_PROPS_BYTES = 224  # msgpack of the props object alone
MAX_NAME_BYTES = 64  # experience, variant, name: UTF-8 bytes, not characters
EVENT_TYPES = ("page_view", "exposure", "click", "conversion", "track", "identify", "consent")

# DynamoDB keeps 0 or a magnitude from 1e-130 to 9.99...e125, with at most 38 significant
# digits; a number outside makes it refuse the whole write (ValidationException).
_STORE_MIN = Decimal("1e-130")
_STORE_MAX = Decimal("1e126")
_STORE_DIGITS = 38
# The device secret (docs/notes/backend-api.md, "Device proof"): 32 random bytes in
# base64url without padding.
PROOF_PATTERN = r"^[A-Za-z0-9_-]{43}$"

SITE_PATTERN = r"^[a-z0-9-]{1,64}$"
# No "#": ids become parts of the table's keys. 64 characters: a UUID (36) or a sha256 in
# hex (64) fits; longer ids would eat the 1 KB item budget twice (key and payload).
ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,64}$"
SiteId = Annotated[str, StringConstraints(pattern=SITE_PATTERN)]
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def _name_bytes(value: str) -> str:
    # Characters are not bytes: 64 emoji would be 256 bytes of the item budget.
    size = len(value.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise ValueError(f"is {size} bytes in UTF-8; the limit is {MAX_NAME_BYTES}")
    return value


def number_problem(value: int | float) -> str | None:
    """Why a number can neither be stored nor exported as JSON, or None if it can.

    >>> number_problem(129.9) is None, number_problem(0.0) is None
    (True, True)
    >>> number_problem(1e-131)
    '1e-131 is outside the range the event store keeps (0, or a magnitude from 1e-130 to 9.99e125)'
    >>> number_problem(float("nan"))
    'nan is not a finite number (JSON has no NaN or Infinity)'
    """
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number (JSON has no NaN or Infinity)"
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if number == 0:
        return None
    shown = repr(value) if len(repr(value)) <= 24 else f"{number:.3e}"
    if not _STORE_MIN <= abs(number) < _STORE_MAX:
        return (
            f"{shown} is outside the range the event store keeps "
            "(0, or a magnitude from 1e-130 to 9.99e125)"
        )
    if len(number.normalize().as_tuple().digits) > _STORE_DIGITS:
        return f"{shown} has more than {_STORE_DIGITS} significant digits"
    return None


def _numbers_in(value: Any) -> str | None:
    """The first number that cannot be stored, as "at '<path>': <why>", or None.

    >>> _numbers_in({"a": [1, {"b": float("inf")}]})
    "at 'a[1].b': inf is not a finite number (JSON has no NaN or Infinity)"
    """
    # A loop, not recursion: JSON nests deeper than Python's recursion limit. Each entry
    # links to its parent's path, which is spelled out only for the number reported.
    stack: list[tuple[Any, _Path]] = [(value, None)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, bool):
            continue
        if isinstance(node, int | float):
            problem = number_problem(node)
            if problem:
                return f"at {_spell(path)!r}: {problem}"
        elif isinstance(node, dict):
            # reversed: the first problem in reading order is the one reported
            stack.extend((v, (path, f".{k}")) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((node[i], (path, f"[{i}]")) for i in reversed(range(len(node))))
    return None


type _Path = tuple[_Path, str] | None


def _spell(path: _Path, *, limit: int = 80) -> str:
    parts: list[str] = []
    while path is not None:
        path, part = path
        parts.append(part)
    text = "".join(reversed(parts)).removeprefix(".")
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _storable_props(props: dict[str, Any]) -> dict[str, Any]:
    # Props travel as msgpack, which carries NaN, but the export is JSON, which does not;
    # the store's number range holds here too, so props can become attributes one day.
    problem = _numbers_in(props)
    if problem:
        raise ValueError(problem)
    return props


def _storable_value(value: float | None) -> float | None:
    if value is None:
        return None
    problem = number_problem(value)
    if problem:
        raise ValueError(problem)
    if abs(value) > 1e12:
        raise ValueError(f"{value!r} is over the limit of +-1e12")
    return value


def _json_bool(value: object) -> object:
    # pydantic would read "yes", "on", 1 or "true" as true; consent is given only by JSON true.
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false (a JSON boolean), not {_json_kind(value)}")
    return value


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {value[:20]!r}" + ("..." if len(value) > 20 else "")
    if isinstance(value, int | float):
        return f"the number {value!r}"[:40]
    return "an array" if isinstance(value, list) else "an object"


Flag = Annotated[bool, BeforeValidator(_json_bool)]

Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_NAME_BYTES),
    AfterValidator(_name_bytes),
]
EventType = Literal["page_view", "exposure", "click", "conversion", "track", "identify", "consent"]


class Consent(BaseModel):
    """The visitor's consent state; absent purposes are not granted."""

    model_config = ConfigDict(extra="ignore")

    analytics: Flag = False
    personalization: Flag = False


class Event(BaseModel):
    """One event. Unknown keys are ignored (newer snippets may send more)."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
    type: EventType
    ts: Annotated[str, StringConstraints(min_length=10, max_length=40)]
    props: Annotated[dict[str, Any], AfterValidator(_storable_props)] = Field(
        default_factory=dict
    )
    experience: Name | None = None
    variant: Name | None = None
    name: Name | None = None
    value: Annotated[float | None, AfterValidator(_storable_value)] = None
    user_id: Id | None = None

    @model_validator(mode="after")
    def _type_fields(self) -> Event:
        # Why here: the fields an event needs depend on its type.
        if self.type == "exposure" and (self.experience is None or self.variant is None):
            raise ValueError("an exposure needs both 'experience' and 'variant'")
        if self.type in ("conversion", "track") and self.name is None:
            raise ValueError(f"a {self.type} event needs a 'name'")
        return self


class CollectRequest(BaseModel):
    """`POST /v1/events` body (sent as text/plain JSON)."""

    model_config = ConfigDict(extra="ignore")

    site: SiteId
    visitor: Id | None = None
    token: Annotated[str, StringConstraints(max_length=512)] | None = None
    # The device's secret, sent with every batch (see "Device proof" in backend-api.md).
    proof: Annotated[str, StringConstraints(pattern=PROOF_PATTERN)] | None = None
    consent: Consent = Field(default_factory=Consent)
    sent_at: Annotated[str, StringConstraints(max_length=40)] | None = None
    # Each item is checked on its own (see `Event`), so one bad event does not sink the rest.
    events: list[Any] = Field(default_factory=list)


class IngestRequest(BaseModel):
    """`POST /v1/ingest` body: events from another channel, for a customer and/or a visitor."""

    model_config = ConfigDict(extra="ignore")

    site: SiteId
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
    customer: Id | None = None
    visitor: Id | None = None
    # The sending system vouches for the consent it holds; it may say otherwise.
    consent: Consent = Field(default_factory=lambda: Consent(analytics=True, personalization=True))
    events: list[Any] = Field(default_factory=list)


class Rejected(BaseModel):
    index: int
    error: str


class VisitorOut(BaseModel):
    """What the browser caches: a fresh token and the server-side view of the visitor."""

    token: str | None = None
    segments: list[str] = Field(default_factory=list)
    # Additive to DESIGN §8: what other channels learned (after identify), so the device
    # does not push an offer already taken elsewhere.
    assignments: dict[str, str] = Field(default_factory=dict)
    conversions: dict[str, int] = Field(default_factory=dict)


class CollectResponse(BaseModel):
    accepted: int
    duplicates: int
    dropped_no_consent: int
    rejected: list[Rejected]
    visitor: VisitorOut


class IngestResponse(BaseModel):
    accepted: int
    duplicates: int
    dropped_no_consent: int
    rejected: list[Rejected]
    merged: bool = False


class ErrorBody(BaseModel):
    """Every 4xx/503 body: one sentence naming what is wrong."""

    message: str
