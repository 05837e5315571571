"""The backend on one machine: moto's server, the table (with its stream), the CDN bucket,
site `demo-shop`, and the real handlers behind `.api(...)`.

The dev server (infra/devserver.py) mounts `.api` at `/v1/`. When the learning loops
(`lambdas/local/loops.py`) and their handlers exist, the stream poller and the publish
timer run too, so events flow to counters and a republished ruleset as in AWS.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from lambdas.dal import admin
from lambdas.dal.client import reset_clients
from lambdas.dal.store import Store, reset_store
from lambdas.local import api_adapter
from lambdas.models.settings import reset_settings

__all__ = ["DEMO_API_KEY", "DEMO_SITE", "LocalBackend", "start_local_backend"]

DEMO_SITE = "demo-shop"
DEMO_API_KEY = "demo-ingest-key"  # local only; documented in docs/notes/backend-api.md
log = logging.getLogger("perso.local")


@dataclass
class LocalBackend:
    server: ThreadedMotoServer
    endpoint_url: str
    table: str
    bucket: str
    site: str
    env: dict[str, str]
    store: Store
    origins: list[str] = field(default_factory=list)
    loops: list[Any] = field(default_factory=list)
    previous_env: dict[str, str | None] = field(default_factory=dict)

    def api(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        *,
        client_addr: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request through API Gateway's v2 event shape to the real handler."""
        return api_adapter.invoke(method, path, headers or {}, body, client_addr=client_addr)

    def allow_origins(self, origins: Iterable[str]) -> None:
        """Add browser origins to the demo site (the dev server knows its port late)."""
        self.origins = sorted(set(self.origins) | set(origins))
        admin.configure_site(self.store, self.site, origins=self.origins, api_key=DEMO_API_KEY)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name="us-east-1")

    def stop(self) -> None:
        """Stop the loops and the server; put the process environment back as it was."""
        for loop in reversed(self.loops):
            loop.stop()
        self.loops.clear()
        self.server.stop()
        for name, value in self.previous_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.previous_env.clear()
        _reset_caches()


def _env(endpoint: str, table: str, bucket: str, site: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PERSO_TABLE": table,
        "PERSO_DYNAMODB_ENDPOINT": endpoint,
        "PERSO_S3_ENDPOINT": endpoint,
        "PERSO_BUCKET": bucket,
        # A fresh key per stack: tokens from an earlier run are simply not valid.
        "PERSO_TOKEN_KEY": secrets.token_urlsafe(32),
        "PERSO_SITE_CACHE_SECONDS": "0",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_SERVICE_NAME": "perso-local",
    }


def _reset_caches() -> None:
    reset_settings()
    reset_store()
    reset_clients()
    for module, name in (
        ("lambdas.handlers._learn_settings", "reset_learn_settings"),
        ("lambdas.handlers.aggregate", "reset"),
        # The publisher caches its S3/CloudFront/DynamoDB clients and bucket name: a
        # second stack in the same process must not publish to the first one's server.
        ("lambdas.handlers.publish", "reset"),
    ):
        with contextlib.suppress(ImportError, AttributeError):
            getattr(importlib.import_module(module), name)()


def _start_loops(backend: LocalBackend, *, publish_interval: float) -> None:
    """Start the aggregate stream poller and the publish timer, if those parts exist."""
    try:
        loops = importlib.import_module("lambdas.local.loops")
        aggregate = importlib.import_module("lambdas.handlers.aggregate")
    except ImportError as exc:
        log.info("learning loops not available: %s", exc)
        return
    poller = loops.StreamPoller(
        backend.table,
        aggregate.handler,
        client=(backend.client("dynamodb"), backend.client("dynamodbstreams")),
    )
    poller.start()
    backend.loops.append(poller)
    try:
        publish = importlib.import_module("lambdas.handlers.publish")
    except ImportError as exc:
        log.info("publish timer not available: %s", exc)
        return
    timer = loops.PublishTimer(publish.handler, interval=publish_interval)
    timer.start()
    backend.loops.append(timer)


def start_local_backend(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    origin_ports: Iterable[int] = (),
    table: str = "perso-events",
    bucket: str = "perso-cdn",
    site: str = DEMO_SITE,
    loops: bool = True,
    publish_interval: float = 60.0,
) -> LocalBackend:
    """Start moto's server on `host:port` (0 = any free port) and everything on top.

    `origin_ports`: ports of local web servers whose pages may send events
    (`http://localhost:<p>` and `http://127.0.0.1:<p>`); more via `.allow_origins`.
    Sets the process environment the handlers read (this is a process-wide stack).
    """
    # werkzeug logs every request moto serves; the dev server has its own access log.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    try:
        bound_host, bound_port = server.get_host_and_port()
        endpoint = f"http://{bound_host}:{bound_port}"
        env = _env(endpoint, table, bucket, site)
        previous = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        _reset_caches()
        ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        admin.create_table(ddb, table)
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket=bucket
        )
        store = Store(ddb, table, site_cache_seconds=0)
        backend = LocalBackend(
            server, endpoint, table, bucket, site, env, store, previous_env=previous
        )
        hosts = ("localhost", "127.0.0.1")
        origins = [f"http://{name}:{p}" for p in origin_ports for name in hosts]
        backend.allow_origins(origins)
        if loops:
            _start_loops(backend, publish_interval=publish_interval)
    except BaseException:
        server.stop()
        for name, value in locals().get("previous", {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        raise
    return backend
