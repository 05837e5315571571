"""Real servers for the integration tests, started once per session and always stopped.

- `moto_endpoint`: moto's ThreadedMotoServer on 127.0.0.1, an ephemeral port.
- `dynalite_endpoint`: dynalite (npm) under Node, which enforces DynamoDB's limits and
  validation messages the way the service does.
- `backend` (per module): the local stack (`infra.local.stack.start_local_backend`): its own
  moto server, the table with its stream, the CDN bucket, site `demo-shop`; the handlers
  behind `.api`.
- `fault_proxy` (per module): a fault-injecting proxy in front of the backend's moto
  (see `_faults`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from infra.local.stack import LocalBackend, start_local_backend
from lambdas.dal import admin
from lambdas.dal.client import make_client, reset_clients
from lambdas.dal.store import Store, reset_store
from lambdas.models.settings import reset_settings
from tests.integration._faults import FaultProxy

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://localhost:8000"

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, *, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dynalite exited early with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dynalite did not listen on port {port} within {timeout} s")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dynalite_endpoint() -> Iterator[str]:
    cli = ROOT / "node_modules" / "dynalite" / "cli.js"
    port = _free_port()
    process = subprocess.Popen(
        ["node", str(cli), "--host", "127.0.0.1", "--port", str(port), "--createTableMs", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def make_store(endpoint: str, **options: Any) -> Store:
    """A fresh table (unique name) on `endpoint`, behind a `Store`."""
    client = make_client(endpoint)  # the handlers' client: no botocore retries, short timeouts
    name = f"t-{uuid.uuid4().hex[:12]}"
    admin.create_table(client, name, ttl="dynalite" not in options.pop("kind", ""))
    return Store(client, name, **options)


@pytest.fixture(scope="session", params=["moto", "dynalite"])
def any_endpoint(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Each dal test runs against both servers."""
    return request.param, request.getfixturevalue(f"{request.param}_endpoint")


@pytest.fixture(scope="module")
def backend() -> Iterator[LocalBackend]:
    # Per module: the stack sets the process environment, and stop() restores it, so
    # the other areas' tests in the same session see their own settings.
    stack = start_local_backend(origin_ports=[8000], loops=False)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def fault_proxy(backend: LocalBackend) -> Iterator[FaultProxy]:
    proxy = FaultProxy(backend.endpoint_url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _reset_caches() -> None:
    reset_settings()
    reset_store()
    reset_clients()


@pytest.fixture
def faulty_backend(
    backend: LocalBackend, fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FaultProxy]:
    """The backend's handlers talking to the table through the fault proxy."""
    fault_proxy.clear()
    monkeypatch.setenv("PERSO_DYNAMODB_ENDPOINT", fault_proxy.endpoint)
    monkeypatch.setenv("PERSO_WRITE_ATTEMPTS", "4")
    _reset_caches()
    try:
        yield fault_proxy
    finally:
        fault_proxy.clear()
        monkeypatch.undo()
        _reset_caches()
