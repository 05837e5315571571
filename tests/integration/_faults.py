"""A tiny fault-injecting HTTP proxy in front of moto's server.

Why a proxy and not the real server alone: no real DynamoDB (moto, dynalite) can be made
to throttle or to leave items unprocessed on demand, and those are exactly the answers
the write path must survive. Everything else goes to moto untouched, so the items that do
get written are really written.

Faults are planned per DynamoDB operation (the `X-Amz-Target` suffix):
- `throttle[op] = n`: the next n calls answer ProvisionedThroughputExceededException;
- `unprocess[op] = n`: the next n BatchWriteItem calls forward only the first half of
  their items and answer the rest as UnprocessedItems (what DynamoDB does under load).
"""

from __future__ import annotations

import http.client
import json
import threading
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["FaultProxy"]

_THROTTLE = {
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded.",
}


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self.upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self.throttle: Counter[str] = Counter()
        self.unprocess: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output readable
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                op = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
                status, payload = proxy._answer(op, dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-amz-crc32", str(zlib.crc32(payload) & 0xFFFFFFFF))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def clear(self) -> None:
        with self.lock:
            self.throttle.clear()
            self.unprocess.clear()
            self.calls.clear()

    def _take(self, plan: Counter[str], op: str) -> bool:
        with self.lock:
            if plan[op] > 0:
                plan[op] -= 1
                return True
            return False

    def _answer(self, op: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        with self.lock:
            self.calls[op] += 1
        if self._take(self.throttle, op):
            return 400, json.dumps(_THROTTLE).encode()
        if op == "BatchWriteItem" and self._take(self.unprocess, op):
            request = json.loads(body)
            (table, writes), = request["RequestItems"].items()
            keep, left = writes[: len(writes) // 2], writes[len(writes) // 2 :]
            if keep:
                forwarded = json.dumps({"RequestItems": {table: keep}}).encode()
                status, answer = self._forward(headers, forwarded)
                if status != 200:
                    return status, answer
            return 200, json.dumps({"UnprocessedItems": {table: left}}).encode()
        return self._forward(headers, body)

    def _forward(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=10)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "host")}
            connection.request("POST", "/", body=body, headers=sent)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()
