"""`POST /v1/events`: consent, validation, one batched write, the visitor's view."""

from __future__ import annotations

from typing import Any

from lambdas.dal.store import Item, Store
from lambdas.logic import tokens
from lambdas.logic._events import check_events, event_item
from lambdas.logic._profile import read_view, visitor_pk
from lambdas.models.errors import BadRequest, Forbidden
from lambdas.models.events import CollectRequest, CollectResponse, VisitorOut

__all__ = ["admit", "collect", "metrics_of"]


def admit(store: Store, site: str, origin: str | None) -> Item:
    """The site's config, if the site exists and the Origin (when sent) is one of its own.

    No Origin (a server, curl) is let through: only browsers send it, and CORS is what
    it protects.
    """
    config = store.site_config(site)
    if config is None:
        raise Forbidden(f"site {site!r} is not configured on this collector")
    if origin is not None and origin not in (config.get("origins") or []):
        raise Forbidden(f"Origin {origin!r} is not allowed to send events for site {site!r}")
    return config


def collect(
    request: CollectRequest,
    *,
    store: Store,
    config: Item,
    key: bytes,
    now_ms: int,
) -> CollectResponse:
    """Store the consented, valid events of one batch; answer what happened to each."""
    retention = int(config.get("retention_days") or 395)
    if not request.consent.analytics:
        # Counted only: nothing about this visitor is stored or answered.
        return CollectResponse(
            accepted=0,
            duplicates=0,
            dropped_no_consent=len(request.events),
            rejected=[],
            visitor=VisitorOut(),
        )
    if request.visitor is None:
        raise BadRequest("'visitor' is required when analytics consent is granted")
    site, visitor = request.site, request.visitor
    now = now_ms // 1000
    batch = check_events(request.events, now_ms=now_ms, retention_days=retention)
    pk = visitor_pk(site, visitor)
    items = [
        event_item(
            event, ts_ms, packed, pk=pk, site=site, vid=visitor, channel="web",
            personalization=request.consent.personalization, retention_days=retention,
        )
        for _, event, ts_ms, packed in batch.events
    ]
    claims = tokens.verify(key, request.token, now=now) if request.token else None
    trusted = claims is not None and (claims.site, claims.visitor) == (site, visitor)
    view = read_view(store, site, visitor)
    if not trusted:
        # Without a valid token only a visitor the store has never seen gets one: a token
        # unlocks export and erasure, so it must not be handed out for any guessed id.
        trusted = not view.known and not store.query(pk, limit=1)
    store.put_items(items)  # all written, or StoreUnavailable (a 503) before we answer
    out = VisitorOut()
    if trusted:
        out.token = tokens.sign(key, site=site, visitor=visitor, now=now)
        if request.consent.personalization:
            out.segments = view.segments
            out.assignments = view.assignments
            out.conversions = view.conversions
    return CollectResponse(
        accepted=len(items),
        duplicates=batch.duplicates,
        dropped_no_consent=0,
        rejected=batch.rejected,
        visitor=out,
    )


def metrics_of(response: CollectResponse) -> dict[str, Any]:
    return {
        "accepted": response.accepted,
        "duplicates": response.duplicates,
        "dropped_no_consent": response.dropped_no_consent,
        "rejected": len(response.rejected),
    }
