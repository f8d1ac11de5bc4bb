"""A pass-through HTTP proxy that counts the AWS operations reaching a server.

It forwards every request unchanged (the Host header too, so SigV4 signatures stay valid) and
records the operation of each: the X-Amz-Target suffix, or the query protocol's Action.
"""

from __future__ import annotations

import http.client
import http.server
import socketserver
import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        if not operation:
            form = urllib.parse.parse_qs(body.decode(errors="replace"))
            operation = (form.get("Action") or ["?"])[0]
        with self.server.lock:
            self.server.counts[operation] += 1
        upstream = http.client.HTTPConnection(
            self.server.upstream_host, self.server.upstream_port, timeout=60
        )
        try:
            upstream.request("POST", self.path, body=body, headers=dict(self.headers.items()))
            response = upstream.getresponse()
            payload = response.read()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            upstream.close()


class CountingProxy:
    """Counts by operation name; `total()` and `counts` read them, `reset()` starts over."""

    def __init__(self, server: _Server) -> None:
        self._server = server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def counts(self) -> Counter[str]:
        with self._server.lock:
            return Counter(self._server.counts)

    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self) -> None:
        with self._server.lock:
            self._server.counts.clear()


@contextmanager
def counting_proxy(upstream: str) -> Iterator[CountingProxy]:
    server = _Server(upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield CountingProxy(server)
    finally:
        server.shutdown()
        server.server_close()
