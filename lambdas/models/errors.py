"""The project's exceptions. `lambdas.handlers.api` is the one place mapping them to HTTP.

Each carries a sentence meant for the caller (`str(exc)`), naming what is wrong.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "BadRequest",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "Unauthorized",
    "WriteConflict",
]


class ApiError(Exception):
    """Something wrong with the request itself (a 4xx)."""


class BadRequest(ApiError):
    """The body cannot be read or its envelope is invalid."""


class PayloadTooLarge(ApiError):
    """The body or the batch is over the limits."""


class Unauthorized(ApiError):
    """A missing or invalid visitor token."""


class Forbidden(ApiError):
    """Unknown site, disallowed Origin or wrong API key."""


class NotFound(ApiError):
    """The site has nothing to answer with (no published ruleset)."""


class StoreError(Exception):
    """The store failed for a reason that is neither transient nor the input's (a missing
    table, denied access): a bug or a misconfiguration, so a 500 that is logged."""


class StoreRejected(StoreError):
    """The store refused a request as invalid (`ValidationException`): input that slipped
    past our validation. Never a 503: a retry would be refused again, forever."""


class StoreUnavailable(StoreError):
    """The store is busy or unreachable after bounded retries (a 503, retry later)."""

    def __init__(self, message: str, *, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WriteConflict(Exception):
    """A conditional write lost a race (the item changed since it was read); re-read, retry."""
