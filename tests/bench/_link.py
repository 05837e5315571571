"""A shaped access link for the browser benchmarks: a TCP relay in front of the dev server.

Chromium's own emulation (`Network.emulateNetworkConditions`) is per target and does not
reach a SharedWorker's requests, so it would leave the decision worker's downloads
unthrottled; a relay shapes everything the browser sends and receives, whichever
context asks.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time

__all__ = ["ShapedLink"]

CHUNK = 16 * 1024
WINDOW_S = 0.05


class ShapedLink:
    """A TCP relay to `target_port` standing for one access link: each connection waits
    a round trip to open, each chunk half a round trip each way, and every chunk takes
    its turn on one pipe per direction shared by every connection."""

    def __init__(
        self,
        target_port: int,
        *,
        rtt_s: float,
        down_bits_per_s: float,
        up_bits_per_s: float,
    ) -> None:
        self.target_port = target_port
        self.rtt_s = rtt_s
        self.rates = {"down": down_bits_per_s / 8, "up": up_bits_per_s / 8}
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pipes = {"down": 0.0, "up": 0.0}  # when each direction is free again
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stopped = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        time.sleep(self.rtt_s)  # the TCP handshake
        try:
            server = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return
        pumps = [
            threading.Thread(target=self._pump, args=(src, dst, way, rate), daemon=True)
            for src, dst, way, rate in (
                (client, server, "up", self.rates["up"]),
                (server, client, "down", self.rates["down"]),
            )
        ]
        for pump in pumps:
            pump.start()
        for pump in pumps:
            pump.join()
        client.close()
        server.close()

    def _pump(self, src: socket.socket, dst: socket.socket, way: str, rate: float) -> None:
        # Reading and delivering are apart, so the latency delays each chunk once instead
        # of adding up chunk after chunk; reading stays at most WINDOW ahead of the pipe,
        # so concurrent connections share it about as TCP flows would.
        chunks: queue.Queue[tuple[bytes, float] | None] = queue.Queue()
        writer = threading.Thread(target=self._deliver, args=(chunks, src, dst), daemon=True)
        writer.start()
        try:
            while True:
                with self._lock:
                    ahead = self._pipes[way] - time.monotonic()
                if ahead > WINDOW_S:
                    time.sleep(ahead - WINDOW_S)
                data = src.recv(CHUNK)
                if not data:
                    break
                with self._lock:
                    start = max(time.monotonic(), self._pipes[way])
                    self._pipes[way] = start + len(data) / rate
                    due = self._pipes[way] + self.rtt_s / 2
                chunks.put((data, due))
        except OSError:
            pass
        finally:
            chunks.put(None)
            writer.join()

    @staticmethod
    def _deliver(
        chunks: queue.Queue[tuple[bytes, float] | None], src: socket.socket, dst: socket.socket
    ) -> None:
        try:
            while (item := chunks.get()) is not None:
                data, due = item
                time.sleep(max(0.0, due - time.monotonic()))
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)  # the end of this direction, after its last byte
        except OSError:
            for end in (src, dst):  # one side is gone: so is the connection
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
