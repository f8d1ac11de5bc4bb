"""A TCP proxy that can break the connections through it, for recoverable-error tests.

Every connection to the proxy is forwarded to one upstream address. ``cut()`` breaks the
connections open at that moment (a reset or an orderly close, at random), ``down()`` also
refuses new ones until ``up()``: to the client, a network failure or a database that is gone.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class CutProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self._upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._down = False
        self._closed = False
        self._trip_after: int | None = None  # see down_after()
        self.cuts = 0  # connections broken so far
        self._rng = random.Random()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                refuse = self._down or self._closed
            if refuse:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._upstream, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b, outbound in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(a, b, outbound), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, outbound: bool) -> None:
        try:
            while data := source.recv(65536):
                if outbound and self._tripped(len(data)):
                    self.down()
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source, sink)

    def _drop(self, a: socket.socket, b: socket.socket) -> None:
        with self._lock:
            self._pairs = [p for p in self._pairs if a not in p and b not in p]
        for sock in (a, b):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _tripped(self, sent: int) -> bool:
        with self._lock:
            if self._trip_after is None:
                return False
            self._trip_after -= sent
            if self._trip_after > 0:
                return False
            self._trip_after = None
            return True

    def down_after(self, sent: int) -> None:
        """Goes down (see down()) once clients have sent `sent` more bytes through the proxy:
        a failure in the middle of whatever they are sending."""
        with self._lock:
            self._trip_after = sent

    def cut(self) -> int:
        """Breaks every connection open now; returns how many."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self.cuts += len(pairs)
        for client, upstream in pairs:
            if self._rng.random() < 0.5:
                # SO_LINGER 0: the client sees a reset rather than an orderly end.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._drop(client, upstream)
        return len(pairs)

    def down(self) -> None:
        """Breaks every connection and refuses new ones until up()."""
        with self._lock:
            self._down = True
        self.cut()

    def up(self) -> None:
        with self._lock:
            self._down = False

    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        self.cut()
        self._thread.join(timeout=10)


@contextmanager
def cut_proxy(upstream_port: int) -> Iterator[CutProxy]:
    proxy = CutProxy(upstream_port)
    try:
        yield proxy
    finally:
        proxy.close()
