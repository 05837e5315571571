"""The backend on one machine: moto's server, the table (with its stream), the CDN bucket,
site `demo-shop`, and the real handlers behind `.api(...)`.

The dev server (infra/local/devserver.py) mounts `.api` at `/v1/`. The stream poller and
the publish timer (infra/local/loops.py) run too, so events flow to counters and a
republished ruleset as in AWS.

>>> backend = start_local_backend(port=0)               # doctest: +SKIP
>>> backend.api("GET", "/v1/openapi.json", {}, b"")[0]  # doctest: +SKIP
200
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from infra.local import DEMO_API_KEY, DEMO_SITE, api_adapter
from infra.local.loops import PublishTimer, StreamPoller
from lambdas.dal import admin
from lambdas.dal.cdn import make_cdn_clients
from lambdas.dal.client import make_client, reset_clients
from lambdas.dal.store import Store, reset_store
from lambdas.handlers import aggregate, publish
from lambdas.models import settings
from lambdas.models.settings import reset_settings

__all__ = ["LocalBackend", "start_local_backend"]

_REGION = "us-east-1"


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
        """A client of moto's server; the data access layer's own for DynamoDB and S3."""
        return _client(service, self.endpoint_url)

    def stop(self) -> None:
        """Stop the loops and the server; put the process environment back as it was."""
        for loop in reversed(self.loops):
            loop.stop()
        self.loops.clear()
        self.server.stop()
        _restore_env(self.previous_env)
        self.previous_env.clear()
        _reset_caches()


def _client(service: str, endpoint: str) -> Any:
    if service == "dynamodb":
        return make_client(endpoint, _REGION)
    if service == "s3":
        return make_cdn_clients(endpoint, endpoint, _REGION)[0]
    # The stream poller's client: no Lambda reads streams through the data access layer.
    return boto3.client(service, endpoint_url=endpoint, region_name=_REGION)


def _env(endpoint: str, table: str, bucket: str, site: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": _REGION,
        settings.ENV_TABLE: table,
        settings.ENV_DYNAMODB_ENDPOINT: endpoint,
        settings.ENV_S3_ENDPOINT: endpoint,
        settings.ENV_BUCKET: bucket,
        # A fresh key per stack: tokens from an earlier run are simply not valid.
        settings.ENV_TOKEN_KEY: secrets.token_urlsafe(32),
        settings.ENV_SITE_CACHE_SECONDS: "0",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_SERVICE_NAME": "perso-local",
    }


def _restore_env(previous: Mapping[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _reset_caches() -> None:
    reset_settings()
    reset_store()
    reset_clients()
    aggregate.reset()
    # The publisher caches its S3/CloudFront/DynamoDB clients and bucket name: a second
    # stack in the same process must not publish to the first one's server.
    publish.reset()


def _start_loops(backend: LocalBackend, *, publish_interval: float) -> None:
    """Start the aggregate stream poller and the publish timer."""
    poller = StreamPoller(
        backend.table,
        aggregate.handler,
        client=(backend.client("dynamodb"), backend.client("dynamodbstreams")),
    )
    poller.start()
    backend.loops.append(poller)
    timer = PublishTimer(publish.handler, interval=publish_interval)
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
        ddb = _client("dynamodb", endpoint)
        admin.create_table(ddb, table)
        _client("s3", endpoint).create_bucket(Bucket=bucket)
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
        _restore_env(locals().get("previous", {}))
        raise
    return backend
