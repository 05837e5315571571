"""`POST /v1/ingest`: events from other channels (CRM, store, call centre), API key.

`identify` merges the visitor's anonymous profile into the customer's (see `_profile`),
so what one channel showed or sold is known to the others.
"""

from __future__ import annotations

import hashlib
import hmac

from lambdas.dal.store import Store
from lambdas.logic._events import check_events, event_item, store_events
from lambdas.logic._profile import customer_pk, merge_identity, visitor_pk
from lambdas.models.errors import BadRequest, Forbidden, Unauthorized
from lambdas.models.events import IngestRequest, IngestResponse, Rejected

__all__ = ["check_api_key", "ingest"]

# Compared when the site has no key, so an unknown site takes as long as a wrong key.
_NO_KEY = hashlib.sha256(b"perso: no key configured").hexdigest()


def check_api_key(store: Store, site: str, api_key: str | None) -> None:
    if not api_key:
        raise Unauthorized("send the site's API key in the 'x-api-key' header")
    config = store.site_config(site) or {}
    expected = str(config.get("api_key_sha256") or _NO_KEY)
    given = hashlib.sha256(api_key.encode("utf-8", "replace")).hexdigest()
    if not hmac.compare_digest(given, expected) or not config.get("api_key_sha256"):
        raise Forbidden(f"the API key is not valid for site {site!r}")


def ingest(request: IngestRequest, *, store: Store, now_ms: int) -> IngestResponse:
    """Store the events under the customer (or the visitor); run `identify` merges."""
    if request.customer is None and request.visitor is None:
        raise BadRequest("give 'customer' or 'visitor' (or both, to identify a visitor)")
    config = store.site_config(request.site) or {}
    retention = int(config.get("retention_days") or 395)
    if not request.consent.analytics:
        return IngestResponse(
            accepted=0, duplicates=0, dropped_no_consent=len(request.events), rejected=[]
        )
    batch = check_events(request.events, now_ms=now_ms, retention_days=retention)
    site = request.site
    if request.customer is not None:
        pk, vid = customer_pk(site, request.customer), request.customer
    else:
        pk, vid = visitor_pk(site, str(request.visitor)), str(request.visitor)
    kept, merges = [], []
    for index, event, ts_ms, packed in batch.events:
        if event.type == "identify":
            customer = event.user_id or request.customer
            if customer is None or request.visitor is None:
                batch.rejected.append(Rejected(index=index, error=(
                    "an identify event needs 'visitor' in the body and a customer "
                    "('customer' in the body or 'user_id' in the event)"
                )))
                continue
            merges.append((customer, event.props))
        kept.append((index, event_item(
            event, ts_ms, packed, pk=pk, site=site, vid=vid, channel=request.channel,
            personalization=request.consent.personalization, retention_days=retention,
        )))
    accepted, refused = store_events(store, kept)
    batch.rejected.extend(refused)
    merged = False
    if request.consent.personalization:
        for customer, traits in merges:
            merge_identity(
                store, site=site, customer=customer, visitor=str(request.visitor),
                channel=request.channel, traits=dict(traits), now=now_ms // 1000,
            )
            merged = True
    return IngestResponse(
        accepted=accepted,
        duplicates=batch.duplicates,
        dropped_no_consent=0,
        rejected=sorted(batch.rejected, key=lambda r: r.index),
        merged=merged,
    )
