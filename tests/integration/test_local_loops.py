"""The local loops report a fault once, not a traceback on every tick."""

from __future__ import annotations

import logging
import socket
import time

import boto3
import pytest
from botocore.config import Config

from infra.local.loops import StreamPoller


def _closed_port() -> int:
    # A port that was just free: connecting to it is refused, as a stopped store would be.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_stream_poller_says_once_that_the_store_is_down(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a poller whose store is down (nothing listens on its port)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    config = Config(connect_timeout=0.2, read_timeout=0.2, retries={"max_attempts": 1})
    clients = tuple(
        boto3.client(s, endpoint_url=endpoint, region_name="us-east-1", config=config)
        for s in ("dynamodb", "dynamodbstreams")
    )
    poller = StreamPoller("perso-down", lambda event, ctx: {}, client=clients, interval=0.02)
    # When it ticks many times
    with caplog.at_level(logging.WARNING, logger="perso.loops"):
        poller.start()
        deadline = time.monotonic() + 10
        while poller.errors < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        poller.stop()
    # Then every tick failed, and the operator read one line, without a traceback
    assert poller.errors >= 5
    lines = [r for r in caplog.records if r.name == "perso.loops"]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].exc_info is None
    assert "StreamPoller tick failed" in lines[0].getMessage()
    assert "EndpointConnectionError" in lines[0].getMessage()
