"""`POST /v1/events`: consent, validation, one batched write, the visitor's view."""

from __future__ import annotations

from typing import Any

from lambdas.dal.store import Item, Store
from lambdas.logic import tokens
from lambdas.logic._device import Trust, register_first, trust_batch
from lambdas.logic._events import check_events, event_item, store_events
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
    """Store the consented, valid events of one batch; answer what happened to each.

    The batch must speak for its visitor (`_device.trust_batch`: a token, the device
    proof, or the visitor's first sight) before anything is written; a visitor with an
    `AUTH` item and a batch that proves neither is refused whole (`Forbidden`).
    """
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
    kept = [
        (index, event_item(
            event, ts_ms, packed, pk=pk, site=site, vid=visitor, channel="web",
            personalization=request.consent.personalization, retention_days=retention,
        ))
        for index, event, ts_ms, packed in batch.events
    ]
    view = read_view(store, site, visitor)
    # A token unlocks export and erasure, so it is never handed out for a guessed id.
    trust = trust_batch(
        store, site=site, visitor=visitor, token=request.token, proof=request.proof,
        auth=view.auth, known=view.known, key=key, now=now,
    )
    # All written (an event the store refuses as invalid is rejected alone), or
    # StoreUnavailable (a 503) before we answer.
    accepted, refused = store_events(store, kept)
    trusted = trust is Trust.PROVEN or (
        trust is Trust.FIRST and register_first(store, site=site, visitor=visitor, now=now)
    )
    out = VisitorOut()
    if trusted:
        out.token = tokens.sign(key, site=site, visitor=visitor, now=now)
        if request.consent.personalization:
            out.segments = view.segments
            out.assignments = view.assignments
            out.conversions = view.conversions
    return CollectResponse(
        accepted=accepted,
        duplicates=batch.duplicates,
        dropped_no_consent=0,
        rejected=sorted([*batch.rejected, *refused], key=lambda r: r.index),
        visitor=out,
    )


def metrics_of(response: CollectResponse) -> dict[str, Any]:
    return {
        "accepted": response.accepted,
        "duplicates": response.duplicates,
        "dropped_no_consent": response.dropped_no_consent,
        "rejected": len(response.rejected),
    }
