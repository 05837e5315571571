"""The OpenAPI document: committed == generated, served, and fuzzed with schemathesis.

schemathesis drives the real handlers through the API Gateway v2 adapter (a thin WSGI
wrapper around `LocalBackend.api`), against moto, with a bounded number of examples.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from infra.local.stack import LocalBackend
from lambdas.models.openapi import build_openapi
from tests.integration._api import call

COMMITTED = Path(__file__).resolve().parents[2] / "lambdas" / "openapi.json"


def test_the_committed_document_is_the_generated_one() -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == build_openapi(), (
        "lambdas/openapi.json is stale: run "
        "`python -m lambdas.models.openapi > lambdas/openapi.json`"
    )


def test_the_document_is_served(backend: LocalBackend) -> None:
    status, headers, body = call(backend, "GET", "/v1/openapi.json")
    assert status == 200 and headers["content-type"] == "application/json"
    assert body == build_openapi()
    assert set(body["paths"]) == {"/v1/events", "/v1/visitors/me", "/v1/ingest", "/v1/decide"}


def wsgi_app(backend: LocalBackend) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        query = environ.get("QUERY_STRING")
        path = environ.get("PATH_INFO", "/") + (f"?{query}" if query else "")
        status, out, data = backend.api(environ["REQUEST_METHOD"], path, headers, body)
        start_response(f"{status} {HTTPStatus(status).phrase}", list(out.items()))
        return [data]

    return app


OPERATIONS = [("POST", "/v1/events"), ("GET", "/v1/visitors/me"),
              ("DELETE", "/v1/visitors/me"), ("POST", "/v1/ingest"),
              ("POST", "/v1/decide")]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_fuzzed_requests_never_get_a_5xx(backend: LocalBackend, method: str, path: str) -> None:
    # schemathesis' pytest loader (`from_fixture`) does not run on this pytest, so the
    # operation's Hypothesis strategy is driven directly; the checks are schemathesis' own.
    api = schemathesis.openapi.from_wsgi("/v1/openapi.json", wsgi_app(backend))
    operation = api[path][method]
    seen: list[int] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def run(case: Any) -> None:
        response = case.call()
        seen.append(response.status_code)
        case.validate_response(
            response,
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
        )
        if 400 <= response.status_code < 500:
            assert response.json()["message"].strip(), "a 4xx must say what is wrong"

    run()
    assert seen and max(seen) < 500
