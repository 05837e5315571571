"""AWS on one machine: what `perso dev` and the integration tests run.

Owns the dev server (`devserver`: the demo, the CDN folder and `/v1/` on one port, with
CloudFront's headers from `_static`), the CDN folder it serves (`devstack`, `bucket`), and
the backend behind `/v1/` (`stack`: moto's server, the table, the bucket and the real
handlers through `api_adapter`, fed by the stream poller and publish timer of `loops`),
the reports it serves at `/reports/` (`_reports`, drawn by `infra.report`) and the
announcement other commands find it by (`discovery`).

May import `edge`, `lambdas` (handlers, dal, models), `infra.bundle` (its face:
`build_bundle`, `snippet_html`), `infra.report`, boto3 and moto; never `infra.cli` (the
command imports this).
"""

from __future__ import annotations

__all__ = ["DEMO_API_KEY", "DEMO_SITE"]

# The site the demo pages and the local backend serve, and its ingest key (local only;
# documented in docs/notes/backend-api.md).
DEMO_SITE = "demo-shop"
DEMO_API_KEY = "demo-ingest-key"
