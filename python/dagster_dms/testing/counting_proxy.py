"""A pass-through HTTP proxy that counts the AWS operations reaching a server.

It forwards every request unchanged (the Host header too, so SigV4 signatures stay valid) and
records the operation of each: the X-Amz-Target suffix, or the query protocol's Action. Point a
client's endpoint URL at the proxy to measure how many calls some code makes.

Two ways to run it:

- in this process, on a thread: ``with counting_proxy(upstream) as proxy: ... proxy.counts``;
- as its own process, so that a benchmark measuring its own CPU time does not count the
  proxy's threads: :class:`CountingProxyProcess`, or
  ``python -m dagster_dms.testing.counting_proxy UPSTREAM_URL PORT_FILE``
  writes its port to PORT_FILE; ``GET /_counts`` answers the counts as JSON and
  ``GET /_counts?reset=1`` answers them and starts over.
"""

from __future__ import annotations

import http.client
import http.server
import json
import socketserver
import sys
import threading
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dms.testing import processes

#: How long the proxy waits for the upstream's answer (a large page on a loaded machine).
UPSTREAM_TIMEOUT = 120.0


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

    def _answer(self, status: int, payload: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        if not self.path.startswith("/_counts"):
            self._answer(404, b"", [])
            return
        with self.server.lock:
            payload = json.dumps(dict(self.server.counts)).encode()
            if "reset=1" in self.path:
                self.server.counts.clear()
        self._answer(200, payload, [("Content-Type", "application/json")])

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
            self.server.upstream_host, self.server.upstream_port, timeout=UPSTREAM_TIMEOUT
        )
        try:
            upstream.request("POST", self.path, body=body, headers=dict(self.headers.items()))
            response = upstream.getresponse()
            self._answer(response.status, response.read(), response.getheaders())
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
    """A proxy to ``upstream`` (a URL) on a free loopback port, served on a thread until exit."""
    server = _Server(upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield CountingProxy(server)
    finally:
        server.shutdown()
        server.server_close()


class CountingProxyProcess:
    """The proxy as a child process (see the module's description), started at once: its
    ``url``, and ``counts(reset=True)`` to read and clear its counters. ``close()`` stops it."""

    def __init__(self, upstream: str, work_dir: Path, *, start_timeout: float = 30.0) -> None:
        port_file = work_dir / "counting-proxy.port"
        port_file.unlink(missing_ok=True)
        self.process = processes.spawn(
            [sys.executable, "-m", __name__, upstream, str(port_file)], label="counting proxy"
        )
        try:
            port = processes.wait_for_port_file(
                self.process, port_file, "the counting proxy", start_timeout
            )
        except (RuntimeError, TimeoutError):
            self.close()
            raise
        self.url = f"http://127.0.0.1:{port}"

    def counts(self, reset: bool = False) -> dict[str, int]:
        suffix = "?reset=1" if reset else ""
        with urllib.request.urlopen(f"{self.url}/_counts{suffix}", timeout=30) as response:
            counts: dict[str, int] = json.loads(response.read())
        return counts

    def close(self) -> None:
        processes.stop(self.process, "counting proxy")


def main(argv: list[str]) -> None:
    """Serves until terminated; writes the port to PORT_FILE at once (atomically) when ready."""
    if len(argv) != 2:
        raise SystemExit("usage: python -m dagster_dms.testing.counting_proxy UPSTREAM PORT_FILE")
    upstream, port_file = argv[0], Path(argv[1])
    server = _Server(upstream)
    written = port_file.with_suffix(".tmp")
    written.write_text(str(server.server_address[1]))
    written.rename(port_file)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
