"""The OpenAPI document of the event API, generated from the request/response models.

`lambdas/openapi.json` is this document, committed; a test keeps the two equal
(`python -m lambdas.models.openapi > lambdas/openapi.json` regenerates it).
"""

from __future__ import annotations

import functools
import json
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from lambdas.models.decide import DecideRequest, DecideResponse
from lambdas.models.events import (
    MAX_BODY_BYTES,
    MAX_EVENTS,
    CollectRequest,
    CollectResponse,
    ErrorBody,
    Event,
    IngestRequest,
    IngestResponse,
)

__all__ = ["build_openapi"]

_REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(model: type[BaseModel] | dict[str, Any], description: str) -> dict[str, Any]:
    schema = _ref(model) if isinstance(model, type) else model
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Unreadable body or invalid envelope; `message` says what and where.",
        401: "Missing or invalid credentials (visitor token, device proof or API key).",
        403: (
            "Unknown site, disallowed Origin, or wrong API key; for `/v1/events`, also a "
            "visitor with a registered device whose batch carries neither its token nor "
            "its device proof (nothing of the batch is stored)."
        ),
        404: "The site has no published ruleset to decide with.",
        413: f"Body over {MAX_BODY_BYTES} bytes or more than {MAX_EVENTS} events.",
        503: (
            "The event store or the CDN bucket is busy; nothing was accepted. "
            "Retry after `Retry-After`."
        ),
    }
    return {str(code): _json(ErrorBody, text[code]) for code in codes}


_EXPORT = {
    "type": "object",
    "required": ["site", "visitor", "events", "profile", "aliases"],
    "properties": {
        "site": {"type": "string"},
        "visitor": {"type": "string"},
        "events": {"type": "array", "items": {"type": "object"}},
        "profile": {"anyOf": [{"type": "object"}, {"type": "null"}]},
        "aliases": {"type": "array", "items": {"type": "object"}},
        "customer_profile": {"anyOf": [{"type": "object"}, {"type": "null"}]},
        "device": {"anyOf": [{"type": "object"}, {"type": "null"}]},
    },
}
_ERASED = {
    "type": "object",
    "required": ["removed"],
    "properties": {
        "removed": {
            "type": "object",
            "properties": {k: {"type": "integer"} for k in ("events", "profile", "aliases")},
        }
    },
}


@functools.lru_cache(maxsize=1)
def _components() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        CollectRequest,
        CollectResponse,
        IngestRequest,
        IngestResponse,
        Event,
        ErrorBody,
        DecideRequest,
        DecideResponse,
    ]
    pairs: list[tuple[type[BaseModel], Literal["validation"]]] = [(m, "validation") for m in models]
    _, schema = models_json_schema(pairs, ref_template=_REF)
    return dict(sorted(schema["$defs"].items()))


def build_openapi() -> dict[str, Any]:
    """The document (a fresh dict each call)."""
    # Either one: the token collect answered with, or the device's proof.
    visitor: list[dict[str, list[str]]] = [{"visitorToken": []}, {"deviceProof": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "perso event API",
            "version": "1",
            "description": (
                "Collects consented events (DESIGN §8). Bodies are JSON; browsers send them "
                "as text/plain to avoid a CORS preflight. Each event in `events` is checked "
                "alone (schema: Event); a bad one is listed in `rejected`. A batch for a "
                "visitor needs its `token` or its device `proof` once the visitor has one."
            ),
        },
        "paths": {
            "/v1/events": {
                "post": {
                    "operationId": "collect",
                    "requestBody": {"required": True, **_json(CollectRequest, "A batch.")},
                    "responses": {
                        "200": _json(CollectResponse, "What happened to each event."),
                        **_errors(400, 403, 413, 503),
                    },
                }
            },
            "/v1/visitors/me": {
                "get": {
                    "operationId": "export",
                    "security": visitor,
                    "responses": {
                        "200": _json(_EXPORT, "Everything stored about the visitor."),
                        **_errors(401, 503),
                    },
                },
                "delete": {
                    "operationId": "erase",
                    "security": visitor,
                    "responses": {
                        "200": _json(_ERASED, "What was removed (counts); idempotent."),
                        **_errors(401, 503),
                    },
                },
            },
            "/v1/decide": {
                "post": {
                    "operationId": "decide",
                    "description": (
                        "Decides every slot of one view on the server from the page's "
                        "signals, with the live ruleset (the same core as the browser). "
                        "Stores and logs nothing; `visitor` is accepted only with consent."
                    ),
                    "requestBody": {"required": True, **_json(DecideRequest, "A view.")},
                    "responses": {
                        "200": _json(DecideResponse, "Every slot's decision and the version."),
                        **_errors(400, 403, 404, 413, 503),
                    },
                }
            },
            "/v1/ingest": {
                "post": {
                    "operationId": "ingest",
                    "security": [{"apiKey": []}],
                    "requestBody": {"required": True, **_json(IngestRequest, "A batch.")},
                    "responses": {
                        "200": _json(IngestResponse, "What happened to each event."),
                        **_errors(400, 401, 403, 413, 503),
                    },
                }
            },
        },
        "components": {
            "schemas": json.loads(json.dumps(_components())),
            "securitySchemes": {
                "visitorToken": {"type": "http", "scheme": "bearer"},
                "deviceProof": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": (
                        "`Proof v1.<site>.<visitor>.<secret>`: the secret the device made on "
                        "consent (32 random bytes, base64url without padding) and sent as "
                        "`proof` with its batches; the server keeps only its SHA-256."
                    ),
                },
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
    }


if __name__ == "__main__":
    print(json.dumps(build_openapi(), indent=2, sort_keys=True, ensure_ascii=False))
