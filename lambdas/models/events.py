"""Request and response bodies of the event API (DESIGN §8).

The envelope is validated as a whole (a bad envelope is a 400); each event is validated
alone so that a bad one is rejected with its index while the good ones are kept.

>>> Event.model_validate({"id": "e1", "type": "page_view", "ts": "2026-11-22T10:00:00Z"}).type
'page_view'
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

__all__ = [
    "EVENT_TYPES",
    "MAX_BODY_BYTES",
    "MAX_EVENTS",
    "MAX_ITEM_BYTES",
    "MAX_NAME_BYTES",
    "MAX_PROPS_BYTES",
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

SiteId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")]
# No "#": ids become parts of the table's keys. 64 characters: a UUID (36) or a sha256 in
# hex (64) fits; longer ids would eat the 1 KB item budget twice (key and payload).
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@-]{1,64}$")]


def _name_bytes(value: str) -> str:
    # Characters are not bytes: 64 emoji would be 256 bytes of the item budget.
    size = len(value.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise ValueError(f"is {size} bytes in UTF-8; the limit is {MAX_NAME_BYTES}")
    return value


Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_NAME_BYTES),
    AfterValidator(_name_bytes),
]
EventType = Literal["page_view", "exposure", "click", "conversion", "track", "identify", "consent"]


class Consent(BaseModel):
    """The visitor's consent state; absent purposes are not granted."""

    model_config = ConfigDict(extra="ignore")

    analytics: bool = False
    personalization: bool = False


class Event(BaseModel):
    """One event. Unknown keys are ignored (newer snippets may send more)."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
    type: EventType
    ts: Annotated[str, StringConstraints(min_length=10, max_length=40)]
    props: dict[str, Any] = Field(default_factory=dict)
    experience: Name | None = None
    variant: Name | None = None
    name: Name | None = None
    value: float | None = None
    user_id: Id | None = None

    @model_validator(mode="after")
    def _type_fields(self) -> Event:
        # Why here: the fields an event needs depend on its type.
        if self.type == "exposure" and (self.experience is None or self.variant is None):
            raise ValueError("an exposure needs both 'experience' and 'variant'")
        if self.type in ("conversion", "track") and self.name is None:
            raise ValueError(f"a {self.type} event needs a 'name'")
        if self.value is not None and (not math.isfinite(self.value) or abs(self.value) > 1e12):
            raise ValueError("'value' must be a finite number within +-1e12")
        return self


class CollectRequest(BaseModel):
    """`POST /v1/events` body (sent as text/plain JSON)."""

    model_config = ConfigDict(extra="ignore")

    site: SiteId
    visitor: Id | None = None
    token: Annotated[str, StringConstraints(max_length=512)] | None = None
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
