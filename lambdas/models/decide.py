"""`POST /v1/decide`: the page's raw signals in, the decisions of the live ruleset out.

The signals are the ones the snippet's `readSignals()` collects (snippet/PROTOCOL.md);
no profile is taken. Without consent the body carries no identifier at all.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)

from lambdas.models.events import Consent, Id, SiteId

__all__ = ["ClassOp", "DecideRequest", "DecideResponse", "DecisionOut", "DomOp", "Signals"]

_Text = Annotated[str, StringConstraints(max_length=2048)]
_Short = Annotated[str, StringConstraints(max_length=64)]


class Signals(BaseModel):
    """What the page request already says, plus the visitor's clock and time zone."""

    model_config = ConfigDict(extra="ignore")

    local_time: _Short | None = None
    timezone: _Short | None = None
    languages: Annotated[list[_Short], Field(max_length=32)] = Field(default_factory=list)
    user_agent: Annotated[str, StringConstraints(max_length=1024)] = ""
    ua_ch: dict[str, Any] | None = None
    max_touch_points: Annotated[int, Field(ge=0, le=1024, strict=True)] = 0
    url: _Text = ""
    referrer: _Text = ""


class DecideRequest(BaseModel):
    """`POST /v1/decide` body (sent as text/plain JSON, so no CORS preflight)."""

    model_config = ConfigDict(extra="ignore")

    site: SiteId
    signals: Signals
    consent: Consent = Field(default_factory=Consent)
    visitor: Id | None = None

    @model_validator(mode="after")
    def _no_id_without_consent(self) -> DecideRequest:
        # Why here: before consent the request must say no more than the page request did.
        if self.visitor is not None and not (
            self.consent.analytics or self.consent.personalization
        ):
            raise ValueError(
                "a 'visitor' id is sent only with consent (analytics or personalization); "
                "before consent the request carries no identifier"
            )
        return self


class DecisionOut(BaseModel):
    slot: str
    selector: str = ""
    experience: str | None
    variant: str | None
    content: Any = None
    reason: str


class ClassOp(BaseModel):
    add: list[str]
    remove: list[str]


class DomOp(BaseModel):
    """One slot's change as the loader stub applies it (the device cache's format,
    snippet/src/dom.js `cachedOps`): only the keys that apply are sent."""

    slot: str
    s: str = Field(description="The slot's selector.")
    h: str | None = Field(None, description="Inner HTML, escaped or sanitized.")
    a: dict[str, str | None] | None = Field(None, description="Attributes; null removes.")
    c: ClassOp | None = Field(None, description="Classes to add and remove.")
    x: Literal[1] | None = Field(None, description="1: hide the element.")

    @model_serializer(mode="wrap")
    def _only_what_applies(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        return {key: value for key, value in dumped.items() if value is not None}


def _unbounded() -> list[int | None]:
    return [None, None]


class DecideResponse(BaseModel):
    """The decisions of every slot, from the ruleset `version` (its sha256).

    `ops`: what the loader stub applies before first paint (`DomOp`, slots whose
    decision changes the page; no redirect, no data). `valid`: `[from_ms, until_ms]`,
    epoch milliseconds (null: unbounded), in which the device may keep applying them
    to views with the same key (`edge.reads.valid_window`).
    """

    version: str
    decisions: list[DecisionOut]
    ops: list[DomOp] = Field(default_factory=list)
    valid: Annotated[list[int | None], Field(min_length=2, max_length=2)] = Field(
        default_factory=_unbounded
    )
